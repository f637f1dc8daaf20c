"""The demo's closing stage: a pipeline retrains churn and ships it behind a canary.

The monitoring stage found next month's customers drifted and the champion's
quality falling. Here their labelled rows come in as a file; a pipeline ingests
them, retrains churn, and compares the candidate with the model ``churn-api``
serves on the same held-out rows. Run again with nothing changed, every step is a
cache hit. When the candidate is better, a second pipeline approves it and deploys
it to ``churn-api`` behind a guarded canary, on a real gateway over HTTP while a
client keeps calling: the guard watches the candidate's answers in the gateway's
``/metrics`` and promotes it, and the endpoint's history says why. Every step is
the SDK call a ``modelyard pipeline`` command makes.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from modelyard.cli._demo_serving import _plain, demo_gateway
from modelyard.cli._pipelines import _tree
from modelyard.cli._render import console, table

if TYPE_CHECKING:
    from modelyard.cli._demo import _Tour
    from modelyard.pipelines import PipelineRun

__all__ = ["loop_stage"]

_ENDPOINT = "churn-api"
_DRIFT = 1.0
_CANARY = "canary:25%:2s"


def loop_stage(tour: _Tour) -> None:
    """Retrain churn on next month's labelled rows in a cached pipeline; ship it by canary."""
    from modelyard import datasets
    from modelyard.pipelines import Pipeline, PipelineStore, steps

    workspace = tour.workspace
    store = PipelineStore(workspace)
    served = workspace.endpoints.get(_ENDPOINT).config
    champion = max(served.production, key=lambda variant: variant.weight).model
    labelled = tour.scratch / "churn-labelled-next-month.csv"
    frame = datasets.churn(tour.rows, seed=43, drift=_DRIFT)
    frame.to_csv(labelled, index=False)
    console.print(f"next month's customers with their outcome: {len(frame):,} rows → {labelled}")

    p = Pipeline("churn-retrain", params={"margin": 0.0})
    data = p.add(steps.Ingest(str(labelled), dataset="churn-recent", target="churned"))
    model = p.add(
        steps.Train(
            data, algorithm="linear", model_name="churn",
            name="train",
        )
    )  # fmt: skip
    verdict = p.add(
        steps.Compare(model, data=data, champion=champion, margin=p.param("margin"), name="compare")
    )
    p.add(steps.Condition(verdict.output().eq(True), name="better"))
    store.save(p)
    first = _run(store, "churn-retrain", "first run")
    if first.error is not None:
        raise RuntimeError(f"pipeline churn-retrain failed: {first.error}")
    second = _run(store, "churn-retrain", "again, nothing changed")
    reused = sum(step.cache == "hit" for step in second.steps)
    console.print(f"{reused} of {len(second.steps)} steps reused from the cache")
    compared = _outputs(first, "compare")
    console.print(f"compare: {compared['reason']}", markup=False, soft_wrap=True)
    if not compared["better"]:
        console.print("not deployed: the champion stays (the run records why)")
        return
    _ship(tour, store, compared["candidate_model"], frame.drop(columns=["churned"]))


def _run(store: Any, pipeline: Any, what: str) -> PipelineRun:
    """Run ``pipeline`` (a saved name or a Pipeline) and print its tree and error."""
    started = time.perf_counter()
    result: PipelineRun = store.run(pipeline)
    console.print(f"{what}: run {result.id[:12]} in {time.perf_counter() - started:.1f} s")
    console.print(_tree(result))
    if result.error is not None:
        console.print(f"run failed: {result.error}", markup=False, soft_wrap=True)
    return result


def _outputs(run: PipelineRun, step: str) -> dict[str, Any]:
    (found,) = [s for s in run.steps if s.name == step]
    return found.outputs or {}


def _ship(tour: _Tour, store: Any, candidate: str, frame: Any) -> None:
    """Approve and canary-deploy ``candidate`` on churn-api while a client calls it."""
    from modelyard.pipelines import Pipeline, steps

    bodies = [
        json.dumps([_plain({str(k): v for k, v in r.items()})]) for r in frame.to_dict("records")
    ]
    with demo_gateway(tour.workspace) as url, _traffic(url, bodies) as answers:
        ship = Pipeline("churn-ship")
        approved = ship.add(
            steps.Register(
                candidate, status="approved", reason="demo: better than the champion",
                name="approve",
            )
        )  # fmt: skip
        ship.add(
            steps.Deploy(
                approved, endpoint=_ENDPOINT, variant="retrained", strategy=_CANARY,
                gateway=url, min_requests=20, name="deploy",
            )
        )  # fmt: skip
        console.print(f"gateway on {url}; a client keeps calling {_ENDPOINT} during the canary")
        result = _run(store, ship, f"ship {candidate} ({_CANARY})")
    by_variant = Counter(variant for variant, _ in answers)
    failed = sum(1 for _, status in answers if status != 200)
    console.print(
        f"{len(answers):,} requests during the deployment, {failed} failed: "
        + ", ".join(f"{name} {count:,}" for name, count in sorted(by_variant.items()))
    )
    history = tour.workspace.endpoints.history(_ENDPOINT)
    shown = [entry for entry in history if (entry.actor or "").startswith("deploy guard")]
    console.print(
        table(
            f"{_ENDPOINT}: the guard's entries in its configuration history",
            ["version", "action", "variants", "why"],
            [
                [
                    entry.version,
                    entry.action,
                    ", ".join(
                        f"{name} {weight:.0%}"
                        for name, weight in entry.config.normalised_weights().items()
                    ),
                    entry.reason or "",
                ]
                for entry in shown
            ],
        )
    )
    promoted = _outputs(result, "deploy").get("promoted")
    console.print(f"{candidate} {'now serves' if promoted else 'did not reach'} {_ENDPOINT}")


@contextmanager
def _traffic(url: str, bodies: list[str]) -> Iterator[list[tuple[str, int]]]:
    """One client calling the endpoint until the block ends; each answer's
    (variant, status) lands in the list it yields."""
    import httpx

    answers: list[tuple[str, int]] = []
    stop = threading.Event()

    def call() -> None:
        headers = {"content-type": "application/json"}
        with httpx.Client(base_url=url, timeout=30) as client:
            n = 0
            while not stop.is_set():
                try:
                    response = client.post(
                        f"/endpoints/{_ENDPOINT}/invocations", content=bodies[n % len(bodies)],
                        headers=headers,
                    )  # fmt: skip
                except httpx.TransportError:
                    answers.append(("-", 0))  # counted as failed; the client goes on
                else:
                    variant = response.headers.get("x-modelyard-variant", "-")
                    answers.append((variant, response.status_code))
                n += 1

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    try:
        yield answers
    finally:
        stop.set()
        thread.join(timeout=60)

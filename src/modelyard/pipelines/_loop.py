"""The closed loop: a pipeline that retrains an endpoint's model when the world moves.

``create_loop`` builds it from what the endpoint serves: the champion's recorded
training spec (the run's ``training_spec.json``, as ``runs reproduce`` reads it) on
the newest version of its dataset, compared with the champion on the same newest
labelled rows, and deployed behind the guard only when better by the margin:

    retrain → compare → better? → approve → guarded deploy

and triggers it on the endpoint's monitor finding violations (drift or quality)
and/or on a new version of the dataset. ``modelyard worker`` runs it; each run is a
decision, and ``loop_history`` reads them back with their evidence.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from modelyard.errors import InvalidInputError, NotFoundError
from modelyard.pipelines import steps
from modelyard.pipelines._compare import endpoint_champion
from modelyard.pipelines._guard import DeployStrategy
from modelyard.pipelines._pipeline import Pipeline

if TYPE_CHECKING:
    from modelyard.pipelines._store import PipelineStore

__all__ = ["create_loop", "loop_history", "loop_name"]

_NOT_COPIED = ("dataset", "register", "params_from", "experiment")


def loop_name(endpoint: str) -> str:
    """The name of ``endpoint``'s loop pipeline."""
    return f"loop-{endpoint}"


def create_loop(
    store: PipelineStore,
    endpoint: str,
    *,
    gateways: Sequence[str],
    on: Sequence[str] = ("monitor",),
    strategy: str = "canary:10%:30m",
    metric: str = "roc_auc",
    margin: float = 0.0,
    max_error_rate: float = 0.01,
    min_requests: int = 20,
) -> dict[str, Any]:
    """Create (or replace) the loop of ``endpoint``; returns its saved definition.

    Args:
        gateways: the gateway URLs the guarded deployment watches.
        on: ``monitor`` (the endpoint's monitor finds violations) and/or ``dataset``
            (the champion's dataset gets a new version).

    Raises:
        NotFoundError: no such endpoint, or (for ``monitor``) no monitor of its name.
        InvalidInputError: the champion has no recorded training run, a bad
            strategy, or an unknown trigger.
    """
    unknown = sorted(set(on) - {"monitor", "dataset"})
    if unknown or not on:
        raise InvalidInputError(f"a loop runs on monitor and/or dataset, not {unknown or on}")
    DeployStrategy.parse(strategy)
    workspace = store.workspace
    champion = workspace.models.get(endpoint_champion(workspace, endpoint))
    if champion.run_id is None:
        raise InvalidInputError(
            f"champion {champion.ref} of endpoint {endpoint} has no training run: "
            "there is no recorded spec to retrain with"
        )
    try:
        recorded = json.loads(workspace.runs.artifact_bytes(champion.run_id, "training_spec.json"))
    except NotFoundError:
        raise InvalidInputError(
            f"champion {champion.ref}'s run {champion.run_id[:8]} has no training spec"
        ) from None
    dataset = str(recorded["dataset"]).split(":")[0]
    spec = {k: v for k, v in recorded.items() if k not in _NOT_COPIED}
    spec["model_name"] = spec.get("model_name") or champion.ref.split(":")[0]
    p = Pipeline(loop_name(endpoint), params={"margin": float(margin)})
    candidate = p.add(steps.Train(dataset, name="retrain", **spec))
    verdict = p.add(
        steps.Compare(
            candidate, data=dataset, endpoint=endpoint, metric=metric,
            margin=p.param("margin"), name="compare",
        )
    )  # fmt: skip
    better = p.add(steps.Condition(verdict.output().eq(True), name="better"))
    why = f"loop of {endpoint}: better than the champion"
    approved = p.add(
        steps.Register(candidate, status="approved", reason=why, when=better, name="approve")
    )
    p.add(
        steps.Deploy(
            approved, endpoint=endpoint, strategy=strategy, gateway=list(gateways),
            max_error_rate=max_error_rate, min_requests=min_requests, when=better,
            name="deploy",
        )
    )  # fmt: skip
    definition = store.save(p)
    store.untrigger(p.name)
    if "monitor" in on:
        store.trigger(p.name, "monitor", endpoint)
    if "dataset" in on:
        store.trigger(p.name, "dataset", dataset)
    return definition


def loop_history(store: PipelineStore, endpoint: str) -> list[dict[str, Any]]:
    """Every decision of ``endpoint``'s loop, newest first: what triggered it, the
    comparison's evidence, and whether the candidate was promoted, rolled back, or
    kept out (and why).

    Raises:
        NotFoundError: the endpoint has no loop.
    """
    name = loop_name(endpoint)
    store.get(name)
    decisions = []
    for run in store.runs(name, limit=1000):
        steps_by = {s.name: s for s in run.steps}
        compared = steps_by["compare"].outputs or {}
        deploy = steps_by["deploy"]
        decision: str
        reason: str
        if run.status.value in ("pending", "running"):
            decision, reason = run.status.value, ""
        elif deploy.status == "succeeded":
            decision, reason = "promoted", compared.get("reason", "")
        elif deploy.status == "failed":
            decision, reason = "rolled back", deploy.error or ""
        elif compared.get("better") is False:
            decision, reason = "not deployed", compared.get("reason", "")
        else:
            decision, reason = "failed", run.error or ""
        decisions.append(
            {
                "run": run.id,
                "created_at": run.created_at.isoformat(),
                "trigger": run.trigger,
                "decision": decision,
                "reason": reason,
                "candidate": compared.get("candidate_model"),
                "champion": compared.get("champion_model"),
                "scores": {k: compared.get(k) for k in ("candidate", "champion", "metric")},
                "deployment": (deploy.outputs or {}).get("deployment"),
            }
        )
    return decisions

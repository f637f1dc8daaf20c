"""Guarded deployment under load: a real gateway process, real HTTP clients, the CLI.

A broken candidate (it raises on 30% of its requests) is deployed as a canary by a
pipeline run through ``modelyard pipeline run``, while clients keep calling the
endpoint; the guard must roll it back before the bake time ends, the requests the
old variant answered must all succeed, and the endpoint's history must say why.
A sound candidate, deployed linearly, is promoted.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelyard import datasets
from modelyard.data import IngestOptions
from modelyard.errors import InvalidInputError
from modelyard.pipelines import Alarms, DeployStrategy
from modelyard.registry import write_package
from modelyard.serving import VariantConfig, VariantReading, read_gateway_metrics
from modelyard.training import TrainingSpec, train
from modelyard.workspace import Workspace
from tests.conftest import Cli
from tests.pipelines._flaky import Flaky, Slow
from tests.pipelines._load import under_load
from tests.serving.conftest import ServeProcess, start_serve

FAILING_SHARE = 0.3
BAKE_SECONDS = 30


@pytest.fixture(scope="module")
def guard_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """churn:1 (the champion), churn:2 (a sound candidate), churn:3 (a broken one),
    churn:4 (a slow one)."""
    import joblib

    root = tmp_path_factory.mktemp("guard") / "ws"
    with Workspace.init(root, open_management=True) as ws:
        csv_path = root / "churn.csv"
        datasets.churn(600, seed=3).to_csv(csv_path, index=False)
        ws.datasets.ingest(csv_path, "churn", IngestOptions(target="churned"))
        for c in (1.0, 0.5):
            train(ws, TrainingSpec(dataset="churn", algorithm="linear", params={"C": c}))
        source = ws.models.package_path("churn:1")
        manifest = json.loads((source / "model.json").read_text())
        for written in ("files", "flavors", "format_version"):
            manifest.pop(written, None)
        flaky = root / "flaky-package"
        write_package(
            flaky,
            manifest=manifest,
            pipeline=Flaky(joblib.load(source / "pipeline.joblib"), FAILING_SHARE),
            onnx_model=None,
            baseline=json.loads((source / "baseline.json").read_text()),
        )
        champion = ws.models.get("churn:1")
        broken = ws.models.register(
            "churn", flaky, task=champion.task, algorithm="flaky", metrics={}, params={},
            lineage={}, flavors=["pipeline"],
        )  # fmt: skip
        assert broken.ref == "churn:3"
        slow = root / "slow-package"
        write_package(
            slow,
            manifest=manifest,
            pipeline=Slow(joblib.load(source / "pipeline.joblib"), 0.3),
            onnx_model=None,
            baseline=json.loads((source / "baseline.json").read_text()),
        )
        late = ws.models.register(
            "churn", slow, task=champion.task, algorithm="slow", metrics={}, params={},
            lineage={}, flavors=["pipeline"],
        )  # fmt: skip
        assert late.ref == "churn:4"
    return root


@pytest.fixture
def gateway(guard_workspace: Path) -> Iterator[ServeProcess]:
    served = start_serve(guard_workspace)
    yield served
    if served.process.poll() is None:
        served.process.kill()
        served.process.communicate()


@pytest.fixture(scope="module")
def rows() -> list[bytes]:
    frame = datasets.churn(200, seed=5).drop(columns=["churned"])
    return [
        frame.iloc[[i]].to_json(orient="records", date_format="iso").encode()
        for i in range(len(frame))
    ]


def _save_pipeline(cli: Cli, folder: Path, name: str, step: dict[str, Any]) -> None:
    path = folder / f"{name}.yaml"
    path.write_text(json.dumps({"name": name, "steps": [step]}))  # JSON is YAML
    cli("pipeline", "save", str(path))


@pytest.mark.slow
def test_a_broken_canary_is_rolled_back_within_the_bake_timeunder_load(
    guard_workspace: Path, gateway: ServeProcess, rows: list[bytes], tmp_path: Path
) -> None:
    cli = Cli(guard_workspace)
    with Workspace.open(guard_workspace) as ws:
        created = ws.endpoints.create("churn-canary", [VariantConfig("old", "churn:1")])
    _save_pipeline(
        cli,
        tmp_path,
        "ship-broken",
        {
            "name": "ship",
            "kind": "deploy",
            "model": "churn:3",
            "endpoint": "churn-canary",
            "variant": "candidate",
            "strategy": f"canary:30%:{BAKE_SECONDS}s",
            "gateway": gateway.url,
            "max_error_rate": 0.05,
            "min_requests": 20,
        },
    )
    before = read_gateway_metrics([gateway.url], "churn-canary")
    result, log = under_load(
        gateway.url,
        "churn-canary",
        rows,
        lambda: cli("pipeline", "run", "ship-broken", "--json", check=False),
    )

    # the pipeline run failed at the deploy step, naming the alarm
    assert result.exit_code == 1, result.stdout + result.stderr
    run = json.loads(result.stdout)
    step = run["steps"][0]
    assert step["status"] == "failed"
    assert "RolledBackError" in step["error"] and "error rate alarm" in step["error"]

    # every failed request was the candidate's planted failure; none on the old variant
    assert not [entry for entry in log if entry[2] == 0], "transport errors"
    failed = [entry for entry in log if entry[2] != 200]
    assert failed, "the broken candidate never got a request"
    assert all("planted failure" in body for *_, body in failed), failed[:3]
    answered = read_gateway_metrics([gateway.url], "churn-canary")
    old = answered["old"].minus(before.get("old") or VariantReading())
    assert old.failures == 0 and old.client_errors == 0 and old.requests > 100
    assert old.requests == sum(1 for _, variant, status, _ in log if variant == "old")
    candidate = answered["candidate"]
    assert candidate.failures == len(failed)  # sent as 424 ModelError, counted as the 500

    # the configuration history holds the shift and the rollback with its reason
    history = json.loads(cli("endpoint", "history", "churn-canary", "--json").stdout)
    assert [h["action"] for h in history] == ["create", "update", "rollback"]
    shift, rollback = history[1], history[2]
    assert shift["actor"].startswith("deploy guard ") and shift["actor"] == rollback["actor"]
    assert shift["reason"].startswith("shift: 30% of traffic to candidate")
    assert rollback["reason"].startswith("rolled back: error rate alarm")
    assert rollback["variants"] == history[0]["variants"]
    assert [v["name"] for v in shift["variants"]] == ["old", "candidate"]
    with Workspace.open(guard_workspace) as ws:
        revisions = ws.endpoints.history("churn-canary")
    baked = (revisions[2].created_at - revisions[1].created_at).total_seconds()
    assert baked < BAKE_SECONDS, f"rolled back {baked:.1f}s after the shift"
    print(f"rolled back {baked:.1f}s after the shift; {len(failed)} of {len(log)} failed")

    # after the rollback was served, the old variant answered everything
    after = [entry for entry in log if entry[0] == str(created.config_version + 2)]
    assert after and all(v == "old" and s == 200 for _, v, s, _ in after)


@pytest.mark.slow
def test_a_sound_candidate_is_promoted_step_by_step(
    guard_workspace: Path, gateway: ServeProcess, rows: list[bytes], tmp_path: Path
) -> None:
    cli = Cli(guard_workspace)
    with Workspace.open(guard_workspace) as ws:
        ws.endpoints.create(
            "churn-linear",
            [VariantConfig("old", "churn:1"), VariantConfig("mirror", "churn:1", shadow=True)],
        )
    _save_pipeline(
        cli,
        tmp_path,
        "ship-sound",
        {
            "name": "ship",
            "kind": "deploy",
            "model": "churn:2",
            "endpoint": "churn-linear",
            "strategy": "linear:50%:4s",
            "gateway": [gateway.url],
        },
    )
    result, log = under_load(
        gateway.url,
        "churn-linear",
        rows,
        lambda: cli("pipeline", "run", "ship-sound", "--json", check=False),
        settle=1.0,
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    outputs = json.loads(result.stdout)["steps"][0]["outputs"]
    assert outputs["promoted"] is True and outputs["deployment"]
    assert all(status == 200 for _, _, status, _ in log)
    history = json.loads(cli("endpoint", "history", "churn-linear", "--json").stdout)
    assert [h["action"] for h in history] == ["create", "update", "update", "update"]
    weights = [{v["name"]: v["weight"] for v in h["variants"]} for h in history[1:]]
    assert weights == [
        {"old": 0.5, "mirror": 1.0, "churn-2": 0.5},
        {"old": 0.0, "mirror": 1.0, "churn-2": 1.0},
        {"churn-2": 1.0, "mirror": 1.0},  # promoted; the shadow stays
    ]
    assert history[-1]["reason"].startswith("promoted: no alarm in 2 step(s)")
    served = {variant for _, variant, _, _ in log}
    assert served == {"old", "churn-2"}


def test_bad_requests_to_a_sound_candidate_are_the_clients_fault(
    guard_workspace: Path, gateway: ServeProcess, rows: list[bytes], tmp_path: Path
) -> None:
    """A 4xx is the client's fault: half the rows sent are refused (a number that is
    not one), on SageMaker's route as 424 ModelError like a raising model's answer,
    yet the canary is promoted; /metrics counts the refusals as the 4xx they were."""
    cli = Cli(guard_workspace)
    with Workspace.open(guard_workspace) as ws:
        ws.endpoints.create("churn-refusing", [VariantConfig("old", "churn:1")])
    _save_pipeline(
        cli,
        tmp_path,
        "ship-refusing",
        {
            "name": "ship",
            "kind": "deploy",
            "model": "churn:2",
            "endpoint": "churn-refusing",
            "variant": "candidate",
            "strategy": "canary:50%:3s",
            "gateway": gateway.url,
            "max_error_rate": 0.05,
            "min_requests": 10,
        },
    )
    bad = json.loads(rows[0])
    bad[0]["tenure_months"] = "not a number"
    mixed = [row for good in rows for row in (good, json.dumps(bad).encode())]
    result, log = under_load(
        gateway.url,
        "churn-refusing",
        mixed,
        lambda: cli("pipeline", "run", "ship-refusing", "--json", check=False),
        settle=0.5,
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["steps"][0]["outputs"]["promoted"] is True
    refused = [entry for entry in log if entry[2] != 200]
    assert refused and all(status == 424 for _, _, status, _ in refused), refused[:3]
    candidate = read_gateway_metrics([gateway.url], "churn-refusing")["candidate"]
    assert candidate.failures == 0 and candidate.client_errors > 0
    assert "424" not in candidate.statuses and candidate.failure_rate == 0.0
    history = json.loads(cli("endpoint", "history", "churn-refusing", "--json").stdout)
    assert history[-1]["reason"].startswith("promoted: no alarm in 2 step(s)")
    shown = cli("endpoint", "history", "churn-refusing").stdout  # the table has a why column
    assert "why" in shown and "promoted:" in shown and "deploy guard" in shown, shown


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("canary:10%:30m", DeployStrategy("canary", 0.1, 1800.0)),
        ("linear:25%:5m", DeployStrategy("linear", 0.25, 300.0)),
        ("all-at-once:90s", DeployStrategy("all-at-once", 1.0, 90.0)),
        ("all-at-once", DeployStrategy("all-at-once", 1.0, 0.0)),
    ],
)
def test_strategies_parse(text: str, expected: DeployStrategy) -> None:
    assert DeployStrategy.parse(text) == expected


def test_linear_levels_end_at_all_traffic() -> None:
    assert DeployStrategy.parse("linear:30%:1s").levels() == pytest.approx([0.3, 0.6, 0.9, 1.0])
    assert DeployStrategy.parse("canary:10%:1s").levels() == [0.1, 1.0]


@pytest.mark.parametrize(
    "text", ["canary", "canary:10%", "canary:0%:1m", "canary:150%:1m", "linear:x:1m", "blue:1m"]
)
def test_a_bad_strategy_is_one_line_naming_it(text: str) -> None:
    with pytest.raises(InvalidInputError, match="strategy") as caught:
        DeployStrategy.parse(text)
    assert "\n" not in str(caught.value)


def test_alarms_refuse_nonsense() -> None:
    with pytest.raises(InvalidInputError, match="max_error_rate"):
        Alarms(max_error_rate=1.5)
    with pytest.raises(InvalidInputError, match="min_requests"):
        Alarms(min_requests=-1)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"strategy": "canary:10"}, "step ship: deployment strategy 'canary:10'"),
        ({"strategy": "canary:10%:1m"}, "step ship: a canary deployment watches the gateway"),
    ],
)
def test_a_bad_deploy_step_is_refused_before_anything_runs(
    cli: Cli, tmp_path: Path, extra: dict[str, Any], message: str
) -> None:
    path = tmp_path / "bad.yaml"
    step = {"name": "ship", "kind": "deploy", "model": "churn:1", "endpoint": "e", **extra}
    path.write_text(json.dumps({"name": "bad", "steps": [step]}))
    result = cli("pipeline", "save", str(path), check=False)
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_a_canary_whose_guard_was_killed_is_rolled_back_by_the_worker(
    guard_workspace: Path, gateway: ServeProcess, tmp_path: Path
) -> None:
    cli = Cli(guard_workspace)
    with Workspace.open(guard_workspace) as ws:
        ws.endpoints.create("churn-orphan", [VariantConfig("old", "churn:1")])
    _save_pipeline(
        cli,
        tmp_path,
        "ship-slow",
        {"name": "ship", "kind": "deploy", "model": "churn:2", "endpoint": "churn-orphan",
         "strategy": "canary:50%:10m", "gateway": gateway.url},
    )  # fmt: skip
    runner = subprocess.Popen(
        [sys.executable, "-m", "modelyard", "-w", str(guard_workspace), "pipeline", "run",
         "ship-slow"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    with Workspace.open(guard_workspace) as ws:
        deadline = time.monotonic() + 120
        while ws.endpoints.get("churn-orphan").config_version < 2:  # the canary is shifted
            assert runner.poll() is None, runner.communicate()
            assert time.monotonic() < deadline, "the canary never started"
            time.sleep(0.05)
    runner.send_signal(signal.SIGKILL)
    runner.communicate()

    worker = cli("worker", "--once")
    assert "its guard stopped during the shift to 50%" in worker.stderr, worker.stderr
    history = json.loads(cli("endpoint", "history", "churn-orphan", "--json").stdout)
    assert [h["action"] for h in history] == ["create", "update", "rollback"]
    assert history[2]["reason"].startswith("rolled back: its guard stopped during the shift to 50%")
    assert history[2]["variants"] == history[0]["variants"]
    assert "rolled back" not in cli("worker", "--once").stderr  # closed once


def test_a_p99_limit_past_the_histogram_is_refused() -> None:
    with pytest.raises(InvalidInputError, match=r"histogram ends at 2\.5s"):
        Alarms(max_p99_seconds=3)
    assert Alarms(max_p99_seconds=2).max_p99_seconds == 2


def test_an_unreachable_gateway_is_one_line() -> None:
    from modelyard.errors import ConflictError
    from tests.serving.conftest import free_port

    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ConflictError, match=f"gateway {url} did not give its metrics"):
        read_gateway_metrics([url], "churn-api")


@pytest.mark.slow
def test_a_slow_canary_is_rolled_back_by_the_latency_alarm(
    guard_workspace: Path, gateway: ServeProcess, rows: list[bytes], tmp_path: Path
) -> None:
    cli = Cli(guard_workspace)
    with Workspace.open(guard_workspace) as ws:
        ws.endpoints.create("churn-latency", [VariantConfig("old", "churn:1")])
    _save_pipeline(
        cli,
        tmp_path,
        "ship-slow-model",
        {"name": "ship", "kind": "deploy", "model": "churn:4", "endpoint": "churn-latency",
         "variant": "late", "strategy": f"canary:20%:{BAKE_SECONDS}s", "gateway": gateway.url,
         "max_p99_seconds": 0.1, "min_requests": 5},
    )  # fmt: skip
    result, log = under_load(
        gateway.url,
        "churn-latency",
        rows,
        lambda: cli("pipeline", "run", "ship-slow-model", "--json", check=False),
        settle=0.5,
    )
    assert result.exit_code == 1, result.stdout + result.stderr
    step = json.loads(result.stdout)["steps"][0]
    assert "latency alarm: late p99" in step["error"] and "> 0.1s" in step["error"]
    assert all(status == 200 for _, _, status, _ in log)  # slow, never failed
    history = json.loads(cli("endpoint", "history", "churn-latency", "--json").stdout)
    assert [h["action"] for h in history] == ["create", "update", "rollback"]
    assert history[2]["reason"].startswith("rolled back: latency alarm")


def test_endpoint_update_with_a_strategy_deploys_behind_the_guard(
    guard_workspace: Path, gateway: ServeProcess, rows: list[bytes]
) -> None:
    """`modelyard endpoint update NAME --model M --strategy S --gateway URL`: the guard
    as a command, printing each shift as it happens."""
    cli = Cli(guard_workspace)
    with Workspace.open(guard_workspace) as ws:
        ws.endpoints.create("churn-cli", [VariantConfig("old", "churn:1")])
    _wait_served(gateway.url, "churn-cli", 1)
    command = ["endpoint", "update", "churn-cli", "--model", "churn:2", "--strategy"]
    command += ["canary:50%:3s", "--gateway", gateway.url]
    result, log = under_load(
        gateway.url,
        "churn-cli",
        rows,
        lambda: cli(*command, check=False),
        settle=0.5,
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("shift: 50% to the candidate (configuration 2)"), lines
    assert any(line.startswith("shift: 100% to the candidate") for line in lines), lines
    assert lines[-1] == "churn-cli: churn:2 promoted (canary:50%:3s)"
    assert log and all(status == 200 for _, _, status, _ in log)
    history = json.loads(cli("endpoint", "history", "churn-cli", "--json").stdout)
    assert history[-1]["reason"].startswith("promoted: no alarm in 2 step(s)")
    assert [v["model"] for v in history[-1]["variants"]] == ["churn:2"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--strategy", "canary:10%:1m"], "needs both --model and --strategy"),
        (["--model", "churn:2", "--strategy", "canary:10"], "deployment strategy 'canary:10'"),
        (["--model", "churn:2", "--strategy", "canary:10%:1m"], "give the gateway URL"),
        (
            ["--model", "churn:2", "--strategy", "canary:10%:1m", "--weights", "old=1"],
            "--strategy deploys --model on its own",
        ),
    ],
)
def test_endpoint_update_with_a_bad_strategy_is_one_line(
    guard_workspace: Path, args: list[str], message: str
) -> None:
    cli = Cli(guard_workspace)
    with Workspace.open(guard_workspace) as ws:
        if "churn-bad" not in [e.name for e in ws.endpoints.list()]:
            ws.endpoints.create("churn-bad", [VariantConfig("old", "churn:1")])
    result = cli("endpoint", "update", "churn-bad", *args, check=False)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    with Workspace.open(guard_workspace) as ws:
        assert ws.endpoints.get("churn-bad").config_version == 1  # nothing changed


def _wait_served(url: str, name: str, version: int, timeout: float = 60) -> None:
    """Poll the gateway's management API until it serves ``version`` of ``name``."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        described = httpx.get(f"{url}/api/endpoints/{name}").json()
        if described.get("served_version") == version:
            return
        time.sleep(0.05)
    raise AssertionError(f"endpoint {name} version {version} was not served in {timeout} s")

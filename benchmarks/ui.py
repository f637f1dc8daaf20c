"""The dashboard on a large workspace: time to first byte and to a rendered page.

Prints one JSON line. The workload: 10,000 runs of one experiment, each with 5
params and 20 metrics (3 steps each, so each metric's last value is a real
"latest of several"), and 1,000 versions of one model, seeded through the SDK.
Measured, each page cold once then warm ``--repeat`` times (the median kept):

- ``ttfb_s``: from sending the request to the first byte of the answer (httpx,
  a new connection each time);
- ``rendered_s``: headless Chromium (Debian's, through Selenium) from navigation to
  the page's table holding its first row, scripts run;
- ``ttfb_cold_s``, ``rendered_cold_s``: the first of each. The server has just
  started: the runs table is its first request, the models page comes after the
  runs table's measurements; each page has a new browser, so its first load
  fetches every asset (the server has already answered that page's first byte).
  Each server runs in a process of its own (``modelyard ui``, ``mlflow ui``) and is
  ready when it answers a request that is not a measured page (modelyard's
  stylesheet; MLflow's health check and the experiment's id).

MLflow's store is seeded in a process of its own while modelyard's workspace is;
nothing is measured until both are seeded (the seeder would keep a core busy while
only one tool is measured).

modelyard sends the layout's top (head, navigation) before a page's query runs,
so its first byte comes before the query's time; MLflow's first byte is its
static index page.

Pages: modelyard's runs table (``/ui/runs?experiment=bench``, first page of 50
sorted by start time) and models page (``/ui/models/bench``, the model's 1,000
versions), and the same for MLflow's UI (``mlflow ui`` from the separate virtualenv
``--mlflow-python``, ``make bench`` builds ``.venv-bench``), on an MLflow SQLite store
seeded with the same runs (``log_batch``) and 1,000 versions of one registered model;
MLflow is an SPA, so its first byte is its static index and its rendered page waits
for its own table to show the first run or version. When MLflow cannot be started,
its figures are ``null`` with the reason.

Goal (issue 18): every figure under 1 s, and faster than MLflow's.

Usage: python benchmarks/ui.py [--runs 10000] [--versions 1000] [--repeat 5]
       [--mlflow-python PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
METRICS = 20
STEPS = 3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def metric_values(index: int) -> dict[str, list[float]]:
    """The 20 metrics of run ``index``, ``STEPS`` values each (same for both tools)."""
    return {
        f"metric_{m:02d}": [((index * 7919 + m * 104729 + s) % 1000) / 1000 for s in range(STEPS)]
        for m in range(METRICS)
    }


def run_params(index: int) -> dict[str, str]:
    """The 5 params of run ``index``."""
    return {
        "algorithm": ("xgboost", "lightgbm", "random_forest")[index % 3],
        "learning_rate": str(round(0.01 * (1 + index % 30), 2)),
        "max_depth": str(3 + index % 8),
        "n_estimators": str(50 * (1 + index % 10)),
        "seed": str(index),
    }


def seed_modelyard(root: Path, runs: int, versions: int) -> Any:
    """A workspace at ``root`` holding the runs and model versions; the open workspace."""
    from modelyard.registry import write_package  # noqa: F401  (the registry's extra is here)
    from modelyard.tracking import MetricPoint, RunStatus
    from modelyard.workspace import Workspace

    ws = Workspace.init(root)
    store = ws.runs
    now = time.time()
    for index in range(runs):
        run_id = store.create("bench", f"run-{index:05d}", environment={})
        store.log_params(run_id, run_params(index))
        store.log_metrics(
            run_id,
            [
                MetricPoint(key, value, step, now + step)
                for key, values in metric_values(index).items()
                for step, value in enumerate(values)
            ],
        )
        store.finish(run_id, RunStatus.FINISHED)
    package = root / "package"
    package.mkdir()
    (package / "model.json").write_text(json.dumps({"task": "binary", "flavors": ["pipeline"]}))
    for index in range(versions):
        ws.models.register(
            "bench",
            package,
            task="binary",
            algorithm="xgboost",
            metrics={f"metric_{m:02d}": (index + m) % 100 / 100 for m in range(5)},
            params={"n_estimators": index},
            lineage={},
            flavors=["pipeline"],
        )
    return ws


def time_to_first_byte(url: str) -> float:
    """Seconds from the request to the answer's first byte (a new connection)."""
    import httpx

    with httpx.Client(timeout=120) as client:
        started = time.perf_counter()
        with client.stream("GET", url) as response:
            chunks = response.iter_raw()
            next(chunks, b"")
            elapsed = time.perf_counter() - started
            for _ in chunks:
                pass
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
    return elapsed


def time_to_render(driver: Any, url: str, ready_script: str) -> float:
    """Seconds from navigation until ``ready_script`` returns true."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get("about:blank")
    started = time.perf_counter()
    driver.get(url)
    WebDriverWait(driver, 120, poll_frequency=0.01).until(lambda d: d.execute_script(ready_script))
    return time.perf_counter() - started


def cold_and_warm(repeat: int, measure: Any) -> tuple[float, float]:
    """The first measurement (cold: it fills the caches, the server's and the
    browser's) and the median of the ``repeat`` after it (warm)."""
    cold = float(measure())
    warm = statistics.median(float(measure()) for _ in range(repeat))
    return round(cold, 4), round(warm, 4)


def measure_pages(pages: dict[str, tuple[str, str]], repeat: int) -> dict[str, Any]:
    """``{page: {ttfb_s, rendered_s, ttfb_cold_s, rendered_cold_s}}`` for
    ``{page: (url, ready_script)}``, the pages in turn, each in a new browser."""
    sys.path.insert(0, str(ROOT))
    from tests.browser import OFFLINE, chromium

    figures: dict[str, Any] = {}
    for name, (url, ready) in pages.items():
        # the first byte before the browser starts (its start-up competes for the CPU)
        ttfb = cold_and_warm(repeat, lambda url=url: time_to_first_byte(url))
        with chromium(OFFLINE) as driver:
            rendered = cold_and_warm(
                repeat, lambda url=url, ready=ready: time_to_render(driver, url, ready)
            )
        figures[name] = {
            "ttfb_s": ttfb[1],
            "rendered_s": rendered[1],
            "ttfb_cold_s": ttfb[0],
            "rendered_cold_s": rendered[0],
        }
    return figures


def serve_modelyard(root: Path) -> tuple[str, Any]:
    """``modelyard ui`` on the workspace at ``root``, in a process of its own as a user
    starts it (and as MLflow's server runs): its URL and process, once it answers a
    request for its stylesheet (the pages are not asked before they are measured)."""
    import httpx

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "modelyard", "--workspace", str(root), "ui", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"{base}/ui/static/dashboard.css", timeout=5).status_code == 200:
                return base, server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.terminate()
    raise RuntimeError("modelyard ui did not start")


_MLFLOW_SEED = textwrap.dedent(
    """
    # Seeds MLflow's SQLite store through MlflowClient (its public API) against the
    # file directly, no tracking server: per run, one create_run, one log_batch with
    # all its params and metrics, one set_terminated. Each run's start time is fixed
    # by its index, so the newest run is the last one as in modelyard's workspace.
    # (Writers in several processes were slower: SQLite's busy waits between them.)
    import json, sys, time
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    uri, runs, versions, rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.create_experiment("bench")
    base = int(time.time() * 1000) - 10 * runs
    data = json.load(open(rows))
    for index in range(runs):
        params, metrics = data["params"][index], data["metrics"][index]
        start = base + index * 10
        run = client.create_run(experiment, start_time=start, run_name=f"run-{index:05d}")
        client.log_batch(
            run.info.run_id,
            metrics=[
                Metric(k, v, start + s, s) for k, vs in metrics.items() for s, v in enumerate(vs)
            ],
            params=[Param(k, v) for k, v in params.items()],
        )
        client.set_terminated(run.info.run_id, end_time=start + 5)
        if index % 500 == 0:
            print(f"mlflow seeding: {index} runs", file=sys.stderr, flush=True)
    client.create_registered_model("bench")
    for index in range(versions):
        client.create_model_version("bench", f"runs:/{run.info.run_id}/model", run.info.run_id)
    """
)


def start_mlflow_seed(python: str, runs: int, versions: int) -> tuple[Path, Any, float, Path]:
    """Begin seeding MLflow's store in a process of its own (it runs while modelyard's
    seeding goes on; nothing is measured until it ends): its folder, process, start
    time and where the store is being written.

    The store is written in memory-backed ``/dev/shm`` where there is one (commits
    need no disk flush) and moved beside the rest before MLflow serves it; MLflow's
    telemetry is off (it wrapped every client call).
    """
    scratch = Path(tempfile.mkdtemp(prefix="ui-bench-mlflow-"))
    rows = scratch / "rows.json"
    rows.write_text(
        json.dumps(
            {
                "params": [run_params(i) for i in range(runs)],
                "metrics": [metric_values(i) for i in range(runs)],
            }
        )
    )
    seed = scratch / "seed.py"
    seed.write_text(_MLFLOW_SEED)
    memory = Path("/dev/shm")
    where = scratch
    if memory.is_dir():
        where = Path(tempfile.mkdtemp(prefix="ui-bench-mlflow-", dir=memory))
    uri = f"sqlite:///{where / 'mlflow.db'}"
    with (scratch / "seed.log").open("w") as log:  # progress and errors: tail -f it
        process = subprocess.Popen(
            [python, str(seed), uri, str(runs), str(versions), str(rows)],
            cwd=scratch,
            stdout=subprocess.DEVNULL,
            stderr=log,
            env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"},
        )
    return scratch, process, time.perf_counter(), where


def finish_mlflow_seed(seeding: tuple[Path, Any, float, Path]) -> float:
    """Wait for MLflow's seeding to end: the seconds it took.

    Both tools are measured after it: the seeder keeps a core busy, and a modelyard
    page goes on working after its first byte (its query and the rest of the render),
    so beside the seeder modelyard's server and the measuring client would share one
    core where MLflow's, measured later, have two.
    """
    _, process, started, _ = seeding
    process.wait(timeout=7200)
    return round(time.perf_counter() - started, 1)


def mlflow_figures(
    python: str,
    seeding: tuple[Path, Any, float, Path],
    seeded_s: float,
    runs: int,
    versions: int,
    repeat: int,
) -> dict[str, Any]:
    """MLflow's UI on the same runs and version count (or ``null`` figures and why), once
    its seeding (``seeded_s`` seconds) has ended."""
    scratch, process, _, where = seeding
    errors = (scratch / "seed.log").read_text(errors="replace")
    if where != scratch and (where / "mlflow.db").exists():
        shutil.move(where / "mlflow.db", scratch / "mlflow.db")
        shutil.rmtree(where, ignore_errors=True)
    if process.returncode != 0:
        return {"error": (errors.strip().splitlines() or ["seeding failed"])[-1]}
    uri = f"sqlite:///{scratch / 'mlflow.db'}"
    port = _free_port()
    server = subprocess.Popen(
        [python, "-m", "mlflow", "ui", "--backend-store-uri", uri, "--host", "127.0.0.1",
         "--port", str(port), "--workers", "1"],
        cwd=scratch,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        import httpx

        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        experiment = httpx.get(
            f"{base}/ajax-api/2.0/mlflow/experiments/get-by-name",
            params={"experiment_name": "bench"},
            timeout=120,
        ).json()["experiment"]["experiment_id"]
        shows = "return !!document.body && document.body.innerText.includes({!r})"
        pages = {
            "runs": (
                f"{base}/#/experiments/{experiment}/runs",
                shows.format(f"run-{runs - 1:05d}"),
            ),
            "models": (f"{base}/#/models/bench", shows.format(f"Version {versions}")),
        }
        figures = measure_pages(pages, repeat)
        figures["seeded_s"] = seeded_s
        return figures
    finally:
        server.terminate()
        server.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--versions", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--mlflow-python", default=str(ROOT / ".venv-bench" / "bin" / "python"))
    args = parser.parse_args()

    mlflow_python = Path(args.mlflow_python)
    seeding = None
    if mlflow_python.exists():
        seeding = start_mlflow_seed(str(mlflow_python), args.runs, args.versions)
    root = Path(tempfile.mkdtemp(prefix="ui-bench-")) / "ws"
    started = time.perf_counter()
    ws = seed_modelyard(root, args.runs, args.versions)
    seeded_s = round(time.perf_counter() - started, 1)
    ws.close()
    mlflow_seeded_s = finish_mlflow_seed(seeding) if seeding is not None else 0.0
    base, server = serve_modelyard(root)
    row = "return !!document.querySelector({!r})"
    try:
        modelyard = measure_pages(
            {
                "runs": (f"{base}/ui/runs?experiment=bench", row.format("#runs tbody tr td a")),
                "models": (f"{base}/ui/models/bench", row.format("#versions tbody tr td a")),
            },
            args.repeat,
        )
    finally:
        server.terminate()
        server.wait(timeout=60)
    modelyard["seeded_s"] = seeded_s
    # modelyard's figures now, on stderr, before MLflow's server starts and is measured
    print(json.dumps({"modelyard": modelyard}), file=sys.stderr, flush=True)
    if seeding is not None:
        mlflow = mlflow_figures(
            str(mlflow_python), seeding, mlflow_seeded_s, args.runs, args.versions, args.repeat
        )
    else:
        mlflow = {"error": f"no MLflow interpreter at {mlflow_python}"}
    ratios = {
        f"{page}_{kind}_mlflow_over_modelyard": (
            round(mlflow[page][kind] / modelyard[page][kind], 2) if page in mlflow else None
        )
        for page in ("runs", "models")
        for kind in ("ttfb_s", "rendered_s", "ttfb_cold_s", "rendered_cold_s")
    }
    print(
        json.dumps(
            {
                "benchmark": "ui",
                "runs": args.runs,
                "metrics_per_run": METRICS,
                "model_versions": args.versions,
                "modelyard": modelyard,
                "mlflow": mlflow,
                **ratios,
            }
        )
    )


if __name__ == "__main__":
    main()

"""Real-time serving: requests/s and latency of the gateway, against the floor and MLflow.

Prints one JSON line. The workload: single-row JSON invocations of a 200-tree
XGBoost churn model (trained here from ``modelyard.datasets.churn``) for
``--seconds`` at 1 and at 16 connections, through servers with 1 and with 2 worker
processes, started as separate processes on loopback ports:

- ``modelyard``: ``modelyard serve`` with one endpoint, capture at 100 %,
  validation on, access log on (to /dev/null);
- ``bare``: the floor, what a user writes by hand: a bare Starlette + onnxruntime app
  with its own numpy preprocessing and an XGBoost model with the same parameters on
  the same rows (onnxmltools), no routing, validation, capture or logging, and none
  of modelyard's code;
- ``mlflow``: ``mlflow models serve`` of the standard scikit-learn pipeline
  (``benchmarks/_standard.py``, same parameters and rows), from the
  separate virtualenv ``--mlflow-python`` (``make bench`` builds ``.venv-bench``;
  MLflow is not a modelyard dependency). When it cannot be installed or started,
  its figures are ``null`` with the reason.

The load generator is ``wrk`` (``make bench`` installs it): a Python generator costs
about seven times wrk's CPU a request, which on 2 cores halves the floor. The
modelyard and bare servers all start before any is measured and are loaded in
alternating 2 s rounds, so whatever else the machine does falls on all alike.
Goals (issue 15): at least 0.8x the bare app at 1 and 16 connections with 1 and 2
workers; at least 15x MLflow at 1 connection and 30x at 16 (same worker count);
p50 under 1 ms at 1 connection.

Usage: python benchmarks/serve.py [--seconds 10] [--trees 200] [--mlflow-python PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("OMP_NUM_THREADS", "1")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 180) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/ping", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server at {url} not ready after {timeout:.0f} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- load generation ----------------------------------------------------------------


def _wrk(url: str, body: bytes, connections: int, seconds: float, scratch: Path) -> dict[str, Any]:
    body_file = scratch / "body.json"
    body_file.write_bytes(body)
    script = scratch / "post.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'local f = io.open("{body_file}", "rb")\nwrk.body = f:read("*a")\nf:close()\n'
    )
    threads = min(connections, 2)
    output = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:.0f}s", "--latency",
         "-s", str(script), url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    failed = (int(bad.group(1)) if bad else 0) + (sum(map(int, errors.groups())) if errors else 0)

    def percentile(p: str) -> float:
        match = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        assert match, output
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]
        return round(float(match.group(1)) * scale, 3)

    return {
        "requests_per_s": round(rate, 1),
        "p50_ms": percentile("50"),
        "p99_ms": percentile("99"),
        "requests": total,
        "failed": failed,
    }


def _load(url: str, body: bytes, connections: int, seconds: float, scratch: Path) -> dict[str, Any]:
    return _wrk(url, body, connections, seconds, scratch)


@contextlib.contextmanager
def _server(
    name: str, command: list[str], url: str, body: bytes, path_prefix: str | None = None
) -> Iterator[int]:
    """Start a server process, check one answer, yield its process id, stop it."""
    import httpx

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if path_prefix:  # mlflow runs `uvicorn` from PATH: its virtualenv's bin first
        env["PATH"] = path_prefix + os.pathsep + env.get("PATH", "")
    base = url.split("/", 3)
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    try:
        _wait_ready("/".join(base[:3]), process)
        check = httpx.post(url, content=body, headers={"content-type": "application/json"})
        if check.status_code != 200:
            raise RuntimeError(f"{name} answered {check.status_code}: {check.text[:200]}")
        yield process.pid
    finally:
        _stop(process)


def _cpu_seconds(pid: int) -> float:
    """CPU time (user and system) of a server process and its workers so far."""
    import psutil

    total = 0.0
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return total
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            total += times.user + times.system
    return total


def _measure(
    targets: dict[str, tuple[str, bytes, int]], args: argparse.Namespace, scratch: Path
) -> dict[str, dict[str, Any]]:
    """Load each target at 1 and 16 connections, in alternating rounds of 2 s.

    Alternating short rounds spreads whatever else the machine is doing evenly over
    the contenders. Requests/s is over all rounds; p50 and p99 are the medians of the
    rounds' percentiles. ``cpu_us_per_request`` is the CPU time the server's
    processes spent over the rounds per request answered: on a machine busy with
    other work, requests/s measures the share of the cores a server got as much as
    the server, CPU time per request much less so.
    """
    for url, body, _ in targets.values():
        _load(url, body, 1, 2, scratch)  # warm-up
    rounds = max(1, round(args.seconds / 2))
    results: dict[str, dict[str, Any]] = {name: {} for name in targets}
    for connections in (1, 16):
        per_round: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
        cpu = dict.fromkeys(targets, 0.0)
        for _ in range(rounds):
            for name, (url, body, pid) in targets.items():
                before = _cpu_seconds(pid)
                per_round[name].append(_load(url, body, connections, 2, scratch))
                cpu[name] += _cpu_seconds(pid) - before
        for name, figures in per_round.items():
            requests = sum(f["requests"] for f in figures)
            results[name][f"c{connections}"] = {
                "requests_per_s": round(requests / (2 * rounds), 1),
                "cpu_us_per_request": round(cpu[name] / max(requests, 1) * 1e6, 1),
                "p50_ms": round(statistics.median(f["p50_ms"] for f in figures), 3),
                "p99_ms": round(statistics.median(f["p99_ms"] for f in figures), 3),
                "requests": requests,
                "failed": sum(f["failed"] for f in figures),
            }
    return results


# -- the floor: bare Starlette + onnxruntime -------------------------------------------


class BareModel:
    """What a user writes by hand: numpy preprocessing, XGBoost, onnxmltools, onnxruntime.

    Fitted on the same training rows as modelyard's model with the same boosting
    parameters, and none of modelyard's code: medians fill numbers, one-hot columns
    encode the training categories (an unknown or missing value is all zeros), the
    identifier and the date are dropped.
    """

    def __init__(self, training_csv: Path, trees: int) -> None:
        import numpy as np
        import pandas as pd
        from xgboost import XGBClassifier

        frame = pd.read_csv(training_csv).drop(columns=["customer_id", "signup_date"])
        target = frame.pop("churned").to_numpy()
        self.numeric = [c for c in frame.columns if frame[c].dtype.kind in "biuf"]
        categorical = [c for c in frame.columns if c not in self.numeric]
        self.medians = {c: float(frame[c].astype(float).median()) for c in self.numeric}
        self.levels = {c: sorted(frame[c].dropna().astype(str).unique()) for c in categorical}
        offset = len(self.numeric)
        self.positions: dict[str, dict[str, int]] = {}
        for column in categorical:
            self.positions[column] = {v: offset + i for i, v in enumerate(self.levels[column])}
            offset += len(self.levels[column])
        self.width = offset
        matrix = np.vstack([self.encode(r) for r in frame.to_dict("records")])
        model = XGBClassifier(n_estimators=trees, learning_rate=0.08, max_depth=5,
                              subsample=0.9, tree_method="hist", random_state=0)  # fmt: skip
        model.fit(matrix, target)
        self.session = self._session(model)

    def encode(self, row: dict[str, Any]) -> Any:
        import numpy as np

        out = np.zeros((1, self.width), dtype=np.float32)
        for i, column in enumerate(self.numeric):
            value = row.get(column)
            out[0, i] = self.medians[column] if value is None or value != value else value
        for column, positions in self.positions.items():
            value = row.get(column)
            if isinstance(value, str) and value in positions:
                out[0, positions[value]] = 1.0
        return out

    def _session(self, model: Any) -> Any:
        import onnxruntime as ort
        from onnxmltools import convert_xgboost
        from onnxmltools.convert.common.data_types import FloatTensorType

        graph = convert_xgboost(
            model, initial_types=[("input", FloatTensorType([None, self.width]))]
        )
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # a request's one row, as modelyard answers it
        return ort.InferenceSession(
            graph.SerializeToString(), sess_options=options, providers=["CPUExecutionProvider"]
        )

    def predict(self, row: dict[str, Any]) -> list[list[float]]:
        _label, probabilities = self.session.run(None, {"input": self.encode(row)})
        return [list(map(float, p)) for p in probabilities]


def bare_app(training_csv: Path, trees: int) -> Any:
    """The hand-written model behind one Starlette route, nothing else."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    model = BareModel(training_csv, trees)

    async def invocations(request: Request) -> JSONResponse:
        row = json.loads(await request.body())
        return JSONResponse({"probabilities": model.predict(row)})

    async def ping(request: Request) -> Response:
        return Response(status_code=200)

    return Starlette(
        routes=[Route("/invocations", invocations, methods=["POST"]), Route("/ping", ping)]
    )


def bare_factory() -> Any:
    """The bare app for uvicorn's workers (its arguments come through the environment)."""
    return bare_app(Path(os.environ["BARE_TRAINING_CSV"]), int(os.environ["BARE_TREES"]))


def _serve_bare(training_csv: Path, trees: int, port: int, workers: int) -> None:
    import uvicorn

    os.environ["BARE_TRAINING_CSV"] = str(training_csv)
    os.environ["BARE_TREES"] = str(trees)
    uvicorn.run(
        "serve:bare_factory",
        factory=True,
        app_dir=str(Path(__file__).parent),
        workers=workers,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
    )


# -- MLflow ------------------------------------------------------------------------------


def _mlflow(
    python: Path, training_csv: Path, row: dict[str, Any], args: argparse.Namespace,
    workers: int, scratch: Path,
) -> tuple[dict[str, Any] | None, str | None]:  # fmt: skip
    """``mlflow models serve`` of the standard scikit-learn pipeline, as an MLflow user logs it."""
    if not python.exists():
        return None, f"no MLflow virtualenv at {python} (make bench builds .venv-bench)"
    model_dir = scratch / f"mlflow-model-{workers}"
    save = (
        "import sys, pandas, mlflow.sklearn; sys.path.insert(0, sys.argv[4]); "
        "from _standard import standard_pipeline; "
        "mlflow.sklearn.save_model(standard_pipeline(pandas.read_csv(sys.argv[1]), "
        "int(sys.argv[3])), sys.argv[2], serialization_format='cloudpickle')"
    )  # MLflow 3 saves with skops by default, which refuses XGBoost's types unlisted
    saved = subprocess.run(
        [str(python), "-c", save, str(training_csv), str(model_dir), str(args.trees),
         str(Path(__file__).parent)],
        capture_output=True, text=True,
    )  # fmt: skip
    if saved.returncode != 0:
        return None, f"saving the MLflow model failed: {saved.stderr.strip().splitlines()[-1:]}"
    port = _free_port()
    mlflow = python.parent / "mlflow"
    command = [str(mlflow), "models", "serve", "-m", str(model_dir), "--env-manager", "local",
               "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]  # fmt: skip
    features = {k: v for k, v in row.items() if k not in ("customer_id", "signup_date")}
    body = json.dumps({"dataframe_records": [features]}).encode()
    url = f"http://127.0.0.1:{port}/invocations"
    try:
        with _server("mlflow", command, url, body, path_prefix=str(python.parent)) as pid:
            figures = _measure({"mlflow": (url, body, pid)}, args, scratch)["mlflow"]
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        return None, f"mlflow models serve failed: {exc}"
    return figures, None


# -- the run -------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--trees", type=int, default=200)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument(
        "--mlflow-python",
        type=Path,
        default=os.environ.get("MODELYARD_BENCH_MLFLOW_PYTHON", ROOT / ".venv-bench/bin/python"),
    )
    parser.add_argument("--bare", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare is not None:
        _serve_bare(args.bare, args.trees, args.port, args.workers)
        return
    if shutil.which("wrk") is None:
        raise SystemExit("serve.py drives its load with wrk: `make bench` installs it")

    from modelyard import datasets
    from modelyard.data import IngestOptions
    from modelyard.serving import VariantConfig
    from modelyard.training import TrainingSpec, train
    from modelyard.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        root = scratch / "ws"
        training_csv = scratch / "churn.csv"
        frame = datasets.churn(args.rows, seed=1)
        frame.to_csv(training_csv, index=False)
        with Workspace.init(root) as ws:
            ws.datasets.ingest(training_csv, "churn", IngestOptions(target="churned"))
            spec = TrainingSpec(
                dataset="churn", algorithm="xgboost", params={"n_estimators": args.trees}
            )
            model = train(ws, spec).model
            assert model is not None and "onnx" in model.flavors
            ws.endpoints.create("churn", [VariantConfig("main", model.ref)], capture_percent=100)
        raw = frame.drop(columns=["churned"]).iloc[0].to_dict()
        row = {
            k: (None if v != v else v.isoformat() if hasattr(v, "isoformat") else v)
            for k, v in raw.items()
        }
        body = json.dumps(row).encode()
        targets: dict[str, tuple[str, bytes, int]] = {}
        with contextlib.ExitStack() as servers:
            # every server starts before any is measured, and the rounds interleave them
            for workers in (1, 2):
                port = _free_port()
                command = [sys.executable, "-m", "modelyard", "-w", str(root), "serve",
                           "--port", str(port), "--workers", str(workers)]  # fmt: skip
                url = f"http://127.0.0.1:{port}/endpoints/churn/invocations"
                pid = servers.enter_context(_server(f"modelyard-w{workers}", command, url, body))
                targets[f"modelyard_w{workers}"] = (url, body, pid)
                port = _free_port()
                command = [sys.executable, __file__, "--bare", str(training_csv),
                           "--trees", str(args.trees), "--port", str(port),
                           "--workers", str(workers)]  # fmt: skip
                url = f"http://127.0.0.1:{port}/invocations"
                pid = servers.enter_context(_server(f"bare-w{workers}", command, url, body))
                targets[f"bare_w{workers}"] = (url, body, pid)
            measured = _measure(targets, args, scratch)
        captured = _count_captured(root)
        mlflow = {}
        mlflow_reason = None
        for workers in (1, 2):
            figures, mlflow_reason = _mlflow(
                args.mlflow_python, training_csv, row, args, workers, scratch
            )
            mlflow[f"mlflow_w{workers}"] = figures

    def ratio(a: dict[str, Any] | None, b: dict[str, Any] | None, key: str) -> float | None:
        if a is None or b is None or not b[key]["requests_per_s"]:
            return None
        return round(a[key]["requests_per_s"] / b[key]["requests_per_s"], 3)

    def cpu_ratio(a: dict[str, Any], b: dict[str, Any], key: str) -> float | None:
        mine, theirs = a[key]["cpu_us_per_request"], b[key]["cpu_us_per_request"]
        return round(theirs / mine, 3) if mine else None

    vs_bare = {}
    vs_bare_cpu = {}
    vs_mlflow = {}
    for workers in (1, 2):
        mine = measured[f"modelyard_w{workers}"]
        for c in ("c1", "c16"):
            vs_bare[f"w{workers}_{c}"] = ratio(mine, measured[f"bare_w{workers}"], c)
            vs_bare_cpu[f"w{workers}_{c}"] = cpu_ratio(mine, measured[f"bare_w{workers}"], c)
            vs_mlflow[f"w{workers}_{c}"] = ratio(mine, mlflow[f"mlflow_w{workers}"], c)
    result = {
        "benchmark": "serve",
        "model": f"xgboost {args.trees} trees, churn ({frame.shape[1] - 1} input columns)",
        "seconds": args.seconds,
        "load_generator": "wrk",
        "cpus": os.cpu_count(),
        **measured,
        "modelyard_capture_records": captured,
        **mlflow,
        "mlflow_unavailable": mlflow_reason,
        "vs_bare": vs_bare,
        # the bare app's CPU time per request over modelyard's: what vs_bare would be
        # were each server CPU-bound on a core of its own
        "vs_bare_cpu": vs_bare_cpu,
        "vs_mlflow": vs_mlflow,
        "p50_ms_c1_w1": measured["modelyard_w1"]["c1"]["p50_ms"],
        "goals": {
            "vs_mlflow": ">= 15 at c1, >= 30 at c16",
            "vs_bare": ">= 0.8",
            "p50_ms_c1": "< 1",
        },
    }
    print(json.dumps(result))


def _count_captured(root: Path) -> int | None:
    capture = root / ".modelyard" / "capture"
    if not capture.exists():
        return None
    import pyarrow.dataset as ds

    return int(ds.dataset(capture, format="parquet", partitioning="hive").count_rows())


if __name__ == "__main__":
    main()

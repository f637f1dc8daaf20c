"""Real-time serving: requests/s and latency of the gateway, against the floor and MLflow.

Prints one JSON line. The workload: single-row JSON invocations of a 200-tree
XGBoost churn pipeline (trained here from ``modelyard.datasets.churn``) for
``--seconds`` at 1 and at 16 connections, through three servers started as
separate processes on loopback ports:

- ``modelyard``: ``modelyard serve`` with one endpoint, capture at 100 %,
  validation on, access log on (to /dev/null);
- ``bare``: the floor, a bare Starlette + onnxruntime app serving the same ONNX
  graph and feature recipe, with no routing, validation, capture or logging;
- ``mlflow``: ``mlflow models serve`` of the same scikit-learn pipeline, from the
  separate virtualenv ``--mlflow-python`` (``make bench`` builds ``.venv-bench``;
  MLflow is not a modelyard dependency). When it cannot be installed or started,
  its figures are ``null`` with the reason.

The load generator is ``wrk`` when installed, else Python ``http.client`` in one
process per connection; either way it runs in separate processes. modelyard and the
bare app run side by side and are loaded in alternating 2 s rounds, so whatever else
the machine does falls on both alike. Goals (issue 4):
at least 30x MLflow's requests/s, at least 80 % of the bare app's, p50 under 1 ms
at 1 connection.

Usage: python benchmarks/serve.py [--seconds 10] [--trees 200] [--mlflow-python PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
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


def _python_worker(args: tuple[str, int, str, bytes, float]) -> tuple[list[float], int]:
    import http.client

    host, port, path, body, seconds = args
    connection = http.client.HTTPConnection(host, port)
    headers = {"Content-Type": "application/json"}
    latencies: list[float] = []
    failed = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        connection.request("POST", path, body, headers)
        response = connection.getresponse()
        response.read()
        latencies.append((time.perf_counter() - started) * 1000)
        failed += response.status != 200
    connection.close()
    return latencies, failed


def _python_load(url: str, body: bytes, connections: int, seconds: float) -> dict[str, Any]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    job = (parts.hostname or "127.0.0.1", parts.port or 80, parts.path, body, seconds)
    with multiprocessing.get_context("spawn").Pool(connections) as pool:
        results = pool.map(_python_worker, [job] * connections)
    latencies = sorted(v for r, _ in results for v in r)
    failed = sum(f for _, f in results)
    return {
        "requests_per_s": round(len(latencies) / seconds, 1),
        "p50_ms": round(latencies[len(latencies) // 2], 3),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 3),
        "requests": len(latencies),
        "failed": failed,
    }


def _load(url: str, body: bytes, connections: int, seconds: float, scratch: Path) -> dict[str, Any]:
    if shutil.which("wrk"):
        return _wrk(url, body, connections, seconds, scratch)
    return _python_load(url, body, connections, seconds)


@contextlib.contextmanager
def _server(
    name: str, command: list[str], url: str, body: bytes, path_prefix: str | None = None
) -> Iterator[str]:
    """Start a server process, check one answer, yield its invocation URL, stop it."""
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
        yield url
    finally:
        _stop(process)


def _measure(
    targets: dict[str, tuple[str, bytes]], args: argparse.Namespace, scratch: Path
) -> dict[str, dict[str, Any]]:
    """Load each target at 1 and 16 connections, in alternating rounds of 2 s.

    Alternating short rounds spreads whatever else the machine is doing evenly over
    the contenders. Requests/s is over all rounds; p50 and p99 are the medians of the
    rounds' percentiles.
    """
    for url, body in targets.values():
        _load(url, body, 1, 2, scratch)  # warm-up
    rounds = max(1, round(args.seconds / 2))
    results: dict[str, dict[str, Any]] = {name: {} for name in targets}
    for connections in (1, 16):
        per_round: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
        for _ in range(rounds):
            for name, (url, body) in targets.items():
                per_round[name].append(_load(url, body, connections, 2, scratch))
        for name, figures in per_round.items():
            requests = sum(f["requests"] for f in figures)
            results[name][f"c{connections}"] = {
                "requests_per_s": round(requests / (2 * rounds), 1),
                "p50_ms": round(statistics.median(f["p50_ms"] for f in figures), 3),
                "p99_ms": round(statistics.median(f["p99_ms"] for f in figures), 3),
                "requests": requests,
                "failed": sum(f["failed"] for f in figures),
            }
    return results


# -- the floor: bare Starlette + onnxruntime -------------------------------------------


def bare_app(package: Path) -> Any:
    """The same ONNX graph and feature recipe behind one Starlette route, nothing else."""
    import numpy as np
    import onnxruntime as ort
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from modelyard.features import FeatureRecipe

    manifest = json.loads((package / "model.json").read_text())
    from modelyard.features._row import row_matrix

    recipe = FeatureRecipe.from_dict(manifest["recipe"])
    # The same session settings as modelyard's (one intra-op thread for a request's
    # rows): the floor measures the gateway's own cost, not a session setting.
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(
        (package / "model.onnx").read_bytes(),
        sess_options=options,
        providers=["CPUExecutionProvider"],
    )
    names = recipe.adapter.raw_columns
    fetch = [session.get_outputs()[1].name]  # the probabilities only, as the gateway fetches

    async def invocations(request: Request) -> JSONResponse:
        row = json.loads(await request.body())
        columns = {name: [row.get(name)] for name in names}
        # the fastest recipe path modelyard has (one row in plain Python), so the
        # floor does no more work than the gateway's model call
        matrix = row_matrix(recipe, columns)
        if matrix is None:
            matrix = recipe.apply(recipe.adapter.adapt(columns))
        (probabilities,) = session.run(fetch, {"features": matrix})
        return JSONResponse({"probabilities": np.asarray(probabilities).tolist()})

    async def ping(request: Request) -> Response:
        return Response(status_code=200)

    return Starlette(
        routes=[Route("/invocations", invocations, methods=["POST"]), Route("/ping", ping)]
    )


def _serve_bare(package: Path, port: int) -> None:
    import uvicorn

    uvicorn.run(
        bare_app(package), host="127.0.0.1", port=port, log_level="warning", access_log=False
    )


# -- MLflow ------------------------------------------------------------------------------


def _mlflow(
    python: Path, package: Path, body_row: dict[str, Any], args: argparse.Namespace, scratch: Path
) -> tuple[dict[str, Any] | None, str | None]:
    if not python.exists():
        return None, f"no MLflow virtualenv at {python} (make bench builds .venv-bench)"
    model_dir = scratch / "mlflow-model"
    save = (
        "import sys, joblib, mlflow.sklearn; "
        "mlflow.sklearn.save_model(joblib.load(sys.argv[1]), sys.argv[2], "
        "serialization_format='cloudpickle')"
    )
    saved = subprocess.run(
        [str(python), "-c", save, str(package / "pipeline.joblib"), str(model_dir)],
        capture_output=True, text=True,
    )  # fmt: skip
    if saved.returncode != 0:
        return None, f"saving the MLflow model failed: {saved.stderr.strip().splitlines()[-1:]}"
    port = _free_port()
    mlflow = python.parent / "mlflow"
    command = [str(mlflow), "models", "serve", "-m", str(model_dir), "--env-manager", "local",
               "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]  # fmt: skip
    body = json.dumps({"dataframe_records": [body_row]}).encode()
    url = f"http://127.0.0.1:{port}/invocations"
    try:
        with _server("mlflow", command, url, body, path_prefix=str(python.parent)):
            figures = _measure({"mlflow": (url, body)}, args, scratch)["mlflow"]
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
    args = parser.parse_args()
    if args.bare is not None:
        _serve_bare(args.bare, args.port)
        return

    from modelyard import datasets
    from modelyard.data import IngestOptions
    from modelyard.serving import VariantConfig
    from modelyard.training import TrainingSpec, train
    from modelyard.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        root = scratch / "ws"
        with Workspace.init(root) as ws:
            frame = datasets.churn(args.rows, seed=1)
            frame.to_csv(scratch / "churn.csv", index=False)
            ws.datasets.ingest(scratch / "churn.csv", "churn", IngestOptions(target="churned"))
            spec = TrainingSpec(
                dataset="churn", algorithm="xgboost", params={"n_estimators": args.trees}
            )
            model = train(ws, spec).model
            assert model is not None and "onnx" in model.flavors
            ws.endpoints.create("churn", [VariantConfig("main", model.ref)], capture_percent=100)
            package = ws.models.package_path(model)
            inputs = ws.models.load(model).manifest["signature"]["inputs"]
        raw = frame.drop(columns=["churned"]).iloc[0].to_dict()
        row = {
            k: (None if v != v else v.isoformat() if hasattr(v, "isoformat") else v)
            for k, v in raw.items()
        }
        body = json.dumps(row).encode()
        ports = _free_port(), _free_port()
        modelyard_command = [
            sys.executable, "-m", "modelyard", "-w", str(root), "serve", "--port", str(ports[0])
        ]  # fmt: skip
        bare_command = [sys.executable, __file__, "--bare", str(package), "--port", str(ports[1])]
        modelyard_url = f"http://127.0.0.1:{ports[0]}/endpoints/churn/invocations"
        bare_url = f"http://127.0.0.1:{ports[1]}/invocations"
        with (
            _server("modelyard", modelyard_command, modelyard_url, body),
            _server("bare", bare_command, bare_url, body),
        ):
            measured = _measure(
                {"modelyard": (modelyard_url, body), "bare": (bare_url, body)}, args, scratch
            )
        modelyard, bare = measured["modelyard"], measured["bare"]
        captured = _count_captured(root)
        mlflow, mlflow_reason = _mlflow(args.mlflow_python, package, row, args, scratch)

    def ratio(a: dict[str, Any] | None, b: dict[str, Any] | None, key: str) -> float | None:
        if a is None or b is None or not b[key]["requests_per_s"]:
            return None
        return round(a[key]["requests_per_s"] / b[key]["requests_per_s"], 3)

    result = {
        "benchmark": "serve",
        "model": f"xgboost {args.trees} trees, churn ({len(inputs)} input columns: "
        + ", ".join(
            f"{sum(1 for i in inputs if i['kind'] == kind)} {kind}"
            for kind in ("numeric", "categorical", "boolean", "datetime")
        )
        + ")",
        "seconds": args.seconds,
        "load_generator": "wrk" if shutil.which("wrk") else "python http.client processes",
        "cpus": os.cpu_count(),
        "modelyard": modelyard,
        "modelyard_capture_records": captured,
        "bare_starlette_onnxruntime": bare,
        "mlflow": mlflow,
        "mlflow_unavailable": mlflow_reason,
        "vs_bare": {"c1": ratio(modelyard, bare, "c1"), "c16": ratio(modelyard, bare, "c16")},
        "vs_mlflow": {"c1": ratio(modelyard, mlflow, "c1"), "c16": ratio(modelyard, mlflow, "c16")},
        "goals": {"vs_mlflow": ">= 30", "vs_bare": ">= 0.8", "p50_ms_c1": "< 1"},
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

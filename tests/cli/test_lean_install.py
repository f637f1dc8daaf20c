"""``pip install modelyard`` without extras, in a fresh virtualenv: data, tracking,
training with scikit-learn and the registry work through the command line, and a
command that needs an extra says which, in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Distributions only an extra brings: none may be in the lean install.
EXTRAS_ONLY = (
    "fastapi",
    "uvicorn",
    "prometheus-client",
    "httpx",
    "xgboost",
    "xgboost-cpu",
    "lightgbm",
    "onnx",
    "onnxruntime",
    "skl2onnx",
    "plotly",
    "psycopg",
    "ray",
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lean_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin directory of a new virtualenv holding ``pip install <this checkout>``."""
    venv = tmp_path_factory.mktemp("lean") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    done = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, done.stderr
    return venv / "bin"


def _run(lean_bin: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("PYTHONPATH", None)  # the lean venv's own copy, not this checkout's
    return subprocess.run(
        [str(lean_bin / args[0]), *args[1:]],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=cwd,
    )


def test_the_lean_install_brings_no_extra(lean_bin: Path, tmp_path: Path) -> None:
    listed = _run(lean_bin, "pip", "list", "--format", "json", cwd=tmp_path)
    names = {p["name"].lower().replace("_", "-") for p in json.loads(listed.stdout)}
    assert "modelyard" in names
    assert sorted(names & set(EXTRAS_ONLY)) == []


def test_ingest_track_train_and_list_models_without_extras(lean_bin: Path, tmp_path: Path) -> None:
    def modelyard(*args: str) -> subprocess.CompletedProcess[str]:
        done = _run(lean_bin, "modelyard", "-w", str(tmp_path / "ws"), *args, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        return done

    source = tmp_path / "churn.csv"
    make_csv = (
        "from modelyard import datasets\n"
        f"datasets.churn(600, seed=1).to_csv({str(source)!r}, index=False)\n"
    )
    assert _run(lean_bin, "python", "-c", make_csv, cwd=tmp_path).returncode == 0
    modelyard("init", str(tmp_path / "ws"))
    ingested = json.loads(
        modelyard(
            "data", "ingest", str(source), "--name", "churn", "--target", "churned", "--json"
        ).stdout
    )
    assert ingested["ref"] == "churn:1" and ingested["rows"] == 600
    track = (
        "import modelyard\n"
        f"with modelyard.start_run('lean', workspace={str(tmp_path / 'ws')!r}) as run:\n"
        "    run.log_params({'alpha': 0.5})\n"
        "    run.log_metric('loss', 0.25)\n"
    )
    assert _run(lean_bin, "python", "-c", track, cwd=tmp_path).returncode == 0
    modelyard("train", "churn", "--algorithm", "linear")
    runs = json.loads(modelyard("runs", "list", "--json").stdout)
    assert sorted(r["experiment"] for r in runs)[-1] == "lean"
    assert any(r["params"] == {"alpha": "0.5"} for r in runs)
    (model,) = json.loads(modelyard("model", "list", "--json").stdout)
    assert model["ref"] == "churn:1" and model["flavors"] == ["pipeline"]  # no onnx extra
    predicted = json.loads(
        modelyard("model", "predict", "churn:1", "--input", str(source), "--json").stdout
    )
    assert len(predicted) == 600


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (["serve", "--port", "0"], "serve"),
        (["train", "churn", "--algorithm", "xgboost"], "xgboost"),
        (["train", "churn", "--algorithm", "lightgbm"], "lightgbm"),
    ],
)
def test_a_command_that_needs_an_extra_names_it_in_one_line(
    lean_bin: Path, tmp_path: Path, args: list[str], extra: str
) -> None:
    source = tmp_path / "rows.csv"
    source.write_text("x,churned\n" + "".join(f"{i},{i % 2}\n" for i in range(60)))
    workspace = str(tmp_path / "ws")
    assert _run(lean_bin, "modelyard", "init", workspace, cwd=tmp_path).returncode == 0
    ingest = ("data", "ingest", str(source), "--name", "churn", "--target", "churned")
    assert _run(lean_bin, "modelyard", "-w", workspace, *ingest, cwd=tmp_path).returncode == 0
    done = _run(lean_bin, "modelyard", "-w", workspace, *args, cwd=tmp_path)
    assert done.returncode == 8  # MissingDependencyError
    (line,) = [text for text in done.stderr.splitlines() if text.strip()]
    assert line.startswith("error: ")
    assert line.endswith(f"pip install 'modelyard[{extra}]'")

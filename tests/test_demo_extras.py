"""The demo's extras, and the hiding that tests/cli/test_demo.py runs the demo under."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests._demo_extras import demo_extras, hidden_modules, hide


def test_the_demo_installs_neither_ray_nor_postgres_and_everything_else_it_runs() -> None:
    assert demo_extras() == {
        "serve", "xgboost", "lightgbm", "onnx", "reports", "ui", "profiling", "automl",
    }  # fmt: skip
    assert hidden_modules(demo_extras()) == ["psycopg", "ray"]
    # without the profiling extra, DuckDB would be hidden from the demo
    assert "duckdb" in hidden_modules(demo_extras() - {"profiling"})


def test_a_hidden_module_is_missing_as_if_not_installed(tmp_path: Path) -> None:
    directory = hide(["json"], tmp_path / "hidden")
    code = (
        "import importlib.util\n"
        "assert importlib.util.find_spec('json') is None\n"
        "try:\n"
        "    import json\n"
        "except ModuleNotFoundError as e:\n"
        "    print(e.name)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": directory, "PATH": ""},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "json"

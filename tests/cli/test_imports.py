"""The command line imports only what a command needs (as Click's tests/test_imports.py
pins its own import list): heavy libraries are imported inside the functions that use
them, so ``modelyard --help`` is instant and a command does not pay for the others."""

from __future__ import annotations

import json
import subprocess
import sys

from modelyard.workspace import Workspace

# Heavy or optional libraries, none of which the command line itself needs.
HEAVY = (
    "alembic",
    "fastapi",
    "numpy",
    "onnxruntime",
    "pandas",
    "plotly",
    "pyarrow",
    "pydantic",
    "ray",
    "scipy",
    "sklearn",
    "sqlalchemy",
    "starlette",
    "uvicorn",
    "xgboost",
)

# Runs the CLI's entry point with the given arguments; prints the modules it imported
# as the last line, from an atexit function (which the CLI still runs as it ends).
PROGRAM = """
import atexit, json, sys
atexit.register(lambda: print(json.dumps(sorted(sys.modules))))
from modelyard.cli import main
main(sys.argv[1:])
"""


def imported_by(*args: str) -> set[str]:
    """The modules a ``modelyard`` process imported, running ``args``."""
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def heavy_in(modules: set[str], names: tuple[str, ...] = HEAVY) -> list[str]:
    return sorted(name for name in names if name in modules)


def test_importing_the_cli_imports_no_heavy_library() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, sys, modelyard.cli; print(json.dumps(list(sys.modules)))",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert heavy_in(set(json.loads(done.stdout))) == []


def test_help_imports_no_heavy_library() -> None:
    assert heavy_in(imported_by("--help")) == []


def test_listing_batch_jobs_needs_no_registry_serving_or_pandas(workspace: Workspace) -> None:
    modules = imported_by("-w", str(workspace.settings.workspace), "batch", "list", "--json")
    assert heavy_in(modules, ("fastapi", "pandas", "sklearn", "uvicorn", "xgboost")) == []
    assert "modelyard.registry" not in modules and "modelyard.serving" not in modules

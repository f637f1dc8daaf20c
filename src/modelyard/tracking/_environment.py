"""What a run ran on: Python, key package versions, the git commit."""

from __future__ import annotations

import functools
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["capture_environment"]

_KEY_PACKAGES = (
    "modelyard",
    "numpy",
    "pandas",
    "pyarrow",
    "scikit-learn",
    "xgboost",
    "lightgbm",
    "onnxruntime",
    "skl2onnx",
    "optuna",
)


def capture_environment(cwd: Path | None = None) -> dict[str, Any]:
    """A JSON-ready record of the software a run used."""
    return {**_interpreter(), "packages": dict(_packages()), "git": _git_state(cwd or Path.cwd())}


@functools.cache
def _interpreter() -> dict[str, str]:
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
    }


@functools.cache
def _packages() -> dict[str, str]:
    """Installed versions of the key packages, read once per process: each lookup
    scans the import path (5 ms for all, every run), and a process keeps the
    modules it imported first even if a newer version is installed meanwhile."""
    packages = {}
    for name in _KEY_PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return packages


def _git_state(cwd: Path) -> dict[str, Any] | None:
    """The commit and whether the tree is dirty, or ``None`` outside a repository."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": bool(dirty)}

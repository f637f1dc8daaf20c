"""The demo's install as `make demo` makes it: the Makefile's DEMO_EXTRAS, and the
modules of every other extra hidden from a process tree (as if not installed).

`make demo` installs only DEMO_EXTRAS; the test suite runs in a venv with every
extra. Without this, a demo stage that needs one more extra passes the suite and
fails for a new user (it did: stage 2b needed DuckDB, the profiling extra).
"""

from __future__ import annotations

import contextlib
import re
import tomllib
from importlib.metadata import PackageNotFoundError, packages_distributions, requires
from pathlib import Path

from modelyard._imports import EXTRA_OF

ROOT = Path(__file__).resolve().parents[1]


def demo_extras() -> set[str]:
    """The extras `make demo` installs (the Makefile's ``DEMO_EXTRAS``)."""
    match = re.search(r"^DEMO_EXTRAS\s*:=\s*(\S+)\s*$", (ROOT / "Makefile").read_text(), re.M)
    assert match is not None, "the Makefile has no DEMO_EXTRAS line"
    return set(match.group(1).split(","))


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert match is not None, requirement
    return re.sub(r"[-_.]+", "-", match.group(0)).lower()


def _brought(extras: set[str]) -> set[str]:
    """Every distribution those extras install, with what they require in turn."""
    table = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pending = [_name(r) for r in table["dependencies"]]
    pending += [_name(r) for extra in extras for r in table["optional-dependencies"][extra]]
    seen: set[str] = set()
    while pending:
        dist = pending.pop()
        if dist in seen:
            continue
        seen.add(dist)
        # not installed: another platform's twin (xgboost / xgboost-cpu)
        with contextlib.suppress(PackageNotFoundError):
            pending += [_name(r) for r in requires(dist) or [] if "extra ==" not in r]
    return seen


def hidden_modules(extras: set[str]) -> list[str]:
    """The optional modules (:data:`modelyard._imports.EXTRA_OF`) that ``extras`` do
    not install."""
    brought = _brought(extras)
    providers = packages_distributions()
    return sorted(
        module for module in EXTRA_OF if not {_name(d) for d in providers.get(module, [])} & brought
    )


def hide(modules: list[str], directory: Path) -> str:
    """A directory for ``PYTHONPATH`` whose ``sitecustomize`` hides ``modules`` in
    every Python process started with it: ``None`` in ``sys.modules`` makes their
    import raise ModuleNotFoundError and ``importlib.util.find_spec`` answer None,
    as for a module that is not installed."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "sitecustomize.py").write_text(
        f"import sys\nsys.modules.update(dict.fromkeys({modules!r}))\n"
    )
    return str(directory)

"""Optional dependencies: a missing one is a one-line error naming the extra to install.

The core install (``pip install modelyard``) holds what data, tracking and the
registry need; everything heavier is an extra (see ``pyproject.toml``). Code that
needs an extra imports it inside this context manager, where it is used::

    with optional_dependency("the gateway"):
        import uvicorn

A missing module becomes :class:`~modelyard.errors.MissingDependencyError`
("the gateway needs uvicorn: pip install 'modelyard[serve]'"), which the command line
prints as one line and the REST API answers as 501. As in Optuna's ``try_import``,
only a module known to belong to an extra is translated: any other import error is a
bug and stays as it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.util import find_spec

from modelyard.errors import MissingDependencyError

__all__ = ["EXTRA_OF", "extra_of", "missing_dependency", "optional_dependency", "require"]

# top-level module -> the extra that installs it (pyproject.toml's optional-dependencies)
EXTRA_OF: dict[str, str] = {
    "fastapi": "serve",
    "starlette": "serve",
    "uvicorn": "serve",
    "httptools": "serve",
    "uvloop": "serve",
    "prometheus_client": "serve",
    "httpx": "serve",
    "swagger_ui_bundle": "serve",
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "onnx": "onnx",
    "skl2onnx": "onnx",
    "onnxmltools": "onnx",
    "onnxruntime": "onnx",
    "plotly": "reports",
    "jinja2": "ui",
    "psycopg": "postgres",
    "ray": "ray",
    "duckdb": "profiling",
    "optuna": "automl",
}


def extra_of(error: ImportError) -> tuple[str, str] | None:
    """``(module, extra)`` when ``error`` says a module of an extra is not installed
    at all, else ``None`` (a missing submodule of an installed package is a version
    problem, not a missing extra)."""
    module = error.name or ""
    extra = EXTRA_OF.get(module)
    if not isinstance(error, ModuleNotFoundError) or extra is None:
        return None
    return module, extra


def _missing(purpose: str, module: str, extra: str) -> MissingDependencyError:
    return MissingDependencyError(
        f"{purpose} needs {module}, which is not installed: pip install 'modelyard[{extra}]'",
        details={"module": module, "extra": extra},
    )


def missing_dependency(error: ImportError, purpose: str) -> MissingDependencyError | None:
    """The one-line error for ``error`` when it is a missing module of an extra (for a
    face's error boundary, which may meet an import no one wrapped), else ``None``."""
    missing = extra_of(error)
    return None if missing is None else _missing(purpose, *missing)


def require(purpose: str, *modules: str) -> None:
    """Check that ``modules`` (each of an extra) are installed, without importing them:
    for code that decides up front whether it can do something at all.

    Raises:
        MissingDependencyError: the first missing module, and its extra.
    """
    for module in modules:
        if find_spec(module) is None:
            raise _missing(purpose, module, EXTRA_OF[module])


@contextmanager
def optional_dependency(purpose: str) -> Iterator[None]:
    """Turn a missing module of an extra, imported in the block, into a one-line error.

    Args:
        purpose: what needs it, as the start of the message ("the gateway",
            "the ONNX flavor").

    Raises:
        MissingDependencyError: the message names the module and the extra to install.
    """
    try:
        yield
    except ImportError as exc:
        error = missing_dependency(exc, purpose)
        if error is None:
            raise
        raise error from exc

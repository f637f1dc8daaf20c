"""Optional dependencies: a missing module of an extra is one line naming the extra,
any other import error stays what it is, and the module -> extra table agrees with
``pyproject.toml``. (A real install without extras: tests/cli/test_lean_install.py.)"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, packages_distributions, requires
from pathlib import Path

import pytest

from modelyard._imports import EXTRA_OF, optional_dependency
from modelyard._lazy import lazy_names
from modelyard.errors import MissingDependencyError

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def _name(requirement: str) -> str:
    """The normalised distribution name of a requirement string."""
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert match is not None, requirement
    return re.sub(r"[-_.]+", "-", match.group(0)).lower()


def _requires(dist: str) -> list[str]:
    """What an installed distribution requires (not its own extras'); nothing for a
    distribution of another platform (xgboost-cpu's twin), which is not installed."""
    try:
        return [r for r in requires(dist) or [] if "extra ==" not in r]
    except PackageNotFoundError:
        return []


def test_a_missing_module_of_an_extra_is_one_line_naming_the_extra() -> None:
    with pytest.raises(MissingDependencyError) as caught, optional_dependency("the gateway"):
        raise ModuleNotFoundError("No module named 'uvicorn'", name="uvicorn")
    assert caught.value.message == (
        "the gateway needs uvicorn, which is not installed: pip install 'modelyard[serve]'"
    )
    assert caught.value.details == {"module": "uvicorn", "extra": "serve"}
    assert isinstance(caught.value, ImportError)  # still caught as the builtin
    assert caught.value.exit_code == 8


@pytest.mark.parametrize(
    "error",
    [
        ModuleNotFoundError("No module named 'nosuch'", name="nosuch"),  # not an extra's
        ModuleNotFoundError("No module named 'plotly.nope'", name="plotly.nope"),  # a version
        ImportError("cannot import name 'x' from 'plotly'", name="plotly"),  # not missing
    ],
)
def test_other_import_errors_stay_as_they_are(error: ImportError) -> None:
    with pytest.raises(type(error)) as caught, optional_dependency("anything"):
        raise error
    assert caught.value is error


def test_require_finds_installed_modules_without_importing_them() -> None:
    program = (
        "import sys\n"
        "from modelyard._imports import require\n"
        "require('the ONNX flavor', 'onnx', 'skl2onnx', 'onnxmltools')\n"
        "print(sorted({'onnx', 'skl2onnx', 'onnxmltools'} & set(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr  # installed in the dev venv: no error
    assert done.stdout.strip() == "[]"  # and none of them imported


def test_a_lazy_name_that_needs_a_missing_extra_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "needs_plotly_mod.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'plotly'\", name='plotly')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    getattr_, _ = lazy_names("pkg", {}, {"chart": "needs_plotly_mod"}, ["chart"])
    with pytest.raises(MissingDependencyError, match=re.escape("pip install 'modelyard[reports]'")):
        getattr_("chart")


def test_every_module_in_the_table_is_installed_by_its_extra() -> None:
    extras: dict[str, list[str]] = tomllib.loads(PYPROJECT.read_text())["project"][
        "optional-dependencies"
    ]
    providers = packages_distributions()
    for module, extra in EXTRA_OF.items():
        named = {_name(r) for r in extras[extra]}
        # what the extra names, and what those distributions require in turn
        brought = named | {_name(r) for dist in named for r in _requires(dist)}
        dists = {_name(d) for d in providers[module]}
        assert dists & brought, f"{module}: {dists} not installed by [{extra}] {sorted(named)}"


def test_all_is_every_extra_but_the_tooling() -> None:
    extras = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]
    (everything,) = extras["all"]
    listed = set(everything.partition("[")[2].rstrip("]").split(","))
    assert listed == set(extras) - {"all", "bench", "dev"}
    assert set(EXTRA_OF.values()) <= listed  # each module's extra is a real one
    assert extras["dev"][0] == "modelyard[all,bench]"


def test_listing_models_and_runs_does_not_import_arrow_numpy_or_pandas(tmp_path: Path) -> None:
    """What only reads metadata (the registry, run listings, every command that opens a
    workspace) stays free of Arrow, NumPy and pandas, whose imports cost more than the
    query: modelyard.data's store and splits are lazy names, and its schema module
    leaves inference (Arrow) to modelyard.data._infer."""
    program = (
        "import sys\n"
        "from modelyard.workspace import Workspace\n"
        f"with Workspace.init({str(tmp_path / 'ws')!r}) as ws:\n"
        "    ws.models.list_versions()\n"
        "    ws.runs.list_runs()\n"
        "print(sorted({'pyarrow', 'numpy', 'pandas'} & set(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"

"""No private attribute, private module or copied internals of a dependency or of
Python in ``src/`` (issue 15): the names the review found are not there again,
neither as attributes nor as strings handed to ``getattr``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SOURCE = Path(__file__).parents[1] / "src"

# what each name was: every one a private part of a dependency or of the interpreter
FORBIDDEN = {
    r"\._mgr\b": "pandas DataFrame internals",
    r"\b_sess\b": "onnxruntime's compiled session behind InferenceSession",
    r"\b_pa_array\b": "pandas ArrowExtensionArray internals",
    r"\._ndarray\b": "pandas extension array internals",
    r"\bblknos\b|\bblklocs\b": "pandas block manager internals",
    r"\bpopen_forkserver\b": "CPython multiprocessing internals",
    r"\bthreading\W+_shutdown\b": "CPython threading internals",
    r"\b_run_exitfuncs\b": "CPython atexit internals",
    r"\bos\._exit\b": "exit without cleanup (the CLI must be callable in-process)",
    r"sys\.modules\[[\"']sklearn[\"']\]\s*=": "hiding scikit-learn from imports",
    r"\b_predictors\b|\b_baseline_prediction\b": "scikit-learn histogram boosting internals",
    r"\b_Booster\s*=": "writing LightGBM's estimator internals",
}


def _sources() -> list[Path]:
    return sorted(SOURCE.rglob("*.py"))


@pytest.mark.parametrize("pattern", sorted(FORBIDDEN))
def test_no_private_api_is_used(pattern: str) -> None:
    found = [
        f"{path.relative_to(SOURCE)}:{number}: {line.strip()}"
        for path in _sources()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(pattern, line)
    ]
    assert found == [], f"{FORBIDDEN[pattern]}: {found}"


def test_the_search_reads_the_source_tree() -> None:
    assert any(path.name == "_loader.py" for path in _sources())

"""The README's Python examples are code that runs (STYLE.md: examples are tested)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).parents[1] / "README.md"
_PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def python_blocks() -> list[str]:
    return _PYTHON_BLOCK.findall(README.read_text())


def test_the_readme_has_python_examples() -> None:
    assert len(python_blocks()) >= 1


@pytest.mark.slow
def test_readme_python_examples_run_in_order(tmp_path: Path) -> None:
    # The blocks continue one another, as a reader types them into one session.
    script = tmp_path / "readme_examples.py"
    script.write_text("\n".join(python_blocks()))
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "churn:1" in result.stdout
    assert (tmp_path / "my-workspace" / ".modelyard").is_dir()

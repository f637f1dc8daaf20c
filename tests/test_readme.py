"""The README's examples are code that runs (STYLE.md: examples are tested): its Python
blocks as one session, its shell blocks as one bash script, each in order on a fresh
workspace, as a new user would type them."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from modelyard.workspace import Workspace

README = Path(__file__).parents[1] / "README.md"
_PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)
_BASH_BLOCK = re.compile(r"```bash\n(.*?)```", re.DOTALL)


def python_blocks() -> list[str]:
    return _PYTHON_BLOCK.findall(README.read_text())


def _is_make_block(block: str) -> bool:
    """The repository's own targets: `make test` is this suite, and `make demo`'s
    stages are tests/cli/test_demo.py."""
    lines = [line for line in block.splitlines() if line.strip()]
    return all(line.startswith("make ") for line in lines)


def bash_blocks() -> list[str]:
    """The user's shell session: every bash block but the one of make targets."""
    blocks = _BASH_BLOCK.findall(README.read_text())
    assert sum(_is_make_block(b) for b in blocks) == 1
    return [b for b in blocks if not _is_make_block(b)]


def test_the_readme_has_python_and_shell_examples() -> None:
    assert len(python_blocks()) >= 1
    assert len(bash_blocks()) >= 3


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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.slow
def test_readme_shell_examples_run_in_order(tmp_path: Path) -> None:
    missing = [tool for tool in ("bash", "curl", "jq") if shutil.which(tool) is None]
    if missing and not os.environ.get("CI"):
        pytest.skip(f"the README's shell session uses {', '.join(missing)}")
    # One script, stopped by its first failing command; the gateway's port is a free one.
    script = "set -euo pipefail\n" + "\n".join(bash_blocks()).replace("8080", str(_free_port()))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELYARD_")}
    env |= {"PATH": f"{Path(sys.executable).parent}:{env['PATH']}", "COLUMNS": "120"}
    process = subprocess.Popen(
        ["bash", "-c", script],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # the gateway it starts goes with it, whatever happens
    )
    try:
        out, err = process.communicate(timeout=1200)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0, f"{out[-3000:]}\n{err[-3000:]}"

    # What the session made, beyond each command's exit status (an `a && b` line
    # does not stop a bash script when `a` fails).
    root = tmp_path / "my-workspace"
    with Workspace.open(root) as ws:
        refs = {v.ref for v in ws.datasets.list_versions()}
        assert {"churn:1", "churn:2", "crm:1", "churn-by-date:1"} <= refs
        models = {m.ref: m for m in ws.models.list_versions("churn")}
        assert models["churn:1"].status.value == "approved"
        assert models["churn:1"].aliases == ["production"]
        assert models["churn:2"].status.value == "approved"
        assert len(ws.runs.list_runs(None, None, 100)) >= 3  # two trainings, one reproduced
        jobs = ws.jobs.list_jobs("batch")
        assert [j.status.value for j in jobs] == ["succeeded", "succeeded"]
        (endpoint,) = ws.endpoints.list()
        assert endpoint.name == "churn-api"
        assert len(ws.endpoints.history("churn-api")) >= 3  # create, update, rollback
        assert len(ws.endpoints.tokens.list()) == 1
    assert len((root / "scored.csv").read_text().splitlines()) == 5001
    assert len(json.loads((root / "scored.json").read_text())) == 5000
    assert '"predictions"' in out  # the gateway's answer to curl

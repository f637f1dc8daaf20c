"""Shared fixtures: real SQLite files, the real PostgreSQL server, the real CLI."""

from __future__ import annotations

import os

# One OpenMP thread per library: on a busy 2-core machine XGBoost and LightGBM with
# several threads each spin against each other (a 2 s fit took 30 s).
os.environ.setdefault("OMP_NUM_THREADS", "1")

import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from modelyard.workspace import Workspace

POSTGRES_URL = os.environ.get("MODELYARD_TEST_POSTGRES_URL")


def pytest_configure(config: pytest.Config) -> None:
    # Subprocesses (CLI tests) must not inherit a workspace from the developer's shell.
    os.environ.pop("MODELYARD_WORKSPACE", None)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL on the real PostgreSQL server, inside a fresh schema dropped afterwards.

    Skips when MODELYARD_TEST_POSTGRES_URL is unset (a laptop without PostgreSQL);
    fails, never skips, when it is set and the server does not answer (CI sets it).
    """
    if not POSTGRES_URL:
        pytest.skip("MODELYARD_TEST_POSTGRES_URL is not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        separator = "&" if "?" in POSTGRES_URL else "?"
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each metadata backend in turn: a SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'meta.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    """A new workspace on a SQLite file."""
    ws = Workspace.init(tmp_path / "ws")
    yield ws
    ws.close()


@pytest.fixture
def any_workspace(tmp_path: Path, database_url: str) -> Iterator[Workspace]:
    """A new workspace on each metadata backend."""
    ws = Workspace.init(tmp_path / "ws", database_url=database_url)
    yield ws
    ws.close()


@dataclass
class CliResult:
    """What one CLI process did."""

    exit_code: int
    stdout: str
    stderr: str


@dataclass
class Cli:
    """Runs ``python -m modelyard`` as a real subprocess in a workspace."""

    workspace: Path

    def __call__(self, *args: str, check: bool = True, timeout: float = 300) -> CliResult:
        env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
        process = subprocess.run(
            [sys.executable, "-m", "modelyard", "-w", str(self.workspace), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )
        result = CliResult(process.returncode, process.stdout, process.stderr)
        if check and process.returncode != 0:
            raise AssertionError(
                f"modelyard {' '.join(args)} exited {process.returncode}:\n"
                f"{process.stdout}\n{process.stderr}"
            )
        return result


@pytest.fixture
def cli(workspace: Workspace) -> Cli:
    """The CLI on the ``workspace`` fixture's directory."""
    return Cli(workspace.settings.workspace)

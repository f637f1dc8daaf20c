"""The workspace keeps what ``init`` was told (issue 16, finding 4)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from modelyard.errors import ConfigurationError
from modelyard.settings import load_settings, write_settings_file
from modelyard.workspace import Workspace


def _modelyard(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    return subprocess.run(
        [sys.executable, "-m", "modelyard", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
    )


def _with_password(url: str) -> str:
    """The test server's URL with a password (the server trusts the loopback, so any
    password connects)."""
    return url.replace("postgres@", "postgres:s3cret-pw@", 1)


@pytest.mark.postgres
def test_init_options_are_used_by_later_commands(tmp_path: Path, postgres_url: str) -> None:
    url = _with_password(postgres_url)
    source = tmp_path / "d.csv"
    pd.DataFrame({"x": range(20), "y": [i % 2 for i in range(20)]}).to_csv(source, index=False)

    created = _modelyard(
        "init", "ws", "--database-url", url, "--artifact-url", "blobs", cwd=tmp_path
    )
    assert created.returncode == 0, created.stderr
    assert "s3cret-pw" not in created.stdout + created.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    ingested = _modelyard(
        "-w", "../ws", "data", "ingest", str(source), "--name", "d", cwd=elsewhere
    )
    assert ingested.returncode == 0, ingested.stderr

    engine = sa.create_engine(postgres_url)
    with engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT name, version FROM dataset_versions")).all()
    engine.dispose()
    assert [tuple(row) for row in stored] == [("d", 1)]
    workspace = tmp_path / "ws"
    assert not (workspace / ".modelyard" / "modelyard.db").exists()
    assert list((tmp_path / "blobs" / "sha256").rglob("*"))
    settings_file = workspace / "modelyard.toml"
    assert stat.S_IMODE(settings_file.stat().st_mode) == 0o600
    kept = tomllib.loads(settings_file.read_text())
    assert kept["database_url"] == url
    assert kept["artifact_url"] == str((tmp_path / "blobs").resolve())
    info = _modelyard("-w", str(workspace), "info", "--json", cwd=tmp_path)
    described = json.loads(info.stdout)
    assert "s3cret-pw" not in info.stdout and "***" in described["database"]
    assert described["artifacts"] == str((tmp_path / "blobs").resolve())


def test_a_sqlite_url_given_to_init_is_kept(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    with Workspace.init(tmp_path / "ws", database_url=url):
        pass
    with Workspace.open(tmp_path / "ws") as workspace:
        assert workspace.metadata.url == url
    assert not (tmp_path / "ws" / ".modelyard" / "modelyard.db").exists()
    mode = stat.S_IMODE((tmp_path / "ws" / "modelyard.toml").stat().st_mode)
    assert mode == 0o600


def test_init_without_options_writes_the_commented_template(tmp_path: Path) -> None:
    with Workspace.init(tmp_path / "ws"):
        pass
    text = (tmp_path / "ws" / "modelyard.toml").read_text()
    assert "# database_url = " in text and "# artifact_url = " in text
    assert tomllib.loads(text) == {"executor": "local"}


def test_init_refuses_options_an_existing_settings_file_contradicts(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "modelyard.toml").write_text('artifact_url = "/srv/blobs"\n')
    with pytest.raises(ConfigurationError, match="does not set database_url"):
        Workspace.init(root, database_url="postgresql+psycopg://u:hidden@127.0.0.1:1/x")
    with pytest.raises(ConfigurationError) as caught:
        Workspace.init(root, database_url="postgresql+psycopg://u:hidden@127.0.0.1:1/x")
    assert "hidden" not in str(caught.value)
    assert not (root / ".modelyard").exists()


_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=80)


@given(database_url=_TEXT, artifact_url=_TEXT, ray_address=_TEXT)
def test_any_text_setting_reads_back_as_written(
    tmp_path_factory: pytest.TempPathFactory,
    database_url: str,
    artifact_url: str,
    ray_address: str,
) -> None:
    root = tmp_path_factory.mktemp("settings")
    values = {"database_url": database_url, "artifact_url": artifact_url}
    write_settings_file(root / "modelyard.toml", {**values, "ray_address": ray_address})
    settings = load_settings(root)
    assert settings.database_url == database_url
    assert settings.artifact_url == artifact_url
    assert settings.ray_address == ray_address


@given(hosts=st.lists(_TEXT, max_size=4), workers=st.integers(0, 64), open_api=st.booleans())
def test_settings_of_every_kind_read_back_as_written(
    tmp_path_factory: pytest.TempPathFactory, hosts: list[str], workers: int, open_api: bool
) -> None:
    root = tmp_path_factory.mktemp("settings")
    values = {"allowed_hosts": hosts, "max_workers": workers, "open_management": open_api}
    write_settings_file(root / "modelyard.toml", values)
    settings = load_settings(root)
    assert settings.allowed_hosts == hosts
    assert settings.max_workers == workers and settings.open_management is open_api

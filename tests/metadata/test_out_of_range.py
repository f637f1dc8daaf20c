"""Version numbers no database column can hold are bad input, never a crash
(issue 16, finding 11): a clear error naming the version, exit 2, HTTP 422."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelyard.data import DatasetRef
from modelyard.data._version import MAX_VERSION
from modelyard.errors import InvalidInputError
from modelyard.metadata._tables import DatasetVersionRow
from modelyard.registry import ModelRef
from modelyard.serving import parse_variant
from modelyard.workspace import Workspace
from tests._packages import register_stand_in, stand_in_package
from tests.serving.conftest import start_gateway

HUGE = "99999999999999999999"  # past 64 bits


def _modelyard(workspace: Workspace, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelyard", "-w", str(workspace.settings.workspace), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
        timeout=120,
    )


@given(st.text(st.characters(categories=["Nd"]), min_size=1, max_size=30))
def test_any_digits_parse_to_a_stored_range_version_or_a_clear_error(digits: str) -> None:
    for parse in (DatasetRef.parse, ModelRef.parse):
        try:
            ref = parse(f"n:{digits}")
        except InvalidInputError as exc:
            assert repr(digits) in str(exc)
        else:
            assert ref.version is not None and 1 <= ref.version <= MAX_VERSION
            assert ref.version == int(digits)


@pytest.mark.parametrize(
    "args",
    [
        ["model", "show", f"m:{HUGE}"],
        ["data", "show", f"d:{HUGE}"],
        ["model", "show", f"m:{2**31}"],
        ["data", "show", f"d:{2**63}"],
    ],
)
def test_cli_names_the_version(workspace: Workspace, args: list[str]) -> None:
    result = _modelyard(workspace, *args)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: invalid version"), result.stderr
    assert args[-1].split(":")[1] in lines[0]


def test_deploying_a_huge_version_is_422_naming_it(workspace: Workspace) -> None:
    live = start_gateway(workspace)
    try:
        with live.client() as client:
            answer = client.post(
                "/api/endpoints", json={"name": "e", "variants": [{"model": f"m:{HUGE}"}]}
            )
    finally:
        live.stop()
    assert answer.status_code == 422, answer.text
    assert HUGE in answer.json()["error"]["message"]


def test_a_number_past_the_drivers_range_is_invalid_input(any_workspace: Workspace) -> None:
    """The metadata store's last line: a caller that did not check a number first."""
    too_big = pytest.raises(InvalidInputError, match="out of the database's range")
    with too_big, any_workspace.metadata.session() as session:
        session.add(
            DatasetVersionRow(
                name="d",
                version=2**80 if "sqlite" in any_workspace.metadata.url else 2**40,
                fingerprint="f",
                data_digest="0" * 64,
                n_rows=1,
                n_columns=1,
                size_bytes=1,
                source="s",
                source_format="csv",
                columns=[],
            )
        )
    assert any_workspace.datasets.list_versions() == []


def test_rollback_past_the_newest_configuration_is_not_found(
    workspace: Workspace, tmp_path: Path
) -> None:
    register_stand_in(workspace.models, "m", stand_in_package(tmp_path / "package", {}))
    workspace.endpoints.create("e", [parse_variant("m:1")])
    result = _modelyard(workspace, "endpoint", "rollback", "e", "--to", HUGE)
    assert result.returncode == 3, result.stderr
    assert f"error: endpoint e has no configuration version {HUGE}" in result.stderr

"""A full disk is one line naming the file and "No space left on device", with no
half-written file left behind (issue 16, finding 11)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from modelyard.artifacts import FsspecArtifactStore
from modelyard.errors import StorageError
from tests._full_disk import small_tmpfs


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs mounted for the test."""
    with small_tmpfs(tmp_path / "small") as point:
        yield point


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_a_put_that_does_not_fit_names_the_file_and_leaves_nothing(full_disk: Path) -> None:
    store = FsspecArtifactStore(str(full_disk / "artifacts"))
    data = os.urandom(3 * 1024 * 1024)
    with pytest.raises(StorageError, match="No space left on device") as caught:
        store.put_bytes(data)
    assert str(full_disk) in str(caught.value)
    source = full_disk.parent / "big.bin"
    source.write_bytes(data)
    with pytest.raises(StorageError, match="No space left on device"):
        store.put_file(source)
    assert _files(full_disk) == []


def test_ingest_onto_a_full_artifact_store_is_one_line(full_disk: Path, tmp_path: Path) -> None:
    rows = 100_000  # random text: its Parquet does not compress below 1 MiB
    frame = pd.DataFrame({"x": range(rows), "y": [os.urandom(20).hex() for _ in range(rows)]})
    source = tmp_path / "big.csv"
    frame.to_csv(source, index=False)
    workspace = tmp_path / "ws"

    def modelyard(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "modelyard", *args],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
        )

    created = modelyard("init", str(workspace), "--artifact-url", str(full_disk))
    assert created.returncode == 0, created.stderr
    result = modelyard("-w", str(workspace), "data", "ingest", str(source), "--name", "big")
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == StorageError.exit_code, result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: cannot write artifact {full_disk}/sha256/")
    assert lines[0].endswith(": No space left on device")
    assert not [p for p in _files(full_disk) if ".tmp-" in p.name]

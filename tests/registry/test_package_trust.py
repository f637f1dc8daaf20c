"""Nothing unverified is loaded from the package cache (issue 16, finding 1).

The cache of unpacked packages lives in the workspace, must be the user's alone, and
every file read from it is checked against the version's recorded digest before
anything is loaded, warm cache or cold. The attack: a swapped ``pipeline.joblib``
beside a ``model.json`` that names its hash. Its pickle would create a marker file
when loaded, so a test sees whether it ran.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import joblib
import pandas as pd
import pytest
from sklearn.dummy import DummyRegressor
from sklearn.pipeline import Pipeline

from modelyard.errors import IntegrityError
from modelyard.registry import ModelRegistry
from modelyard.registry._archive import cached_package
from modelyard.workspace import Workspace
from tests.conftest import Cli
from tests.registry._tamper import swap_pickle


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_package(directory: Path) -> None:
    """A pipeline-flavor package: a constant regressor on one numeric column."""
    directory.mkdir()
    pipeline = Pipeline([("model", DummyRegressor(constant=4.5, strategy="constant"))])
    pipeline.fit(pd.DataFrame({"x": [1.0, 2.0]}), [0.0, 1.0])
    joblib.dump(pipeline, directory / "pipeline.joblib")
    manifest = {
        "task": "regression",
        "signature": {"inputs": [{"name": "x", "kind": "numeric", "nullable": True}]},
        "flavors": ["pipeline"],
        "files": {"pipeline.joblib": _sha256((directory / "pipeline.joblib").read_bytes())},
    }
    (directory / "model.json").write_text(json.dumps(manifest))


def _register(ws: Workspace, tmp_path: Path) -> str:
    _write_package(tmp_path / "package")
    version = ws.models.register(
        "const",
        tmp_path / "package",
        task="regression",
        algorithm="dummy",
        metrics={},
        params={},
        lineage={},
        flavors=["pipeline"],
    )
    return version.ref


@pytest.fixture
def registered(tmp_path: Path) -> tuple[Workspace, str]:
    ws = Workspace.init(tmp_path / "ws")
    return ws, _register(ws, tmp_path)


def test_the_cache_is_the_workspaces_own_private_folder(registered: tuple[Workspace, str]) -> None:
    ws, ref = registered
    package = ws.models.package_path(ref)
    assert package.parent == ws.settings.state_dir / "packages"
    assert stat.S_IMODE(package.parent.stat().st_mode) == 0o700
    assert ws.models.load(ref).predict(pd.DataFrame({"x": [1.0]})).predictions[0] == 4.5


def test_a_swapped_pickle_with_a_matching_manifest_in_a_warm_cache_is_refused(
    registered: tuple[Workspace, str], tmp_path: Path
) -> None:
    ws, ref = registered
    ws.models.load(ref)  # warm: unpacked and loaded once
    marker = tmp_path / "pwned"
    swap_pickle(ws.models.cache / ws.models.get(ref).package_digest, marker)
    with pytest.raises(IntegrityError, match="does not match the registered digest"):
        ws.models.load(ref, prefer="pipeline")
    with pytest.raises(IntegrityError):
        ws.models.package_path(ref)
    assert not marker.exists()  # nothing was unpickled


def test_a_file_added_to_a_cached_package_is_refused(registered: tuple[Workspace, str]) -> None:
    ws, ref = registered
    package = ws.models.package_path(ref)
    (package / "extra.joblib").write_bytes(b"not part of the package")
    with pytest.raises(IntegrityError):
        ws.models.load(ref)


def test_a_cache_writable_by_other_users_is_refused(registered: tuple[Workspace, str]) -> None:
    ws, ref = registered
    ws.models.package_path(ref)
    ws.models.cache.chmod(0o777)
    with pytest.raises(IntegrityError, match="writable by other users"):
        ws.models.load(ref)


@pytest.fixture
def shared_tmp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temporary directory every local user may write to, as ``/tmp`` is."""
    shared = Path(tempfile.mkdtemp(prefix="modelyard-shared-", dir="/tmp"))
    shared.chmod(0o1777)
    monkeypatch.setattr(tempfile, "tempdir", str(shared))
    yield shared
    shutil.rmtree(shared)


def test_a_cache_folder_another_user_made_first_is_refused(
    registered: tuple[Workspace, str], shared_tmp: Path
) -> None:
    """The old attack: another local user creates the shared cache folder first. A
    registry without a workspace folder uses the user's own folder under the
    temporary directory; made first by someone else, it is refused."""
    ws, ref = registered
    registry = ModelRegistry(ws.metadata, ws.artifacts)  # no workspace cache given
    assert registry.cache.parent == shared_tmp
    if os.getuid() == 0:  # a second OS user makes the folder: uid 65534 (nobody)
        subprocess.run(["mkdir", "-m", "777", str(registry.cache)], check=True, user=65534)
        assert registry.cache.stat().st_uid == 65534
    else:  # this user cannot act as another: a folder root owns stands in
        registry = ModelRegistry(ws.metadata, ws.artifacts, cache=Path("/"))
    with pytest.raises(IntegrityError, match="belongs to another user"):
        registry.load(ref)


@pytest.mark.slow
def test_model_predict_refuses_a_tampered_warm_cache(tmp_path: Path) -> None:
    """Through the real face: ``modelyard model predict`` in a subprocess."""
    ws = Workspace.init(tmp_path / "ws")
    ref = _register(ws, tmp_path)
    rows = tmp_path / "rows.csv"
    rows.write_text("x\n1\n2\n")
    cli = Cli(tmp_path / "ws")
    first = cli("model", "predict", ref, "--input", str(rows), "--flavor", "pipeline", "--json")
    assert [r["prediction"] for r in json.loads(first.stdout)] == [4.5, 4.5]
    marker = tmp_path / "pwned"
    swap_pickle(ws.models.cache / ws.models.get(ref).package_digest, marker)
    refused = cli(
        "model", "predict", ref, "--input", str(rows), "--flavor", "pipeline", check=False
    )
    assert refused.exit_code == IntegrityError.exit_code
    lines = [line for line in refused.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "does not match the registered digest" in lines[0], refused.stderr
    assert not marker.exists()


@pytest.mark.parametrize("digest", ["", "../../etc", "A" * 64, "0" * 63])
def test_a_digest_that_is_not_a_sha256_names_no_cache_folder(
    registered: tuple[Workspace, str], digest: str
) -> None:
    ws, _ = registered
    with pytest.raises(IntegrityError, match="is not a sha256"):
        cached_package(ws.artifacts, digest, ws.models.cache)

"""One conformance class over artifact-store configurations, plus name safety."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelyard.artifacts import ArtifactStore, FsspecArtifactStore, check_artifact_name
from modelyard.errors import IntegrityError, InvalidInputError, NotFoundError


@pytest.fixture(params=["local-path", "file-url", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FsspecArtifactStore]:
    if request.param == "local-path":
        url = str(tmp_path / "artifacts")
    elif request.param == "file-url":
        url = f"file://{tmp_path / 'artifacts'}"
    else:
        url = f"memory://modelyard-test-{uuid.uuid4().hex}"
    artifact_store = FsspecArtifactStore(url)
    yield artifact_store
    artifact_store.close()


class TestArtifactStoreContract:
    """What every ArtifactStore promises."""

    def test_put_returns_the_sha256_and_stores_once(self, store: ArtifactStore) -> None:
        data = b"hello artifacts"
        digest = store.put_bytes(data)
        assert digest == hashlib.sha256(data).hexdigest()
        assert store.put_bytes(data) == digest
        assert store.exists(digest)
        assert store.size(digest) == len(data)
        assert store.get_bytes(digest) == data

    def test_put_file_and_fetch(self, store: ArtifactStore, tmp_path: Path) -> None:
        source = tmp_path / "blob.bin"
        source.write_bytes(bytes(range(256)) * 1000)
        digest = store.put_file(source)
        copy = store.fetch(digest, tmp_path / "out" / "copy.bin")
        assert copy.read_bytes() == source.read_bytes()
        with store.open(digest) as handle:
            assert handle.read(4) == bytes(range(4))

    def test_unknown_digest_is_not_found(self, store: ArtifactStore) -> None:
        with pytest.raises(NotFoundError):
            store.get_bytes("0" * 64)

    @pytest.mark.parametrize("bad", ["../../etc/passwd", "abc", "A" * 64, "0" * 63 + "/"])
    def test_malformed_digest_is_refused(self, store: ArtifactStore, bad: str) -> None:
        with pytest.raises(InvalidInputError):
            store.exists(bad)

    def test_delete_removes_content(self, store: ArtifactStore) -> None:
        digest = store.put_bytes(b"temporary")
        store.delete(digest)
        assert not store.exists(digest)


def _stored_file(root: Path, digest: str) -> Path:
    return root / "sha256" / digest[:2] / digest


@pytest.mark.parametrize("damage", ["modified", "truncated", "appended"])
def test_hand_modified_artifact_is_refused_on_every_read(tmp_path: Path, damage: str) -> None:
    root = tmp_path / "artifacts"
    store = FsspecArtifactStore(str(root))
    digest = store.put_bytes(b"model weights " * 100)
    path = _stored_file(root, digest)
    content = path.read_bytes()
    if damage == "modified":
        path.write_bytes(content.replace(b"weights", b"WEIGHTS", 1))
    elif damage == "truncated":
        path.write_bytes(content[:10])
    else:
        path.write_bytes(content + b"!")
    with pytest.raises(IntegrityError, match="corrupt"):
        store.get_bytes(digest)
    with pytest.raises(IntegrityError):
        store.local_path(digest)
    with pytest.raises(IntegrityError):
        store.fetch(digest, tmp_path / "copy")
    assert not (tmp_path / "copy").exists()


def test_failed_put_leaves_no_partial_file(tmp_path: Path) -> None:
    root = tmp_path / "artifacts"
    store = FsspecArtifactStore(str(root))
    with pytest.raises(FileNotFoundError):
        store.put_file(tmp_path / "missing.bin")
    assert [p for p in root.rglob("*") if p.is_file()] == []


def test_put_bytes_interrupted_before_its_rename_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bytes are written beside their final name, then renamed: a failure in between
    must take the written file away and leave the digest unknown."""
    root = tmp_path / "artifacts"
    store = FsspecArtifactStore(str(root))

    def interrupted(*args: object, **kwargs: object) -> None:
        raise OSError("disk vanished")

    monkeypatch.setattr(store._fs, "mv", interrupted)
    with pytest.raises(OSError, match="disk vanished"):
        store.put_bytes(b"x" * 1000)
    assert [p for p in root.rglob("*") if p.is_file()] == []
    monkeypatch.undo()
    digest = store.put_bytes(b"x" * 1000)  # and a retry stores it whole
    assert store.get_bytes(digest) == b"x" * 1000


@pytest.mark.parametrize(
    "name",
    ["../secret", "a/../../b", "/etc/passwd", "C:\\x", "a\\b", "", " ", "a\x00b", "./a"],
)
def test_artifact_names_cannot_escape(name: str) -> None:
    with pytest.raises(InvalidInputError):
        check_artifact_name(name)


@given(st.text(min_size=1, max_size=60))
def test_any_accepted_name_stays_relative_and_inside(name: str) -> None:
    try:
        accepted = check_artifact_name(name)
    except InvalidInputError:
        return
    parts = accepted.split("/")
    assert not accepted.startswith("/")
    assert ".." not in parts and "." not in parts
    assert "\\" not in accepted

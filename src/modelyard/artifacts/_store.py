"""Content-addressed artifact storage: files named by the sha256 of their bytes.

Writes go to a temporary name and are renamed into place, so a reader never sees a
half-written file. Every read re-hashes the content and refuses a file whose bytes
no longer match its name (:class:`~modelyard.errors.IntegrityError`): a tampered or
truncated artifact is never loaded.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from modelyard.errors import IntegrityError, InvalidInputError, NotFoundError, StorageError

__all__ = ["ArtifactStore", "FsspecArtifactStore", "check_digest", "sha256_file"]

_CHUNK = 4 * 1024 * 1024
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


def check_digest(digest: str) -> str:
    """Return ``digest`` if it is a sha256 hex digest, so it can be used in a path.

    Raises:
        InvalidInputError: anything else, such as a path-traversal attempt.
    """
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        raise InvalidInputError(
            f"not an artifact digest: {digest!r} (expected 64 lowercase hex characters)"
        )
    return digest


def sha256_file(path: str | Path) -> str:
    """The sha256 hex digest of a local file, read in chunks."""
    hasher = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


class ArtifactStore(ABC):
    """Immutable blobs addressed by content.

    Contract, checked by one conformance test class over every implementation:

    - ``put_*`` returns the sha256 of the content; putting the same content twice
      stores it once and returns the same digest, also when two writers put it at
      the same moment;
    - a put is atomic: after a failure nothing is visible under the digest;
    - ``get_bytes``/``open``/``fetch`` verify the content against the digest and
      raise :class:`IntegrityError` on a mismatch and :class:`NotFoundError` when
      the digest is unknown;
    - digests are validated before being used in any path.
    """

    @abstractmethod
    def put_file(self, path: str | Path) -> str:
        """Store a local file; return its digest."""

    @abstractmethod
    def put_bytes(self, data: bytes) -> str:
        """Store bytes; return their digest."""

    @abstractmethod
    def exists(self, digest: str) -> bool:
        """Whether content with this digest is stored."""

    @abstractmethod
    def size(self, digest: str) -> int:
        """Size in bytes of stored content."""

    @abstractmethod
    def get_bytes(self, digest: str) -> bytes:
        """The verified content."""

    @abstractmethod
    def fetch(self, digest: str, destination: str | Path) -> Path:
        """Copy the verified content to a local file (atomically) and return its path."""

    @abstractmethod
    def local_path(self, digest: str) -> Path:
        """A verified local file with the content, for readers that need a path."""

    @abstractmethod
    def delete(self, digest: str) -> None:
        """Remove content.

        Never to undo a put whose metadata write failed: content is shared by
        every writer of the same bytes, and another may just have committed a
        record pointing at it. Only a collector that checked no record does (and
        that no writer is between its put and its commit) may delete.
        """

    @contextmanager
    def open(self, digest: str) -> Iterator[IO[bytes]]:
        """A binary file object over the verified content."""
        path = self.local_path(digest)
        with path.open("rb") as handle:
            yield handle


class FsspecArtifactStore(ArtifactStore):
    """An :class:`ArtifactStore` on any fsspec URL; a plain path means the local disk.

    Layout: ``<root>/sha256/<first two hex>/<digest>``.
    """

    def __init__(self, url: str, **storage_options: Any) -> None:
        self.url = url
        try:
            fs, root = fsspec.core.url_to_fs(url, **storage_options)
        except (ImportError, ValueError) as exc:
            raise StorageError(f"cannot open artifact store {url!r}: {exc}") from exc
        self._fs: fsspec.AbstractFileSystem = fs
        self._root: str = root.rstrip("/")
        self._local = isinstance(fs, LocalFileSystem)
        self._fs.makedirs(self._path_root(), exist_ok=True)
        self._cache_dir: Path | None = None

    def _path_root(self) -> str:
        return f"{self._root}/sha256"

    def _path(self, digest: str) -> str:
        check_digest(digest)
        return f"{self._path_root()}/{digest[:2]}/{digest}"

    def put_file(self, path: str | Path) -> str:
        digest = sha256_file(path)
        if self.exists(digest):
            return digest
        target = self._path(digest)
        self._fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
        temporary = f"{target}.tmp-{uuid.uuid4().hex}"
        try:
            self._fs.put_file(str(path), temporary)
            self._fs.mv(temporary, target)
        except OSError as exc:
            self._remove_quietly(temporary)
            raise StorageError.writing("artifact", target, exc) from exc
        except BaseException:
            self._remove_quietly(temporary)
            raise
        return digest

    def put_bytes(self, data: bytes) -> str:
        # Hashed in memory and written once, beside its final name: a training
        # job's self-contained report is about 5 MB, which a scratch file would
        # have written, read back to hash and copied again.
        digest = hashlib.sha256(data).hexdigest()
        if self.exists(digest):
            return digest
        target = self._path(digest)
        self._fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
        temporary = f"{target}.tmp-{uuid.uuid4().hex}"
        try:
            with self._fs.open(temporary, "wb") as handle:
                handle.write(data)
            self._fs.mv(temporary, target)
        except OSError as exc:
            self._remove_quietly(temporary)
            raise StorageError.writing("artifact", target, exc) from exc
        except BaseException:
            self._remove_quietly(temporary)
            raise
        return digest

    def exists(self, digest: str) -> bool:
        return bool(self._fs.exists(self._path(digest)))

    def size(self, digest: str) -> int:
        self._require(digest)
        return int(self._fs.size(self._path(digest)))

    def get_bytes(self, digest: str) -> bytes:
        self._require(digest)
        data: bytes = self._fs.cat_file(self._path(digest))
        self._verify(digest, hashlib.sha256(data).hexdigest())
        return data

    def fetch(self, digest: str, destination: str | Path) -> Path:
        self._require(digest)
        destination = Path(destination)
        destination.parent.mkdir(parents=True, exist_ok=True)
        temporary = destination.with_name(f".{destination.name}.tmp-{uuid.uuid4().hex}")
        try:
            hasher = hashlib.sha256()
            with self._fs.open(self._path(digest), "rb") as source, temporary.open("wb") as sink:
                while chunk := source.read(_CHUNK):
                    hasher.update(chunk)
                    sink.write(chunk)
            self._verify(digest, hasher.hexdigest())
            temporary.replace(destination)
        except StorageError:
            raise
        except OSError as exc:
            raise StorageError.writing("artifact", destination, exc) from exc
        finally:
            temporary.unlink(missing_ok=True)
        return destination

    def local_path(self, digest: str) -> Path:
        self._require(digest)
        if self._local:
            path = Path(self._path(digest))
            self._verify(digest, sha256_file(path))
            return path
        if self._cache_dir is None:
            self._cache_dir = Path(tempfile.mkdtemp(prefix="modelyard-artifacts-"))
        cached = self._cache_dir / digest
        if cached.exists() and sha256_file(cached) == digest:
            return cached
        return self.fetch(digest, cached)

    def delete(self, digest: str) -> None:
        self._remove_quietly(self._path(digest))

    def close(self) -> None:
        """Drop the local cache of a remote store."""
        if self._cache_dir is not None:
            shutil.rmtree(self._cache_dir, ignore_errors=True)
            self._cache_dir = None

    def _require(self, digest: str) -> None:
        if not self.exists(digest):
            raise NotFoundError(f"artifact {digest} is not in the store {self.url}")

    def _verify(self, digest: str, actual: str) -> None:
        if actual != digest:
            raise IntegrityError(
                f"artifact {digest} is corrupt: its content hashes to {actual}; refusing to "
                "load it",
                details={"expected": digest, "actual": actual},
            )

    def _remove_quietly(self, path: str) -> None:
        try:
            if self._fs.exists(path):
                self._fs.rm_file(path)
        except OSError:
            pass

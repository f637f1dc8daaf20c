"""A model package directory packed as one reproducible archive, and unpacked safely."""

from __future__ import annotations

import io
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from modelyard.errors import IntegrityError

if TYPE_CHECKING:
    from modelyard.artifacts import ArtifactStore

__all__ = ["pack_directory", "unpack_archive", "unpacked_package"]


def pack_directory(directory: Path) -> bytes:
    """A tar archive of ``directory``'s files, sorted, with fixed metadata.

    The same files give the same bytes, so the same package gets the same digest.
    """
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            info = tarfile.TarInfo(path.relative_to(directory).as_posix())
            data = path.read_bytes()
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def unpack_archive(data: bytes, destination: Path) -> Path:
    """Unpack a package archive into ``destination``, refusing unsafe members.

    Raises:
        IntegrityError: a member with an absolute path, ``..``, or a link.
    """
    destination.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r") as archive:
        for member in archive.getmembers():
            name = Path(member.name)
            if not member.isfile() or name.is_absolute() or ".." in name.parts:
                raise IntegrityError(f"model package member {member.name!r} is not allowed")
        archive.extractall(destination, filter="data")
    return destination


def unpacked_package(artifacts: ArtifactStore, digest: str, cache: Path) -> Path:
    """``cache/<digest>``: the package fetched (hash verified) and unpacked once.

    Unpacked into a staging folder and renamed into place with a ``.complete``
    marker, so processes racing to unpack the same package never see half of it.
    """
    target = cache / digest
    if (target / ".complete").exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    data = artifacts.get_bytes(digest)  # verifies the hash
    staging = Path(tempfile.mkdtemp(prefix="unpack-", dir=cache))
    unpack_archive(data, staging)
    (staging / ".complete").touch()
    try:
        staging.rename(target)
    except OSError:  # another process unpacked it first
        shutil.rmtree(staging, ignore_errors=True)
    return target

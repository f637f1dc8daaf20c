"""A model package directory packed as one reproducible archive, and unpacked safely."""

from __future__ import annotations

import contextlib
import io
import shutil
import tarfile
import tempfile
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from modelyard.errors import IntegrityError

if TYPE_CHECKING:
    from modelyard.artifacts import ArtifactStore

__all__ = ["IDLE_DAYS", "evict_idle", "pack_directory", "unpack_archive", "unpacked_package"]

IDLE_DAYS = 7.0  # an unpacked package unused this long is removed from the cache
_COMPLETE = ".complete"
_STAGING = "unpack-"
_EVICTING = "evicting-"


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
    Each use touches the marker; each new unpack then removes the packages nobody
    used for :data:`IDLE_DAYS` (see :func:`evict_idle`), so a server or a batch
    host that loads version after version does not fill its disk.
    """
    target = cache / digest
    marker = target / _COMPLETE
    if marker.exists():
        _touch(marker)
        if marker.exists():  # not evicted by another process as it was touched
            return target
    cache.mkdir(parents=True, exist_ok=True)
    data = artifacts.get_bytes(digest)  # verifies the hash
    staging = Path(tempfile.mkdtemp(prefix=_STAGING, dir=cache))
    unpack_archive(data, staging)
    (staging / _COMPLETE).touch()
    try:
        staging.rename(target)
    except OSError:  # another process unpacked it first
        shutil.rmtree(staging, ignore_errors=True)
    evict_idle(cache, keep=digest)
    return target


def evict_idle(cache: Path, idle_days: float = IDLE_DAYS, keep: str | None = None) -> list[str]:
    """Remove the unpacked packages of ``cache`` unused for ``idle_days``.

    A package's last use is its marker's modification time (touched by every
    :func:`unpacked_package` that returns it); a staging folder left by a process
    that died mid-unpack ages from its own. Each goes by an atomic rename first, so
    a process arriving as it goes finds no ``.complete`` marker and unpacks afresh
    rather than reading a folder being deleted. ``keep`` names a package to spare
    whatever its age (the one just unpacked).

    Returns:
        The names removed.
    """
    cutoff = time.time() - idle_days * 86_400
    removed = []
    for entry in cache.iterdir() if cache.is_dir() else ():
        if entry.name == keep or not entry.is_dir():
            continue
        if entry.name.startswith(_EVICTING):  # left by an eviction that died midway
            shutil.rmtree(entry, ignore_errors=True)
            continue
        clock = entry if entry.name.startswith(_STAGING) else entry / _COMPLETE
        try:
            if clock.stat().st_mtime >= cutoff:
                continue
            doomed = entry.rename(cache / f"{_EVICTING}{uuid.uuid4().hex}")
        except OSError:  # gone, or being unpacked: another process's business
            continue
        shutil.rmtree(doomed, ignore_errors=True)
        removed.append(entry.name)
    return removed


def _touch(marker: Path) -> None:
    with contextlib.suppress(OSError):  # a read-only cache still serves, never evicted
        marker.touch()

"""A model package directory packed as one reproducible archive, and the local cache
of unpacked packages, from which nothing is read that does not match its digest.

The registry records each version's package by the sha256 of its archive. The
archive is reproducible (:func:`pack_files`: sorted members, fixed metadata), so a
directory's files can be checked against that digest by packing them again. Every
read of a cached package does so on the bytes it then hands out
(:func:`cached_package`), warm cache or cold: a file changed after unpacking (a
swapped pickle with a matching ``model.json``) is refused before anything loads it,
and what is checked is what is loaded, with no second read to race. The cache
folder itself must be the user's alone (:func:`private_directory`).
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import io
import os
import re
import shutil
import stat
import tarfile
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelyard.errors import IntegrityError

if TYPE_CHECKING:
    from modelyard.artifacts import ArtifactStore

__all__ = [
    "IDLE_DAYS",
    "cached_package",
    "evict_idle",
    "files_digest",
    "pack_directory",
    "pack_files",
    "private_directory",
    "read_files",
    "unpack_archive",
    "user_cache",
]

IDLE_DAYS = 7.0  # an unpacked package unused this long is removed from the cache
_COMPLETE = ".complete"  # in a cached package's folder; not one of its files
_STAGING = "unpack-"
_EVICTING = "evicting-"
_DIGEST = re.compile(r"[0-9a-f]{64}")


def pack_files(files: Mapping[str, bytes]) -> bytes:
    """A tar archive of ``{relative path: content}``, sorted, with fixed metadata.

    The same files give the same bytes, so the same package gets the same digest.
    """
    buffer = io.BytesIO()
    _write_archive(files, buffer)
    return buffer.getvalue()


def files_digest(files: Mapping[str, bytes]) -> str:
    """The sha256 of :func:`pack_files` ``(files)``, without holding the archive."""
    sink = _HashingSink()
    _write_archive(files, sink)
    return sink.hash.hexdigest()


def _write_archive(files: Mapping[str, bytes], sink: io.RawIOBase | io.BytesIO) -> None:
    with tarfile.open(fileobj=sink, mode="w") as archive:
        for name in sorted(files):
            data = files[name]
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))


class _HashingSink(io.RawIOBase):
    """A write-only file that keeps only the sha256 of what was written."""

    def __init__(self) -> None:
        super().__init__()
        self.hash = hashlib.sha256()
        self._size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.hash.update(data)
        self._size += len(data)
        return len(data)

    def tell(self) -> int:
        return self._size


def pack_directory(directory: Path) -> bytes:
    """:func:`pack_files` of every file under ``directory``."""
    return pack_files(read_files(directory))


def read_files(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` (but a cache's ``.complete`` marker), by path
    relative to it.

    Raises:
        IntegrityError: a symbolic link or anything else that is not a plain file.
    """
    files = {}
    for path in sorted(directory.rglob("*")):
        name = path.relative_to(directory).as_posix()
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            raise IntegrityError(f"model package entry {name!r} in {directory} is not a file")
        if path.is_file() and name != _COMPLETE:
            files[name] = path.read_bytes()
    return files


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


def _members(data: bytes) -> dict[str, bytes]:
    """The files of a package archive (already refused if unsafe by unpacking it)."""
    files = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r") as archive:
        for member in archive.getmembers():
            handle = archive.extractfile(member)
            assert handle is not None  # members are regular files (see unpack_archive)
            files[member.name] = handle.read()
    return files


def private_directory(path: Path) -> Path:
    """``path``, created if need be, once it is sure to be this user's alone.

    A cache of packages that another local user can write to lets them swap in a
    pickle the victim then loads; the digest check already refuses that, and this
    keeps others from placing anything there (a new cache is made readable by its
    user only).

    Raises:
        IntegrityError: ``path`` is a link or not a folder, belongs to another
            user, or others may write to it (on systems with file owners).
    """
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700, parents=True)
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode):
        raise IntegrityError(f"model package cache {path} is not a folder (or is a link)")
    if hasattr(os, "getuid"):
        if info.st_uid != os.getuid():
            raise IntegrityError(
                f"model package cache {path} belongs to another user (uid {info.st_uid}): "
                "refusing to load packages from it; remove it or point the cache elsewhere"
            )
        if info.st_mode & 0o022:
            raise IntegrityError(
                f"model package cache {path} is writable by other users "
                f"(mode {stat.S_IMODE(info.st_mode):o}): refusing to load packages from "
                f"it; `chmod 700 {path}`"
            )
    return path


def user_cache() -> Path:
    """A cache for a process with no workspace folder at hand (a batch worker on
    another machine): this user's own folder under the temporary directory."""
    owner = os.getuid() if hasattr(os, "getuid") else getpass.getuser()
    return Path(tempfile.gettempdir()) / f"modelyard-packages-{owner}"


def cached_package(
    artifacts: ArtifactStore | Callable[[], ArtifactStore], digest: str, cache: Path
) -> tuple[Path, dict[str, bytes]]:
    """The package of archive ``digest``: its folder ``cache/<digest>`` and its files,
    checked against ``digest``.

    Warm (the folder is there, complete): its files are read and packed again, and
    must give ``digest``. Cold: the archive is fetched (the store checks its hash),
    unpacked into a staging folder and renamed into place with a ``.complete``
    marker, so processes racing to unpack it never see half of it; the files handed
    out are the archive's own. Each use touches the marker; each new unpack then
    removes the packages nobody used for :data:`IDLE_DAYS` (see :func:`evict_idle`).

    Args:
        artifacts: the store holding the archive, or a function making it (only a
            cold cache needs it).

    Raises:
        IntegrityError: the cached files do not match ``digest`` (changed after
            unpacking), the archive is tampered with, or the cache is not private.
        NotFoundError: no archive ``digest`` in the store.
    """
    if not _DIGEST.fullmatch(digest):
        raise IntegrityError(f"model package digest {digest!r} is not a sha256")
    private_directory(cache)
    target = cache / digest
    marker = target / _COMPLETE
    if marker.exists():
        _touch(marker)
        try:
            files = read_files(target)
        except FileNotFoundError:  # evicted by another process as it was read
            files = None
        if files is not None:
            if files_digest(files) != digest:
                raise IntegrityError(
                    f"the unpacked model package in {target} does not match the registered "
                    f"digest {digest[:12]}: its files were changed after unpacking; "
                    "nothing was loaded from it (remove the folder to unpack it again)",
                    details={"package": str(target), "digest": digest},
                )
            return target, files
    store = artifacts() if callable(artifacts) else artifacts
    data = store.get_bytes(digest)  # verifies the hash
    staging = Path(tempfile.mkdtemp(prefix=_STAGING, dir=cache))
    unpack_archive(data, staging)
    (staging / _COMPLETE).touch()
    try:
        staging.rename(target)
    except OSError:  # another process unpacked it first
        shutil.rmtree(staging, ignore_errors=True)
    evict_idle(cache, keep=digest)
    return target, _members(data)


def evict_idle(cache: Path, idle_days: float = IDLE_DAYS, keep: str | None = None) -> list[str]:
    """Remove the unpacked packages of ``cache`` unused for ``idle_days``.

    A package's last use is its marker's modification time (touched by every
    :func:`cached_package` that returns it); a staging folder left by a process
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

"""A model package directory packed as one reproducible archive, and unpacked safely."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from modelyard.errors import IntegrityError

__all__ = ["pack_directory", "unpack_archive"]


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

"""User-given artifact names: relative, forward-slash paths that stay inside their run."""

from __future__ import annotations

from pathlib import PurePosixPath

from modelyard.errors import InvalidInputError

__all__ = ["check_artifact_name"]

_MAX_LENGTH = 500


def check_artifact_name(name: str) -> str:
    """Return the normalised name, or refuse one that could escape its directory.

    Raises:
        InvalidInputError: empty, absolute, ``..`` segments, backslashes, control
            characters, or longer than 500 characters.
    """
    problem = None
    if not name or not name.strip():
        problem = "it is empty"
    elif len(name) > _MAX_LENGTH:
        problem = f"it is longer than {_MAX_LENGTH} characters"
    elif "\\" in name or any(ord(ch) < 32 for ch in name):
        problem = "it contains a backslash or a control character"
    elif name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        problem = "it is an absolute path"
    else:
        segments = name.split("/")
        if any(segment in ("..", ".", "") for segment in segments):
            problem = "it contains '.', '..' or empty segments"
    if problem:
        raise InvalidInputError(
            f"invalid artifact name {name!r}: {problem}", details={"name": name}
        )
    return str(PurePosixPath(name))

"""The one exception tree of modelyard.

Every error modelyard raises on purpose derives from :class:`ModelyardError`, and
mixes in the builtin a caller would naturally catch (``LookupError`` for a missing
thing, ``ValueError`` for bad input), so code written against plain Python keeps
working. Faces map the tree at the edge only: the CLI prints one line and exits with
``exit_code``; the REST API answers ``http_status`` with
``{"error": {"type", "message", "details"}}``.

::

    ModelyardError
    ├── NotFoundError (LookupError)           404, exit 3
    ├── AlreadyExistsError                    409, exit 4
    ├── ConflictError                         409, exit 4
    ├── InvalidInputError (ValueError)        422, exit 2
    │   └── SchemaMismatchError               422, exit 2
    ├── IntegrityError                        500, exit 5
    ├── ConfigurationError                    400, exit 6
    ├── StorageError (OSError)                503, exit 7
    └── MissingDependencyError (ImportError)  501, exit 8
"""

from __future__ import annotations

import errno
import os
from typing import Any

__all__ = [
    "AlreadyExistsError",
    "ConfigurationError",
    "ConflictError",
    "IntegrityError",
    "InvalidInputError",
    "MissingDependencyError",
    "ModelyardError",
    "NotFoundError",
    "SchemaMismatchError",
    "StorageError",
]


class ModelyardError(Exception):
    """Base of every error modelyard raises on purpose.

    Args:
        message: one sentence a person can act on; it names the thing at fault.
        details: machine-readable context (the column, the field, the file).
    """

    exit_code: int = 1
    http_status: int = 500

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """The JSON body the REST API answers with."""
        return {
            "error": {
                "type": type(self).__name__,
                "message": self.message,
                "details": self.details,
            }
        }


class NotFoundError(ModelyardError, LookupError):
    """A named thing (dataset, run, model, file) does not exist."""

    exit_code = 3
    http_status = 404


class AlreadyExistsError(ModelyardError):
    """Creating something whose name is taken."""

    exit_code = 4
    http_status = 409


class ConflictError(ModelyardError):
    """The request contradicts the current state (e.g. a finished run written to)."""

    exit_code = 4
    http_status = 409


class InvalidInputError(ModelyardError, ValueError):
    """Input that cannot be used as given: a bad file, a bad argument, a bad value."""

    exit_code = 2
    http_status = 422


class SchemaMismatchError(InvalidInputError):
    """Data whose columns or types do not match what was expected."""


class IntegrityError(ModelyardError):
    """Stored content does not match its recorded hash: refused, never loaded."""

    exit_code = 5
    http_status = 500


class ConfigurationError(ModelyardError):
    """Settings that cannot work: a bad database URL, no workspace, a bad option."""

    exit_code = 6
    http_status = 400


class StorageError(ModelyardError, OSError):
    """The metadata database or the artifact store could not be reached or written."""

    exit_code = 7
    http_status = 503

    @classmethod
    def writing(cls, what: str, path: str | os.PathLike[str], exc: OSError) -> StorageError:
        """The error for a failed write: one line naming the file and the system's
        reason (``No space left on device``), without the errno and path prefixes
        that Python, Arrow and fsspec wrap around it."""
        if exc.errno == errno.ENOSPC:
            reason = os.strerror(errno.ENOSPC)
        else:
            reason = exc.strerror or (os.strerror(exc.errno) if exc.errno else str(exc))
        return cls(
            f"cannot write {what} {path}: {reason}",
            details={"path": str(path), "errno": exc.errno},
        )


class MissingDependencyError(ModelyardError, ImportError):
    """An optional dependency is needed; the message names the extra to install."""

    exit_code = 8
    http_status = 501

"""A dataset version as the rest of modelyard sees it, and how to name one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from modelyard.data._schema import ColumnSchema, LogicalType, Role
from modelyard.errors import InvalidInputError

__all__ = ["MAX_VERSION", "DatasetRef", "DatasetVersion", "check_name", "parse_version"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,199}$")


def check_name(name: str, kind: str = "dataset") -> str:
    """Return ``name`` if it is a valid name for a dataset, model or experiment.

    Raises:
        InvalidInputError: empty, too long, or with characters other than letters,
            digits, ``_``, ``.`` and ``-`` (so names are safe in paths and URLs).
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInputError(
            f"invalid {kind} name {name!r}: use letters, digits, '_', '.' or '-' "
            "(at most 200, starting with a letter or digit)",
            details={"name": name},
        )
    return name


# Version numbers live in INTEGER columns, 32-bit on PostgreSQL: a larger number
# names no version, and the database driver would fail on it instead of finding none.
MAX_VERSION = 2**31 - 1


def parse_version(text: str, ref: str) -> int:
    """The version number ``text`` (the part after the colon of ``ref``).

    Raises:
        InvalidInputError: not a plain number from 1 to :data:`MAX_VERSION`.
    """
    digits = text.isascii() and text.isdigit()
    if not digits or len(text) > len(str(MAX_VERSION)) or not 1 <= int(text) <= MAX_VERSION:
        raise InvalidInputError(
            f"invalid version {text!r} in {ref!r}: use a number from 1 to {MAX_VERSION} "
            "or 'latest'",
            details={"version": text},
        )
    return int(text)


@dataclass(frozen=True)
class DatasetRef:
    """``name`` or ``name:version`` (``latest`` or no version: the newest)."""

    name: str
    version: int | None = None

    @classmethod
    def parse(cls, text: str) -> DatasetRef:
        """Parse ``name[:version]``.

        Raises:
            InvalidInputError: a malformed reference.
        """
        name, _, version = text.partition(":")
        check_name(name)
        if not version or version == "latest":
            return cls(name)
        return cls(name, parse_version(version, text))

    def __str__(self) -> str:
        return self.name if self.version is None else f"{self.name}:{self.version}"


@dataclass(frozen=True)
class DatasetVersion:
    """One immutable version of a dataset: its schema, splits and where its data is."""

    name: str
    version: int
    fingerprint: str
    data_digest: str
    splits_digest: str | None
    n_rows: int
    n_columns: int
    size_bytes: int
    source: str
    source_format: str
    columns: list[ColumnSchema]
    split_spec: dict[str, Any] | None
    split_summary: dict[str, Any] | None
    created_at: datetime

    @property
    def ref(self) -> str:
        """``name:version``."""
        return f"{self.name}:{self.version}"

    @property
    def target(self) -> str | None:
        """The target column, if one was named."""
        for column in self.columns:
            if column.role is Role.TARGET:
                return column.name
        return None

    def column(self, name: str) -> ColumnSchema:
        """The schema of one column.

        Raises:
            InvalidInputError: no such column.
        """
        for column in self.columns:
            if column.name == name:
                return column
        raise InvalidInputError(
            f"dataset {self.ref} has no column {name!r}", details={"column": name}
        )

    def feature_columns(self) -> list[ColumnSchema]:
        """Columns used as model inputs."""
        return [c for c in self.columns if c.role is Role.FEATURE]

    def columns_of_type(self, logical: LogicalType) -> list[str]:
        """Names of the feature columns of one logical type."""
        return [c.name for c in self.feature_columns() if c.logical_type is logical]

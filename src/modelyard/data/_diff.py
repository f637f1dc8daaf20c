"""Differences between two dataset versions: columns added, removed, retyped; rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from modelyard.data._version import DatasetVersion

__all__ = ["DatasetDiff", "diff_versions"]


@dataclass(frozen=True)
class DatasetDiff:
    """What changed from ``old`` to ``new``."""

    old: str
    new: str
    rows_old: int
    rows_new: int
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    retyped: list[dict[str, str]] = field(default_factory=list)
    role_changes: list[dict[str, str]] = field(default_factory=list)
    missing_changes: list[dict[str, Any]] = field(default_factory=list)
    same_content: bool = False

    @property
    def has_changes(self) -> bool:
        """Whether anything differs."""
        return not self.same_content

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, for ``--json``."""
        return {
            "old": self.old,
            "new": self.new,
            "rows": {"old": self.rows_old, "new": self.rows_new},
            "added": self.added,
            "removed": self.removed,
            "retyped": self.retyped,
            "role_changes": self.role_changes,
            "missing_changes": self.missing_changes,
            "same_content": self.same_content,
        }


def diff_versions(old: DatasetVersion, new: DatasetVersion) -> DatasetDiff:
    """Compare two versions' schemas and sizes (not their rows one by one)."""
    old_columns = {c.name: c for c in old.columns}
    new_columns = {c.name: c for c in new.columns}
    retyped = [
        {
            "column": name,
            "old": old_columns[name].logical_type.value,
            "new": new_columns[name].logical_type.value,
        }
        for name in old_columns
        if name in new_columns and old_columns[name].logical_type != new_columns[name].logical_type
    ]
    roles = [
        {"column": name, "old": old_columns[name].role.value, "new": new_columns[name].role.value}
        for name in old_columns
        if name in new_columns and old_columns[name].role != new_columns[name].role
    ]
    missing = [
        {
            "column": name,
            "old": old_columns[name].missing_share,
            "new": new_columns[name].missing_share,
        }
        for name in old_columns
        if name in new_columns
        and abs(old_columns[name].missing_share - new_columns[name].missing_share) > 0.01
    ]
    return DatasetDiff(
        old=old.ref,
        new=new.ref,
        rows_old=old.n_rows,
        rows_new=new.n_rows,
        added=[name for name in new_columns if name not in old_columns],
        removed=[name for name in old_columns if name not in new_columns],
        retyped=retyped,
        role_changes=roles,
        missing_changes=missing,
        same_content=old.fingerprint == new.fingerprint,
    )

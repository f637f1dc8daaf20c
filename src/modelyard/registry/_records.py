"""Registry records: model references, versions, statuses and events."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from modelyard.data._version import check_name, parse_version
from modelyard.errors import InvalidInputError

__all__ = ["ApprovalStatus", "ModelEvent", "ModelRef", "ModelVersion", "check_alias"]

_ALIAS = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,99}$")


class ApprovalStatus(StrEnum):
    """Whether a version may be deployed."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


def check_alias(alias: str) -> str:
    """Return ``alias`` if usable (a letter first; not ``latest``).

    Raises:
        InvalidInputError: anything else.
    """
    if not _ALIAS.match(alias) or alias == "latest":
        raise InvalidInputError(
            f"invalid alias {alias!r}: start with a letter, then letters, digits, '_' or '-' "
            "('latest' is reserved)",
            details={"alias": alias},
        )
    return alias


@dataclass(frozen=True)
class ModelRef:
    """``name``, ``name:3``, ``name:latest`` or ``name:alias``."""

    name: str
    version: int | None = None
    alias: str | None = None

    @classmethod
    def parse(cls, text: str) -> ModelRef:
        """Parse a model reference.

        Raises:
            InvalidInputError: a malformed reference.
        """
        name, _, selector = text.partition(":")
        check_name(name, "model")
        if not selector or selector == "latest":
            return cls(name)
        if selector.isdigit():
            return cls(name, version=parse_version(selector, text))
        return cls(name, alias=check_alias(selector))

    def __str__(self) -> str:
        if self.version is not None:
            return f"{self.name}:{self.version}"
        if self.alias is not None:
            return f"{self.name}:{self.alias}"
        return self.name


@dataclass(frozen=True)
class ModelVersion:
    """One registered version of a model."""

    name: str
    version: int
    task: str
    algorithm: str
    status: ApprovalStatus
    status_reason: str | None
    status_by: str | None
    status_at: datetime | None
    package_digest: str
    run_id: str | None
    metrics: dict[str, Any]
    params: dict[str, Any]
    lineage: dict[str, Any]
    flavors: list[str]
    created_at: datetime
    aliases: list[str] = field(default_factory=list)

    @property
    def ref(self) -> str:
        """``name:version``."""
        return f"{self.name}:{self.version}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "ref": self.ref,
            "name": self.name,
            "version": self.version,
            "task": self.task,
            "algorithm": self.algorithm,
            "status": self.status.value,
            "status_reason": self.status_reason,
            "status_by": self.status_by,
            "status_at": self.status_at.isoformat() if self.status_at else None,
            "package_digest": self.package_digest,
            "run_id": self.run_id,
            "metrics": self.metrics,
            "params": self.params,
            "lineage": self.lineage,
            "flavors": self.flavors,
            "aliases": self.aliases,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class ModelEvent:
    """Something that happened to a model: who, when, what."""

    kind: str
    version: int | None
    actor: str | None
    details: dict[str, Any]
    created_at: datetime

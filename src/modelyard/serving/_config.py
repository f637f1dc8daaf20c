"""An endpoint's configuration as plain, JSON-round-trippable data.

A configuration is what the gateway needs to serve an endpoint: its variants
(each a concrete ``name:version`` model, a weight, shadow or not), the share of
requests captured, and what to do with columns the model does not read. Model
references are resolved to concrete versions when a configuration is stored, so
moving an alias never changes what a running endpoint serves behind its back.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from modelyard.errors import InvalidInputError

__all__ = [
    "Endpoint",
    "EndpointConfig",
    "EndpointRevision",
    "UnexpectedColumns",
    "VariantConfig",
    "check_endpoint_name",
    "parse_variant",
    "parse_weights",
]

UnexpectedColumns = Literal["ignore", "reject"]
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-_.]{0,62}$")


def check_endpoint_name(name: str, what: str = "endpoint") -> str:
    """Return ``name`` if usable in a URL path (letters, digits, ``-_.``, max 63).

    Raises:
        InvalidInputError: anything else.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInputError(
            f"invalid {what} name {name!r}: use letters, digits, '-', '_' or '.', "
            "starting with a letter or digit, at most 63 characters",
            details={"name": str(name)},
        )
    return name


@dataclass(frozen=True)
class VariantConfig:
    """One variant of an endpoint.

    Attributes:
        name: the variant's name (what routing headers and metrics use).
        model: the model reference; concrete ``name:version`` once stored.
        weight: relative share of production traffic (ignored for shadows).
        shadow: receives a copy of requests off the request path; never answers.
    """

    name: str
    model: str
    weight: float = 1.0
    shadow: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "model": self.model,
            "weight": self.weight,
            "shadow": self.shadow,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VariantConfig:
        """Inverse of :meth:`to_dict`."""
        return cls(
            name=str(data["name"]),
            model=str(data["model"]),
            weight=float(data.get("weight", 1.0)),
            shadow=bool(data.get("shadow", False)),
        )


@dataclass(frozen=True)
class EndpointConfig:
    """What the gateway serves for one endpoint.

    Attributes:
        variants: production and shadow variants.
        capture_percent: share of requests (0-100) written to data capture.
        unexpected_columns: ``ignore`` or ``reject`` columns the model does not read.
        hide_schema: validation errors do not list the expected columns.
    """

    variants: tuple[VariantConfig, ...]
    capture_percent: float = 0.0
    unexpected_columns: UnexpectedColumns = "ignore"
    hide_schema: bool = False

    @property
    def production(self) -> tuple[VariantConfig, ...]:
        """Variants that answer requests."""
        return tuple(v for v in self.variants if not v.shadow)

    @property
    def shadows(self) -> tuple[VariantConfig, ...]:
        """Variants that get a copy of requests."""
        return tuple(v for v in self.variants if v.shadow)

    def check(self) -> EndpointConfig:
        """Return the configuration if the gateway can serve it.

        Raises:
            InvalidInputError: no production variant, duplicate names, a negative or
                non-finite weight, all production weights zero, capture outside 0-100.
        """
        names = [v.name for v in self.variants]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise InvalidInputError(
                f"variant names must be unique: {', '.join(duplicates)} repeated",
                details={"variants": duplicates},
            )
        for variant in self.variants:
            check_endpoint_name(variant.name, "variant")
            if not math.isfinite(variant.weight) or variant.weight < 0:
                raise InvalidInputError(
                    f"variant {variant.name}: weight must be a finite number >= 0, "
                    f"got {variant.weight}",
                    details={"variant": variant.name, "weight": variant.weight},
                )
        if not self.production:
            raise InvalidInputError(
                "an endpoint needs at least one production (non-shadow) variant"
            )
        if sum(v.weight for v in self.production) <= 0:
            raise InvalidInputError(
                "production variant weights are all zero: at least one must get traffic",
                details={"weights": {v.name: v.weight for v in self.production}},
            )
        if not math.isfinite(self.capture_percent) or not 0 <= self.capture_percent <= 100:
            raise InvalidInputError(
                f"capture percentage must be between 0 and 100, got {self.capture_percent}",
                details={"capture_percent": self.capture_percent},
            )
        if self.unexpected_columns not in ("ignore", "reject"):
            raise InvalidInputError(
                f"unexpected_columns must be 'ignore' or 'reject', got {self.unexpected_columns!r}"
            )
        return self

    def with_weights(self, weights: dict[str, float]) -> EndpointConfig:
        """The same configuration with new weights, keyed by variant name or model ref.

        Raises:
            InvalidInputError: a key names no production variant.
        """
        remaining = dict(weights)
        variants = []
        for variant in self.variants:
            key = next((k for k in (variant.name, variant.model) if k in remaining), None)
            if key is not None and not variant.shadow:
                variants.append(replace(variant, weight=float(remaining.pop(key))))
            else:
                variants.append(variant)
        if remaining:
            raise InvalidInputError(
                f"no production variant named {', '.join(sorted(remaining))}",
                details={
                    "unknown": sorted(remaining),
                    "variants": [v.name for v in self.production],
                },
            )
        return replace(self, variants=tuple(variants))

    def normalised_weights(self) -> dict[str, float]:
        """Production weights scaled to sum to 1 (SageMaker's variant weights)."""
        total = sum(v.weight for v in self.production)
        return {v.name: v.weight / total for v in self.production}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (what the metadata store holds)."""
        return {
            "variants": [v.to_dict() for v in self.variants],
            "capture_percent": self.capture_percent,
            "unexpected_columns": self.unexpected_columns,
            "hide_schema": self.hide_schema,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EndpointConfig:
        """Inverse of :meth:`to_dict`."""
        return cls(
            variants=tuple(VariantConfig.from_dict(v) for v in data["variants"]),
            capture_percent=float(data.get("capture_percent", 0.0)),
            unexpected_columns=data.get("unexpected_columns", "ignore"),
            hide_schema=bool(data.get("hide_schema", False)),
        )


@dataclass(frozen=True)
class Endpoint:
    """An endpoint as stored: its name and current configuration.

    ``deleted_at`` is set on a deleted endpoint (kept for its history).
    """

    name: str
    config_version: int
    config: EndpointConfig
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "config_version": self.config_version,
            **self.config.to_dict(),
            "weights": self.config.normalised_weights(),
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "deleted_at": self.deleted_at.isoformat() if self.deleted_at else None,
        }


@dataclass(frozen=True)
class EndpointRevision:
    """One entry of an endpoint's configuration history: who (``actor``) and, when
    they said, why (``reason``: a guarded deployment's alarm or evidence)."""

    version: int
    action: str
    actor: str | None
    config: EndpointConfig
    created_at: datetime
    extra: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "version": self.version,
            "action": self.action,
            "actor": self.actor,
            "reason": self.reason,
            **self.config.to_dict(),
            "created_at": self.created_at.isoformat(),
        }


def parse_variant(text: str, *, shadow: bool = False) -> VariantConfig:
    """Parse ``[VARIANT@]MODEL[:VERSION][=WEIGHT]`` (the CLI's ``--variant``).

    Without a name, the variant is called ``MODEL-VERSION`` (``churn:3`` → ``churn-3``;
    a shadow ``churn-3-shadow``, so a model can shadow itself, e.g. to test a rebuild).

    Raises:
        InvalidInputError: a malformed weight.
    """
    spec, _, weight_text = text.partition("=")
    name, at, model = spec.partition("@")
    if not at:
        name, model = "", spec
    model = model.strip()
    if not model:
        raise InvalidInputError(f"variant {text!r} names no model", details={"variant": text})
    weight = _number(weight_text, text) if weight_text else 1.0
    variant_name = name.strip() or model.replace(":", "-") + ("-shadow" if shadow else "")
    return VariantConfig(name=variant_name, model=model, weight=weight, shadow=shadow)


def parse_weights(text: str) -> dict[str, float]:
    """Parse ``churn:3=0,churn:4=1`` (variant names or model refs as keys).

    Raises:
        InvalidInputError: a part without ``=`` or with a malformed number.
    """
    weights: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, eq, value = part.partition("=")
        if not eq or not key.strip():
            raise InvalidInputError(
                f"weights look like VARIANT=WEIGHT,VARIANT=WEIGHT; got {part!r}",
                details={"weights": text},
            )
        weights[key.strip()] = _number(value, part)
    if not weights:
        raise InvalidInputError("no weights given", details={"weights": text})
    return weights


def _number(text: str, context: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidInputError(
            f"weight in {context!r} is not a number: {text!r}", details={"weight": text}
        ) from None
    return value

"""Monitor rules as users write them: ``psi>0.2``, ``roc_auc<0.75``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from modelyard.errors import InvalidInputError

__all__ = ["DRIFT_METRICS", "QUALITY_METRICS", "Rule", "parse_rule"]

DRIFT_METRICS = ("psi", "js_distance", "ks", "wasserstein", "pvalue_adjusted")
QUALITY_METRICS = ("roc_auc", "accuracy")
_ALIASES = {"js": "js_distance", "pvalue": "pvalue_adjusted", "p": "pvalue_adjusted"}
_PATTERN = re.compile(r"^\s*([a-z_]+)\s*([<>])\s*([0-9.eE+-]+)\s*$")


@dataclass(frozen=True)
class Rule:
    """``metric op threshold``: violated when the metric is on that side."""

    metric: str
    op: str
    threshold: float

    def violated(self, value: float | None) -> bool:
        """Whether ``value`` breaks the rule (never when there is no value)."""
        if value is None:
            return False
        return value > self.threshold if self.op == ">" else value < self.threshold

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.threshold:g}"


def parse_rule(text: str, allowed: tuple[str, ...]) -> Rule:
    """Parse ``metric>value`` or ``metric<value`` over the ``allowed`` metrics.

    Raises:
        InvalidInputError: not of that shape, or an unknown metric.
    """
    match = _PATTERN.match(text)
    if match is None:
        raise InvalidInputError(f"rule {text!r} is not of the form metric>value or metric<value")
    metric = _ALIASES.get(match.group(1), match.group(1))
    if metric not in allowed:
        raise InvalidInputError(f"rule {text!r}: unknown metric (use {', '.join(allowed)})")
    try:
        threshold = float(match.group(3))
    except ValueError as exc:
        raise InvalidInputError(f"rule {text!r}: {match.group(3)!r} is not a number") from exc
    return Rule(metric, match.group(2), threshold)

"""Quality warnings: each with its evidence and a machine-readable suggestion.

A suggestion is a dict naming a recipe step (``{"step": "drop", "columns": [...]}``,
``log1p``, ``hash``, ``impute``, ``clip``, ``to_numeric``, ``class_weight``) that
``features suggest`` turns into a step of a feature recipe. The thresholds are
the usual ones of profiling tools; each warning's evidence shows the figure that
crossed it, so a reader can judge without rerunning anything.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["ProfileWarning", "find_warnings", "personal_data"]

HIGH_MISSING = 0.3
DROP_MISSING = 0.5
NEAR_CONSTANT = 0.99
HIGH_CARDINALITY = 100
HIGH_CORRELATION = 0.95
LEAKAGE = 0.95
IMBALANCE = 0.1
STRONG_SKEW = 2.0
FAR_OUTLIERS = 0.005
MIXED_TYPES = (0.1, 0.95)
PERSONAL_SHARE = 0.5
_MIN_ROWS = 20

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"\+?\(?\d{1,4}\)?[\s.\-]?\(?\d{2,4}\)?(?:[\s.\-]?\d{2,4}){2,3}")
_CARD = re.compile(r"(?:\d[ \-]?){12,18}\d")
_KINDS_ORDER = (
    "target_leakage",
    "personal_data",
    "constant",
    "identifier",
    "high_missing",
    "mixed_types",
    "class_imbalance",
    "high_correlation",
    "high_cardinality",
    "near_constant",
    "skewed",
    "outliers",
)


@dataclass(frozen=True)
class ProfileWarning:
    """One finding about the data.

    Attributes:
        kind: ``high_missing``, ``constant``, ``near_constant``, ``high_cardinality``,
            ``identifier``, ``high_correlation``, ``target_leakage``,
            ``class_imbalance``, ``skewed``, ``outliers``, ``mixed_types`` or
            ``personal_data``.
        columns: the columns it is about.
        message: one sentence for a person.
        evidence: the figures behind it.
        suggestion: a recipe step, ``{"step": ..., "columns": [...], ...}``.
    """

    kind: str
    columns: list[str]
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    suggestion: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProfileWarning:
        """Inverse of :meth:`to_dict`."""
        return cls(
            kind=data["kind"],
            columns=list(data["columns"]),
            message=data["message"],
            evidence=dict(data.get("evidence") or {}),
            suggestion=dict(data.get("suggestion") or {}),
        )


def find_warnings(
    columns: Sequence[dict[str, Any]],
    n_rows: int,
    correlations: dict[str, Any],
    target: dict[str, Any] | None,
    personal: dict[str, dict[str, Any]],
) -> list[ProfileWarning]:
    """Every warning, most serious kinds first."""
    found: list[ProfileWarning] = []
    for column in columns:
        if column.get("role") == "target":
            continue
        found.extend(_column_warnings(column, n_rows))
    found.extend(_correlation_warnings(correlations, columns))
    if target is not None:
        found.extend(_target_warnings(target))
    for name, evidence in personal.items():
        found.append(
            ProfileWarning(
                "personal_data",
                [name],
                f"{name} looks like {evidence['pattern']} ({evidence['share']:.0%} of "
                "sampled values): drop it or hash it before training",
                evidence,
                {"step": "hash", "columns": [name], "or": "drop"},
            )
        )
    rank = {kind: i for i, kind in enumerate(_KINDS_ORDER)}
    return sorted(found, key=lambda w: rank.get(w.kind, len(rank)))


def personal_data(name: str, values: Iterable[str]) -> dict[str, Any] | None:
    """Evidence that a column holds e-mail addresses, phone or card numbers, or None."""
    sample = [v.strip() for v in values if isinstance(v, str) and v.strip()]
    if len(sample) < 5:
        return None
    for pattern, matches in (
        ("e-mail addresses", lambda v: _EMAIL.fullmatch(v) is not None),
        ("card numbers", _is_card),
        ("phone numbers", _is_phone),
    ):
        hits = [v for v in sample if matches(v)]
        share = len(hits) / len(sample)
        if share >= PERSONAL_SHARE:
            return {
                "pattern": pattern,
                "share": share,
                "sampled": len(sample),
                "examples": [_mask(v) for v in hits[:3]],
            }
    return None


def _column_warnings(column: dict[str, Any], n_rows: int) -> list[ProfileWarning]:
    name = column["name"]
    out: list[ProfileWarning] = []
    missing_share = column.get("missing_share") or 0.0
    count = column.get("count") or 0
    distinct = column.get("distinct") or 0
    kind = column.get("kind")
    if n_rows and missing_share >= HIGH_MISSING and count > 0:
        suggestion: dict[str, Any] = (
            {"step": "drop", "columns": [name]}
            if missing_share >= DROP_MISSING
            else {
                "step": "impute",
                "columns": [name],
                "strategy": "median" if kind == "numeric" else "most_frequent",
                "indicator": True,
            }
        )
        out.append(
            ProfileWarning(
                "high_missing",
                [name],
                f"{name} is missing in {missing_share:.0%} of rows",
                {"missing": column.get("missing"), "share": missing_share, "rows": n_rows},
                suggestion,
            )
        )
    if n_rows >= 2 and count > 0 and distinct <= 1:
        out.append(
            ProfileWarning(
                "constant",
                [name],
                f"{name} has a single value"
                + (f" ({column['top'][0]['value']!r})" if column.get("top") else ""),
                {"distinct": distinct, "non_missing": count},
                {"step": "drop", "columns": [name]},
            )
        )
        return out
    top = column.get("top") or []
    if count >= _MIN_ROWS and top and distinct > 1 and top[0]["count"] / count >= NEAR_CONSTANT:
        share = top[0]["count"] / count
        out.append(
            ProfileWarning(
                "near_constant",
                [name],
                f"{name} is {top[0]['value']!r} in {share:.1%} of non-missing rows",
                {"value": top[0]["value"], "share": share, "distinct": distinct},
                {"step": "drop", "columns": [name]},
            )
        )
    if _identifier_like(column):
        out.append(
            ProfileWarning(
                "identifier",
                [name],
                f"{name} looks like an identifier: {distinct} distinct values in "
                f"{count} non-missing rows",
                {
                    "distinct": distinct,
                    "non_missing": count,
                    "logical_type": column["logical_type"],
                },
                {"step": "drop", "columns": [name]},
            )
        )
    elif kind == "string" and distinct > HIGH_CARDINALITY and column["logical_type"] != "text":
        out.append(
            ProfileWarning(
                "high_cardinality",
                [name],
                f"{name} has {distinct} distinct values: one-hot encoding would make "
                f"{distinct} columns",
                {"distinct": distinct, "non_missing": count},
                {"step": "hash", "columns": [name], "n_features": 64},
            )
        )
    out.extend(_numeric_warnings(column))
    if kind == "string" and count >= _MIN_ROWS:
        share = (column.get("numeric_like") or 0) / count
        if MIXED_TYPES[0] <= share < MIXED_TYPES[1]:
            out.append(
                ProfileWarning(
                    "mixed_types",
                    [name],
                    f"{name} mixes numbers ({share:.0%} of values) and text",
                    {"numeric_share": share, "non_missing": count},
                    {"step": "to_numeric", "columns": [name], "errors": "coerce"},
                )
            )
    return out


def _identifier_like(column: dict[str, Any]) -> bool:
    if column.get("role") == "identifier" or column.get("logical_type") == "identifier":
        return True
    count = column.get("count") or 0
    if count < _MIN_ROWS or column.get("kind") not in {"string", "numeric"}:
        return False
    if column.get("kind") == "numeric" and column.get("logical_type") != "integer":
        return False
    if column.get("logical_type") == "text":
        return False
    return (column.get("distinct") or 0) >= count


def _numeric_warnings(column: dict[str, Any]) -> list[ProfileWarning]:
    if column.get("kind") != "numeric" or (column.get("count") or 0) < _MIN_ROWS:
        return []
    name = column["name"]
    out: list[ProfileWarning] = []
    skew = column.get("skew")
    low = column.get("min")
    if skew is not None and abs(skew) >= STRONG_SKEW and (column.get("distinct") or 0) > 2:
        positive = low is not None and low >= 0
        out.append(
            ProfileWarning(
                "skewed",
                [name],
                f"{name} is strongly skewed (skewness {skew:.1f})"
                + (": a log transform would help" if positive and skew > 0 else ""),
                {"skewness": skew, "min": low, "max": column.get("max")},
                {"step": "log1p", "columns": [name]}
                if positive and skew > 0
                else {"step": "power", "columns": [name], "method": "yeo-johnson"},
            )
        )
    far = column.get("outliers_3") or 0
    count = column.get("count") or 0
    quantiles = column.get("quantiles") or {}
    if count and far / count >= FAR_OUTLIERS and quantiles.get("p25") is not None:
        q1, q3 = quantiles["p25"], quantiles["p75"]
        iqr = q3 - q1
        out.append(
            ProfileWarning(
                "outliers",
                [name],
                f"{name} has {far} values ({far / count:.1%}) beyond 3 IQR of the quartiles",
                {
                    "beyond_3_iqr": far,
                    "beyond_1_5_iqr": column.get("outliers_1_5"),
                    "q1": q1,
                    "q3": q3,
                },
                {
                    "step": "clip",
                    "columns": [name],
                    "lower": q1 - 3 * iqr,
                    "upper": q3 + 3 * iqr,
                },
            )
        )
    return out


def _correlation_warnings(
    correlations: dict[str, Any], columns: Sequence[dict[str, Any]]
) -> list[ProfileWarning]:
    roles = {c["name"]: c.get("role") for c in columns}
    seen: set[tuple[str, str]] = set()
    # A column already suggested for dropping is not reported again with a third
    # one: 100 copies of one signal make 99 warnings, not 4,950.
    dropped: set[str] = set()
    out: list[ProfileWarning] = []
    for method in ("pearson", "spearman", "cramers_v"):
        block = correlations.get(method) or {}
        names = block.get("columns") or []
        matrix = block.get("matrix") or []
        for i, j in itertools.combinations(range(len(names)), 2):
            value = matrix[i][j]
            a, b = names[i], names[j]
            if value is None or abs(value) < HIGH_CORRELATION or (a, b) in seen:
                continue
            if a in dropped or b in dropped:
                continue
            if "target" in (roles.get(a), roles.get(b)):
                continue
            seen.add((a, b))
            dropped.add(b)
            out.append(
                ProfileWarning(
                    "high_correlation",
                    [a, b],
                    f"{a} and {b} are almost the same signal ({method} {value:.3f}): keep one",
                    {"method": method, "value": value},
                    {"step": "drop", "columns": [b]},
                )
            )
    return out


def _target_warnings(target: dict[str, Any]) -> list[ProfileWarning]:
    out: list[ProfileWarning] = []
    name = target["column"]
    for row in target.get("associations") or []:
        value = row.get("value")
        if value is not None and abs(value) >= LEAKAGE:
            out.append(
                ProfileWarning(
                    "target_leakage",
                    [row["column"]],
                    f"{row['column']} predicts {name} almost perfectly ({row['method']} "
                    f"{value:.3f}): is it known before the outcome?",
                    {"target": name, "method": row["method"], "value": value},
                    {"step": "drop", "columns": [row["column"]]},
                )
            )
    classes = target.get("classes") or []
    total = sum(c["count"] for c in classes)
    if len(classes) >= 2 and total:
        smallest = min(classes, key=lambda c: c["count"])
        share = smallest["count"] / total
        if share < IMBALANCE:
            out.append(
                ProfileWarning(
                    "class_imbalance",
                    [name],
                    f"class {smallest['value']!r} of {name} is only {share:.1%} of rows",
                    {"minority": smallest["value"], "share": share, "classes": classes},
                    {"step": "class_weight", "columns": [name], "value": "balanced"},
                )
            )
    return out


def _is_card(value: str) -> bool:
    if not _CARD.fullmatch(value):
        return False
    digits = [int(ch) for ch in value if ch.isdigit()]
    checksum = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2:
            digit *= 2
            digit -= 9 if digit > 9 else 0
        checksum += digit
    return checksum % 10 == 0


def _is_phone(value: str) -> bool:
    digits = sum(ch.isdigit() for ch in value)
    separated = any(ch in value for ch in " -.()+")
    return 7 <= digits <= 15 and separated and _PHONE.fullmatch(value) is not None


def _mask(value: str) -> str:
    """An example with its middle hidden: the evidence must not leak the data."""
    if len(value) <= 4:
        return "*" * len(value)
    keep = max(1, len(value) // 5)
    return value[:keep] + "*" * (len(value) - 2 * keep) + value[-keep:]

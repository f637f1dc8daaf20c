"""Success criteria: a user's ``"roc_auc>=0.80"`` turned into a checkable object.

Criteria are parsed against the task up front, so a typo (``"rocauc>=0.8"``) or a
metric of the wrong task (``"rmse<3"`` on a classifier) is refused before any
training time is spent, with the valid names listed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from modelyard.errors import InvalidInputError
from modelyard.evaluation._metrics import METRICS, TASKS, Task, metrics_for_task

__all__ = ["Criterion", "check_criteria"]

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    # Metrics are floats computed on data: exact equality would almost never hold.
    "==": lambda a, b: math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12),
}
_NAME = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(.*)", re.DOTALL)
_OP = re.compile(r"(>=|<=|==|>|<)\s*(.*)", re.DOTALL)


def _fmt(value: float) -> str:
    """A short, readable number for messages (``0.8412``, ``31234.5``)."""
    if abs(value) >= 1000:
        return f"{value:.1f}"
    return f"{value:.4g}"


@dataclass(frozen=True)
class Criterion:
    """One success criterion: ``metric op value``.

    Attributes:
        metric: a name from :data:`~modelyard.evaluation.METRICS`.
        op: one of ``>=``, ``<=``, ``>``, ``<``, ``==`` (``==`` compares with a
            relative tolerance of 1e-9).
        value: the finite target value.
    """

    metric: str
    op: str
    value: float

    @classmethod
    def parse(cls, text: str, task: Task) -> Criterion:
        """Parse ``"roc_auc>=0.80"`` or ``"rmse < 30000"`` for ``task``.

        Raises:
            InvalidInputError: the task is unknown, the metric is unknown or not
                computed for this task, the operator is not one of the five, or the
                value is not a finite number. The message lists the valid metrics.
        """
        if task not in TASKS:
            raise InvalidInputError(
                f"unknown task {task!r}; expected one of {', '.join(TASKS)}",
                details={"task": task, "valid_tasks": list(TASKS)},
            )
        valid = metrics_for_task(task)
        details: dict[str, object] = {"criterion": text, "task": task, "valid_metrics": valid}
        name_match = _NAME.fullmatch(text) if isinstance(text, str) else None
        if name_match is None:
            raise InvalidInputError(
                f"cannot parse criterion {text!r}: expected 'metric op value' such as "
                f"'{valid[0]}>=0.8'; valid metrics for {task}: {', '.join(valid)}",
                details=details,
            )
        metric, rest = name_match.groups()
        if metric not in METRICS:
            raise InvalidInputError(
                f"unknown metric {metric!r} in criterion {text!r}; "
                f"valid metrics for {task}: {', '.join(valid)}",
                details={**details, "metric": metric},
            )
        if metric not in valid:
            raise InvalidInputError(
                f"metric {metric!r} does not apply to {task} models; "
                f"valid metrics for {task}: {', '.join(valid)}",
                details={**details, "metric": metric},
            )
        op_match = _OP.fullmatch(rest)
        if op_match is None:
            raise InvalidInputError(
                f"bad operator in criterion {text!r}: expected one of {', '.join(_OPS)} "
                f"after {metric!r}",
                details={**details, "valid_ops": list(_OPS)},
            )
        op, number = op_match.groups()
        try:
            value = float(number.strip())
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise InvalidInputError(
                f"bad number {number.strip()!r} in criterion {text!r}: expected a finite number",
                details={**details, "value": number.strip()},
            )
        return cls(metric=metric, op=op, value=value)

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{_fmt(self.value)}"

    def check(self, metrics: dict[str, float]) -> tuple[bool, str]:
        """Check against computed ``metrics``.

        Returns:
            ``(passed, message)``, e.g. ``(True, "roc_auc 0.84 >= 0.8")`` or
            ``(False, "roc_auc 0.71 is not >= 0.8")``. A metric missing from
            ``metrics`` (undefined on the data) fails.
        """
        if self.metric not in metrics:
            return False, f"{self.metric} is not available (undefined on these rows)"
        actual = metrics[self.metric]
        passed = _OPS[self.op](actual, self.value)
        verb = self.op if passed else f"is not {self.op}"
        return passed, f"{self.metric} {_fmt(actual)} {verb} {_fmt(self.value)}"


def check_criteria(criteria: list[Criterion], metrics: dict[str, float]) -> tuple[bool, list[str]]:
    """Check every criterion; passed only when all pass (vacuously true for none).

    Returns:
        ``(all_passed, messages)`` with one message per criterion, in order.
    """
    results = [criterion.check(metrics) for criterion in criteria]
    return all(ok for ok, _ in results), [message for _, message in results]

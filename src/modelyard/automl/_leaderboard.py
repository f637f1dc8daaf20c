"""The leaderboard: each candidate's fold scores summed up, best first."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from modelyard.errors import InvalidInputError

__all__ = ["Entry", "Leaderboard", "primary_metric"]

_DEFAULT_METRIC = {"binary": "roc_auc", "multiclass": "roc_auc", "regression": "rmse"}


def primary_metric(task: str, metric: str | None) -> tuple[str, bool]:
    """``(metric, greater_is_better)``: ``metric`` checked against the task, or the
    task's default (ROC AUC for classes, RMSE for regression).

    Raises:
        InvalidInputError: an unknown metric, or one the task does not have.
    """
    from modelyard.evaluation import METRICS

    name = metric or _DEFAULT_METRIC[task]
    info = METRICS.get(name)
    if info is None or task not in info.tasks:
        known = ", ".join(n for n, i in METRICS.items() if task in i.tasks)
        raise InvalidInputError(
            f"unknown metric {name!r} for a {task} task; known: {known}",
            details={"metric": name, "task": task},
        )
    return name, info.greater_is_better


@dataclass
class Entry:
    """One candidate (an algorithm with its parameters) across its folds.

    Attributes:
        algorithm: the catalog name.
        params: the parameters it was fitted with (its defaults for a spot-check).
        folds: the expected number of folds.
        scores: per fold, the metrics (a failed fold is absent).
        errors: per failed fold, the reason.
        fit_seconds / predict_seconds: summed over the finished folds.
        run_id: the run recording it.
    """

    algorithm: str
    params: dict[str, Any]
    folds: int
    scores: dict[int, dict[str, float]] = field(default_factory=dict)
    errors: dict[int, str] = field(default_factory=dict)
    fit_seconds: float = 0.0
    predict_seconds: float = 0.0
    run_id: str | None = None

    @property
    def done(self) -> bool:
        """Every fold has finished or failed."""
        return len(self.scores) + len(self.errors) >= self.folds

    @property
    def status(self) -> str:
        """``running``, ``failed`` (a fold failed) or ``finished``."""
        if not self.done:
            return "running"
        return "failed" if self.errors else "finished"

    def mean(self, metric: str) -> float | None:
        """The metric's mean over the finished folds (``None`` when none has it)."""
        values = [s[metric] for s in self.scores.values() if metric in s]
        return sum(values) / len(values) if values else None

    def std(self, metric: str) -> float | None:
        """The metric's population standard deviation over the finished folds."""
        values = [s[metric] for s in self.scores.values() if metric in s]
        if not values:
            return None
        mean = sum(values) / len(values)
        return math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))

    def summary(self) -> dict[str, float]:
        """Mean and std of every metric, and the timings, as run metrics."""
        names = sorted({name for s in self.scores.values() for name in s})
        out: dict[str, float] = {}
        for name in names:
            out[f"{name}_mean"] = self.mean(name) or 0.0
            out[f"{name}_std"] = self.std(name) or 0.0
        out["fit_seconds"] = self.fit_seconds
        out["predict_seconds"] = self.predict_seconds
        return out

    def to_dict(self, metric: str) -> dict[str, Any]:
        """JSON-ready form (``--json``)."""
        return {
            "algorithm": self.algorithm,
            "status": self.status,
            "params": self.params,
            "metric": metric,
            "mean": self.mean(metric),
            "std": self.std(metric),
            "metrics": {k: v for k, v in self.summary().items() if k.endswith("_mean")},
            "fit_seconds": self.fit_seconds,
            "predict_seconds": self.predict_seconds,
            "folds_finished": len(self.scores),
            "errors": {str(k): v for k, v in sorted(self.errors.items())},
            "run_id": self.run_id,
        }


@dataclass
class Leaderboard:
    """Candidates ranked by the primary metric's mean (failed folds aside).

    Attributes:
        dataset: the version searched.
        task: its task.
        metric: the primary metric; ``greater_is_better`` its direction.
        entries: every candidate, in the order they were started.
        run_id: the parent run of the search.
        rows: the rows cross-validated (after sampling).
    """

    dataset: str
    task: str
    metric: str
    greater_is_better: bool
    entries: list[Entry]
    run_id: str | None = None
    rows: int = 0

    def ranked(self) -> list[Entry]:
        """Entries with a score, best first; then those without one."""
        scored = [e for e in self.entries if e.mean(self.metric) is not None]
        sign = -1.0 if self.greater_is_better else 1.0
        scored.sort(key=lambda e: sign * (e.mean(self.metric) or 0.0))
        return scored + [e for e in self.entries if e.mean(self.metric) is None]

    def best(self) -> Entry | None:
        """The best candidate whose every fold finished."""
        finished = [e for e in self.ranked() if e.status == "finished"]
        return finished[0] if finished else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, best first."""
        return {
            "dataset": self.dataset,
            "task": self.task,
            "metric": self.metric,
            "greater_is_better": self.greater_is_better,
            "rows": self.rows,
            "run_id": self.run_id,
            "leaderboard": [e.to_dict(self.metric) for e in self.ranked()],
        }

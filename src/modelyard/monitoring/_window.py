"""Captured traffic of one endpoint, one hour at a time, as typed columns.

The gateway writes each invocation's request and response text to Parquet under
``capture/endpoint=NAME/hour=YYYY-MM-DDTHH/``. A window here is one such hour: its
files are read with pyarrow (only the columns needed), each request body is parsed
by the gateway's own parser (so every shape the gateway accepts is read the same
way), and the result is one list per input column plus the model's score, the
variant and the row's id. A file that cannot be read is named and skipped.

A row's id is the request's inference id (the client's ``X-Amzn-SageMaker-Inference-Id``
or KServe ``id``), else the gateway's request id; a request of several rows gives
its rows ``ID:0``, ``ID:1``, ... so labels can name each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from modelyard.errors import InvalidInputError

__all__ = ["WindowRows", "capture_windows", "read_window", "window_bounds"]

_COLUMNS = [
    "time",
    "variant",
    "shadow",
    "request_id",
    "inference_id",
    "status",
    "content_type",
    "request",
    "response",
]


@dataclass
class WindowRows:
    """What one window of captured traffic holds, column by column."""

    window: str
    columns: dict[str, list[Any]]
    ids: list[str] = field(default_factory=list)
    variants: list[str] = field(default_factory=list)
    scores: list[float | None] = field(default_factory=list)
    predicted: list[str | None] = field(default_factory=list)
    requests: int = 0
    failed_requests: int = 0
    unreadable: list[str] = field(default_factory=list)
    unexpected_columns: set[str] = field(default_factory=set)

    @property
    def rows(self) -> int:
        """Rows predicted (a request can hold several)."""
        return len(self.ids)


def capture_windows(capture_root: Path, endpoint: str) -> list[str]:
    """The hours (``YYYY-MM-DDTHH``) that hold captured traffic of ``endpoint``, oldest first."""
    directory = capture_root / f"endpoint={endpoint}"
    if not directory.is_dir():
        return []
    return sorted(
        p.name.removeprefix("hour=")
        for p in directory.iterdir()
        if p.is_dir() and p.name.startswith("hour=")
    )


def window_bounds(window: str) -> tuple[datetime, datetime]:
    """Start and end (UTC) of an hour window named ``YYYY-MM-DDTHH``."""
    try:
        start = datetime.strptime(window, "%Y-%m-%dT%H").replace(tzinfo=UTC)
    except ValueError as exc:
        raise InvalidInputError(f"not an hour window: {window!r} (YYYY-MM-DDTHH)") from exc
    return start, start + timedelta(hours=1)


def read_window(
    capture_root: Path, endpoint: str, window: str, names: list[str], positive: str | None
) -> WindowRows:
    """Every non-shadow captured row of ``endpoint`` in ``window``.

    Args:
        names: the model's input columns (signature order).
        positive: the positive class of a binary model, whose probability is the
            score; ``None`` scores by the first probability column or the value.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = WindowRows(window, {name: [] for name in names})
    directory = capture_root / f"endpoint={endpoint}" / f"hour={window}"
    files = sorted(p for p in directory.glob("*.parquet") if not p.name.startswith("."))
    for path in files:
        try:
            table = pq.read_table(path, columns=_COLUMNS)
        except (OSError, pa.ArrowException) as exc:
            rows.unreadable.append(f"{path}: {exc}")
            continue
        for record in table.to_pylist():
            if record["shadow"]:
                continue
            rows.requests += 1
            if record["status"] != 200:
                rows.failed_requests += 1
                continue
            _add(rows, record, names, positive)
    return rows


def _add(rows: WindowRows, record: dict[str, Any], names: list[str], positive: str | None) -> None:
    import orjson

    from modelyard.serving._parse import parse_body

    try:
        table = parse_body((record["request"] or "").encode(), record["content_type"] or "", names)
        answer = orjson.loads(record["response"] or "{}")
    except (InvalidInputError, orjson.JSONDecodeError):
        rows.failed_requests += 1
        return
    if not isinstance(answer, dict):
        rows.failed_requests += 1
        return
    rows.unexpected_columns.update(table.unexpected)
    base = record["inference_id"] or record["request_id"]
    predictions = answer.get("predictions") or []
    probabilities = answer.get("probabilities")
    classes = [str(c) for c in answer.get("classes") or []]
    column = classes.index(positive) if positive is not None and positive in classes else None
    for i in range(table.n_rows):
        for name in names:
            rows.columns[name].append(table.columns[name][i])
        rows.ids.append(base if table.n_rows == 1 else f"{base}:{i}")
        rows.variants.append(record["variant"])
        predicted = predictions[i] if i < len(predictions) else None
        rows.predicted.append(None if predicted is None else str(predicted))
        rows.scores.append(_score(probabilities, i, column, predicted))


def _score(probabilities: Any, i: int, column: int | None, predicted: Any) -> float | None:
    if isinstance(probabilities, list) and i < len(probabilities):
        row = probabilities[i]
        if isinstance(row, list) and row:
            value = row[column if column is not None else -1]
            return float(value) if isinstance(value, int | float) else None
    if isinstance(predicted, int | float) and not isinstance(predicted, bool):
        return float(predicted)
    return None

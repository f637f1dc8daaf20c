"""Ground truth that arrives late: ingested from a file, joined by inference id.

A labels file (CSV, Parquet, JSON lines, or SageMaker Model Monitor's ground-truth
JSON lines with ``groundTruthData`` and ``eventMetadata.eventId``) names a captured
request by its id and gives its true label. Rows whose id matches no captured
request, that repeat an id, or whose label is not one of the model's classes are
counted and left out; the rest are written, in one file renamed into place, so an
ingest is whole or absent. A later file's label for an id replaces an earlier one.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from modelyard.errors import InvalidInputError

__all__ = ["LabelIngest", "captured_ids", "ingest_labels", "labels_glob", "read_label_file"]

_ID_COLUMNS = ("inference_id", "inferenceId", "event_id", "eventId", "id", "request_id")
_LABEL_COLUMNS = ("label", "ground_truth", "groundTruth", "target", "y")


@dataclass(frozen=True)
class LabelIngest:
    """What one ``labels ingest`` did, with the counts a user needs to trust it."""

    endpoint: str
    rows_read: int
    matched: int
    unknown_ids: int
    duplicate_ids: int
    bad_labels: int
    path: str | None

    @property
    def message(self) -> str:
        """One line: how many labels were used and why others were not."""
        parts = [f"{self.matched:,} of {self.rows_read:,} labels joined to {self.endpoint}"]
        if self.unknown_ids:
            parts.append(
                f"{self.unknown_ids:,} of {self.rows_read:,} labels match no captured request"
            )
        if self.duplicate_ids:
            parts.append(f"{self.duplicate_ids:,} repeat an id (first kept)")
        if self.bad_labels:
            parts.append(f"{self.bad_labels:,} have a label that is not a class of the model")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with the message."""
        return {**asdict(self), "message": self.message}


def labels_glob(labels_root: Path, endpoint: str) -> str:
    """The glob of an endpoint's label files (for DuckDB's ``read_parquet``)."""
    return str(labels_root / f"endpoint={endpoint}" / "labels-*.parquet")


def read_label_file(
    path: Path, id_column: str | None = None, label_column: str | None = None
) -> tuple[list[str], list[Any]]:
    """Ids and labels of a labels file, whatever its format.

    Raises:
        InvalidInputError: unreadable, an unknown format, or no id or label column.
    """
    if not path.is_file():
        raise InvalidInputError(f"labels file {path} does not exist")
    suffix = path.suffix.lower()
    try:
        if suffix in (".jsonl", ".json", ".ndjson"):
            records = _json_lines(path)
        elif suffix in (".csv", ".parquet", ".pq"):
            import pyarrow as pa
            import pyarrow.csv as pcsv
            import pyarrow.parquet as pq

            if suffix == ".csv":
                # ids are text: inferred as numbers, "007" would become 7 and match nothing
                as_text = {c: pa.string() for c in (*_ID_COLUMNS, *filter(None, [id_column]))}
                table = pcsv.read_csv(
                    path, convert_options=pcsv.ConvertOptions(column_types=as_text)
                )
            else:
                table = pq.read_table(path)
            records = table.to_pylist()
        else:
            raise InvalidInputError(
                f"labels file {path}: unknown format {suffix!r} (use .csv, .parquet or .jsonl)"
            )
    except (OSError, ValueError) as exc:
        if isinstance(exc, InvalidInputError):
            raise
        raise InvalidInputError(f"labels file {path} cannot be read: {exc}") from exc
    if not records:
        raise InvalidInputError(f"labels file {path} holds no rows")
    names = list(records[0])
    ids = id_column or next((c for c in _ID_COLUMNS if c in names), None)
    if ids is None or ids not in names:
        raise InvalidInputError(
            f"labels file {path} has no id column: name it inference_id or pass --id-column"
            f" (columns: {', '.join(names)})"
        )
    others = [c for c in names if c != ids]
    label = label_column or next(
        (c for c in _LABEL_COLUMNS if c in names), others[0] if len(others) == 1 else None
    )
    if label is None or label not in names:
        raise InvalidInputError(
            f"labels file {path} has no label column: name it label or pass --label-column"
            f" (columns: {', '.join(names)})"
        )
    return [_text(r.get(ids)) for r in records], [r.get(label) for r in records]


def _json_lines(path: Path) -> list[dict[str, Any]]:
    import orjson

    records: list[dict[str, Any]] = []
    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise InvalidInputError(f"labels file {path}, line {number}: not JSON") from exc
            if not isinstance(record, dict):
                raise InvalidInputError(f"labels file {path}, line {number}: not an object")
            if "groundTruthData" in record:  # SageMaker Model Monitor's ground truth
                truth = record.get("groundTruthData") or {}
                meta = record.get("eventMetadata") or {}
                record = {"inference_id": meta.get("eventId"), "label": truth.get("data")}
            records.append(record)
    return records


def captured_ids(capture_root: Path, endpoint: str) -> set[str]:
    """Every id a captured request of ``endpoint`` answers to (inference or request id)."""
    import duckdb

    directory = capture_root / f"endpoint={endpoint}"
    if not any(directory.glob("hour=*/*.parquet")):
        return set()
    pattern = str(directory / "hour=*" / "*.parquet")
    with duckdb.connect() as db:
        rows = db.execute(
            "SELECT DISTINCT coalesce(inference_id, request_id) FROM read_parquet(?) "
            "WHERE NOT shadow",
            [pattern],
        ).fetchall()
    return {str(r[0]) for r in rows if r[0] is not None}


def ingest_labels(
    path: Path,
    endpoint: str,
    *,
    capture_root: Path,
    labels_root: Path,
    classes: list[str] | None,
    id_column: str | None = None,
    label_column: str | None = None,
) -> LabelIngest:
    """Join a labels file to an endpoint's captured requests and keep the matching rows.

    Raises:
        InvalidInputError: the file cannot be read, or no row of it can be used.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    ids, labels = read_label_file(path, id_column, label_column)
    known = captured_ids(capture_root, endpoint)
    seen: set[str] = set()
    kept_ids: list[str] = []
    kept_labels: list[str] = []
    unknown = duplicate = bad = 0
    for inference_id, label in zip(ids, labels, strict=True):
        if inference_id in seen:
            duplicate += 1
            continue
        seen.add(inference_id)
        if inference_id not in known and inference_id.rsplit(":", 1)[0] not in known:
            unknown += 1
            continue
        text = _label(label, classes)
        if text is None:
            bad += 1
            continue
        kept_ids.append(inference_id)
        kept_labels.append(text)
    result = LabelIngest(endpoint, len(ids), len(kept_ids), unknown, duplicate, bad, None)
    if not kept_ids:
        raise InvalidInputError(f"no label of {path} can be used: {result.message}")
    directory = labels_root / f"endpoint={endpoint}"
    directory.mkdir(parents=True, exist_ok=True)
    name = f"labels-{time.time_ns()}-{os.getpid()}.parquet"
    table = pa.table({"id": kept_ids, "label": kept_labels})
    staging = directory / f".{name}.tmp"
    pq.write_table(table, staging)
    staging.rename(directory / name)
    return LabelIngest(
        endpoint, len(ids), len(kept_ids), unknown, duplicate, bad, str(directory / name)
    )


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _label(value: Any, classes: list[str] | None) -> str | None:
    """The label as the model's class text (1, 1.0, "1" and True agree), or None."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if classes is None:  # regression: a number
        try:
            return repr(float(value))
        except (TypeError, ValueError):
            return None
    text = str(value).strip()
    if isinstance(value, bool):
        text = str(int(value))
    if text in classes:
        return text
    try:
        number = float(text)
    except ValueError:
        return None
    whole = str(int(number)) if number.is_integer() else None
    return whole if whole in classes else None

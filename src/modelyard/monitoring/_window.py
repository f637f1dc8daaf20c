"""Captured traffic of one endpoint, one hour at a time, as typed columns.

The gateway writes each invocation's request and response text to Parquet under
``capture/endpoint=NAME/hour=YYYY-MM-DDTHH/``. A window here is one such hour.

Most captured requests are JSON rows (``[{...}, ...]`` or one ``{...}``). DuckDB
reads them straight from the Parquet files in one scan: every request is parsed
once (``from_json``) into typed columns (floats for a numeric or boolean column,
text for the others) beside each row's score from the response, with no Python
object per value. The field types come from the structures of the window's first
requests (``json_structure``); a column whose values there are of another type
is read as JSON and decoded by the gateway's own JSON reader.

The gateway's parser (:func:`~modelyard.serving._parse.parse_body`) stays the one
definition of what a request means: every request of another shape (CSV, MLflow
envelopes, columns, bodies it refuses), and every JSON request whose non-null
values and ``null`` keys do not account for every column of every row (a key
missing, or a value DuckDB could not read as its column's type), is read by it,
as before. A Hypothesis test holds both readers to the same rows, values, scores
and counts. Extra columns are learnt from the same sample of requests, so one
that only rare requests carry can go unnoticed.

A file that cannot be read is named and skipped. A row's id is the request's
inference id (the client's ``X-Amzn-SageMaker-Inference-Id`` or KServe ``id``),
else the gateway's request id; a request of several rows gives its rows
``ID:0``, ``ID:1``, ... so labels can name each.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from modelyard.errors import InvalidInputError
from modelyard.monitoring._drift import Numbers, numeric_values

__all__ = ["WindowRows", "capture_windows", "read_window", "window_bounds"]

NUMBER_KINDS = ("numeric", "boolean")
_NUMBER_TYPES = {"UBIGINT", "BIGINT", "HUGEINT", "DOUBLE", "BOOLEAN", "NULL"}
_TEXT_TYPES = {"VARCHAR", "NULL"}
_MEDIA = "lower(trim(split_part(coalesce(content_type, ''), ';', 1)))"
_ELIGIBLE = (
    f"(status = 200 AND ({_MEDIA} IN ('', 'application/json', 'text/json', '*/*') "
    f"OR suffix({_MEDIA}, '+json')) AND starts_with(ltrim(response), '{{'))"
)
_ARRAY = "(starts_with(ltrim(request), '[') AND NOT regexp_matches(request, '^\\s*\\[\\s*\\]'))"
_LIVE = "NOT coalesce(shadow, false)"
_SAMPLE = 2_000
# a key whose value is a JSON null; the key's text (as written) is group 1
_NULL_KEY = r'"((?:[^"\\]|\\.)*)"\s*:\s*null'

# one row as an object; an MLflow envelope or columns form goes to the parser
_OBJECT = (
    "(starts_with(ltrim(request), '{') AND NOT (contains(request, '\"instances\"') "
    "OR contains(request, '\"inputs\"') OR contains(request, '\"dataframe_') "
    "OR contains(request, '\"columns\"')))"
)


@dataclass
class WindowRows:
    """What one window of captured traffic holds, column by column.

    ``columns`` holds, per input column, :class:`~modelyard.monitoring._drift.Numbers`
    (numeric and boolean kinds), a pyarrow string array (other kinds) or a plain
    list of values; ``scores`` is a float array (NaN: no score).
    ``missing_columns`` counts, per input column, the requests refused for lacking it.
    """

    window: str
    columns: dict[str, Any]
    ids: Any = field(default_factory=list)
    variants: Any = field(default_factory=list)
    scores: Any = field(default_factory=lambda: np.empty(0))
    predicted: Any = field(default_factory=list)
    requests: int = 0
    failed_requests: int = 0
    unreadable: list[str] = field(default_factory=list)
    unexpected_columns: set[str] = field(default_factory=set)
    missing_columns: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.scores, np.ndarray):
            self.scores = np.array(
                [np.nan if s is None else s for s in self.scores], dtype=np.float64
            )

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
    capture_root: Path,
    endpoint: str,
    window: str,
    names: list[str],
    positive: str | None,
    kinds: dict[str, str] | None = None,
    *,
    vectorised: bool = True,
) -> WindowRows:
    """Every non-shadow captured row of ``endpoint`` in ``window``.

    Args:
        names: the model's input columns (signature order).
        positive: the positive class of a binary model, whose probability is the
            score; ``None`` scores by the last probability column or the value.
        kinds: each column's baseline kind (``numeric``, ``boolean``,
            ``categorical``, ``datetime``); a column without one is read as text.
        vectorised: ``False`` reads every request with the gateway's parser (what
            the DuckDB path is tested against).
    """
    import duckdb

    kinds = kinds or {}
    directory = capture_root / f"endpoint={endpoint}" / f"hour={window}"
    files = sorted(str(p) for p in directory.glob("*.parquet") if not p.name.startswith("."))
    unreadable: list[str] = []
    with duckdb.connect() as db:
        try:
            rows = _Reader(db, files, names, kinds, positive).read(window, vectorised)
        except duckdb.Error:
            files = _readable(db, files, unreadable)  # name the files that fail, then again
            rows = _Reader(db, files, names, kinds, positive).read(window, vectorised)
    rows.unreadable = unreadable
    return rows


def _readable(db: Any, files: list[str], unreadable: list[str]) -> list[str]:
    """``files`` less those DuckDB cannot scan whole, each named in ``unreadable``."""
    import duckdb

    probe = (
        "SELECT count(*), sum(length(request)), sum(length(response)), "
        "sum(length(coalesce(inference_id, request_id))), count(status), count(shadow), "
        "count(variant), count(content_type) FROM read_parquet(?)"
    )
    good = []
    for path in files:
        try:
            db.execute(probe, [[path]]).fetchall()
            good.append(path)
        except duckdb.Error as exc:
            unreadable.append(f"{path}: {exc}")
    return good


_RECORD = ("variant", "request_id", "inference_id", "content_type", "request", "response")


class _Reader:
    """The scans of one window's files: counts, a sample's structure, the rows."""

    def __init__(
        self,
        db: Any,
        files: list[str],
        names: list[str],
        kinds: dict[str, str],
        positive: str | None,
    ) -> None:
        self.db = db
        self.files = files
        self.names = names
        self.kinds = kinds
        self.positive = positive

    def read(self, window: str, vectorised: bool) -> WindowRows:
        import duckdb
        import pyarrow as pa

        if not self.files:
            part = _nothing(self.names)
            requests = failed = 0
        else:
            requests, failed = self.db.execute(
                "SELECT count(*), count(*) FILTER (WHERE status IS DISTINCT FROM 200) "
                f"FROM read_parquet(?) WHERE {_LIVE}",
                [self.files],
            ).fetchall()[0]
            shapes, types, unexpected = self._shapes() if vectorised else (set(), {}, set())
            try:
                part = self._rows(shapes, types, validate=False)
            except duckdb.InvalidInputException:
                # malformed JSON somewhere (the gateway never captures it, an import
                # may): again, every request checked before it is read
                part = self._rows(shapes, types, validate=True)
            part["unexpected"] |= unexpected
        columns = {
            name: _as_column(part["columns"][name], self.kinds.get(name)) for name in self.names
        }
        return WindowRows(
            window,
            columns,
            ids=pa.array(part["ids"], pa.string()),
            variants=pa.array(part["variants"], pa.string()),
            scores=np.asarray(part["scores"], dtype=np.float64),
            predicted=pa.array(part["predicted"], pa.string()),
            requests=int(requests),
            failed_requests=int(failed) + part["failed"],
            unexpected_columns=part["unexpected"],
            missing_columns=part["missing"],
        )

    def _shapes(self) -> tuple[set[str], dict[str, str], set[str]]:
        """The JSON shapes DuckDB reads and each column's field type, from the
        structures of the first requests; the extra keys they carry."""
        sample = f"""
            SELECT DISTINCT json_structure(request) FROM (
                SELECT request FROM read_parquet(?)
                WHERE {_LIVE} AND {_ELIGIBLE} AND ({_ARRAY} OR {_OBJECT}) AND json_valid(request)
                LIMIT {_SAMPLE})
        """
        shapes: set[str] = set()
        seen: dict[str, set[str]] = {n: set() for n in self.names}
        unexpected: set[str] = set()
        for (text,) in self.db.execute(sample, [self.files]).fetchall():
            structure = json.loads(text)
            shape = "array" if isinstance(structure, list) else "object"
            keys = _row_keys(structure, list_of_rows=shape == "array")
            if keys is None or any(n not in keys for n in self.names):
                continue  # rows of another form, or a column missing: the parser's
            shapes.add(shape)
            for name in self.names:
                value = keys[name]
                seen[name].add(value if isinstance(value, str) else "JSON")
            unexpected.update(k for k in keys if k not in self.names)
        types = {name: self._field_type(name, seen[name]) for name in self.names}
        return shapes, types, unexpected

    def _field_type(self, name: str, seen: set[str]) -> str:
        """How DuckDB reads a column: straight to its type, or as JSON for the parser."""
        kind = self.kinds.get(name)
        if kind in NUMBER_KINDS and seen <= _NUMBER_TYPES:
            return "DOUBLE"
        if kind not in NUMBER_KINDS and seen <= _TEXT_TYPES | {"UBIGINT", "BIGINT"}:
            return "VARCHAR"  # a JSON integer's text is what str() of it gives
        return "JSON"

    def _rows(self, shapes: set[str], types: dict[str, str], *, validate: bool) -> dict[str, Any]:
        """Every answered request's rows: read by DuckDB when its shape is one of
        ``shapes`` and its values and JSON nulls account for every column of every
        row; else (another shape, a key missing, a value of another type, which
        DuckDB reads as NULL) by the gateway's parser, which reads or refuses it as
        the gateway does."""
        structure = _quote(json.dumps(types)) if shapes else ""
        valid = "json_valid(request) AND json_valid(response) AND " if validate else ""
        array = f"({_ELIGIBLE} AND {valid}{_ARRAY})" if "array" in shapes else "false"
        single = f"({_ELIGIBLE} AND {valid}{_OBJECT})" if "object" in shapes else "false"
        parsed = (
            f"CASE WHEN {array} THEN from_json(request, '[{structure}]') "
            f"WHEN {single} THEN [from_json(request, '{structure}')] END"
            if shapes
            else "NULL::INTEGER[]"
        )
        present = (
            " + ".join(f'(x."{_ident(n)}" IS NOT NULL)::INT' for n in self.names) if shapes else "0"
        )
        fields = ", ".join(
            f"CASE WHEN whole THEN struct_extract(item, '{_quote(name)}') END AS c{k}"
            if shapes
            else f"NULL AS c{k}"
            for k, name in enumerate(self.names)
        )
        position = (
            "NULL"
            if self.positive is None
            else f"nullif(list_position(json_extract_string(answer.classes, '$[*]'), "
            f"'{_quote(self.positive)}'), 0) - 1"
        )
        record = ", ".join(f"CASE WHEN NOT whole THEN {c} END AS raw_{c}" for c in _RECORD)
        count = len(self.names)
        # each column's key as a client may write it in JSON (non-ASCII escaped or not)
        keys = ", ".join(
            sorted(
                {
                    f"'{_quote(json.dumps(n, ensure_ascii=escaped)[1:-1])}'"
                    for n in self.names
                    for escaped in (True, False)
                }
            )
        )
        query = f"""
            WITH requests AS (
                SELECT *, coalesce(inference_id, request_id) AS base, {parsed} AS parsed,
                       CASE WHEN parsed IS NOT NULL THEN
                         from_json(response, '{{"predictions": "JSON", "probabilities": "JSON",
                                                "classes": "JSON"}}') END AS answer
                FROM read_parquet(?) WHERE {_LIVE} AND status = 200
            ), checked AS (
                SELECT *, coalesce(
                         list_sum(list_transform(parsed, lambda x: {present}))
                         + CASE WHEN contains(request, 'null') THEN len(list_filter(
                             regexp_extract_all(request, '{_NULL_KEY}', 1),
                             lambda k: k IN ({keys}))) ELSE 0 END
                         = len(parsed) * {count}, false) AS whole
                FROM requests
            ), items AS (
                SELECT *, CASE WHEN whole THEN len(parsed) ELSE 1 END AS n, {position} AS col,
                       unnest(CASE WHEN whole THEN parsed ELSE [NULL] END) AS item,
                       unnest(range(n)) AS i
                FROM checked
            ), scored AS (
                SELECT *, json_extract(answer.probabilities, i) AS prob,
                          json_extract(answer.predictions, i) AS pred
                FROM items
            ), valued AS (
                SELECT *, CASE WHEN col IS NULL THEN json_extract(prob, -1)
                               ELSE json_extract(prob, col) END AS value
                FROM scored
            )
            SELECT whole, {record},
                   CASE WHEN n = 1 THEN base ELSE base || ':' || i END AS id, variant,
                   CASE
                     WHEN json_type(prob) = 'ARRAY' AND json_array_length(prob) > 0 THEN
                       CASE json_type(value)
                         WHEN 'BOOLEAN' THEN CAST(value::VARCHAR = 'true' AS DOUBLE)
                         WHEN 'BIGINT' THEN CAST(value AS DOUBLE)
                         WHEN 'UBIGINT' THEN CAST(value AS DOUBLE)
                         WHEN 'DOUBLE' THEN CAST(value AS DOUBLE)
                       END
                     WHEN json_type(pred) IN ('BIGINT', 'UBIGINT', 'DOUBLE')
                       THEN CAST(pred AS DOUBLE)
                   END AS score,
                   CASE json_type(pred)
                     WHEN 'NULL' THEN NULL
                     WHEN 'VARCHAR' THEN json_extract_string(pred, '$')
                     WHEN 'BOOLEAN' THEN CASE WHEN pred::VARCHAR = 'true' THEN 'True'
                                              ELSE 'False' END
                     WHEN 'DOUBLE' THEN CAST(CAST(pred AS DOUBLE) AS VARCHAR)
                     ELSE pred::VARCHAR
                   END AS predicted,
                   {fields}
            FROM valued
        """
        return self._collect(self.db.sql(query, params=[self.files]), types)

    def _collect(self, relation: Any, types: dict[str, str]) -> dict[str, Any]:
        """The query's rows batch by batch: DuckDB's as columns (floats for a
        DOUBLE field), the parser's from their records; both in one order."""
        import pyarrow as pa
        import pyarrow.compute as pc

        pieces: dict[str, list[Any]] = {}
        slow = _nothing(self.names)
        for batch in relation.to_arrow_reader(1 << 16):
            whole = batch.column("whole")
            if not pc.all(whole).as_py():
                refused = batch.filter(pc.invert(whole))
                records = zip(
                    *(refused.column(f"raw_{c}").to_pylist() for c in _RECORD), strict=True
                )
                for values in records:
                    _add(slow, dict(zip(_RECORD, values, strict=True)), self.names, self.positive)
                batch = batch.filter(whole)
            for column in ("id", "variant", "predicted"):
                pieces.setdefault(column, []).append(batch.column(column).cast(pa.string()))
            pieces.setdefault("score", []).append(
                batch.column("score").to_numpy(zero_copy_only=False)
            )
            for k, name in enumerate(self.names):
                values = batch.column(f"c{k}")
                if types.get(name) == "DOUBLE":
                    values = values.to_numpy(zero_copy_only=False)
                pieces.setdefault(name, []).append(values)
        columns: dict[str, Any] = {}
        for name in self.names:
            chunks = pieces.pop(name, [])
            kind = self.kinds.get(name)
            if types.get(name) == "DOUBLE":
                fast: Any = Numbers(
                    np.concatenate(chunks).astype(np.float64, copy=False)
                    if chunks
                    else np.empty(0),
                    0,
                )
            elif types.get(name) == "JSON":
                fast = _as_column(_decoded(chunks), kind)
            else:
                fast = _as_column(
                    pa.concat_arrays(chunks) if chunks else pa.array([], pa.string()), kind
                )
            columns[name] = _concat([fast, _as_column(slow["columns"][name], kind)], kind)
        texts = {
            c: pa.concat_arrays([*pieces.get(c, []), pa.array(slow[key], pa.string())])
            for c, key in (("id", "ids"), ("variant", "variants"), ("predicted", "predicted"))
        }
        scores = [*pieces.get("score", []), np.asarray(slow["scores"], dtype=np.float64)]
        return {
            "columns": columns,
            "ids": texts["id"],
            "variants": texts["variant"],
            "scores": np.concatenate(scores),
            "predicted": texts["predicted"],
            "failed": slow["failed"],
            "unexpected": slow["unexpected"],
            "missing": slow["missing"],
        }


def _nothing(names: list[str]) -> dict[str, Any]:
    return {
        "columns": {name: [] for name in names},
        "ids": [],
        "variants": [],
        "scores": [],
        "predicted": [],
        "failed": 0,
        "unexpected": set(),
        "missing": {},
    }


def _row_keys(structure: Any, *, list_of_rows: bool) -> dict[str, Any] | None:
    """The keys of the JSON rows and their types, from ``json_group_structure``;
    ``None`` when the requests are not all rows of that shape."""
    if list_of_rows:
        if not isinstance(structure, list) or len(structure) != 1:
            return None
        structure = structure[0]
    return structure if isinstance(structure, dict) else None


def _decoded(chunks: list[Any]) -> list[Any]:
    """JSON texts as the values the gateway's parser gives (``None`` for null)."""
    from modelyard.serving._parse import parse_json

    return [
        None if text is None else parse_json(text.encode())
        for chunk in chunks
        for text in chunk.to_pylist()
    ]


def _as_column(values: Any, kind: str | None) -> Any:
    """One piece of a column in the form the checks read (see :class:`WindowRows`)."""
    import pyarrow as pa

    if isinstance(values, Numbers):
        return values
    if kind in NUMBER_KINDS:
        numbers, wrong = numeric_values(list(values), str(kind))
        return Numbers(numbers, wrong)
    if isinstance(values, pa.Array):
        return values.cast(pa.string())
    return pa.array([None if v is None else str(v) for v in values], pa.string())


def _concat(pieces: list[Any], kind: str | None) -> Any:
    import pyarrow as pa

    if kind in NUMBER_KINDS:
        return Numbers(np.concatenate([p.values for p in pieces]), sum(p.wrong for p in pieces))
    return pa.concat_arrays(pieces)


def _quote(text: str) -> str:
    """``text`` inside a SQL string literal."""
    return text.replace("'", "''")


def _ident(text: str) -> str:
    """``text`` inside a quoted SQL identifier."""
    return text.replace('"', '""')


def _add(
    out: dict[str, Any], record: dict[str, Any], names: list[str], positive: str | None
) -> None:
    import orjson

    from modelyard.serving._parse import parse_body

    try:
        table = parse_body((record["request"] or "").encode(), record["content_type"] or "", names)
        answer = orjson.loads(record["response"] or "{}")
    except (InvalidInputError, orjson.JSONDecodeError) as exc:
        out["failed"] += 1
        column = exc.details.get("column") if isinstance(exc, InvalidInputError) else None
        if column in names:  # refused for lacking a column the model reads
            out["missing"][column] = out["missing"].get(column, 0) + 1
        return
    if not isinstance(answer, dict):
        out["failed"] += 1
        return
    out["unexpected"].update(table.unexpected)
    base = record["inference_id"] or record["request_id"]
    predictions = answer.get("predictions") or []
    probabilities = answer.get("probabilities")
    classes = [str(c) for c in answer.get("classes") or []]
    column = classes.index(positive) if positive is not None and positive in classes else None
    for i in range(table.n_rows):
        for name in names:
            out["columns"][name].append(table.columns[name][i])
        out["ids"].append(base if table.n_rows == 1 else f"{base}:{i}")
        out["variants"].append(record["variant"])
        predicted = (
            predictions[i] if isinstance(predictions, list) and i < len(predictions) else None
        )
        out["predicted"].append(None if predicted is None else str(predicted))
        score = _score(probabilities, i, column, predicted)
        out["scores"].append(np.nan if score is None else score)


def _score(probabilities: Any, i: int, column: int | None, predicted: Any) -> float | None:
    if isinstance(probabilities, list) and i < len(probabilities):
        row = probabilities[i]
        if isinstance(row, list) and row:
            index = column if column is not None else -1
            value = row[index] if -len(row) <= index < len(row) else None
            return float(value) if isinstance(value, int | float) else None
    if isinstance(predicted, int | float) and not isinstance(predicted, bool):
        return float(predicted)
    return None

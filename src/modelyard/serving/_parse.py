"""Request bodies in the shapes clients send, turned into columns of Python values.

Accepted: JSON records (``[{...}, ...]``), one JSON object, JSON columns
(``{"columns": [...], "data": [[...]]}``), MLflow's envelopes (``dataframe_split``,
``dataframe_records``, ``instances``, ``inputs``) and CSV (with a header naming the
columns, or without one, columns then in signature order). Values are not converted
here: :mod:`modelyard.serving._schema` checks them against the model's signature.
Every failure is an :class:`~modelyard.errors.InvalidInputError` naming what is wrong.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

import orjson

from modelyard.errors import InvalidInputError

__all__ = ["Table", "UnsupportedMediaError", "parse_body", "parse_json"]

_MISSING = object()
# every digit to "0", anything else to " ": a run of 19 digits is then a substring
_DIGITS = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_LONG_RUN = b"0" * 19


class UnsupportedMediaError(InvalidInputError):
    """A content type the gateway does not read (answered 415)."""

    http_status = 415


@dataclass(frozen=True)
class Table:
    """Rows as columns: every known column present, values as sent."""

    columns: dict[str, list[Any]]
    n_rows: int
    unexpected: tuple[str, ...]


def parse_body(body: bytes, content_type: str, names: list[str]) -> Table:
    """Parse a request body into a :class:`Table` over the signature's ``names``.

    Raises:
        UnsupportedMediaError: a content type other than JSON or CSV.
        InvalidInputError: an empty or malformed body, a missing column.
    """
    media = content_type.split(";", 1)[0].strip().lower()
    if not body.strip():
        raise InvalidInputError("the request body is empty: send JSON or CSV rows")
    if media in ("", "application/json", "text/json", "*/*") or media.endswith("+json"):
        return from_json(parse_json(body), names)
    if media in ("text/csv", "application/csv"):
        return _from_csv(body, names)
    raise UnsupportedMediaError(
        f"unsupported content type {media!r}: send application/json or text/csv",
        details={"content_type": media},
    )


def parse_json(body: bytes) -> Any:
    """Decode a JSON body.

    orjson reads it (several times faster than :mod:`json` on a request of one row)
    unless it holds a run of 19 or more digits: orjson turns an integer past 64 bits
    into a float, where :mod:`json` keeps it exact (a categorical label, a KServe
    shape). Whatever orjson refuses, :mod:`json` reads again, so what is accepted
    (``NaN``, a byte-order mark, UTF-16, lone surrogates) and every error message
    are the standard library's.

    Raises:
        InvalidInputError: not UTF-8 or not JSON (the message says where).
    """
    if _LONG_RUN not in body.translate(_DIGITS):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass  # read again below, for the standard library's answer
    try:
        return json.loads(body)
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"the body is not UTF-8 text: {exc.reason}") from None
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            details={"line": exc.lineno, "column": exc.colno},
        ) from None
    except RecursionError:
        raise InvalidInputError("malformed JSON: nested too deeply") from None
    except ValueError as exc:  # an integer over Python's 4,300-digit conversion limit
        raise InvalidInputError(f"malformed JSON: {exc}") from None


def from_json(document: Any, names: list[str]) -> Table:
    """Read any accepted JSON shape (see the module docstring)."""
    if isinstance(document, list):
        return _from_rows(document, names, "body")
    if not isinstance(document, dict):
        raise InvalidInputError(
            f"JSON body must be an object or a list of objects, got {type(document).__name__}"
        )
    if "dataframe_split" in document:
        return _from_split(document["dataframe_split"], names, "dataframe_split")
    if "dataframe_records" in document:
        return _from_rows(document["dataframe_records"], names, "dataframe_records")
    if "instances" in document:
        return _from_rows(document["instances"], names, "instances")
    if "inputs" in document:
        inputs = document["inputs"]
        if isinstance(inputs, dict):
            return _from_mapping(inputs, names, "inputs")
        return _from_rows(inputs, names, "inputs")
    if "columns" in document and "data" in document:
        return _from_split(document, names, "body")
    return _one_row(document, names)


def _one_row(row: dict[str, Any], names: list[str]) -> Table:
    """One row as an object: the common request, without the loops of many rows."""
    try:
        columns = {name: [row[name]] for name in names}
    except KeyError:
        name = next(n for n in names if n not in row)  # the first missing, in order
        raise InvalidInputError(
            f"missing column {name!r}", details={"column": name, "row": 0}
        ) from None
    # every name is in the row, so equal sizes mean no other key (names are unique)
    extra = () if len(row) == len(columns) else tuple(sorted(row.keys() - columns.keys()))
    return Table(columns, 1, extra)


def _from_rows(rows: Any, names: list[str], where: str) -> Table:
    if not isinstance(rows, list):
        raise InvalidInputError(f"{where} must be a list of rows, got {type(rows).__name__}")
    if not rows:
        raise InvalidInputError(f"{where} holds no rows")
    if len(rows) == 1 and isinstance(rows[0], dict):
        return _one_row(rows[0], names)
    if all(isinstance(r, list) for r in rows):
        return _positional(rows, names, where)
    unexpected: set[str] = set()
    known = set(names)
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise InvalidInputError(
                f"{where}: row {index} must be an object of column values, "
                f"got {type(row).__name__}",
                details={"row": index},
            )
        if len(row) != len(known) or not known.issuperset(row):
            unexpected.update(k for k in row if k not in known)
    columns: dict[str, list[Any]] = {}
    for name in names:
        values = [row.get(name, _MISSING) for row in rows]
        if _MISSING in values:
            index = values.index(_MISSING)
            raise InvalidInputError(
                f"missing column {name!r}" + (f" in row {index}" if len(rows) > 1 else ""),
                details={"column": name, "row": index},
            )
        columns[name] = values
    return Table(columns, len(rows), tuple(sorted(unexpected)))


def _positional(rows: list[list[Any]], names: list[str], where: str) -> Table:
    for index, row in enumerate(rows):
        if len(row) != len(names):
            raise InvalidInputError(
                f"{where}: row {index} has {len(row)} values, the model reads {len(names)} "
                "columns (send objects with column names, or values in signature order)",
                details={"row": index, "values": len(row), "expected": len(names)},
            )
    columns = {name: [row[i] for row in rows] for i, name in enumerate(names)}
    return Table(columns, len(rows), ())


def _from_split(split: Any, names: list[str], where: str) -> Table:
    if not isinstance(split, dict):
        raise InvalidInputError(f"{where} must be an object with 'columns' and 'data'")
    header, data = split.get("columns"), split.get("data")
    if not isinstance(header, list) or not all(isinstance(c, str) for c in header):
        raise InvalidInputError(f"{where}: 'columns' must be a list of column names")
    if len(set(header)) != len(header):
        raise InvalidInputError(f"{where}: 'columns' names a column twice")
    if not isinstance(data, list) or not data:
        raise InvalidInputError(f"{where}: 'data' must be a non-empty list of rows")
    for index, row in enumerate(data):
        if not isinstance(row, list) or len(row) != len(header):
            raise InvalidInputError(
                f"{where}: data row {index} must be a list of {len(header)} values",
                details={"row": index},
            )
    position = {name: i for i, name in enumerate(header)}
    columns: dict[str, list[Any]] = {}
    for name in names:
        if name not in position:
            raise InvalidInputError(f"missing column {name!r}", details={"column": name})
        i = position[name]
        columns[name] = [row[i] for row in data]
    known = set(names)
    return Table(columns, len(data), tuple(c for c in header if c not in known))


def _from_mapping(mapping: dict[str, Any], names: list[str], where: str) -> Table:
    lengths = {k: len(v) for k, v in mapping.items() if isinstance(v, list)}
    if len(lengths) != len(mapping):
        scalar = {k: [v] for k, v in mapping.items()}
        if lengths:
            raise InvalidInputError(f"{where}: give every column a list of values, or none")
        mapping, lengths = scalar, dict.fromkeys(scalar, 1)
    if len(set(lengths.values())) > 1:
        raise InvalidInputError(
            f"{where}: columns have different lengths", details={"lengths": lengths}
        )
    n_rows = next(iter(lengths.values()), 0)
    if n_rows == 0:
        raise InvalidInputError(f"{where} holds no rows")
    columns: dict[str, list[Any]] = {}
    for name in names:
        if name not in mapping:
            raise InvalidInputError(f"missing column {name!r}", details={"column": name})
        columns[name] = mapping[name]
    known = set(names)
    return Table(columns, n_rows, tuple(sorted(k for k in mapping if k not in known)))


def _from_csv(body: bytes, names: list[str]) -> Table:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"the CSV body is not UTF-8 text: {exc.reason}") from None
    try:
        rows = [r for r in csv.reader(io.StringIO(text, newline=""), strict=True) if r]
    except csv.Error as exc:
        raise InvalidInputError(f"malformed CSV: {exc}") from None
    if not rows:
        raise InvalidInputError("the CSV body holds no rows")
    known = set(names)
    first = [c.strip() for c in rows[0]]
    if known.intersection(first):
        header, data = first, rows[1:]
        if not data:
            raise InvalidInputError("the CSV body has a header but no rows")
        cells: list[list[Any]] = [[None if v == "" else v for v in r] for r in data]
        return _from_split({"columns": header, "data": cells}, names, "CSV")
    cells = [[None if v == "" else v for v in r] for r in rows]
    return _positional(cells, names, "CSV")

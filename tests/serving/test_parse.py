"""Request shapes and signature checks, in-process."""

from __future__ import annotations

import json
import math
import re
import time
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelyard.errors import InvalidInputError, SchemaMismatchError
from modelyard.serving._kserve import parse_kserve
from modelyard.serving._parse import UnsupportedMediaError, parse_body, parse_json
from modelyard.serving._schema import InputField, Signature

NAMES = ["age", "plan"]
SIGNATURE = Signature(
    [
        InputField("age", "numeric", nullable=False),
        InputField("plan", "categorical", nullable=True, categories=("a", "b")),
        InputField("active", "boolean", nullable=True),
    ]
)


@pytest.mark.parametrize(
    "body",
    [
        b'{"age": 3, "plan": "a"}',
        b'[{"age": 3, "plan": "a"}]',
        b'{"columns": ["plan", "age"], "data": [["a", 3]]}',
        b'{"dataframe_split": {"columns": ["age", "plan"], "data": [[3, "a"]]}}',
        b'{"dataframe_records": [{"age": 3, "plan": "a"}]}',
        b'{"instances": [[3, "a"]]}',
        b'{"inputs": {"age": [3], "plan": ["a"]}}',
        b'{"inputs": {"age": 3, "plan": "a"}}',
    ],
)
def test_json_shapes(body: bytes) -> None:
    table = parse_body(body, "application/json", NAMES)
    assert table.columns == {"age": [3], "plan": ["a"]} and table.n_rows == 1


def test_csv_with_and_without_header() -> None:
    with_header = parse_body(b"plan,age,extra\na,3,x\n,4,y\n", "text/csv", NAMES)
    assert with_header.columns == {"age": ["3", "4"], "plan": ["a", None]}
    assert with_header.unexpected == ("extra",)
    positional = parse_body(b"3,a\n4,b\n", "text/csv; charset=utf-8", NAMES)
    assert positional.columns == {"age": ["3", "4"], "plan": ["a", "b"]}


def test_unexpected_columns_are_reported() -> None:
    table = parse_body(b'[{"age": 1, "plan": "a", "zip": 1}, {"age": 2, "plan": "b"}]', "", NAMES)
    assert table.unexpected == ("zip",)


@pytest.mark.parametrize(
    ("body", "content_type", "error"),
    [
        (b"", "application/json", "empty"),
        (b"{", "application/json", "malformed JSON"),
        (b'"\xff"', "application/json", "UTF-8"),
        (b"[1, 2]", "application/json", "row 0 must be an object"),
        (b"[[1, 2, 3]]", "application/json", "row 0 has 3 values"),
        (b'{"age": 1}', "application/json", "missing column 'plan'"),
        (b'{"inputs": {"age": [1, 2], "plan": ["a"]}}', "application/json", "lengths"),
        (b'{"columns": ["age", "age"], "data": [[1, 1]]}', "", "twice"),
        (b"age\n", "text/csv", "no rows"),
    ],
)
def test_bad_bodies(body: bytes, content_type: str, error: str) -> None:
    with pytest.raises(InvalidInputError, match=error):
        parse_body(body, content_type, NAMES)


def test_unsupported_media_type() -> None:
    with pytest.raises(UnsupportedMediaError) as caught:
        parse_body(b"x", "application/xml", NAMES)
    assert caught.value.http_status == 415


def test_signature_converts_and_names_bad_values() -> None:
    names = SIGNATURE.names
    table = parse_body(b'{"age": "4.5", "plan": 7, "active": "yes"}', "", names)
    assert SIGNATURE.check(table, reject_unexpected=True) == {
        "age": [4.5],
        "plan": ["7"],
        "active": [True],
    }
    nullable = parse_body(b'{"age": 1, "plan": null, "active": null}', "", names)
    assert SIGNATURE.check(nullable, reject_unexpected=True)["plan"] == [None]
    for body, column in [
        (b'{"age": null, "plan": "a", "active": true}', "age"),
        (b'{"age": NaN, "plan": "a", "active": true}', "age"),
        (b'{"age": Infinity, "plan": "a", "active": true}', "age"),
        (b'{"age": true, "plan": "a", "active": true}', "age"),
        (b'{"age": 1, "plan": ["a"], "active": true}', "plan"),
        (b'{"age": 1, "plan": "a", "active": "maybe"}', "active"),
    ]:
        table = parse_body(body, "", names)
        with pytest.raises(SchemaMismatchError) as caught:
            SIGNATURE.check(table, reject_unexpected=True)
        assert caught.value.details["column"] == column, body
    assert math.isclose(
        SIGNATURE.check(parse_body(b"1e3,a,0", "text/csv", names), reject_unexpected=True)["age"][
            0
        ],
        1000.0,
    )


@given(
    shape=st.lists(st.integers(-3, 4) | st.integers(10**50, 10**60), min_size=1, max_size=4),
    n=st.integers(1, 12),
)
def test_kserve_shape_is_checked_against_the_values(shape: list[int], n: int) -> None:
    """A shape is accepted exactly when its sizes multiply to the number of values."""
    document = {"inputs": [{"name": "age", "shape": shape, "data": list(range(n))}]}
    product = 1
    for size in shape:
        product *= size
    if product == n and min(shape) >= 0:
        with pytest.raises(InvalidInputError, match="missing column 'plan'"):
            parse_kserve(document, NAMES)
    else:
        with pytest.raises(InvalidInputError, match="does not match"):
            parse_kserve(document, NAMES)


def test_kserve_shape_of_huge_sizes_is_refused_at_once() -> None:
    """A thousand 4,000-digit sizes: multiplying them all out held the event loop for minutes."""
    shape = [10**4000] * 1000
    started = time.monotonic()
    with pytest.raises(InvalidInputError, match="does not match"):
        parse_kserve({"inputs": [{"name": "age", "shape": shape, "data": [1]}]}, NAMES)
    assert time.monotonic() - started < 5


@given(
    value=st.floats(allow_nan=False)
    | st.integers(-(10**60), 10**60)
    | st.floats(allow_nan=False).map(repr)
)
def test_a_number_is_accepted_only_if_float32_holds_it(value: float | int | str) -> None:
    """Past float32's range the model's cast overflowed to infinity: a 500, not a 422."""
    table = parse_body(
        json.dumps({"age": value, "plan": "a", "active": None}).encode(), "", SIGNATURE.names
    )
    number = float(value)
    if abs(number) <= float(np.finfo(np.float32).max):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the cast the model makes, overflow an error
            checked = SIGNATURE.check(table, reject_unexpected=False)["age"]
            assert np.isfinite(np.asarray(checked, dtype=np.float32)).all()
    else:
        with pytest.raises(SchemaMismatchError, match=r"between -3\.4e38 and 3\.4e38") as caught:
            SIGNATURE.check(table, reject_unexpected=False)
        assert caught.value.details["column"] == "age"


def _same(a: Any, b: Any) -> bool:
    """Equal values of equal types, all the way down (NaN equal to NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats()
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)


@given(
    st.one_of(
        _JSON_VALUES.map(lambda v: json.dumps(v).encode()),
        _JSON_VALUES.map(lambda v: json.dumps(v, ensure_ascii=False).encode("utf-8", "replace")),
        _JSON_VALUES.map(lambda v: json.dumps(v, indent=1).encode("utf-16")),
        st.binary(max_size=60),
        st.text(alphabet='{}[]",:0123456789.eE+-tfrueanlsNIi \\u\n', max_size=40).map(str.encode),
    )
)
def test_json_bodies_read_as_the_standard_library_reads_them(body: bytes) -> None:
    """orjson reads most bodies; the result, or the error, is what json.loads gives."""
    try:
        expected = json.loads(body)
    except json.JSONDecodeError as exc:
        message = f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        with pytest.raises(InvalidInputError, match=re.escape(message)):
            parse_json(body)
        return
    except UnicodeDecodeError as exc:
        with pytest.raises(InvalidInputError, match=re.escape(exc.reason)):
            parse_json(body)
        return
    except (ValueError, RecursionError):
        with pytest.raises(InvalidInputError, match="malformed JSON"):
            parse_json(body)
        return
    assert _same(parse_json(body), expected)


@pytest.mark.parametrize(
    "body", [b"123456789012345678901234567890", b'{"a": -9223372036854775809}', b"[1e400, NaN]"]
)
def test_json_numbers_orjson_would_change_are_read_exactly(body: bytes) -> None:
    assert _same(parse_json(body), json.loads(body))


def test_response_json_writes_numpy_values_as_the_standard_library_did() -> None:
    from modelyard.serving._http import _dumps

    data = {"p": np.float64(0.25), "n": np.int64(3), "f": np.float32(0.5), "s": "é"}
    expected = json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str)
    assert _dumps(data) == expected.encode()  # orjson's bytes, the same text here
    assert json.loads(_dumps({"i": 2**70})) == {"i": 2**70}  # past 64 bits: json writes it
    lone = {"x": [1.5, None, "\ud800"]}  # orjson refuses a lone surrogate: json writes it
    assert _dumps(lone) == json.dumps(lone, separators=(",", ":")).encode()

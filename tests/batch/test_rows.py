"""The Arrow row check reads as the model's InputAdapter, and rejects instead of failing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelyard.batch import _rows
from modelyard.features._adapter import InputAdapter
from tests.batch.conftest import new_customers

ADAPTER = InputAdapter(
    numeric=("tenure_months", "monthly_charges", "total_charges"),
    boolean=("paperless_billing", "senior_citizen"),
    categorical=("contract", "payment_method", "region"),
    datetime=("signup_date",),
)
INPUTS = [
    {"name": name, "kind": kind, "nullable": True}
    for kind, names in (
        ("numeric", ADAPTER.numeric),
        ("boolean", ADAPTER.boolean),
        ("categorical", ADAPTER.categorical),
        ("datetime", ADAPTER.datetime),
    )
    for name in names
]


def test_adapted_columns_equal_the_input_adapter() -> None:
    frame = new_customers(500, seed=50)
    frame.loc[3, "total_charges"] = np.nan
    frame.loc[4, "payment_method"] = None
    batch = pa.RecordBatch.from_pandas(frame, preserve_index=False)
    checked = _rows.check_rows(batch, INPUTS)
    expected = ADAPTER.adapt(frame)
    assert checked.good.all()
    assert set(checked.adapted) == set(expected)
    for name, values in expected.items():
        if values.dtype == object:
            assert checked.adapted[name].tolist() == values.tolist(), name
        else:
            np.testing.assert_array_equal(checked.adapted[name], values, err_msg=name)


def test_text_columns_from_csv_adapt_the_same() -> None:
    frame = new_customers(200, seed=51)
    text = frame.astype(str).replace({"nan": None, "None": None})
    batch = pa.RecordBatch.from_pandas(text, preserve_index=False)
    checked = _rows.check_rows(batch, INPUTS)
    assert checked.good.all()
    for name in ("tenure_months", "paperless_billing", "signup_date__days_since_ref"):
        np.testing.assert_array_equal(checked.adapted[name], ADAPTER.adapt(frame)[name])


def test_zoned_dates_with_mixed_offsets_read_as_the_adapter_reads_them() -> None:
    frame = new_customers(4, seed=52)
    frame["signup_date"] = [
        "2024-03-01T10:00:00+02:00",
        "2024-03-01T10:00:00-05:00",
        "2024-03-01T10:00:00",
        None,
    ]
    checked = _rows.check_rows(pa.RecordBatch.from_pandas(frame, preserve_index=False), INPUTS)
    assert checked.good.all()
    expected = ADAPTER.adapt(frame)
    for part in ("signup_date__hour", "signup_date__days_since_ref"):
        np.testing.assert_array_equal(checked.adapted[part], expected[part], err_msg=part)
    assert checked.adapted["signup_date__hour"].tolist()[:3] == [8.0, 15.0, 10.0]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(
        st.one_of(st.none(), st.text(max_size=8), st.floats(allow_nan=True)),
        min_size=1,
        max_size=30,
    ),
    kind=st.sampled_from(["numeric", "boolean", "categorical", "datetime"]),
    nullable=st.booleans(),
)
def test_any_values_are_checked_never_crash(
    values: list[object], kind: str, nullable: bool
) -> None:
    texts = [None if v is None else str(v) for v in values]
    batch = pa.RecordBatch.from_pydict({"x": pa.array(texts, pa.string())})
    checked = _rows.check_rows(batch, [{"name": "x", "kind": kind, "nullable": nullable}])
    assert len(checked.good) == len(texts)
    rejected = ~checked.good
    assert all(isinstance(r, str) and "'x'" in r for r in checked.reasons[rejected])
    assert all(r is None for r in checked.reasons[checked.good])
    for column in checked.adapted.values():
        assert len(column) == int(checked.good.sum())
    if kind == "numeric":
        for text, ok in zip(texts, checked.good, strict=True):
            if text is not None and text.strip():
                try:
                    float(text)
                except ValueError:
                    assert not ok, text
    if not nullable:
        assert not any(ok for text, ok in zip(texts, checked.good, strict=True) if text is None)


def test_missing_column_rejects_every_row_with_its_name() -> None:
    batch = pa.RecordBatch.from_pandas(pd.DataFrame({"other": [1, 2]}))
    checked = _rows.check_rows(batch, [{"name": "x", "kind": "numeric", "nullable": True}])
    assert not checked.good.any()
    assert checked.reasons.tolist() == ["missing column 'x'"] * 2


@pytest.mark.parametrize("kind", ["numeric", "boolean", "categorical", "datetime"])
@pytest.mark.parametrize(
    "column",
    [
        pa.array([[1, 2], None, []], pa.list_(pa.int64())),
        pa.array([{"a": 1}, None, {"a": 2}], pa.struct([("a", pa.int64())])),
        pa.array([b"\xff\xfe", None, b"\xc3"], pa.binary()),
    ],
    ids=["list", "struct", "binary-not-utf8"],
)
def test_values_of_a_type_without_text_reject_their_rows(kind: str, column: pa.Array) -> None:
    batch = pa.RecordBatch.from_arrays([column], names=["x"])
    checked = _rows.check_rows(batch, [{"name": "x", "kind": kind, "nullable": True}])
    assert checked.good.tolist() == [False, True, False]  # the missing value is fine
    reason = f"column 'x' must be {kind}"
    assert checked.reasons.tolist() == [reason, None, reason]


def test_a_dictionary_category_column_adapts_like_its_text() -> None:
    text = pa.array(["a", None, "b", "a", None], pa.large_string())
    spec = [{"name": "x", "kind": "categorical", "nullable": True}]
    dense = _rows.check_rows(pa.RecordBatch.from_arrays([text], names=["x"]), spec)
    coded = _rows.check_rows(
        pa.RecordBatch.from_arrays([text.dictionary_encode()], names=["x"]), spec
    )
    assert coded.adapted["x"].tolist() == dense.adapted["x"].tolist()
    assert dense.adapted["x"].tolist() == ["a", "__missing__", "b", "a", "__missing__"]


@pytest.mark.parametrize(
    "column",
    [
        pa.array([1.0, float("inf"), -1e300, None], pa.float64()),
        pa.array(["1.0", "1e999", "-1e300", None], pa.string()),
    ],
    ids=["float64", "text"],
)
def test_a_number_float32_cannot_hold_rejects_its_row(column: pa.Array) -> None:
    """1e999 was scored (as infinity) where the gateway answers 422: one rule for both."""
    batch = pa.RecordBatch.from_arrays([column], names=["x"])
    checked = _rows.check_rows(batch, [{"name": "x", "kind": "numeric", "nullable": True}])
    assert checked.good.tolist() == [True, False, False, True]
    reason = "column 'x' must be a finite number between -3.4e38 and 3.4e38"
    assert checked.reasons.tolist() == [None, reason, reason, None]


request_values = st.one_of(
    st.none(),
    st.sampled_from(["", " 7 ", "nan", "NULL", "yes", "N", "1", "0.0", "2", "1e999", "-3.5e38"]),
    st.sampled_from(["2024-02-30", "2024-03-01T10:00:00+02:00", "2024-03-01 08:30", "x"]),
    st.text(max_size=6),
    st.floats().map(repr),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(request_values, min_size=1, max_size=8),
    kind=st.sampled_from(["numeric", "boolean", "categorical", "datetime"]),
    nullable=st.booleans(),
)
def test_a_batch_row_is_refused_exactly_when_the_gateway_refuses_it(
    values: list[str | None], kind: str, nullable: bool
) -> None:
    """The same values, as a file's text column and as a request's JSON text: refused
    by the same rule, with the same reason."""
    from modelyard.errors import SchemaMismatchError
    from modelyard.serving._parse import Table
    from modelyard.serving._schema import InputField, Signature

    signature = Signature([InputField("x", kind, nullable)])
    batch = pa.RecordBatch.from_pydict({"x": pa.array(values, pa.string())})
    checked = _rows.check_rows(batch, [{"name": "x", "kind": kind, "nullable": nullable}])
    for row, value in enumerate(values):
        table = Table({"x": [value]}, 1, ())
        try:
            signature.check(table, reject_unexpected=False)
        except SchemaMismatchError as refused:
            assert not checked.good[row], value
            assert str(refused).startswith(checked.reasons[row]), (str(refused), value)
        else:
            assert checked.good[row], (value, checked.reasons[row])


def test_a_byte_that_is_not_utf8_and_a_number_past_float32_are_rejected_rows(
    model_workspace: Any, local_executor: Any, tmp_path: Path
) -> None:
    """Issue 16 finding 10: one byte that is not UTF-8 failed the whole job, and 1e999
    was scored; each is now one row in ``_errors`` with its reason, as the gateway
    refuses it."""
    from modelyard.batch import batch_predict

    customers = new_customers(300, seed=91)
    lines = customers.to_csv(index=False).encode().splitlines(keepends=True)
    header = lines[0].decode().rstrip().split(",")
    contract, charges = header.index("contract"), header.index("monthly_charges")

    def edit(row: int, column: int, value: bytes) -> None:
        fields = lines[row + 1].rstrip(b"\n").split(b",")
        fields[column] = value
        lines[row + 1] = b",".join(fields) + b"\n"

    edit(7, contract, b"month-to-month\xff")
    edit(250, contract, b"\xc3")  # a UTF-8 sequence cut short
    edit(12, charges, b"1e999")
    source = tmp_path / "bytes.csv"
    source.write_bytes(b"".join(lines))
    out = tmp_path / "out"
    result = batch_predict(
        model_workspace,
        "churn:production",
        str(source),
        str(out),
        keep=["customer_id", "contract"],
        executor=local_executor,
    )
    assert result.job.rows_rejected == 3
    errors = pq.read_table(out / "_errors").to_pandas()
    reasons = dict(zip(errors["customer_id"], errors["_reason"], strict=True))
    ids = customers["customer_id"]
    assert reasons == {
        ids[7]: "column 'contract' must be categorical",
        ids[250]: "column 'contract' must be categorical",
        ids[12]: "column 'monthly_charges' must be a finite number between -3.4e38 and 3.4e38",
    }
    scored = pq.read_table(out, columns=["customer_id"]).column(0).to_pylist()
    assert len(scored) == 297 and set(scored).isdisjoint(reasons)
    schema = pq.read_schema(next(out.glob("part-*.parquet")))
    assert schema.field("contract").type == pa.string()  # text, though read as bytes

"""The KServe V2 bodies: the binary tensor extension decoded, output datatypes."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelyard.errors import InvalidInputError
from modelyard.serving._kserve import output_specs, read_kserve

_FIXED = {
    "BOOL": ("?", st.booleans()),
    "UINT8": ("<u1", st.integers(0, 2**8 - 1)),
    "UINT64": ("<u8", st.integers(0, 2**64 - 1)),
    "INT16": ("<i2", st.integers(-(2**15), 2**15 - 1)),
    "INT64": ("<i8", st.integers(-(2**63), 2**63 - 1)),
    "FP32": ("<f4", st.floats(width=32, allow_nan=False)),
    "FP64": ("<f8", st.floats(allow_nan=False)),
}


def _request(tensors: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """A binary V2 request: the JSON header, then each tensor's bytes; its header length."""
    inputs = [
        {"name": n, "datatype": d, "parameters": {"binary_data_size": len(b)}}
        for n, d, b in tensors
    ]
    header = json.dumps({"inputs": inputs}).encode()
    return header + b"".join(b for _, _, b in tensors), str(len(header))


def _bytes_tensor(values: list[str]) -> bytes:
    return b"".join(len(v.encode()).to_bytes(4, "little") + v.encode() for v in values)


@settings(max_examples=100, deadline=None)
@given(
    data=st.data(),
    datatypes=st.lists(st.sampled_from([*_FIXED, "BYTES"]), min_size=1, max_size=4),
)
def test_binary_tensors_decode_to_their_values(data: st.DataObject, datatypes: list[str]) -> None:
    tensors, expected = [], {}
    for index, datatype in enumerate(datatypes):
        name = f"c{index}"
        if datatype == "BYTES":
            values: list[Any] = data.draw(st.lists(st.text(max_size=5), max_size=4))
            raw = _bytes_tensor(values)
        else:
            dtype, elements = _FIXED[datatype]
            values = data.draw(st.lists(elements, max_size=4))
            values = np.array(values, dtype=dtype).tolist()  # as stored (FP32 rounds)
            raw = np.array(values, dtype=dtype).tobytes()
        tensors.append((name, datatype, raw))
        expected[name] = values
    body, length = _request(tensors)
    document = read_kserve(body, length)
    assert {t["name"]: t["data"] for t in document["inputs"]} == expected


@settings(max_examples=200, deadline=None)
@given(
    datatype=st.sampled_from([*_FIXED, "BYTES", "FP99", "BF16", 3]),
    declared=st.integers(-3, 40) | st.sampled_from([True, 2.5, "8"]),
    tail=st.binary(max_size=40),
    length_delta=st.integers(-3, 3),
)
def test_any_binary_body_is_read_or_refused_with_a_clear_error(
    datatype: Any, declared: Any, tail: bytes, length_delta: int
) -> None:
    header = json.dumps(
        {
            "inputs": [
                {"name": "x", "datatype": datatype, "parameters": {"binary_data_size": declared}}
            ]
        }
    ).encode()
    try:
        document = read_kserve(header + tail, str(len(header) + length_delta))
    except InvalidInputError as exc:
        assert exc.message
    else:
        assert isinstance(document["inputs"][0]["data"], list)


def test_fixed_size_values_must_fill_whole_elements() -> None:
    body, length = _request([("x", "FP64", b"\x00" * 12)])
    with pytest.raises(InvalidInputError, match="not a whole number of FP64 values"):
        read_kserve(body, length)
    body, length = _request([("x", "BYTES", b"\x05\x00\x00\x00ab")])
    with pytest.raises(InvalidInputError, match="runs past"):
        read_kserve(body, length)
    body, length = _request([("x", "BYTES", b"\x01\x00\x00\x00\xff")])
    with pytest.raises(InvalidInputError, match="not UTF-8"):
        read_kserve(body, length)
    document = read_kserve(*_request([("x", "FP64", np.array([math.nan]).tobytes())]))
    assert math.isnan(document["inputs"][0]["data"][0])


def test_requested_outputs_are_checked() -> None:
    body = json.dumps({"inputs": [], "outputs": [{"name": "scores"}]}).encode()
    with pytest.raises(InvalidInputError, match="unknown output 'scores'"):
        read_kserve(body)
    body = json.dumps(
        {"inputs": [], "outputs": [{"name": "predictions", "parameters": {"classification": 2}}]}
    ).encode()
    with pytest.raises(InvalidInputError, match="classification extension"):
        read_kserve(body)


def test_output_datatypes_follow_the_model() -> None:
    def specs(task: str, classes: list[Any] | None) -> list[tuple[str, str, list[int]]]:
        return [(s.name, s.datatype, s.shape) for s in output_specs(task, classes)]

    assert specs("regression", None) == [("predictions", "FP64", [-1])]
    assert specs("binary", [0, 1]) == [
        ("predictions", "FP64", [-1]),
        ("probabilities", "FP64", [-1, 2]),
    ]
    assert specs("multiclass", ["a", "b", "c"])[0] == ("predictions", "BYTES", [-1])
    assert specs("multiclass", ["a", "b", "c"])[1][2] == [-1, 3]
    assert specs("binary", [False, True])[0][1] == "BYTES"
    assert specs("binary", [np.int64(0), np.float64(1.5)])[0][1] == "FP64"

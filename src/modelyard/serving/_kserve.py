"""The Open Inference Protocol (KServe V2) request and response bodies.

A request names one tensor per input column::

    {"id": "42", "inputs": [{"name": "tenure_months", "shape": [2], "datatype": "FP64",
                             "data": [3, 40]}, ...]}

and the answer holds ``predictions`` (and, for a classifier, ``probabilities``, shape
``[n, k]``, row-major) as output tensors. Their datatypes come from the model (one
function, :func:`output_specs`, for the metadata route and the answer): ``FP64``
for a regressor's values and for numeric class labels, ``BYTES`` for text labels.

The binary data extension (what tritonclient sends by default) is read and
written: with an ``Inference-Header-Content-Length`` header, the body is that many
bytes of JSON followed by the tensors whose ``parameters.binary_data_size`` says
how many bytes each takes, in input order, little-endian, ``BYTES`` elements as a
4-byte length and the bytes. Outputs are answered in binary when the request asks
(``binary_data`` on a requested output, or ``binary_data_output`` on the request),
with the same header on the response. Errors are ``{"error": "message"}``, as the
protocol says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from modelyard.errors import InvalidInputError, NotFoundError
from modelyard.serving._parse import Table, from_json, parse_json

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from modelyard.serving._gateway import EndpointState, Outcome

__all__ = [
    "KServeAnswer",
    "OutputSpec",
    "kserve_answer",
    "kserve_response",
    "output_specs",
    "parse_kserve",
    "read_kserve",
    "version_variant",
]

# numpy dtypes of the protocol's fixed-size datatypes, little-endian as the extension says
_DTYPES = {
    "BOOL": "?",
    "UINT8": "<u1",
    "UINT16": "<u2",
    "UINT32": "<u4",
    "UINT64": "<u8",
    "INT8": "<i1",
    "INT16": "<i2",
    "INT32": "<i4",
    "INT64": "<i8",
    "FP16": "<f2",
    "FP32": "<f4",
    "FP64": "<f8",
}
_OUTPUTS = ("predictions", "probabilities")


@dataclass(frozen=True)
class OutputSpec:
    """One output tensor as the metadata route states it and inference answers it."""

    name: str
    datatype: str
    shape: list[int]

    def to_dict(self) -> dict[str, Any]:
        """The metadata route's form."""
        return {"name": self.name, "datatype": self.datatype, "shape": self.shape}


def output_specs(task: str, classes: Sequence[Any] | None) -> list[OutputSpec]:
    """The output tensors a model of ``task`` (with ``classes``) answers with."""
    if task == "regression":
        return [OutputSpec("predictions", "FP64", [-1])]
    classes = classes or []
    numeric = all(_is_number(c) for c in classes)
    return [
        OutputSpec("predictions", "FP64" if numeric else "BYTES", [-1]),
        OutputSpec("probabilities", "FP64", [-1, len(classes)]),
    ]


def version_variant(state: EndpointState, version: str) -> str:
    """The production variant a ``/versions/{version}/`` route means: the variant named
    ``version``, or serving model ``version`` (``NAME:VERSION``, or just ``VERSION``).

    Raises:
        NotFoundError: no production variant matches.
    """
    for variant in state.production:
        if version in (variant.name, variant.model_ref, variant.model_ref.rpartition(":")[2]):
            return variant.name
    versions = sorted({v.model_ref for v in state.production})
    raise NotFoundError(
        f"model {state.name} has no version {version[:100]!r}: its versions are "
        + ", ".join(versions),
        details={"endpoint": state.name, "version": version[:100], "versions": versions},
    )


def read_kserve(body: bytes, header_length: str | None = None) -> dict[str, Any]:
    """Decode a V2 inference request (its ``id`` is answered back).

    ``header_length`` is the ``Inference-Header-Content-Length`` header: the binary
    tensors after the JSON are decoded into each input's ``data``.

    Raises:
        InvalidInputError: empty, not JSON, no ``inputs`` list, binary data that
            does not add up, or unknown requested outputs.
    """
    binary = b""
    if header_length is not None:
        text = header_length.strip()
        if not text.isdigit() or int(text) > len(body):
            raise InvalidInputError(
                f"Inference-Header-Content-Length {text[:20]!r} is not a byte count within "
                f"the body of {len(body)} bytes"
            )
        body, binary = body[: int(text)], body[int(text) :]
    if not body.strip():
        raise InvalidInputError("the request body is empty: send a V2 inference request")
    document = parse_json(body)
    if not isinstance(document, dict) or not isinstance(document.get("inputs"), list):
        raise InvalidInputError("a V2 inference request is an object with an 'inputs' list")
    _attach_binary(document["inputs"], binary)
    _check_outputs(document)
    return document


def _attach_binary(inputs: list[Any], binary: bytes) -> None:
    offset = 0
    for tensor in inputs:
        parameters = tensor.get("parameters") if isinstance(tensor, dict) else None
        if not isinstance(parameters, dict) or "binary_data_size" not in parameters:
            continue
        name = str(tensor.get("name"))[:100]
        size = parameters["binary_data_size"]
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise InvalidInputError(
                f"input {name!r}: binary_data_size must be a byte count", details={"input": name}
            )
        if offset + size > len(binary):
            raise InvalidInputError(
                f"input {name!r}: binary_data_size {size} runs past the {len(binary)} bytes "
                "of binary data after the JSON header (is Inference-Header-Content-Length set?)",
                details={"input": name},
            )
        if "data" in tensor:
            raise InvalidInputError(
                f"input {name!r} has both 'data' and binary_data_size", details={"input": name}
            )
        tensor["data"] = _decode(name, tensor.get("datatype"), binary[offset : offset + size])
        offset += size
    if offset != len(binary):
        raise InvalidInputError(
            f"the body holds {len(binary)} bytes of binary data after the JSON header, and "
            f"the inputs' binary_data_size add up to {offset}"
        )


def _decode(name: str, datatype: Any, raw: bytes) -> list[Any]:
    if datatype == "BYTES":
        values: list[Any] = []
        position = 0
        while position < len(raw):
            length = int.from_bytes(raw[position : position + 4], "little")
            start, position = position + 4, position + 4 + length
            if start > len(raw) or position > len(raw):
                raise InvalidInputError(
                    f"input {name!r}: a BYTES element's length runs past its binary data",
                    details={"input": name},
                )
            try:
                values.append(raw[start:position].decode("utf-8"))
            except UnicodeDecodeError:
                raise InvalidInputError(
                    f"input {name!r}: element {len(values)} is not UTF-8 text",
                    details={"input": name, "element": len(values)},
                ) from None
        return values
    dtype = _DTYPES.get(datatype) if isinstance(datatype, str) else None
    if dtype is None:
        raise InvalidInputError(
            f"input {name!r}: datatype {str(datatype)[:20]!r} cannot be read as binary data "
            f"(use one of {', '.join([*_DTYPES, 'BYTES'])})",
            details={"input": name},
        )
    itemsize = np.dtype(dtype).itemsize
    if len(raw) % itemsize:
        raise InvalidInputError(
            f"input {name!r}: {len(raw)} bytes is not a whole number of {datatype} values",
            details={"input": name},
        )
    return np.frombuffer(raw, dtype=dtype).tolist()  # type: ignore[no-any-return]


def _check_outputs(document: dict[str, Any]) -> None:
    outputs = document.get("outputs")
    if outputs is None:
        return
    if not isinstance(outputs, list):
        raise InvalidInputError("'outputs' must be a list of requested outputs")
    for index, output in enumerate(outputs):
        name = output.get("name") if isinstance(output, dict) else None
        if name not in _OUTPUTS:
            raise InvalidInputError(
                f"outputs[{index}]: unknown output {str(name)[:100]!r}: the outputs are "
                + ", ".join(_OUTPUTS),
                details={"output": index},
            )
        parameters = output.get("parameters") or {}
        if isinstance(parameters, dict) and parameters.get("classification"):
            raise InvalidInputError(
                f"output {name!r}: the classification extension is not supported; "
                "request probabilities",
                details={"output": name},
            )


def parse_kserve(document: dict[str, Any], names: list[str]) -> Table:
    """Read a decoded V2 inference request into a :class:`Table`.

    Raises:
        InvalidInputError: a malformed tensor (the message names it).
    """
    mapping: dict[str, list[Any]] = {}
    for index, tensor in enumerate(document["inputs"]):
        if not isinstance(tensor, dict) or not isinstance(tensor.get("name"), str):
            raise InvalidInputError(
                f"inputs[{index}] must be an object with a 'name'", details={"input": index}
            )
        data = tensor.get("data")
        if not isinstance(data, list):
            raise InvalidInputError(
                f"input {tensor['name']!r} needs a 'data' list", details={"input": tensor["name"]}
            )
        try:
            flat = _flatten(data)
        except RecursionError:
            raise InvalidInputError(f"input {tensor['name']!r} is nested too deeply") from None
        shape = tensor.get("shape")
        if (
            isinstance(shape, list)
            and shape
            and all(isinstance(s, int) for s in shape)
            and _elements(shape, len(flat)) != len(flat)
        ):
            raise InvalidInputError(
                f"input {tensor['name']!r}: shape {_shape_text(shape)} does not match "
                f"{len(flat)} values",
                details={"input": tensor["name"]},
            )
        mapping[tensor["name"]] = flat
    if not mapping:
        raise InvalidInputError("a V2 inference request needs at least one input")
    return from_json({"inputs": mapping}, names)


def _elements(shape: list[int], limit: int) -> int:
    """The number of values ``shape`` holds, or ``limit + 1`` once it is past ``limit``.

    Stopping early matters: a body of a few MB can hold a shape of a thousand
    4,000-digit sizes, whose full product took minutes with the event loop held.
    """
    if any(size < 0 for size in shape):
        return -1
    if 0 in shape:
        return 0
    expected = 1
    for size in shape:
        expected *= size
        if expected > limit:
            return limit + 1
    return expected


def _shape_text(shape: list[int]) -> str:
    """A shape for an error message, short however long or large the sent one is."""
    sizes = [str(s) if abs(s) < 10**15 else "<huge>" for s in shape[:8]]
    return "[" + ", ".join(sizes) + (", ...]" if len(shape) > 8 else "]")


def _flatten(data: list[Any]) -> list[Any]:
    if any(isinstance(v, list) for v in data):
        flat: list[Any] = []
        for value in data:
            flat.extend(_flatten(value) if isinstance(value, list) else [value])
        return flat
    return data


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def kserve_response(outcome: Outcome) -> dict[str, Any]:
    """The V2 inference response of a successful invocation, every output as JSON."""
    from modelyard.serving._variant import prediction_body

    assert outcome.prediction is not None and outcome.variant is not None
    body = prediction_body(outcome.prediction)
    outputs: list[dict[str, Any]] = []
    model = outcome.variant.model
    for spec in output_specs(model.task, model.classes):
        if spec.name == "predictions":
            values = body["predictions"]
            shape = [len(values)]
        elif "probabilities" in body:
            rows = body["probabilities"]
            values = [p for row in rows for p in row]
            shape = [len(rows), len(rows[0]) if rows else 0]
        else:
            continue
        data = [str(v) for v in values] if spec.datatype == "BYTES" else values
        outputs.append({"name": spec.name, "shape": shape, "datatype": spec.datatype, "data": data})
    return {
        "model_name": outcome.endpoint,
        "model_version": outcome.variant.model_ref,
        "id": outcome.request_id if outcome.inference_id is None else outcome.inference_id,
        "outputs": outputs,
    }


@dataclass(frozen=True)
class KServeAnswer:
    """A rendered V2 inference response.

    Attributes:
        document: the response as JSON (every output's data inline), for capture.
        header: the JSON part sent.
        binary: the binary outputs appended after it (empty: a plain JSON answer).
    """

    document: dict[str, Any]
    header: bytes
    binary: bytes


def kserve_answer(
    outcome: Outcome, request: dict[str, Any], dumps: Callable[[Any], bytes]
) -> KServeAnswer:
    """The response to ``request``: the outputs it asked for (all when it names
    none), binary where it asked, ``dumps`` writing the JSON.

    Raises:
        InvalidInputError: ``probabilities`` requested from a model that has none.
    """
    document = kserve_response(outcome)
    produced = {o["name"]: o for o in document["outputs"]}
    parameters = request.get("parameters")
    default = isinstance(parameters, dict) and parameters.get("binary_data_output") is True
    requested = request.get("outputs") or [{"name": name} for name in produced]
    sent: list[dict[str, Any]] = []
    chunks: list[bytes] = []
    for wanted in requested:
        output = produced.get(wanted["name"])
        if output is None:
            raise InvalidInputError(
                f"model {outcome.endpoint} has no output {wanted['name']!r}",
                details={"output": wanted["name"]},
            )
        if _binary(wanted, default):
            raw = _encode(output["datatype"], output["data"])
            chunks.append(raw)
            output = {k: v for k, v in output.items() if k != "data"}
            output["parameters"] = {"binary_data_size": len(raw)}
        sent.append(output)
    return KServeAnswer(
        {**document, "outputs": [produced[o["name"]] for o in requested]},
        dumps({**document, "outputs": sent}),
        b"".join(chunks),
    )


def _binary(requested: dict[str, Any], default: bool) -> bool:
    """Whether a requested output is answered in binary: its ``binary_data``
    parameter, else the request's ``binary_data_output``."""
    parameters = requested.get("parameters")
    flag = parameters.get("binary_data") if isinstance(parameters, dict) else None
    return default if flag is None else flag is True


def _encode(datatype: str, values: list[Any]) -> bytes:
    if datatype == "BYTES":
        parts = [str(v).encode("utf-8") for v in values]
        return b"".join(len(p).to_bytes(4, "little") + p for p in parts)
    return np.asarray(
        [np.nan if v is None else v for v in values], dtype=_DTYPES[datatype]
    ).tobytes()

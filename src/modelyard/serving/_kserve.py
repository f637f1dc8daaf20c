"""The Open Inference Protocol (KServe V2) request and response bodies.

A request names one tensor per input column::

    {"id": "42", "inputs": [{"name": "tenure_months", "shape": [2], "datatype": "FP64",
                             "data": [3, 40]}, ...]}

and the answer holds ``predictions`` (and ``probabilities``, shape ``[n, k]``,
row-major) as output tensors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modelyard.errors import InvalidInputError
from modelyard.serving._parse import Table, from_json, parse_json

if TYPE_CHECKING:
    from modelyard.serving._gateway import Outcome

__all__ = ["kserve_response", "parse_kserve", "read_kserve"]


def read_kserve(body: bytes) -> dict[str, Any]:
    """Decode a V2 inference request (its ``id`` is answered back).

    Raises:
        InvalidInputError: empty, not JSON, or no ``inputs`` list.
    """
    if not body.strip():
        raise InvalidInputError("the request body is empty: send a V2 inference request")
    document = parse_json(body)
    if not isinstance(document, dict) or not isinstance(document.get("inputs"), list):
        raise InvalidInputError("a V2 inference request is an object with an 'inputs' list")
    return document


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


def kserve_response(outcome: Outcome) -> dict[str, Any]:
    """The V2 inference response of a successful invocation."""
    from modelyard.serving._variant import prediction_body

    assert outcome.prediction is not None and outcome.variant is not None
    body = prediction_body(outcome.prediction)
    predictions = body["predictions"]
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in predictions)
    outputs: list[dict[str, Any]] = [
        {
            "name": "predictions",
            "shape": [len(predictions)],
            "datatype": "FP64" if numeric else "BYTES",
            "data": predictions if numeric else [str(v) for v in predictions],
        }
    ]
    if "probabilities" in body:
        rows = body["probabilities"]
        outputs.append(
            {
                "name": "probabilities",
                "shape": [len(rows), len(rows[0]) if rows else 0],
                "datatype": "FP64",
                "data": [p for row in rows for p in row],
            }
        )
    return {
        "model_name": outcome.endpoint,
        "model_version": outcome.variant.model_ref,
        "id": outcome.request_id if outcome.inference_id is None else outcome.inference_id,
        "outputs": outputs,
    }

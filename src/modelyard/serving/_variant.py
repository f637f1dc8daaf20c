"""A loaded variant: one model version ready to answer, with its in-flight count.

The gateway swaps whole endpoint states; a request holds the variant it chose
until it has answered, and a variant that left the configuration is released only
once its in-flight count is back to zero.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import numpy as np

from modelyard.serving._schema import Signature

if TYPE_CHECKING:
    from modelyard.registry import LoadedModel, Prediction
    from modelyard.serving._config import VariantConfig

__all__ = ["LoadedVariant", "prediction_body"]

_EXAMPLES = {"numeric": 0.0, "boolean": False, "datetime": "2020-01-01T00:00:00"}


class LoadedVariant:
    """One variant's model, signature and counters."""

    def __init__(self, config: VariantConfig, model: LoadedModel) -> None:
        self.config = config
        self.name = config.name
        self.model_ref = config.model
        self.model = model
        self.signature = Signature.from_manifest(model.manifest.to_dict())
        self.inflight = 0

    def predict(self, columns: dict[str, list[Any]]) -> Prediction:
        """Predict for checked columns (no DataFrame on the ONNX flavor)."""
        return self.model.predict_columns(columns)

    def warm(self) -> None:
        """Answer one example row, then the same row as a large input, so no real
        request pays first-call costs: an ONNX model builds the session it runs
        large inputs on (a thread per core) the first time one arrives, which for a
        big forest takes seconds, and requests of up to the gateway's
        ``_THREAD_ROWS`` rows run on the event loop."""
        from modelyard.registry import PARALLEL_ROWS

        example: dict[str, list[Any]] = {}
        for field in self.signature.fields:
            if field.kind == "categorical":
                example[field.name] = [field.categories[0] if field.categories else "x"]
            else:
                example[field.name] = [_EXAMPLES.get(field.kind, 0.0)]
        self.predict(example)
        self.predict({name: values * PARALLEL_ROWS for name, values in example.items()})

    async def drained(self, poll: float = 0.05) -> None:
        """Wait until no request uses this variant any more."""
        while self.inflight > 0:
            await asyncio.sleep(poll)


def prediction_body(prediction: Prediction) -> dict[str, Any]:
    """The prediction part of a response: labels or values, probabilities, classes."""
    body: dict[str, Any] = {"predictions": _plain(prediction.predictions)}
    if prediction.probabilities is not None:
        body["probabilities"] = np.asarray(prediction.probabilities).round(7).tolist()
        body["classes"] = _plain([] if prediction.classes is None else prediction.classes)
    return body


def _plain(values: Any) -> list[Any]:
    """Python values: ``tolist`` gives them for a typed array; an object array or a
    list may hold numpy scalars."""
    if isinstance(values, np.ndarray):
        if values.dtype != object:
            return values.tolist()  # type: ignore[no-any-return]
        values = values.tolist()
    return [v.item() if isinstance(v, np.generic) else v for v in values]

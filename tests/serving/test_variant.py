"""A variant is warmed for both sizes of request before it takes traffic."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from modelyard.registry import PARALLEL_ROWS
from modelyard.serving._config import VariantConfig
from modelyard.serving._variant import LoadedVariant
from modelyard.workspace import Workspace


def test_warming_builds_the_large_input_session_before_any_request(
    churn_workspace: Path,
) -> None:
    with Workspace.open(churn_workspace) as ws:
        model = ws.models.load("churn:2")
    assert model.flavor == "onnx"
    variant = LoadedVariant(VariantConfig(name="a", model="churn:2"), model)
    assert model._engine._parallel is None  # nothing large answered yet
    variant.warm()
    assert model._engine._parallel is not None  # built in the loader, not on a request

    # and both sessions give the same answers
    rows = {
        field.name: [field.categories[0] if field.categories else 1.0]
        for field in variant.signature.fields
        if field.kind in ("categorical", "numeric")
    }
    rows.update(
        {f.name: [True] for f in variant.signature.fields if f.kind == "boolean"}
        | {
            f.name: ["2021-03-04T05:06:07"]
            for f in variant.signature.fields
            if f.kind == "datetime"
        }
    )
    one = variant.predict(rows).probabilities
    many = variant.predict({name: values * PARALLEL_ROWS for name, values in rows.items()})
    np.testing.assert_allclose(many.probabilities, np.repeat(one, PARALLEL_ROWS, axis=0), atol=1e-6)

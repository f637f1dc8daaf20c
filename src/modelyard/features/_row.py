"""One row through the recipe: the recipe itself, on columns of one value.

The hand-written one-row copy of the transform is gone (issue 15): a request's row
runs the same steps as a batch. This name stays only for the registry's loader,
until it calls :meth:`~modelyard.features.FittedRecipe.transform` itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy.typing as npt

__all__ = ["row_matrix"]


def row_matrix(recipe: Any, columns: Mapping[str, Any] | Any) -> npt.NDArray[Any]:
    """The model input matrix of ``columns`` (a fitted ``FeatureRecipe``'s)."""
    matrix: npt.NDArray[Any] = recipe.fitted_.transform(columns)
    return matrix

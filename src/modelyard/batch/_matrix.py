"""Interim name for the batch scorer: the fitted recipe's matrix of checked rows.

The Arrow copy of the recipe that lived here is gone (issue 15): a batch runs
:meth:`modelyard.features.FittedRecipe.apply`, the same steps as training and
serving. This class stays only until the scorer calls that itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy.typing as npt

from modelyard.features import FittedRecipe

__all__ = ["RecipeMatrix"]


class RecipeMatrix:
    """A fitted recipe (``FittedRecipe.to_dict()`` output) applied to checked rows."""

    def __init__(self, recipe: Mapping[str, Any]) -> None:
        self._recipe = FittedRecipe.from_dict(recipe)

    def build(
        self, numbers: Mapping[str, npt.NDArray[Any]], categories: Mapping[str, npt.NDArray[Any]]
    ) -> npt.NDArray[Any]:
        """The model's input matrix for adapted columns."""
        return self._recipe.apply({**numbers, **categories})

"""Prepare: preprocessing chosen from a schema or written by the user (a
:class:`Recipe`, YAML or SDK objects), replayed identically at inference.

Each step is declared once (:mod:`modelyard.features._steps`); values are read by
one set of rules (:mod:`modelyard.features._read`), which the gateway's request
check and the batch row check share (:mod:`modelyard.features._check`). Reading,
checking and applying a fitted recipe need only numpy; the names that fit one
(scikit-learn) are imported on first use (PEP 562), so a batch worker or the
gateway loading a model does not pay for scikit-learn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelyard._lazy import lazy_names
from modelyard.features._adapter import (
    DATETIME_PARTS,
    FALSE_WORDS,
    MISSING_CATEGORY,
    TRUE_WORDS,
    AdaptedColumn,
    InputAdapter,
)
from modelyard.features._check import ColumnCheck, InputField, check_column, check_value
from modelyard.features._fitted import FittedRecipe
from modelyard.features._steps import (
    FitData,
    Impute,
    MissingFlag,
    OneHot,
    Ordinal,
    RecipeOptions,
    Step,
    TargetMean,
)
from modelyard.features._suggest import Preview, SuggestedRecipe, preview_recipe, suggest_recipe
from modelyard.features._user import Recipe, RecipeStep

if TYPE_CHECKING:
    from modelyard.features._preprocess import PreprocessOptions, build_pipeline, make_adapter
    from modelyard.features._recipe import FeatureRecipe

_EXPORTS = {
    "FeatureRecipe": "modelyard.features._recipe",
    "PreprocessOptions": "modelyard.features._preprocess",
    "build_pipeline": "modelyard.features._preprocess",
    "make_adapter": "modelyard.features._preprocess",
}

__all__ = [
    "DATETIME_PARTS",
    "FALSE_WORDS",
    "MISSING_CATEGORY",
    "TRUE_WORDS",
    "AdaptedColumn",
    "ColumnCheck",
    "FeatureRecipe",
    "FitData",
    "FittedRecipe",
    "Impute",
    "InputAdapter",
    "InputField",
    "MissingFlag",
    "OneHot",
    "Ordinal",
    "PreprocessOptions",
    "Preview",
    "Recipe",
    "RecipeOptions",
    "RecipeStep",
    "Step",
    "SuggestedRecipe",
    "TargetMean",
    "build_pipeline",
    "check_column",
    "check_value",
    "make_adapter",
    "preview_recipe",
    "suggest_recipe",
]

__getattr__, __dir__ = lazy_names(__name__, globals(), _EXPORTS, __all__)

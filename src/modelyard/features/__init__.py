"""Prepare: preprocessing chosen from a schema, replayed identically at inference."""

from modelyard.features._adapter import (
    DATETIME_PARTS,
    FALSE_WORDS,
    MISSING_CATEGORY,
    TRUE_WORDS,
    AdaptedColumn,
    InputAdapter,
)
from modelyard.features._preprocess import PreprocessOptions, build_pipeline, make_adapter
from modelyard.features._recipe import FeatureRecipe

__all__ = [
    "DATETIME_PARTS",
    "FALSE_WORDS",
    "MISSING_CATEGORY",
    "TRUE_WORDS",
    "AdaptedColumn",
    "FeatureRecipe",
    "InputAdapter",
    "PreprocessOptions",
    "build_pipeline",
    "make_adapter",
]

"""Prepare: preprocessing chosen from a schema, replayed identically at inference."""

from modelyard.features._adapter import (
    DATETIME_PARTS,
    MISSING_CATEGORY,
    AdaptedColumn,
    InputAdapter,
)
from modelyard.features._preprocess import PreprocessOptions, build_pipeline, make_adapter
from modelyard.features._recipe import FeatureRecipe

__all__ = [
    "DATETIME_PARTS",
    "MISSING_CATEGORY",
    "AdaptedColumn",
    "FeatureRecipe",
    "InputAdapter",
    "PreprocessOptions",
    "build_pipeline",
    "make_adapter",
]

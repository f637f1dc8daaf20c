"""Preprocessing chosen from a dataset's schema, as a scikit-learn Pipeline.

The pipeline is ``FeatureRecipe → estimator`` (see ``_recipe.py`` for the steps
and why they are not a ColumnTransformer). Identifier, ignored, text and constant
columns are dropped; the user can override each choice with :class:`PreprocessOptions`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from modelyard.data import ColumnSchema, LogicalType, Role
from modelyard.errors import InvalidInputError
from modelyard.features._adapter import InputAdapter
from modelyard.features._recipe import FeatureRecipe
from modelyard.features._user import Recipe

__all__ = ["PreprocessOptions", "build_pipeline", "make_adapter"]


@dataclass(frozen=True)
class PreprocessOptions:
    """The user's preprocessing choices; ``None`` means "decide from the algorithm".

    Attributes:
        numeric_imputation: ``median`` or ``mean``.
        missing_indicators: add a 0/1 column per numeric column that had missing values.
        scale: standardise numeric columns (default: when the algorithm needs it).
        one_hot_max_categories: above this many levels a categorical is not one-hot.
        high_cardinality: ``ordinal`` or ``target`` for the others (default: target
            encoding for models that need scaling, ordinal codes for trees).
        drop_columns: feature columns to leave out.
        recipe: the user's feature recipe (:class:`~modelyard.features.Recipe`):
            its steps decide the columns read and their features; the other
            options apply to the columns it leaves unencoded.
    """

    numeric_imputation: str = "median"
    missing_indicators: bool = True
    scale: bool | None = None
    one_hot_max_categories: int = 20
    high_cardinality: str | None = None
    drop_columns: tuple[str, ...] = ()
    recipe: Recipe | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (recorded with the run)."""
        data = asdict(replace(self, recipe=None))
        if self.recipe is not None:
            data["recipe"] = self.recipe.to_dict()
        else:
            del data["recipe"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PreprocessOptions:
        """Inverse of :meth:`to_dict`."""
        values = dict(data)
        values["drop_columns"] = tuple(values.get("drop_columns", ()))
        if values.get("recipe") is not None:
            values["recipe"] = Recipe.from_dict(values["recipe"])
        return cls(**values)


def make_adapter(columns: list[ColumnSchema], options: PreprocessOptions) -> InputAdapter:
    """The input adapter for the feature columns of a schema."""
    dropped = set(options.drop_columns)
    features = [
        c
        for c in columns
        if c.role is Role.FEATURE and c.name not in dropped and not _is_constant(c)
    ]

    def of(*types: LogicalType) -> tuple[str, ...]:
        return tuple(c.name for c in features if c.logical_type in types)

    adapter = InputAdapter(
        numeric=of(LogicalType.NUMERIC, LogicalType.INTEGER),
        boolean=of(LogicalType.BOOLEAN),
        categorical=of(LogicalType.CATEGORICAL),
        datetime=of(LogicalType.DATETIME),
    )
    if not adapter.raw_columns:
        raise InvalidInputError(
            "no usable feature columns: every column is the target, an identifier, text or ignored",
            details={"columns": [c.name for c in columns]},
        )
    return adapter


def _is_constant(column: ColumnSchema) -> bool:
    """One value and never missing: it carries no signal, and callers should not
    have to send it (SageMaker Autopilot and scikit-learn's VarianceThreshold drop
    such columns too)."""
    return column.distinct_count <= 1 and column.missing_share == 0


def build_pipeline(
    columns: list[ColumnSchema],
    estimator: Any,
    *,
    needs_scaling: bool,
    options: PreprocessOptions | None = None,
) -> Any:
    """The full pipeline (feature recipe, then estimator) for a schema.

    Args:
        columns: the dataset version's columns (roles decide what is used).
        estimator: an unfitted scikit-learn compatible estimator.
        needs_scaling: standardise numerics unless the options say otherwise
            (linear, distance and kernel models); tree models get ordinal codes for
            high-cardinality categoricals, the others smoothed target means.
        options: the user's preprocessing choices.
    """
    from sklearn.pipeline import Pipeline

    options = options or PreprocessOptions()
    if options.recipe is not None:
        kept = [c for c in columns if c.name not in set(options.drop_columns)]
        adapter = options.recipe.plan(kept)
    else:
        adapter = make_adapter(columns, options)
    recipe = FeatureRecipe(
        adapter=adapter,
        numeric_imputation=options.numeric_imputation,
        missing_indicators=options.missing_indicators,
        scale=needs_scaling if options.scale is None else options.scale,
        one_hot_max_categories=options.one_hot_max_categories,
        high_cardinality=options.high_cardinality or ("target" if needs_scaling else "ordinal"),
        recipe=options.recipe,
    )
    return Pipeline([("recipe", recipe), ("model", estimator)])

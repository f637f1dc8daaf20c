"""The recipe as a scikit-learn transformer: fits the steps, then is plain data.

:class:`FeatureRecipe` learns, from the training rows only, the few numbers the
preprocessing steps need (:mod:`modelyard.features._steps`) and keeps them as a
:class:`~modelyard.features.FittedRecipe`, which the model package stores as JSON
and every prediction path replays. The default steps, chosen from the column
kinds:

- numeric, integer, boolean (0/1) and datetime parts: missing values filled with
  the training median (or mean), standardised when ``scale`` is on; a 0/1
  missing indicator for columns that had missing values in training;
- categorical with at most ``one_hot_max_categories`` levels (missing is a
  level): one 0/1 column per training level, an unseen level gives all zeros;
- categorical with more levels: ``ordinal`` codes (unseen: -1), or ``target``
  means with smoothing (unseen: the overall mean), chosen by ``high_cardinality``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.base import BaseEstimator, TransformerMixin

from modelyard.errors import InvalidInputError
from modelyard.features._adapter import InputAdapter
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
from modelyard.features._user import Recipe

__all__ = ["FeatureRecipe"]


class FeatureRecipe(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Preprocessing as fitted data (scikit-learn transformer contract).

    Args:
        adapter: which raw columns are numeric, boolean, categorical, datetime.
        numeric_imputation: ``median`` or ``mean``.
        missing_indicators: add 0/1 columns for numerics that had missing values.
        scale: standardise numeric columns.
        one_hot_max_categories: the most levels a categorical may have for one-hot.
        high_cardinality: ``ordinal`` or ``target`` for categoricals with more levels.
        output_dtype: ``float32`` (what models are trained and served on) or ``float64``.
        recipe: the user's steps (:class:`~modelyard.features.Recipe`), fitted before
            the default steps of the columns it leaves unencoded.
    """

    def __init__(
        self,
        adapter: InputAdapter | None = None,
        numeric_imputation: str = "median",
        missing_indicators: bool = True,
        scale: bool = False,
        one_hot_max_categories: int = 20,
        high_cardinality: str = "ordinal",
        output_dtype: str = "float32",
        recipe: Recipe | None = None,
    ) -> None:
        self.adapter = adapter
        self.numeric_imputation = numeric_imputation
        self.missing_indicators = missing_indicators
        self.scale = scale
        self.one_hot_max_categories = one_hot_max_categories
        self.high_cardinality = high_cardinality
        self.output_dtype = output_dtype
        self.recipe = recipe

    def fit(self, X: Any, y: Any = None) -> FeatureRecipe:
        """Learn the steps' numbers from training rows."""
        if self.adapter is None:
            raise InvalidInputError("a FeatureRecipe needs an InputAdapter")
        if self.numeric_imputation not in ("median", "mean"):
            raise InvalidInputError(
                f"unknown numeric imputation {self.numeric_imputation!r}: use median or mean"
            )
        if self.high_cardinality not in ("ordinal", "target"):
            raise InvalidInputError(
                f"unknown high-cardinality encoding {self.high_cardinality!r}: "
                "use ordinal or target"
            )
        options = RecipeOptions(
            numeric_imputation=self.numeric_imputation,
            missing_indicators=self.missing_indicators,
            scale=self.scale,
            one_hot_max_categories=self.one_hot_max_categories,
            high_cardinality=self.high_cardinality,
        )
        adapted = self.adapter.adapt(X)
        wants_target = self.high_cardinality == "target" or self.recipe is not None
        target = _target_values(y) if wants_target else None
        if self.recipe is not None:
            steps = self.recipe.fit(self.adapter, adapted, target, options)
        else:
            steps = default_steps(self.adapter, adapted, target, options)
        self.fitted_ = FittedRecipe(self.adapter, steps, self.output_dtype)
        self.feature_names_out_ = list(self.fitted_.feature_names)
        self.n_features_in_ = len(self.adapter.raw_columns)
        return self

    def __setstate__(self, state: dict[str, Any]) -> None:
        # a recipe pickled before user recipes existed has no ``recipe`` parameter
        state = {"recipe": None, **state}
        # a recipe pickled in a pipeline before steps existed: its per-kind specs
        if "fitted_" not in state and "numeric_" in state:
            state = dict(state)
            state["fitted_"] = FittedRecipe.from_dict(
                {
                    "adapter": state["adapter"].to_dict(),
                    "numeric": state["numeric_"],
                    "categorical": state["categorical_"],
                    "output_dtype": state.get("output_dtype", "float32"),
                }
            )
        super().__setstate__(state)

    def transform(self, X: Any) -> npt.NDArray[Any]:
        """Apply the recipe to a DataFrame (or a mapping of column arrays)."""
        return self.fitted_.transform(X)

    def apply(self, adapted: dict[str, npt.NDArray[Any]]) -> npt.NDArray[Any]:
        """Apply the recipe to adapted columns; returns the model's input matrix."""
        return self.fitted_.apply(adapted)

    @property
    def steps_(self) -> list[Step]:
        """The fitted steps."""
        return self.fitted_.steps

    def feature_sources(self) -> list[str]:
        """The raw input column each output feature comes from, in feature order."""
        return self.fitted_.feature_sources()

    def category_levels(self) -> dict[str, list[str]]:
        """The training levels of each categorical column."""
        return self.fitted_.category_levels()

    def get_feature_names_out(self, input_features: Any = None) -> npt.NDArray[np.object_]:
        """Names of the model's input columns (after encoding)."""
        return np.asarray(self.feature_names_out_, dtype=object)

    def to_dict(self) -> dict[str, Any]:
        """The fitted recipe as JSON-ready data (stored in the model manifest)."""
        return self.fitted_.to_dict()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureRecipe:
        """A fitted recipe from :meth:`to_dict` output (no pickle involved)."""
        fitted = FittedRecipe.from_dict(data)
        recipe = cls(adapter=fitted.adapter, output_dtype=fitted.output_dtype)
        recipe.fitted_ = fitted
        recipe.feature_names_out_ = list(fitted.feature_names)
        recipe.n_features_in_ = len(fitted.adapter.raw_columns)
        return recipe


def default_steps(
    adapter: InputAdapter,
    adapted: dict[str, npt.NDArray[Any]],
    target: npt.NDArray[np.float64] | None,
    options: RecipeOptions,
) -> list[Step]:
    """The schema-driven steps, fitted: numbers, their missing flags, then one
    encoding per categorical column."""
    data = FitData(adapted, target, options)
    numeric = tuple(c.name for c in adapter.output_columns() if c.kind == "numeric")
    steps: list[Step] = [Impute.fit(numeric, data), MissingFlag.fit(numeric, data)]
    for name in adapter.categorical:
        n_levels = len(set(adapted[name].tolist()))
        if n_levels <= options.one_hot_max_categories:
            kind: type[Step] = OneHot
        elif target is None:
            kind = Ordinal
        else:
            kind = TargetMean
        steps.append(kind.fit((name,), data))
    return steps


def _target_values(y: Any) -> npt.NDArray[np.float64] | None:
    if y is None:
        return None
    values = np.asarray(y)
    if values.dtype.kind in "biuf":
        return values.astype(np.float64)
    # a binary label given as strings: the second sorted label is the positive one
    texts = values.astype(str)
    positive: npt.NDArray[np.float64] = (texts == np.unique(texts)[-1]).astype(np.float64)
    return positive

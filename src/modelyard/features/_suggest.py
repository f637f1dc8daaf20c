"""``features suggest`` and ``features preview``: a first recipe, and what a recipe does.

:func:`suggest_recipe` turns a dataset version's profile warnings (identifier-like,
skewed, high missing share, personal data, outliers...) into recipe steps, each
with the warning that motivated it as a YAML comment; without the ``profiling``
extra it reads the version's schema instead. Every suggested step is checked
with the recipe's own check (:meth:`Recipe.plan`), so the printed recipe trains
as it is; a suggestion the recipe language cannot express is kept as a comment.

:func:`preview_recipe` fits a recipe on the version's training rows and shows
the first rows before and after, with the output columns and where each comes
from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from modelyard.errors import InvalidInputError, MissingDependencyError
from modelyard.features._user import Recipe, RecipeStep

if TYPE_CHECKING:
    import pandas as pd

    from modelyard.data import DatasetStore, DatasetVersion

__all__ = ["Preview", "SuggestedRecipe", "preview_recipe", "suggest_recipe"]

_HIGH_MISSING = 0.3


@dataclass
class SuggestedRecipe:
    """A suggested recipe: its steps, and one reason per step (``None``: a
    suggestion kept as a comment only, in ``notes``)."""

    recipe: Recipe
    reasons: list[str]
    notes: list[str] = field(default_factory=list)
    source: str = "profile"

    def to_yaml(self) -> str:
        """The recipe as YAML, each step under a comment saying why."""
        import yaml

        lines = [f"# suggested from the {self.source} of the dataset"]
        lines += [f"# not expressible as a step: {note}" for note in self.notes]
        lines.append("steps:")
        for step, reason in zip(self.recipe.steps, self.reasons, strict=True):
            lines.append(f"  # {reason}")
            dumped = yaml.safe_dump([step.to_dict()], default_flow_style=None, sort_keys=False)
            lines += [f"  {line}" for line in dumped.strip().splitlines()]
        if not self.recipe.steps:
            lines[-1] = "steps: []"
        return "\n".join(lines) + "\n"


def suggest_recipe(datasets: DatasetStore, ref: str) -> SuggestedRecipe:
    """Suggest a recipe for a dataset version (see the module docstring).

    Raises:
        NotFoundError: no such version.
    """
    version = datasets.get(ref)
    try:
        warnings = datasets.profile(version).warnings
    except MissingDependencyError:
        return _checked(version, _from_schema(version), "schema")
    candidates: list[tuple[RecipeStep | None, str]] = []
    for warning in warnings:
        step = _step_of(warning.suggestion, version)
        reason = f"{warning.kind}: {warning.message}"
        candidates.append((step, reason))
    candidates += [
        (s, r)
        for s, r in _from_schema(version)
        if s is not None and s.kind in ("text", "date_parts")
    ]
    return _checked(version, candidates, "profile")


def _step_of(suggestion: dict[str, Any], version: DatasetVersion) -> RecipeStep | None:
    kind, columns = suggestion.get("step"), list(suggestion.get("columns") or [])
    if not columns:
        return None
    column = columns[0]
    if kind in ("drop", "hash"):  # no hashing step: an identifier-like column is dropped
        return RecipeStep("drop", columns)
    if kind == "impute":
        strategy = "median" if suggestion.get("strategy") == "median" else "mode"
        return RecipeStep("impute", {"column": column, "strategy": strategy})
    if kind == "log1p":
        return RecipeStep("log1p", columns)
    if kind == "clip":
        bounds = {"min": suggestion.get("lower"), "max": suggestion.get("upper")}
        return RecipeStep(
            "clip", {"column": column, **{k: v for k, v in bounds.items() if v is not None}}
        )
    if kind == "to_numeric":
        return RecipeStep("cast", {"column": column, "to": "numeric"})
    return None


def _from_schema(version: DatasetVersion) -> list[tuple[RecipeStep | None, str]]:
    from modelyard.data import LogicalType, Role

    out: list[tuple[RecipeStep | None, str]] = []
    for column in version.columns:
        if column.role is Role.TARGET:
            continue
        name, kind = column.name, column.logical_type
        if kind is LogicalType.IDENTIFIER or column.role is Role.IDENTIFIER:
            out.append((RecipeStep("drop", [name]), f"identifier: {name} names rows"))
        elif kind is LogicalType.TEXT:
            step = RecipeStep(
                "text", {"column": name, "method": "tfidf", "max_features": 2000, "ngrams": [1, 2]}
            )
            out.append((step, f"text: {name} is free text, read as TF-IDF word features"))
        elif kind is LogicalType.DATETIME:
            step = RecipeStep(
                "date_parts",
                {"column": name, "parts": ["year", "month", "weekday"], "days_since": True},
            )
            out.append((step, f"datetime: {name} as calendar parts and days since the latest"))
        elif column.missing_share >= _HIGH_MISSING:
            strategy = "median" if kind in (LogicalType.NUMERIC, LogicalType.INTEGER) else "mode"
            share = f"{column.missing_share:.0%}"
            step = RecipeStep("impute", {"column": name, "strategy": strategy})
            out.append((step, f"high_missing: {share} of {name} is missing"))
    return out


def _checked(
    version: DatasetVersion, candidates: list[tuple[RecipeStep | None, str]], source: str
) -> SuggestedRecipe:
    """Keep each step the recipe's own check accepts after the ones before it."""
    steps: list[RecipeStep] = []
    reasons: list[str] = []
    notes: list[str] = []
    for step, reason in candidates:
        if step is None:
            notes.append(reason)
            continue
        if step in steps:
            continue
        try:
            Recipe([*steps, step]).plan(version.columns)
        except InvalidInputError:
            notes.append(reason)
            continue
        steps.append(step)
        reasons.append(reason)
    return SuggestedRecipe(Recipe(steps), reasons, notes, source)


@dataclass
class Preview:
    """A recipe applied to a few rows: the rows before, the features after, and
    each output column's source column and step."""

    before: pd.DataFrame
    after: pd.DataFrame
    outputs: list[tuple[str, str, str]]


def preview_recipe(datasets: DatasetStore, recipe: Recipe, ref: str, n_rows: int = 10) -> Preview:
    """Fit ``recipe`` on a version's training rows (all rows when it has no splits)
    and apply it to its first ``n_rows`` rows.

    Raises:
        NotFoundError: no such version.
        InvalidInputError: the recipe does not fit the version (naming the step).
    """
    import numpy as np
    import pandas as pd

    from modelyard.data._splits import SPLIT_CODES
    from modelyard.features._preprocess import PreprocessOptions, build_pipeline

    if n_rows < 1:
        raise InvalidInputError("-n must be at least 1")
    version = datasets.get(ref)
    frame = datasets.read(version).to_pandas()
    codes = datasets.split_codes(version)
    train = frame[codes == SPLIT_CODES["train"]] if codes is not None else frame
    target = version.target
    y = None
    if target is not None:
        labelled = train[target].notna()
        train = train[labelled]
        y = train[target].to_numpy()
    keep = recipe.training_rows(train)
    train = train[keep]
    y = y[keep] if y is not None else None
    options = PreprocessOptions(recipe=recipe)
    pipeline = build_pipeline(version.columns, None, needs_scaling=False, options=options)
    features = pipeline[0].fit(train, y)
    fitted = features.fitted_
    before = frame.head(n_rows)[fitted.adapter.raw_columns].reset_index(drop=True)
    matrix = fitted.transform(before)
    after = pd.DataFrame(np.asarray(matrix), columns=fitted.feature_names)
    kinds = [step.kind for step in fitted.steps for _ in range(step.width)]
    outputs = list(zip(fitted.feature_names, fitted.feature_sources(), kinds, strict=True))
    return Preview(before, after, outputs)

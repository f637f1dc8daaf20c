"""The demo's recipe stage: churn trained with a feature recipe written as YAML
(shown before and after on a few rows, as ``modelyard features preview`` shows
it), and a review-sentiment model on generated text through a TF-IDF step.

Each step is the SDK call a command makes: ``features preview`` is
:func:`~modelyard.features.preview_recipe`, ``train --recipe`` is
:func:`~modelyard.training.train` with the recipe in its preprocessing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modelyard.cli._render import console, table

if TYPE_CHECKING:
    from modelyard.cli._demo import _Tour
    from modelyard.features import Recipe
    from modelyard.training import TrainingResult, TrainingSpec

__all__ = ["recipe_stage"]

_CHURN_RECIPE = """\
steps:
  - drop: [customer_id]
  - log1p: [total_charges]
  - ratio: {name: charge_per_month, numerator: total_charges, denominator: tenure_months}
  - date_parts: {column: signup_date, parts: [month, weekday], days_since: true}
  - bucket: {column: tenure_months, quantiles: 4}
  - filter: "tenure_months >= 0"   # training rows only; never applied to a request
"""
_REVIEWS_RECIPE = """\
steps:
  - text: {column: review, method: tfidf, max_features: 2000, ngrams: [1, 2]}
"""
_SHOWN_BEFORE = ["signup_date", "tenure_months", "total_charges"]
_SHOWN_AFTER = [
    "signup_date__month",
    "signup_date__dayofweek",
    "signup_date__days_since",
    "tenure_months__bucket",
    "total_charges",
    "charge_per_month",
]
_REVIEWS = 2000
_TREES = 40


def recipe_stage(tour: _Tour) -> None:
    """Write features.yaml, preview it, train churn with it; then reviews on TF-IDF."""
    from modelyard import datasets
    from modelyard.data import IngestOptions
    from modelyard.features import PreprocessOptions, Recipe, preview_recipe
    from modelyard.training import TrainingSpec

    path = tour.scratch / "features.yaml"
    path.write_text(_CHURN_RECIPE, encoding="utf-8")
    recipe = Recipe.from_file(path)
    kinds = ", ".join(step.kind for step in recipe.steps)
    console.print(f"wrote {path}: {len(recipe.steps)} steps ({kinds})")
    console.print(_CHURN_RECIPE.rstrip(), markup=False, highlight=False)
    shown = preview_recipe(tour.workspace.datasets, recipe, tour.facts["churn"], n_rows=3)
    before = shown.before[_SHOWN_BEFORE].astype(object)
    console.print(table("Before (3 rows)", _SHOWN_BEFORE, before.values.tolist()))
    after = shown.after[_SHOWN_AFTER].round(3)
    console.print(table("After: features the model reads", _SHOWN_AFTER, after.values.tolist()))
    console.print(f"{len(shown.outputs)} output columns in all (the rest: the default encodings)")
    churn = _train(
        tour,
        TrainingSpec(
            dataset=tour.facts["churn"],
            algorithm="xgboost",
            params={"n_estimators": _TREES},
            model_name="churn-recipe",
            preprocessing=PreprocessOptions(recipe=recipe),
        ),
    )

    reviews_csv = tour.scratch / "reviews.csv"
    datasets.reviews(_REVIEWS, seed=7).to_csv(reviews_csv, index=False)
    version, _ = tour.workspace.datasets.ingest(
        reviews_csv, "reviews", IngestOptions(target="positive")
    )
    text_recipe = tour.scratch / "reviews.yaml"
    text_recipe.write_text(_REVIEWS_RECIPE, encoding="utf-8")
    console.print(f"generated {_REVIEWS:,} movie reviews → {version.ref}; recipe {text_recipe}")
    reviews = _train(
        tour,
        TrainingSpec(
            dataset=version.ref,
            algorithm="linear",  # on sparse TF-IDF columns, never densified
            preprocessing=PreprocessOptions(recipe=Recipe.from_file(text_recipe)),
        ),
    )
    console.print(
        table(
            "Trained with a recipe, evaluated on the held-out test split",
            ["model", "algorithm", "recipe steps", "test roc_auc", "ONNX flavor"],
            [_row(churn, recipe), _row(reviews, Recipe.from_file(text_recipe))],
        )
    )
    assert churn.model is not None and reviews.model is not None
    console.print(
        "each fitted recipe is JSON in its model package, replayed by serving and batch; "
        f"its steps: modelyard model show {churn.model.ref}"
    )
    tour.facts["model:churn-recipe"] = churn.model.ref
    tour.facts["model:reviews"] = reviews.model.ref


def _train(tour: _Tour, spec: TrainingSpec) -> TrainingResult:
    from modelyard.training import train

    with console.status(f"training {spec.algorithm} on {spec.dataset} with a recipe…") as status:
        return train(tour.workspace, spec, progress=lambda m: status.update(f"{m}…"))


def _row(result: TrainingResult, recipe: Recipe) -> list[Any]:
    model = result.model
    assert model is not None
    onnx = result.onnx
    return [
        model.ref,
        model.algorithm,
        len(recipe.steps),
        f"{result.evaluation.metrics['roc_auc']:.3f}",
        f"yes (max diff {onnx.max_difference:.1g})" if onnx.model else "no",
    ]

"""The rows a search learns from: one dataset version's labelled train + validation rows.

The search never sees the test split: it is kept for the final training job's
evaluation, so the score a registered model reports was not used to choose it.
Input checks (target, task, classes, the feature recipe) are the training job's
own, so a dataset the search accepts is one the final fit accepts too. A recipe's
training-only row filters and de-duplication apply to each split's rows as in the
training job; its steps are fitted per fold, on that fold's training rows only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from modelyard.errors import InvalidInputError

if TYPE_CHECKING:
    from modelyard.data import ColumnSchema
    from modelyard.features import Recipe
    from modelyard.training import Task, TrainingInputs
    from modelyard.workspace import Workspace

__all__ = ["Problem", "load_problem"]

_MIN_ROWS = 20


@dataclass(frozen=True)
class Problem:
    """What every fold of a search needs (picklable: it travels to workers).

    Attributes:
        dataset: the version's ``name:version``.
        target: the target column.
        task: binary, multiclass or regression.
        columns: the version's schema, the target marked as such (the recipe reads it).
        X: the feature rows (a sample when the data is larger than asked).
        y: encoded targets (class indices, or floats for regression).
        time_ordered: the split is ordered by time, so folds must be too.
        rows_total: labelled train + validation rows before sampling (after the
            recipe's training-only row filters).
        recipe: the user's feature recipe, fitted in every fold (``None``: the
            schema-driven preprocessing alone).
    """

    dataset: str
    target: str
    task: Task
    columns: list[ColumnSchema]
    X: pd.DataFrame
    y: npt.NDArray[Any]
    time_ordered: bool
    rows_total: int
    recipe: Recipe | None = None


def load_problem(
    workspace: Workspace,
    dataset: str,
    *,
    target: str | None = None,
    task: str | None = None,
    sample: int | None = None,
    seed: int = 0,
    recipe: Recipe | None = None,
) -> Problem:
    """The checked search rows of ``dataset`` (at most ``sample`` of them).

    A sample keeps the class shares (stratified) or, for a time-ordered split, the
    most recent rows in order. ``recipe`` is checked against the dataset's columns
    before any row is read, and its training-only row filters drop rows here.

    Raises:
        NotFoundError: no such dataset.
        InvalidInputError: what the training job would refuse (a bad recipe step
            among it), ``sample`` below 20, or a recipe filtering out almost every row.
    """
    from modelyard.features import PreprocessOptions
    from modelyard.training import TrainingSpec, check_inputs, label_encoding, load_splits

    if sample is not None and sample < 20:
        raise InvalidInputError(f"--sample {sample} is too small: use at least 20 rows")
    # "linear" supports every task: the check is about the data, not the algorithm
    spec = TrainingSpec(
        dataset,
        target=target,
        algorithm="linear",
        task=task,
        preprocessing=PreprocessOptions(recipe=recipe),
    )
    problem = check_inputs(workspace, spec)
    frames = load_splits(workspace, problem)
    searched = ("train", "validation")
    kept = {s: _training_rows(recipe, frames[s]) for s in searched}
    rows = pd.concat([frames[s][kept[s]] for s in searched], ignore_index=True)
    if len(rows) < _MIN_ROWS:
        raise InvalidInputError(
            f"the recipe's row filters leave {len(rows)} of the "
            f"{sum(len(frames[s]) for s in searched)} training and validation rows of "
            f"{problem.version.ref}: at least {_MIN_ROWS} are needed to search"
        )
    ordered_by = (problem.version.split_spec or {}).get("time_column")
    if ordered_by is not None:
        order = _time_order(workspace, problem, ordered_by, kept)
        rows = rows.iloc[order].reset_index(drop=True)
    total = len(rows)
    if sample is not None and total > sample:
        rows = _sample(rows, problem.target, problem.task, sample, seed, ordered_by is not None)
    _, encode = label_encoding(problem, frames["train"][problem.target][kept["train"]])
    features = [c for c in rows.columns if c != problem.target]
    return Problem(
        dataset=problem.version.ref,
        target=problem.target,
        task=problem.task,
        columns=list(problem.version.columns),
        X=rows[features].reset_index(drop=True),
        y=encode(rows[problem.target]),
        time_ordered=ordered_by is not None,
        rows_total=total,
        recipe=recipe,
    )


def _training_rows(recipe: Recipe | None, frame: pd.DataFrame) -> npt.NDArray[np.bool_]:
    """Which rows of one split the training job learns from: those the recipe's
    filters and de-duplication keep (the recipe's own rule), all without a recipe."""
    if recipe is None:
        return np.ones(len(frame), dtype=bool)
    return recipe.training_rows(frame)


def _time_order(
    workspace: Workspace,
    problem: TrainingInputs,
    column: str,
    kept: dict[str, npt.NDArray[np.bool_]],
) -> npt.NDArray[np.int64]:
    """The order of the train + validation rows (as the training job's loader gives
    them: labelled training rows, then labelled validation rows, each split's
    ``kept`` ones) by ``column``, which the preprocessing may leave out of the
    features, so it is read on its own."""
    from modelyard.data import SPLIT_CODES

    table = workspace.datasets.read(problem.version, columns=[column, problem.target])
    codes = workspace.datasets.split_codes(problem.version)
    frame = table.to_pandas()
    labelled = frame[problem.target].notna().to_numpy()
    when = [
        frame[column].to_numpy()[(codes == SPLIT_CODES[split]) & labelled][kept[split]]
        for split in ("train", "validation")
    ]
    return np.argsort(np.concatenate(when), kind="stable").astype(np.int64)


def _sample(
    rows: pd.DataFrame, target: str, task: str, size: int, seed: int, ordered: bool
) -> pd.DataFrame:
    if ordered:
        return rows.iloc[len(rows) - size :].reset_index(drop=True)
    if task == "regression":
        return rows.sample(n=size, random_state=seed).reset_index(drop=True)
    from sklearn.model_selection import train_test_split

    kept: pd.DataFrame
    kept, _ = train_test_split(rows, train_size=size, stratify=rows[target], random_state=seed)
    return kept.reset_index(drop=True)


def fold_indices(
    problem: Problem, folds: int, seed: int
) -> list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]:
    """``(train, test)`` row indices of each fold: stratified K-fold for classes,
    K-fold for regression, a forward-chaining time-series split for ordered rows.

    Raises:
        InvalidInputError: fewer than 2 folds, or more folds than a class has rows.
    """
    from sklearn.model_selection import KFold, StratifiedKFold, TimeSeriesSplit

    if folds < 2:
        raise InvalidInputError(f"--folds {folds}: cross-validation needs at least 2 folds")
    n = len(problem.y)
    if problem.time_ordered:
        splitter: Any = TimeSeriesSplit(n_splits=folds)
        return [(a, b) for a, b in splitter.split(np.zeros(n))]
    if problem.task == "regression":
        splitter = KFold(folds, shuffle=True, random_state=seed)
        return [(a, b) for a, b in splitter.split(np.zeros(n))]
    smallest = int(np.bincount(problem.y).min())
    if smallest < folds:
        raise InvalidInputError(
            f"--folds {folds}: the rarest class of {problem.target!r} has {smallest} row(s) "
            "in the search rows; use fewer folds or a larger --sample",
            details={"column": problem.target, "folds": folds, "rows": smallest},
        )
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    return [(a, b) for a, b in splitter.split(np.zeros(n), problem.y)]

"""The algorithm catalog: every algorithm modelyard can train, in one place.

Each entry names the tasks it supports, builds its estimator, gives its defaults
and its hyperparameter search space (used by tuning), and says whether it needs
scaled inputs and whether it can stop early on the validation split.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from modelyard._imports import optional_dependency
from modelyard.errors import InvalidInputError

__all__ = ["ALGORITHMS", "Algorithm", "SearchSpace", "Task", "available_threads", "get_algorithm"]

Task = Literal["binary", "multiclass", "regression"]
_CLASSIFICATION: frozenset[Task] = frozenset({"binary", "multiclass"})
_ALL: frozenset[Task] = frozenset({"binary", "multiclass", "regression"})


class SearchSpace(Protocol):
    """What a search space needs from a tuner (Optuna's ``Trial`` satisfies it)."""

    def suggest_float(self, name: str, low: float, high: float, *, log: bool = False) -> float:
        """A float in ``[low, high]``."""

    def suggest_int(self, name: str, low: int, high: int, *, log: bool = False) -> int:
        """An int in ``[low, high]``."""

    def suggest_categorical(self, name: str, choices: list[Any]) -> Any:
        """One of ``choices``."""


@dataclass(frozen=True)
class Algorithm:
    """One trainable algorithm.

    Attributes:
        name: what users type (``--algorithm xgboost``).
        tasks: the tasks it supports.
        build: ``(task, params, seed, threads) -> estimator`` (scikit-learn API);
            ``threads`` bounds the estimator's own thread pool, when it has one.
        defaults: default hyperparameters per task.
        space: ``(trial, task) -> params``: the tuning search space.
        needs_scaling: linear, distance and kernel models want standardised inputs.
        early_stopping: the estimator's ``fit`` accepts a validation set.
        max_rows: above this many training rows the algorithm is too slow.
        description: one line for ``modelyard algorithms``.
    """

    name: str
    tasks: frozenset[Task]
    build: Callable[[Task, dict[str, Any], int, int], Any]
    defaults: Callable[[Task], dict[str, Any]]
    space: Callable[[SearchSpace, Task], dict[str, Any]]
    needs_scaling: bool = False
    early_stopping: bool = False
    max_rows: int | None = None
    description: str = ""
    is_tree_ensemble: bool = field(default=False)

    def supports(self, task: Task) -> bool:
        """Whether this algorithm can learn ``task``."""
        return task in self.tasks

    def estimator(
        self,
        task: Task,
        params: dict[str, Any] | None = None,
        seed: int = 0,
        threads: int | None = None,
    ) -> Any:
        """A new estimator with defaults overridden by ``params``.

        ``threads`` is how many threads a multi-threaded estimator may use (default:
        the cores this process may run on, :func:`available_threads`); an ``n_jobs``
        in ``params`` overrides it.

        Raises:
            InvalidInputError: the task is not supported, or a parameter is unknown.
        """
        if not self.supports(task):
            supported = ", ".join(sorted(self.tasks))
            raise InvalidInputError(
                f"algorithm {self.name!r} does not support {task} tasks (it supports {supported})",
                details={"algorithm": self.name, "task": task},
            )
        merged = {**self.defaults(task), **(params or {})}
        unknown = sorted(set(params or {}) - self.param_names(task))
        if unknown:
            raise InvalidInputError(
                f"unknown parameter(s) for {self.name}: {', '.join(unknown)}",
                details={"algorithm": self.name, "unknown": unknown},
            )
        return self.build(task, merged, seed, threads or available_threads())

    def param_names(self, task: Task) -> set[str]:
        """Hyperparameters the user may set (a wrapped estimator's, without prefix)."""
        names = set(self.build(task, self.defaults(task), 0, 1).get_params(deep=True))
        return names | {name.split("__", 1)[1] for name in names if "__" in name}


def available_threads(setting: int = 0) -> int:
    """Threads one fit may use: ``setting`` when positive, else the cores this process
    may run on (its CPU affinity, which a container or ``taskset`` narrows; the
    machine's core count where the platform has no affinity)."""
    if setting > 0:
        return setting
    if hasattr(os, "sched_getaffinity"):
        return max(len(os.sched_getaffinity(0)), 1)
    return os.cpu_count() or 1


# -- builders (imports inside, so listing the catalog stays light) ------------------


def _linear(task: Task, params: dict[str, Any], seed: int, threads: int) -> Any:
    if task == "regression":
        from sklearn.linear_model import Ridge

        return Ridge(**params)
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(random_state=seed, **params)


def _linear_defaults(task: Task) -> dict[str, Any]:
    return {"alpha": 1.0} if task == "regression" else {"C": 1.0, "max_iter": 2000}


def _linear_space(trial: SearchSpace, task: Task) -> dict[str, Any]:
    if task == "regression":
        return {"alpha": trial.suggest_float("alpha", 1e-4, 100.0, log=True)}
    return {"C": trial.suggest_float("C", 1e-3, 100.0, log=True)}


def _knn(task: Task, params: dict[str, Any], seed: int, threads: int) -> Any:
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    return (KNeighborsRegressor if task == "regression" else KNeighborsClassifier)(**params)


def _knn_space(trial: SearchSpace, task: Task) -> dict[str, Any]:
    return {
        "n_neighbors": trial.suggest_int("n_neighbors", 3, 75, log=True),
        "weights": trial.suggest_categorical("weights", ["uniform", "distance"]),
    }


def _tree(task: Task, params: dict[str, Any], seed: int, threads: int) -> Any:
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    cls = DecisionTreeRegressor if task == "regression" else DecisionTreeClassifier
    return cls(random_state=seed, **params)


def _tree_space(trial: SearchSpace, task: Task) -> dict[str, Any]:
    return {
        "max_depth": trial.suggest_int("max_depth", 2, 16),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 1, 100, log=True),
    }


def _forest(task: Task, params: dict[str, Any], seed: int, threads: int) -> Any:
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    cls = RandomForestRegressor if task == "regression" else RandomForestClassifier
    return cls(random_state=seed, **{"n_jobs": threads, **params})


def _extra(task: Task, params: dict[str, Any], seed: int, threads: int) -> Any:
    from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor

    cls = ExtraTreesRegressor if task == "regression" else ExtraTreesClassifier
    return cls(random_state=seed, **{"n_jobs": threads, **params})


def _forest_defaults(task: Task) -> dict[str, Any]:
    return {"n_estimators": 200, "min_samples_leaf": 2}


def _forest_space(trial: SearchSpace, task: Task) -> dict[str, Any]:
    return {
        "n_estimators": trial.suggest_int("n_estimators", 50, 500, log=True),
        "max_depth": trial.suggest_int("max_depth", 3, 24),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 1, 50, log=True),
        "max_features": trial.suggest_float("max_features", 0.2, 1.0),
    }


def _hgb(task: Task, params: dict[str, Any], seed: int, threads: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    cls = HistGradientBoostingRegressor if task == "regression" else HistGradientBoostingClassifier
    return cls(random_state=seed, **params)


def _hgb_defaults(task: Task) -> dict[str, Any]:
    return {"max_iter": 300, "learning_rate": 0.08, "early_stopping": True}


def _hgb_space(trial: SearchSpace, task: Task) -> dict[str, Any]:
    return {
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
        "max_leaf_nodes": trial.suggest_int("max_leaf_nodes", 8, 128, log=True),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 5, 200, log=True),
        "l2_regularization": trial.suggest_float("l2_regularization", 1e-6, 10.0, log=True),
    }


def _xgboost(task: Task, params: dict[str, Any], seed: int, threads: int) -> Any:
    with optional_dependency("the xgboost algorithm"):
        import xgboost as xgb

    cls = xgb.XGBRegressor if task == "regression" else xgb.XGBClassifier
    return cls(random_state=seed, tree_method="hist", **{"n_jobs": threads, **params})


def _boosting_defaults(task: Task) -> dict[str, Any]:
    return {"n_estimators": 200, "learning_rate": 0.08, "max_depth": 5, "subsample": 0.9}


def _xgboost_space(trial: SearchSpace, task: Task) -> dict[str, Any]:
    return {
        "n_estimators": trial.suggest_int("n_estimators", 50, 800, log=True),
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
        "max_depth": trial.suggest_int("max_depth", 2, 10),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.4, 1.0),
        "min_child_weight": trial.suggest_float("min_child_weight", 0.5, 20.0, log=True),
        "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 10.0, log=True),
    }


def _lightgbm(task: Task, params: dict[str, Any], seed: int, threads: int) -> Any:
    with optional_dependency("the lightgbm algorithm"):
        import lightgbm as lgb

    cls = lgb.LGBMRegressor if task == "regression" else lgb.LGBMClassifier
    # deterministic + row-wise histograms: the same data and seed give the same trees
    options = {"n_jobs": threads, **params}
    return cls(random_state=seed, verbose=-1, deterministic=True, force_row_wise=True, **options)


def _lightgbm_defaults(task: Task) -> dict[str, Any]:
    return {"n_estimators": 200, "learning_rate": 0.08, "num_leaves": 31, "subsample_freq": 0}


def _lightgbm_space(trial: SearchSpace, task: Task) -> dict[str, Any]:
    return {
        "n_estimators": trial.suggest_int("n_estimators", 50, 800, log=True),
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
        "num_leaves": trial.suggest_int("num_leaves", 8, 256, log=True),
        "min_child_samples": trial.suggest_int("min_child_samples", 5, 200, log=True),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.4, 1.0),
        "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 10.0, log=True),
    }


def _svm(task: Task, params: dict[str, Any], seed: int, threads: int) -> Any:
    from sklearn.svm import SVC, SVR

    if task == "regression":
        from sklearn.compose import TransformedTargetRegressor
        from sklearn.preprocessing import StandardScaler

        # SVR's epsilon and C are on the target's scale: fit on a standardised target.
        return TransformedTargetRegressor(regressor=SVR(**params), transformer=StandardScaler())
    from sklearn.calibration import CalibratedClassifierCV

    # scikit-learn 1.9 deprecates SVC(probability=True) for exactly this wrapper.
    return CalibratedClassifierCV(SVC(random_state=seed, **params), ensemble=False, cv=3)


def _svm_space(trial: SearchSpace, task: Task) -> dict[str, Any]:
    return {
        "C": trial.suggest_float("C", 1e-2, 100.0, log=True),
        "gamma": trial.suggest_categorical("gamma", ["scale", "auto"]),
    }


def _naive_bayes(task: Task, params: dict[str, Any], seed: int, threads: int) -> Any:
    from sklearn.naive_bayes import GaussianNB

    return GaussianNB(**params)


def _nb_space(trial: SearchSpace, task: Task) -> dict[str, Any]:
    return {"var_smoothing": trial.suggest_float("var_smoothing", 1e-12, 1e-3, log=True)}


def _no_defaults(task: Task) -> dict[str, Any]:
    return {}


ALGORITHMS: dict[str, Algorithm] = {
    algorithm.name: algorithm
    for algorithm in (
        Algorithm(
            "linear",
            _ALL,
            _linear,
            _linear_defaults,
            _linear_space,
            needs_scaling=True,
            description="Logistic regression (classification) or ridge regression, L2",
        ),
        Algorithm(
            "knn",
            _ALL,
            _knn,
            lambda task: {"n_neighbors": 15},
            _knn_space,
            needs_scaling=True,
            max_rows=200_000,
            description="k-nearest neighbours",
        ),
        Algorithm(
            "decision_tree",
            _ALL,
            _tree,
            lambda task: {"max_depth": 8, "min_samples_leaf": 5},
            _tree_space,
            description="A single decision tree (CART)",
        ),
        Algorithm(
            "random_forest",
            _ALL,
            _forest,
            _forest_defaults,
            _forest_space,
            is_tree_ensemble=True,
            description="Random forest",
        ),
        Algorithm(
            "extra_trees",
            _ALL,
            _extra,
            _forest_defaults,
            _forest_space,
            is_tree_ensemble=True,
            description="Extremely randomised trees",
        ),
        Algorithm(
            "hist_gradient_boosting",
            _ALL,
            _hgb,
            _hgb_defaults,
            _hgb_space,
            is_tree_ensemble=True,
            description="scikit-learn's histogram gradient boosting (internal early stopping)",
        ),
        Algorithm(
            "xgboost",
            _ALL,
            _xgboost,
            _boosting_defaults,
            _xgboost_space,
            early_stopping=True,
            is_tree_ensemble=True,
            description="XGBoost gradient-boosted trees, early stopping on validation",
        ),
        Algorithm(
            "lightgbm",
            _ALL,
            _lightgbm,
            _lightgbm_defaults,
            _lightgbm_space,
            early_stopping=True,
            is_tree_ensemble=True,
            description="LightGBM gradient-boosted trees, early stopping on validation",
        ),
        Algorithm(
            "svm",
            _ALL,
            _svm,
            lambda task: {"C": 1.0},
            _svm_space,
            needs_scaling=True,
            max_rows=20_000,
            description="Support vector machine, RBF kernel (small data only)",
        ),
        Algorithm(
            "naive_bayes",
            _CLASSIFICATION,
            _naive_bayes,
            _no_defaults,
            _nb_space,
            needs_scaling=False,
            description="Gaussian naive Bayes (classification only)",
        ),
    )
}


def get_algorithm(name: str) -> Algorithm:
    """The catalog entry called ``name``.

    Raises:
        InvalidInputError: no such algorithm; the message lists the known ones.
    """
    try:
        return ALGORITHMS[name]
    except KeyError:
        raise InvalidInputError(
            f"unknown algorithm {name!r}; known: {', '.join(ALGORITHMS)}",
            details={"algorithm": name},
        ) from None

"""Optuna studies in the workspace's own database, and the samplers users can choose.

Optuna's RDB storage adds its tables (``studies``, ``trials``, ...) to the metadata
database, so a study is shared by whoever shares the workspace and survives a
kill. Its schema check is skipped on purpose: it reads ``alembic_version``, which
in a workspace holds modelyard's own revision, not Optuna's.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from modelyard.errors import InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from optuna.samplers import BaseSampler
    from optuna.storages import RDBStorage

    from modelyard.training import Algorithm, Task
    from modelyard.workspace import Workspace

__all__ = ["PRUNERS", "SAMPLERS", "load_study_info", "make_pruner", "make_sampler", "storage"]

SAMPLERS = ("tpe", "random", "grid", "cmaes")
PRUNERS = ("median", "hyperband", "none")
_GRID_POINTS = 4


@contextmanager
def storage(workspace: Workspace) -> Iterator[RDBStorage]:
    """Optuna's RDB storage on the workspace's database (SQLite or PostgreSQL); its
    connections are closed on leaving the block."""
    from modelyard._imports import optional_dependency

    with optional_dependency("tuning"):
        import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = workspace.settings.resolved_database_url
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        # writers wait for each other (parallel trials, a second machine) instead of failing
        kwargs["connect_args"] = {"timeout": 60}
    store = optuna.storages.RDBStorage(url, engine_kwargs=kwargs, skip_compatibility_check=True)
    try:
        yield store
    finally:
        store.engine.dispose()


def load_study_info(store: RDBStorage, name: str) -> tuple[Any, dict[str, Any]]:
    """The study called ``name`` in ``store`` and what modelyard recorded of it.

    Raises:
        NotFoundError: no such study in this workspace (or not one of modelyard's).
    """
    import optuna

    try:
        study = optuna.load_study(study_name=name, storage=store)
    except KeyError:
        raise NotFoundError(
            f"no tuning study {name!r} in this workspace", details={"study": name}
        ) from None
    info = study.user_attrs.get("modelyard")
    if not isinstance(info, dict):
        raise NotFoundError(
            f"study {name!r} was not made by modelyard tune", details={"study": name}
        )
    return study, info


def make_sampler(name: str, algorithm: Algorithm, task: Task, seed: int) -> BaseSampler:
    """The sampler called ``name`` (``tpe``, ``random``, ``grid`` or ``cmaes``), seeded.

    Raises:
        InvalidInputError: an unknown sampler name.
    """
    import optuna

    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "grid":
        return optuna.samplers.GridSampler(grid_space(algorithm, task), seed=seed)
    if name == "cmaes":
        # CMA-ES samples numbers; a categorical parameter falls back to random sampling
        independent = optuna.samplers.RandomSampler(seed=seed)
        return optuna.samplers.CmaEsSampler(
            seed=seed, independent_sampler=independent, warn_independent_sampling=False
        )
    raise InvalidInputError(
        f"unknown sampler {name!r}: use {', '.join(SAMPLERS)}", details={"sampler": name}
    )


def make_pruner(name: str, folds: int) -> Any:
    """The pruner called ``name``; its steps are folds (a trial's running mean).

    Raises:
        InvalidInputError: an unknown pruner name.
    """
    import optuna

    if name == "median":
        # a few trials first, so the median means something
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=folds)
    if name == "none":
        return optuna.pruners.NopPruner()
    raise InvalidInputError(
        f"unknown pruner {name!r}: use {', '.join(PRUNERS)}", details={"pruner": name}
    )


class _GridRecorder:
    """A :class:`~modelyard.training.SearchSpace` that records a few points of each
    dimension, so the catalog's one declaration of a space also makes its grid."""

    def __init__(self) -> None:
        self.grid: dict[str, list[Any]] = {}
        self.accepts: dict[str, Callable[[Any], bool]] = {}

    def suggest_float(self, name: str, low: float, high: float, *, log: bool = False) -> float:
        self.grid[name] = _points(low, high, log, integer=False)
        self.accepts[name] = lambda v: isinstance(v, int | float) and low <= v <= high
        return low

    def suggest_int(self, name: str, low: int, high: int, *, log: bool = False) -> int:
        self.grid[name] = _points(low, high, log, integer=True)
        self.accepts[name] = lambda v: isinstance(v, int) and low <= v <= high
        return low

    def suggest_categorical(self, name: str, choices: list[Any]) -> Any:
        self.grid[name] = list(choices)
        self.accepts[name] = lambda v: v in choices
        return choices[0]


def _points(low: float, high: float, log: bool, *, integer: bool) -> list[Any]:
    steps = [i / (_GRID_POINTS - 1) for i in range(_GRID_POINTS)]
    if log:
        values = [math.exp(math.log(low) + s * (math.log(high) - math.log(low))) for s in steps]
    else:
        values = [low + s * (high - low) for s in steps]
    if integer:
        return sorted({round(v) for v in values})
    return values


def defaults_in_space(algorithm: Algorithm, task: Task) -> dict[str, Any]:
    """The algorithm's defaults that its search space can express (a first trial
    that lets tuning start from where the spot-check left it)."""
    recorder = _GridRecorder()
    algorithm.space(recorder, task)
    defaults = algorithm.defaults(task)
    return {k: v for k, v in defaults.items() if k in recorder.accepts and recorder.accepts[k](v)}


def grid_space(algorithm: Algorithm, task: Task) -> dict[str, list[Any]]:
    """The grid of ``algorithm``'s search space: a few points per dimension."""
    recorder = _GridRecorder()
    algorithm.space(recorder, task)
    return recorder.grid

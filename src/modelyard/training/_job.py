"""The training job: fit on train, stop early on validation, evaluate on test, register.

One function, :func:`train`, does the whole job and records it as a run. Input
problems (a missing target, one class, an unknown algorithm or metric) are found
before any fitting and leave nothing registered.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from modelyard.data import DatasetVersion, LogicalType, Role
from modelyard.errors import InvalidInputError
from modelyard.training._catalog import Algorithm, Task, get_algorithm
from modelyard.training._spec import TrainingSpec

if TYPE_CHECKING:
    from modelyard.evaluation import Criterion, Evaluation
    from modelyard.registry import ModelVersion, NativeOutcome, OnnxOutcome
    from modelyard.workspace import Workspace

__all__ = ["TrainingResult", "train"]

Progress = Callable[[str], None]
_EARLY_STOPPING_ROUNDS = 30
_MAX_CLASSES = 50
_INTEGER_CLASS_LIMIT = 10
_PARITY_ROWS = 2000


@dataclass(frozen=True)
class TrainingResult:
    """What a training job produced.

    Attributes:
        run_id: the run that recorded the job.
        model: the registered version (``None`` when ``register`` was off).
        evaluation: metrics, curves and importance on the test split.
        passed: whether every success criterion held.
        messages: ``(criterion, passed, message)`` per success criterion.
        onnx: the ONNX compilation outcome.
        spec: the spec actually run (with early-stopped parameters resolved).
    """

    run_id: str
    model: ModelVersion | None
    evaluation: Evaluation
    passed: bool
    messages: list[tuple[str, bool, str]]
    onnx: OnnxOutcome
    spec: TrainingSpec


@dataclass(frozen=True)
class _Problem:
    """The checked inputs of a job."""

    version: DatasetVersion
    target: str
    task: Task
    algorithm: Algorithm
    criteria: list[Criterion]


def train(
    workspace: Workspace, spec: TrainingSpec, progress: Progress | None = None
) -> TrainingResult:
    """Run a training job (see the module docstring).

    Raises:
        NotFoundError: the dataset does not exist.
        InvalidInputError: a bad target, task, algorithm, parameter or criterion.
    """
    say = progress or (lambda message: None)
    problem = _check(workspace, spec)
    experiment = spec.experiment or spec.model_name or problem.version.name
    with workspace.start_run(experiment, name=f"{spec.algorithm}-{problem.version.ref}") as run:
        run.log_input(
            "dataset", problem.version.ref, target=problem.target, splits="train/validation/test"
        )
        run.log_dict(spec.to_dict(), "training_spec.json")
        run.set_tags({"task": problem.task, "algorithm": spec.algorithm})
        say(f"loading {problem.version.ref}")
        frames = _load(workspace, problem)
        features = [c for c in frames["train"].columns if c != problem.target]
        classes, encode = _label_encoding(problem, frames["train"][problem.target])
        y = {s: encode(f[problem.target]) for s, f in frames.items()}
        X = {s: f[features] for s, f in frames.items()}
        run.log_metrics({f"rows_{s}": float(len(f)) for s, f in frames.items()})

        say(f"fitting {spec.algorithm} on {len(X['train']):,} rows")

        def data_baseline(adapter: Any) -> dict[str, Any] | None:
            """The training data's statistics: they need the schema's adapter only."""
            if not spec.register:
                return None
            from modelyard.training._baseline import compute_baseline
            from modelyard.training._signature import input_kinds

            kinds = input_kinds(problem.version, adapter)
            target = frames["train"][problem.target]
            return compute_baseline(X["train"], kinds, target, problem.task)

        started = time.perf_counter()
        pipeline, params, prepared = _fit(
            problem,
            spec,
            X,
            y,
            before_fit=data_baseline,
        )
        fit_seconds = time.perf_counter() - started
        preprocessing = spec.preprocessing.to_dict().items()
        run.log_params(
            {
                "algorithm": spec.algorithm,
                "task": problem.task,
                **params,
                **{f"preprocessing.{k}": v for k, v in preprocessing},
            }
        )

        say("evaluating on the test split")
        test_matrix = prepared.test_matrix
        evaluation, outputs = _evaluate(
            problem, spec, pipeline, (X["test"], test_matrix), y["test"], classes
        )
        run.log_metrics({**evaluation.metrics, "fit_seconds": fit_seconds})
        passed, messages = _criteria(problem.criteria, evaluation.metrics)

        say("compiling to ONNX and checking parity")
        from modelyard.registry import compile_onnx, export_native

        check_matrix = test_matrix[:_PARITY_ROWS]
        classification = problem.task != "regression"
        reference = outputs[: len(check_matrix)]
        onnx = compile_onnx(pipeline[-1], check_matrix, reference, classification=classification)
        native = export_native(pipeline[-1], check_matrix, reference, classification=classification)
        context = _report_context(problem, spec, params, messages, passed, run.id, onnx)
        from modelyard.evaluation import render_report

        html = render_report(
            evaluation,
            title=f"{experiment}: {spec.algorithm} on {problem.version.ref}",
            context=context,
        )
        run.log_bytes(html.encode(), "evaluation/report.html")
        run.log_dict(evaluation.to_dict(), "evaluation/evaluation.json")

        model = None
        if spec.register:
            say("packaging and registering")
            assert prepared.baseline is not None  # prepared when registering
            products = _Products(
                pipeline, params, evaluation, outputs, onnx, native, classes, passed, messages
            )
            model = _register(workspace, problem, spec, products, prepared.baseline, run.id)
            run.set_tag("model", model.ref)
        resolved = replace(spec, params=params)
    return TrainingResult(run.id, model, evaluation, passed, messages, onnx, resolved)


# -- checking inputs -------------------------------------------------------------------


def _check(workspace: Workspace, spec: TrainingSpec) -> _Problem:
    from modelyard.evaluation import Criterion

    version = workspace.datasets.get(spec.dataset)
    target = spec.target or version.target
    if target is None:
        raise InvalidInputError(
            f"dataset {version.ref} has no target: pass --target COLUMN",
            details={"dataset": version.ref},
        )
    names = [c.name for c in version.columns]
    if target not in names:
        raise InvalidInputError(
            f"target column {target!r} is not in dataset {version.ref} "
            f"(columns: {', '.join(names)})",
            details={"column": target},
        )
    if version.splits_digest is None:
        raise InvalidInputError(
            f"dataset {version.ref} was stored without splits: ingest it with --split"
        )
    task = _task(version, target, spec.task)
    algorithm = get_algorithm(spec.algorithm)
    algorithm.estimator(task, spec.params, spec.seed)  # refuses unsupported tasks, bad params
    criteria = [Criterion.parse(text, task) for text in spec.requirements]
    return _Problem(version, target, task, algorithm, criteria)


def _task(version: DatasetVersion, target: str, declared: str | None) -> Task:
    column = version.column(target)
    kind = column.logical_type
    if declared is not None and declared not in ("binary", "multiclass", "regression"):
        raise InvalidInputError(
            f"unknown task {declared!r}: use binary, multiclass or regression",
            details={"task": declared},
        )
    if kind in (LogicalType.TEXT, LogicalType.IDENTIFIER, LogicalType.DATETIME):
        raise InvalidInputError(
            f"target column {target!r} is {kind.value}; a target must be numeric, integer, "
            "boolean or categorical",
            details={"column": target, "type": kind.value},
        )
    numeric = kind in (LogicalType.NUMERIC, LogicalType.INTEGER)
    if declared == "regression" and not numeric:
        raise InvalidInputError(
            f"target column {target!r} is {kind.value}: regression needs a numeric target",
            details={"column": target, "type": kind.value},
        )
    if column.distinct_count < 2:
        raise InvalidInputError(
            f"target column {target!r} has a single value ({column.examples[:1]}): "
            "there is nothing to learn",
            details={"column": target},
        )
    if declared is not None:
        task: Task = declared  # type: ignore[assignment]
    elif kind is LogicalType.NUMERIC or (
        kind is LogicalType.INTEGER and column.distinct_count > _INTEGER_CLASS_LIMIT
    ):
        task = "regression"
    else:
        task = "binary" if column.distinct_count == 2 else "multiclass"
    if task == "binary" and column.distinct_count != 2:
        raise InvalidInputError(
            f"target column {target!r} has {column.distinct_count} classes, not 2: "
            "use --task multiclass",
            details={"column": target},
        )
    if task == "multiclass" and column.distinct_count > _MAX_CLASSES:
        raise InvalidInputError(
            f"target column {target!r} has {column.distinct_count} classes (at most "
            f"{_MAX_CLASSES}); is it a regression target?",
            details={"column": target},
        )
    return task


# -- data ------------------------------------------------------------------------------


def _load(workspace: Workspace, problem: _Problem) -> dict[str, pd.DataFrame]:
    """The labelled rows of each split, from one read of the stored table."""
    from modelyard.data._splits import SPLIT_CODES

    used = [
        c.name
        for c in problem.version.columns
        if c.role is Role.FEATURE or c.name == problem.target
    ]
    table = workspace.datasets.read(problem.version, columns=used)
    codes = workspace.datasets.split_codes(problem.version)
    assert codes is not None  # _check refused a version stored without splits
    # One conversion to pandas, then a row mask per split: a third faster than
    # filtering the Arrow table three times (each filter copies every text column).
    everything = table.to_pandas()
    frames = {}
    for split in ("train", "validation", "test"):
        frame = everything[codes == SPLIT_CODES[split]]
        labelled = frame[problem.target].notna()
        if not labelled.all():  # rows without a target are in no split's rows
            frame = frame[labelled]
        frames[split] = frame.reset_index(drop=True)
    if len(frames["train"]) < 10:
        raise InvalidInputError(
            f"dataset {problem.version.ref} has {len(frames['train'])} labelled training rows; "
            "at least 10 are needed"
        )
    if len(frames["test"]) == 0:
        raise InvalidInputError(f"dataset {problem.version.ref} has an empty test split")
    return frames


def _label_encoding(
    problem: _Problem, train_target: pd.Series
) -> tuple[list[Any] | None, Callable[[pd.Series], npt.NDArray[Any]]]:
    if problem.task == "regression":
        return None, lambda s: s.to_numpy(dtype=np.float64)
    classes = sorted(train_target.unique().tolist(), key=lambda v: (str(type(v)), v))
    if len(classes) < 2:
        raise InvalidInputError(
            f"the training split of {problem.version.ref} has a single class of "
            f"{problem.target!r}: there is nothing to learn",
            details={"column": problem.target},
        )
    index = {label: code for code, label in enumerate(classes)}

    def encode(values: pd.Series) -> npt.NDArray[Any]:
        codes = values.map(index)
        return codes.fillna(-1).to_numpy(dtype=np.int64)

    return [_plain(c) for c in classes], encode


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


# -- fitting ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Prepared:
    """What the job prepares beside the recipe's fit (see :func:`_fit`)."""

    baseline: dict[str, Any] | None  # the training data's statistics, without scores
    test_matrix: npt.NDArray[Any]


def _fit(
    problem: _Problem,
    spec: TrainingSpec,
    X: dict[str, pd.DataFrame],
    y: dict[str, npt.NDArray[Any]],
    before_fit: Callable[[Any], dict[str, Any] | None],
) -> tuple[Any, dict[str, Any], _Prepared]:
    """Fit the pipeline; boosting models stop early on validation, then refit exactly.

    Fitting the feature recipe and transforming the training rows run on one core,
    so a second thread meanwhile does the job's own work, done before the model's
    fit takes every core: ``before_fit(adapter)`` (the baseline statistics, which
    need only the schema's adapter) while the recipe is fitted, then the test and
    validation rows' transforms while the training rows are transformed. On
    140,000 churn rows that hides about 100 ms of the job's work beside the fit.
    """
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from sklearn.base import clone

    from modelyard.features import build_pipeline

    algorithm = problem.algorithm
    params = {**algorithm.defaults(problem.task), **spec.params}
    estimator = algorithm.estimator(problem.task, spec.params, spec.seed)
    pipeline = build_pipeline(
        problem.version.columns,
        estimator,
        needs_scaling=algorithm.needs_scaling,
        options=replace(spec.preprocessing, drop_columns=spec.preprocessing.drop_columns),
    )
    recipe = pipeline[0]
    valid = (
        y["validation"] >= 0
        if problem.task != "regression"
        else np.ones(len(y["validation"]), bool)
    )
    early = algorithm.early_stopping and valid.sum() > 0 and "n_estimators" not in spec.params
    fitted = threading.Event()
    fit_failed = False

    def aside() -> tuple[npt.NDArray[Any] | None, _Prepared | None]:
        baseline = before_fit(recipe.adapter)
        fitted.wait()
        if fit_failed:  # the recipe's own error is raised by the job's thread
            return None, None
        validation = recipe.transform(X["validation"][valid]) if early else None
        return validation, _Prepared(baseline, recipe.transform(X["test"]))

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="modelyard-job") as worker:
        pending = worker.submit(aside)
        try:
            recipe.fit(X["train"], y["train"])
        except BaseException:
            fit_failed = True
            raise
        finally:
            fitted.set()
        train_matrix = recipe.transform(X["train"])
        valid_matrix, prepared = pending.result()
    assert prepared is not None  # the recipe was fitted
    if early:
        assert valid_matrix is not None
        best = _best_iterations(
            algorithm,
            clone(estimator),
            train_matrix,
            y["train"],
            valid_matrix,
            y["validation"][valid],
        )
        params["n_estimators"] = best
        estimator = algorithm.estimator(
            problem.task, {**spec.params, "n_estimators": best}, spec.seed
        )
        pipeline.steps[-1] = ("model", estimator)
    estimator.fit(train_matrix, y["train"])
    if algorithm.name == "lightgbm":
        from modelyard.training._float32 import align_lightgbm_thresholds

        align_lightgbm_thresholds(estimator)
    return pipeline, params, prepared


def _best_iterations(
    algorithm: Algorithm,
    estimator: Any,
    train_matrix: npt.NDArray[Any],
    train_y: npt.NDArray[Any],
    valid_matrix: npt.NDArray[Any],
    valid_y: npt.NDArray[Any],
) -> int:
    """Rounds at which validation loss was best (the refit uses exactly that many)."""
    if algorithm.name == "xgboost":
        estimator.set_params(early_stopping_rounds=_EARLY_STOPPING_ROUNDS)
        estimator.fit(train_matrix, train_y, eval_set=[(valid_matrix, valid_y)], verbose=False)
        return int(estimator.best_iteration) + 1
    import inspect

    import lightgbm as lgb

    # LightGBM 4.7 renamed eval_set to eval_X/eval_y (and warns on the old name).
    if "eval_X" in inspect.signature(estimator.fit).parameters:
        validation: dict[str, Any] = {"eval_X": (valid_matrix,), "eval_y": (valid_y,)}
    else:
        validation = {"eval_set": [(valid_matrix, valid_y)]}
    estimator.fit(
        train_matrix,
        train_y,
        callbacks=[lgb.early_stopping(_EARLY_STOPPING_ROUNDS, verbose=False)],
        **validation,
    )
    return max(int(estimator.best_iteration_ or estimator.n_estimators), 1)


# -- evaluating ------------------------------------------------------------------------


def _evaluate(
    problem: _Problem,
    spec: TrainingSpec,
    pipeline: Any,
    test: tuple[pd.DataFrame, npt.NDArray[Any]],
    y_test: npt.NDArray[Any],
    classes: list[Any] | None,
) -> tuple[Evaluation, npt.NDArray[np.float64]]:
    """Metrics, curves and importance on the test split: its raw rows and their
    matrix (transformed once, for the predictions, importance and parity rows)."""
    from modelyard.evaluation import (
        evaluate_classification,
        evaluate_regression,
        permutation_importance,
    )

    X_test, matrix = test
    estimator = pipeline[-1]
    if problem.task == "regression":
        outputs = np.asarray(estimator.predict(matrix), dtype=np.float64)
        evaluation = evaluate_regression(y_test, outputs)
    else:
        known = y_test >= 0  # test rows of a class never seen in training cannot be scored
        outputs = np.asarray(estimator.predict_proba(matrix), dtype=np.float64)
        assert classes is not None
        labels = np.asarray(classes, dtype=object)[y_test[known]]
        evaluation = evaluate_classification(
            labels, outputs[known], classes, threshold_strategy=spec.threshold
        )
        if not known.all():
            X_test, y_test, matrix = X_test[known], y_test[known], matrix[known]
    evaluation.importance = permutation_importance(
        pipeline, X_test, y_test, task=problem.task, seed=spec.seed, transformed=matrix
    )
    return evaluation, outputs


def _criteria(
    criteria: list[Criterion], metrics: dict[str, float]
) -> tuple[bool, list[tuple[str, bool, str]]]:
    """Each criterion as ``(text, passed, message)``, and whether all passed."""
    results = [(str(c), *c.check(metrics)) for c in criteria]
    return all(ok for _, ok, _ in results), results


def _report_context(
    problem: _Problem,
    spec: TrainingSpec,
    params: dict[str, Any],
    messages: list[tuple[str, bool, str]],
    passed: bool,
    run_id: str,
    onnx: OnnxOutcome,
) -> dict[str, Any]:
    criteria = [{"text": text, "passed": ok, "message": message} for text, ok, message in messages]
    return {
        "dataset": problem.version.ref,
        "target": problem.target,
        "task": problem.task,
        "algorithm": spec.algorithm,
        "params": params,
        "run": run_id,
        "evaluated on": "test split",
        "onnx": "yes" if onnx.model else f"no ({onnx.reason})",
        "criteria": criteria,
        "passed": passed,
    }


# -- packaging -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Products:
    """What a job made before packaging: the fitted pipeline and what was learnt of it."""

    pipeline: Any
    params: dict[str, Any]
    evaluation: Evaluation
    outputs: npt.NDArray[np.float64]  # on the test split
    onnx: OnnxOutcome
    native: NativeOutcome
    classes: list[Any] | None
    passed: bool
    messages: list[tuple[str, bool, str]]


def _register(
    workspace: Workspace,
    problem: _Problem,
    spec: TrainingSpec,
    products: _Products,
    data_baseline: dict[str, Any],
    run_id: str,
) -> ModelVersion:
    """Write the model package (manifest, flavors, baseline with the model's scores
    added to the training data's statistics) and register it."""
    from modelyard.registry import ApprovalStatus, write_package
    from modelyard.training._baseline import score_statistics
    from modelyard.training._signature import input_signature

    pipeline, params, evaluation = products.pipeline, products.params, products.evaluation
    outputs, onnx, native = products.outputs, products.onnx, products.native
    recipe = pipeline[0]
    signature = input_signature(problem.version, recipe)
    scores = (
        outputs[:, 1]
        if problem.task == "binary"
        else (outputs if problem.task == "regression" else outputs.max(axis=1))
    )
    baseline = {**data_baseline, "scores": score_statistics(scores)}
    name = spec.model_name or problem.version.name
    threshold = evaluation.threshold
    lineage = {
        "dataset": problem.version.ref,
        "dataset_fingerprint": problem.version.fingerprint,
        "split": problem.version.split_spec,
        "target": problem.target,
        "run_id": run_id,
        "environment": workspace.runs.get(run_id).environment,
    }
    manifest = {
        "name": name,
        "task": problem.task,
        "algorithm": spec.algorithm,
        "target": problem.target,
        "classes": products.classes,
        "threshold": (
            {"value": threshold.threshold, "strategy": threshold.strategy} if threshold else None
        ),
        "signature": signature,
        "recipe": recipe.to_dict(),
        "metrics": evaluation.metrics,
        "params": params,
        "lineage": lineage,
        "onnx": onnx.manifest_entry(),
        "native": native.manifest_entry(),
    }
    with tempfile.TemporaryDirectory(prefix="modelyard-package-") as scratch:
        directory = Path(scratch) / "package"
        written = write_package(
            directory,
            manifest=manifest,
            pipeline=pipeline,
            onnx_model=onnx.model,
            native=(native.file_name, native.data) if native.file_name and native.data else None,
            baseline=baseline,
        )
        failures = [message for _, ok, message in products.messages if not ok]
        status = ApprovalStatus.PENDING if products.passed else ApprovalStatus.REJECTED
        reason = None if products.passed else "success criteria not met: " + "; ".join(failures)
        return workspace.models.register(
            name,
            directory,
            task=problem.task,
            algorithm=spec.algorithm,
            metrics=evaluation.metrics,
            params=params,
            lineage=lineage,
            flavors=written["flavors"],
            run_id=run_id,
            status=status,
            status_reason=reason,
            actor="modelyard train",
        )

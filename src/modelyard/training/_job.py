"""The training job: fit on train, stop early on validation, evaluate on test, register.

One function, :func:`train`, does the whole job and records it as a run. Input
problems (a missing target, one class, a class with a single row, an infinite
target, an unknown algorithm or metric) are found before any fitting and leave
nothing registered. Every evaluation is compared with trivial baselines, and a
model no better than them is registered as rejected, with the reason.
"""

from __future__ import annotations

import dataclasses
import json
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
from modelyard.errors import InvalidInputError, NotFoundError
from modelyard.training._catalog import Algorithm, Task, available_threads, get_algorithm
from modelyard.training._fit import Fitted, fit, refit_all
from modelyard.training._progress import Progress, TrainingProgress, reporter
from modelyard.training._report import REPORT_ARTIFACT
from modelyard.training._spec import TrainingSpec

if TYPE_CHECKING:
    from modelyard.evaluation import Criterion, Evaluation
    from modelyard.registry import ModelVersion, NativeOutcome, OnnxOutcome
    from modelyard.workspace import Workspace

__all__ = [
    "TrainingInputs",
    "TrainingProgress",
    "TrainingResult",
    "check_inputs",
    "label_encoding",
    "load_splits",
    "train",
]

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
        passed: whether the model beat the trivial baseline (or was allowed not to)
            and every success criterion held.
        messages: ``(criterion, passed, message)``: the trivial-baseline check, then
            each success criterion.
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
class TrainingInputs:
    """The checked inputs of a job (see :func:`check_inputs`).

    Attributes:
        version: the dataset version, its chosen target marked as the target.
        target: the target column.
        task: binary, multiclass or regression.
        algorithm: the catalog entry.
        criteria: the parsed success criteria.
    """

    version: DatasetVersion
    target: str
    task: Task
    algorithm: Algorithm
    criteria: list[Criterion]


def train(
    workspace: Workspace,
    spec: TrainingSpec,
    progress: Progress | None = None,
    *,
    lineage: dict[str, Any] | None = None,
) -> TrainingResult:
    """Run a training job (see the module docstring).

    ``progress`` receives a :class:`TrainingProgress` as each stage starts.
    ``lineage``: what else led to the model (the AutoML search that chose its
    algorithm and parameters), recorded in the registered version's lineage beside
    the dataset and run (the job's own entries win a clash).

    Raises:
        NotFoundError: the dataset, or the run of ``spec.params_from``, does not exist.
        InvalidInputError: a bad target, target values, task, algorithm, parameter
            or criterion.
    """
    say = reporter(progress)
    spec = _resolve_params(workspace, spec)
    problem = check_inputs(workspace, spec)  # a bad recipe too, before a run starts
    threads = available_threads(workspace.settings.max_threads)
    experiment = spec.experiment or spec.model_name or problem.version.name
    with workspace.start_run(experiment, name=f"{spec.algorithm}-{problem.version.ref}") as run:
        run.log_input(
            "dataset", problem.version.ref, target=problem.target, splits="train/validation/test"
        )
        run.log_dict(spec.to_dict(), "training_spec.json")
        run.set_tags({"task": problem.task, "algorithm": spec.algorithm})
        say("loading", f"loading {problem.version.ref}")
        frames = load_splits(workspace, problem)
        for split in ("train", "validation"):  # a recipe's training-only row filters
            frames[split] = _training_rows(spec, frames[split])
        features = [c for c in frames["train"].columns if c != problem.target]
        classes, encode = label_encoding(problem, frames["train"][problem.target])
        y = {s: encode(f[problem.target]) for s, f in frames.items()}
        X = {s: f[features] for s, f in frames.items()}
        run.log_metrics({f"rows_{s}": float(len(f)) for s, f in frames.items()})

        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

        # XGBoost and LightGBM take n_jobs; scikit-learn's OpenMP (histogram
        # boosting) and BLAS pools are bounded here, for the fit and the evaluation.
        with threadpool_limits(limits=threads):
            started = time.perf_counter()
            fitted = fit(problem, spec, X, y, threads, say)
            fit_seconds = time.perf_counter() - started
            say("evaluating on the test split", "evaluating on the test split")
            test = (X["test"], y["test"])
            evaluation, outputs = _evaluate(problem, spec, fitted, test, classes)
        pipeline, params = fitted.pipeline, fitted.params
        preprocessing = spec.preprocessing.to_dict().items()
        run.log_params(
            {
                "algorithm": spec.algorithm,
                "task": problem.task,
                **params,
                **{f"preprocessing.{k}": v for k, v in preprocessing},
            }
        )
        evaluation.baselines = _trivial(problem, fitted.rows[1], y["test"], classes)
        run.log_metrics({**evaluation.metrics, "fit_seconds": fit_seconds})
        run.log_metrics(
            {
                f"baseline_{name}_{metric}": value
                for name, figures in evaluation.baselines.items()
                for metric, value in figures.items()
            }
        )
        passed, messages = _criteria(problem.criteria, evaluation, spec)
        learnt = {s: frames[s] for s in fitted.learnt}
        if spec.refit_all and len(X["test"]) > 0:
            # after the metrics, which stay those of the model evaluated above
            learnt = {**frames, "test": _training_rows(spec, frames["test"])}
            X_all = {s: f[features] for s, f in learnt.items()}
            y_all = {**y, "test": encode(learnt["test"][problem.target])}
            with threadpool_limits(limits=threads):
                fitted = refit_all(fitted, spec, X_all, y_all, problem.algorithm.name, say)
            pipeline = fitted.pipeline

        say("compiling to ONNX and checking parity", "compiling to ONNX and checking parity")
        from modelyard.registry import compile_onnx, export_native

        check_matrix = fitted.test_matrix[:_PARITY_ROWS]
        classification = problem.task != "regression"
        reference = (
            _outputs(problem.task, pipeline[-1], check_matrix)
            if spec.refit_all
            else outputs[: len(check_matrix)]
        )
        onnx = compile_onnx(pipeline[-1], check_matrix, reference, classification=classification)
        native = export_native(pipeline[-1], check_matrix, reference, classification=classification)
        context = _report_context(
            problem, spec, params, messages, passed, run.id, onnx, fitted.learnt
        )
        from modelyard.evaluation import render_report

        html = render_report(
            evaluation,
            title=f"{experiment}: {spec.algorithm} on {problem.version.ref}",
            context=context,
        )
        run.log_bytes(html.encode(), REPORT_ARTIFACT)
        run.log_dict(evaluation.to_dict(), "evaluation/evaluation.json")

        model = None
        if spec.register:
            say("packaging and registering", "packaging and registering")
            products = _Products(
                pipeline,
                params,
                evaluation,
                outputs,
                onnx,
                native,
                classes,
                passed,
                messages,
                fitted.learnt,
            )
            target = pd.concat([f[problem.target] for f in learnt.values()], ignore_index=True)
            data_baseline = _data_baseline(problem, pipeline[0], fitted.rows[0], target)
            model = _register(
                workspace, problem, spec, products, data_baseline, run.id, lineage or {}
            )
            run.set_tag("model", model.ref)
        resolved = replace(spec, params=params)
    return TrainingResult(run.id, model, evaluation, passed, messages, onnx, resolved)


def _resolve_params(workspace: Workspace, spec: TrainingSpec) -> TrainingSpec:
    """``spec`` with the params of the run ``spec.params_from`` under its own params."""
    if spec.params_from is None:
        return spec
    run_id = workspace.runs.resolve_id(spec.params_from)
    try:
        recorded = json.loads(workspace.runs.artifact_bytes(run_id, "training_spec.json"))
    except NotFoundError:
        raise InvalidInputError(
            f"run {run_id[:8]} is not a training run (it has no training_spec.json)",
            details={"run": run_id},
        ) from None
    params = {**recorded.get("params", {}), **spec.params}
    return replace(spec, params=params, params_from=None)


def _data_baseline(
    problem: TrainingInputs, recipe: Any, rows: pd.DataFrame, target: pd.Series
) -> dict[str, Any]:
    """The statistics of the rows the model learnt from, for monitoring to compare with."""
    from modelyard.training._baseline import compute_baseline
    from modelyard.training._signature import input_kinds

    kinds = input_kinds(problem.version, recipe.adapter)
    return compute_baseline(rows, kinds, target, problem.task)


# -- checking inputs -------------------------------------------------------------------


def check_inputs(workspace: Workspace, spec: TrainingSpec) -> TrainingInputs:
    """The dataset, target, task, algorithm, criteria and feature recipe of ``spec``,
    checked before any row is read or run started (AutoML runs the same checks, so a
    dataset and recipe a search accepts are ones the final training job accepts).

    Raises:
        NotFoundError: no such dataset.
        InvalidInputError: a bad target, task, algorithm, parameter or criterion, or
            a recipe step the dataset's columns cannot take (``recipe step N (kind): ...``).
    """
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
    if version.target != target:
        # The target is chosen at training: the version's schema may name another
        # target or none. The chosen column is the target; a column the version calls
        # its target stays out of the features (it is a label, not an input).
        columns = [
            dataclasses.replace(c, role=Role.TARGET) if c.name == target else c
            for c in version.columns
        ]
        version = dataclasses.replace(version, columns=columns)
    algorithm = get_algorithm(spec.algorithm)
    algorithm.estimator(task, spec.params, spec.seed)  # refuses unsupported tasks, bad params
    criteria = [Criterion.parse(text, task) for text in spec.requirements]
    if spec.preprocessing.recipe is not None:
        spec.preprocessing.recipe.plan(version.columns)
    return TrainingInputs(version, target, task, algorithm, criteria)


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


def load_splits(workspace: Workspace, problem: TrainingInputs) -> dict[str, pd.DataFrame]:
    """The labelled rows of each split (``train``, ``validation``, ``test``), from one
    read of the stored table, with their target values checked.

    Raises:
        InvalidInputError: too few training rows, an empty test split, or target
            values a model cannot learn or be measured on.
    """
    from modelyard.data import SPLIT_CODES

    used = [
        c.name
        for c in problem.version.columns
        if c.role is Role.FEATURE or c.name == problem.target
    ]
    table = workspace.datasets.read(problem.version, columns=used)
    codes = workspace.datasets.split_codes(problem.version)
    assert codes is not None  # check_inputs refused a version stored without splits
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
    _check_target_values(problem, frames)
    return frames


def _check_target_values(problem: TrainingInputs, frames: dict[str, pd.DataFrame]) -> None:
    """Refuse target values a model cannot learn or be measured on, naming them.

    A regression target must be finite (an infinity reaches the boosting library's
    C++ as an internal error). Each class needs at least two rows and one of them in
    the training split: otherwise it would silently vanish from the model's classes.
    """
    name, ref = problem.target, problem.version.ref
    if problem.task == "regression":
        for split, frame in frames.items():
            values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64)
            infinite = int(np.isinf(values).sum())
            if infinite:
                raise InvalidInputError(
                    f"target column {name!r} of {ref} holds {infinite:,} infinite value(s) "
                    f"in the {split} split: remove or cap them before training",
                    details={"column": name, "split": split, "infinite": infinite},
                )
        return
    counts = pd.concat([f[name] for f in frames.values()]).value_counts()
    rare = [label for label, count in counts.items() if count < 2]
    if rare:
        shown = ", ".join(repr(_plain(label)) for label in rare[:10])
        raise InvalidInputError(
            f"class(es) {shown} of target column {name!r} in {ref} have a single row: a class "
            "needs at least two (one to learn from, one to measure on); remove or merge them",
            details={"column": name, "classes": [str(label) for label in rare[:10]]},
        )
    trained = set(frames["train"][name].unique().tolist())
    unseen = [label for label in counts.index if label not in trained]
    if unseen:
        shown = ", ".join(repr(_plain(label)) for label in unseen[:10])
        raise InvalidInputError(
            f"class(es) {shown} of target column {name!r} in {ref} have no row in the "
            "training split, so the model could never predict them: remove or merge them, "
            "or split the dataset again",
            details={"column": name, "classes": [str(label) for label in unseen[:10]]},
        )


def label_encoding(
    problem: TrainingInputs, train_target: pd.Series
) -> tuple[list[Any] | None, Callable[[pd.Series], npt.NDArray[Any]]]:
    """The classes (sorted; ``None`` for regression) and the function that turns
    target values into what a model learns: class indices, or floats.

    Raises:
        InvalidInputError: the training split holds a single class.
    """
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
        # every label is a training class (_check_target_values)
        return values.map(index).to_numpy(dtype=np.int64)

    return [_plain(c) for c in classes], encode


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


# -- evaluating ------------------------------------------------------------------------


def _evaluate(
    problem: TrainingInputs,
    spec: TrainingSpec,
    fitted: Fitted,
    test: tuple[pd.DataFrame, npt.NDArray[Any]],
    classes: list[Any] | None,
) -> tuple[Evaluation, npt.NDArray[np.float64]]:
    """Metrics, curves and importance on the test split, and the model's outputs there.

    A binary model is measured at the threshold chosen before (on validation or
    out-of-fold rows), never at one chosen on the test rows themselves.
    """
    from modelyard.evaluation import (
        evaluate_classification,
        evaluate_regression,
        permutation_importance,
    )

    X_test, y_test = test
    matrix = fitted.test_matrix
    outputs = _outputs(problem.task, fitted.pipeline[-1], matrix)
    if problem.task == "regression":
        evaluation = evaluate_regression(y_test, outputs)
    else:
        assert classes is not None
        labels = np.asarray(classes, dtype=object)[y_test]
        evaluation = evaluate_classification(
            labels, outputs, classes, threshold_strategy=spec.threshold, threshold=fitted.threshold
        )
    evaluation.importance = permutation_importance(
        fitted.pipeline, X_test, y_test, task=problem.task, seed=spec.seed, transformed=matrix
    )
    return evaluation, outputs


def _outputs(task: str, estimator: Any, matrix: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """The model's predictions (regression) or class probabilities on ``matrix``."""
    found = estimator.predict(matrix) if task == "regression" else estimator.predict_proba(matrix)
    return np.asarray(found, dtype=np.float64)


def _training_rows(spec: TrainingSpec, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without the rows the recipe keeps out of training (all of it without one)."""
    recipe = spec.preprocessing.recipe
    if recipe is None:
        return frame
    return frame[recipe.training_rows(frame)].reset_index(drop=True)


def _trivial(
    problem: TrainingInputs,
    y_fit: npt.NDArray[Any],
    y_test: npt.NDArray[Any],
    classes: list[Any] | None,
) -> dict[str, dict[str, float]]:
    """The trivial baselines, fitted on the rows the model learnt from."""
    from modelyard.evaluation import trivial_baselines

    if classes is None:
        return trivial_baselines(problem.task, y_fit, y_test)
    labels = np.asarray(classes, dtype=object)
    return trivial_baselines(problem.task, labels[y_fit], labels[y_test], classes)


def _criteria(
    criteria: list[Criterion], evaluation: Evaluation, spec: TrainingSpec
) -> tuple[bool, list[tuple[str, bool, str]]]:
    """Each criterion as ``(text, passed, message)``, and whether all passed.

    The first is always the trivial-baseline check: a model no better than a
    predictor that ignores the features fails, unless the spec allows it.
    """
    from modelyard.evaluation import compare_to_baselines

    better, message = compare_to_baselines(evaluation)
    if not better and spec.allow_worse_than_baseline:
        message += " (allowed: allow_worse_than_baseline)"
    baseline = ("better than the trivial baseline", better or spec.allow_worse_than_baseline)
    results = [(*baseline, message)]
    results += [(str(c), *c.check(evaluation.metrics)) for c in criteria]
    return all(ok for _, ok, _ in results), results


def _report_context(
    problem: TrainingInputs,
    spec: TrainingSpec,
    params: dict[str, Any],
    messages: list[tuple[str, bool, str]],
    passed: bool,
    run_id: str,
    onnx: OnnxOutcome,
    learnt: tuple[str, ...],
) -> dict[str, Any]:
    criteria = [{"text": text, "passed": ok, "message": message} for text, ok, message in messages]
    fitted_on = " + ".join(learnt) + " splits"
    if spec.refit_all:
        fitted_on += " (refit after evaluation: the metrics are the model's before it)"
    return {
        "dataset": problem.version.ref,
        "target": problem.target,
        "task": problem.task,
        "algorithm": spec.algorithm,
        "params": params,
        "run": run_id,
        "evaluated on": "test split",
        "fitted on": fitted_on,
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
    learnt: tuple[str, ...]  # the splits the pipeline was fitted on


def _register(
    workspace: Workspace,
    problem: TrainingInputs,
    spec: TrainingSpec,
    products: _Products,
    data_baseline: dict[str, Any],
    run_id: str,
    extra_lineage: dict[str, Any],
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
        **extra_lineage,
        "dataset": problem.version.ref,
        "dataset_fingerprint": problem.version.fingerprint,
        "split": problem.version.split_spec,
        "target": problem.target,
        "run_id": run_id,
        "fitted_on": list(products.learnt),
        "environment": workspace.runs.get(run_id).environment,
    }
    if spec.preprocessing.recipe is not None:  # the user's recipe, as fitted
        lineage["recipe"] = recipe.fitted_.describe()
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

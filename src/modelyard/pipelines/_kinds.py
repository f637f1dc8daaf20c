"""What each built-in step kind does, and what its cache key is made of.

Every kind takes its resolved arguments (JSON) and returns its outputs (JSON). The
values that flow between steps carry content ids: a dataset is ``{"ref",
"fingerprint"}``, a model ``{"ref", "package"}``; cache keys are built from those,
never from timestamps, run ids or names chosen by the system.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelyard import __version__
from modelyard.errors import InvalidInputError, ModelyardError
from modelyard.pipelines._steps import import_function

if TYPE_CHECKING:
    from modelyard.workspace import Workspace

__all__ = [
    "StepFailedError",
    "call_function",
    "code_version",
    "file_digest",
    "key_of",
    "named_inputs",
    "run_builtin",
    "uncacheable_reason",
]


class StepFailedError(ModelyardError):
    """A ``Fail`` step ran: the pipeline stops with its message."""


def code_version(kind: str, fn: Callable[..., Any] | None) -> str:
    """modelyard's version, and for a function step the hash of the function's source."""
    version = f"modelyard {__version__}"
    if kind != "function" or fn is None:
        return version
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError):  # no source (built in, or typed at a prompt): its name
        source = getattr(fn, "__qualname__", repr(fn))
    return f"{version}; source sha256 {hashlib.sha256(source.encode()).hexdigest()[:16]}"


def uncacheable_reason(kind: str, args: dict[str, Any]) -> str | None:
    """Why a step of this kind never reuses a result, or ``None``."""
    if kind == "ingest" and args.get("sql") is not None:
        return "a SQL ingest reads a database that may have changed"
    if kind in ("fail", "deploy", "register", "batch"):
        return f"a {kind} step acts on the world each run"
    if kind == "compare" and args.get("endpoint") is not None:
        return "the champion is whatever the endpoint serves now"
    return None


def named_inputs(workspace: Workspace, kind: str, args: dict[str, Any]) -> dict[str, Any]:
    """Content ids of the datasets and models a step names as text (``churn``,
    ``churn:production``): a name is not content, so the version it means now goes
    into the cache key (a new dataset version must not reuse the old result)."""
    from modelyard.pipelines._pipeline import INPUT_TYPES

    found: dict[str, Any] = {}
    for (for_kind, arg), wanted in INPUT_TYPES.items():
        value = args.get(arg) if for_kind == kind else None
        if not isinstance(value, str):
            continue
        if wanted == "dataset":
            version = workspace.datasets.get(value)
            found[arg] = {"ref": version.ref, "fingerprint": version.fingerprint}
        else:
            model = workspace.models.get(value)
            found[arg] = {"ref": model.ref, "package": model.package_digest}
    return found


def file_digest(path: str) -> str:
    """sha256 of a file's bytes: an ingest's content id before it is read."""
    digest = hashlib.sha256()
    try:
        with Path(path).open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except FileNotFoundError:
        raise InvalidInputError(f"file {path} does not exist") from None
    return digest.hexdigest()


def key_of(parts: dict[str, Any]) -> str:
    """The cache key: sha256 of the parts as canonical JSON."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def run_builtin(workspace: Workspace, kind: str, args: dict[str, Any]) -> dict[str, Any]:
    """Run one step of a built-in kind with its resolved arguments; returns its outputs."""
    if kind == "ingest":
        return _ingest(workspace, args)
    if kind == "train":
        return _train(workspace, args)
    if kind == "condition":
        return {"value": bool(args["check"])}
    if kind == "fail":
        raise StepFailedError(str(args["message"]))
    if kind == "deploy":
        return _deploy(workspace, args)
    if kind == "register":
        return _register(workspace, args)
    if kind == "batch":
        return _batch(workspace, args)
    if kind == "compare":
        return _compare(workspace, args)
    raise InvalidInputError(f"unknown step kind {kind!r}")


def call_function(
    fn: Callable[..., Any] | str, inputs: list[Any], kwargs: dict[str, Any], delay: float = 0.0
) -> tuple[Any, float, float]:
    """Call a function step (``fn`` or its ``module:qualname``) where it runs, after
    ``delay`` seconds (a retry's backoff).

    Returns its value with the wall-clock start and end measured here, so the
    recorded timings are the step's own, wherever it ran.
    """
    time.sleep(delay)
    started = time.time()
    function = import_function(fn) if isinstance(fn, str) else fn
    value = function(*inputs, **kwargs)
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"a function step must return JSON (numbers, text, lists, dicts), not {value!r}"
        ) from None
    return value, started, time.time()


def _dataset_value(version: Any) -> dict[str, Any]:
    return {"ref": version.ref, "fingerprint": version.fingerprint}


def _ingest(workspace: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    from modelyard.data import IngestOptions

    options = IngestOptions(target=args.get("target"))
    if args.get("path") is not None:
        path = str(args["path"])
        name = args.get("dataset") or Path(path).stem
        version, _ = workspace.datasets.ingest(path, name, options)
    else:
        name = args.get("dataset")
        if not name:
            raise InvalidInputError("a SQL ingest needs dataset= (the dataset's name)")
        version, _ = workspace.datasets.ingest_sql(args["sql"], args["source"], name, options)
    return {"dataset": _dataset_value(version)}


def _dataset_ref(value: Any) -> str:
    if isinstance(value, dict) and "ref" in value:
        return str(value["ref"])
    if isinstance(value, str):
        return value
    raise InvalidInputError(f"expected a dataset, got {value!r}")


def _train(workspace: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    from modelyard.training import TrainingSpec, train

    spec = {**(args.get("spec") or {}), "dataset": _dataset_ref(args["data"])}
    try:  # the JSON form (requirements as a list, preprocessing as a dict)
        training = TrainingSpec.from_dict(spec)
    except TypeError as exc:
        raise InvalidInputError(f"bad training argument: {exc}") from None
    result = train(workspace, training)
    metrics = {k: float(v) for k, v in result.evaluation.metrics.items()}
    model = result.model
    return {
        "model": None if model is None else {"ref": model.ref, "package": model.package_digest},
        "metrics": metrics,
        "run_id": result.run_id,
        "passed": result.passed,
    }


def _model_ref(value: Any) -> str:
    if isinstance(value, dict) and "ref" in value:
        return str(value["ref"])
    if isinstance(value, str):
        return value
    raise InvalidInputError(f"expected a model, got {value!r} (was it registered?)")


def _register(workspace: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    from modelyard.registry import ApprovalStatus

    ref = _model_ref(args["model"])
    if args.get("status") is not None:
        try:
            status = ApprovalStatus(str(args["status"]))
        except ValueError:
            raise InvalidInputError(
                f"status {args['status']!r}: use approved, rejected or pending"
            ) from None
        workspace.models.set_status(ref, status, reason=args.get("reason") or "pipeline step")
    if args.get("alias"):
        workspace.models.set_alias(ref, str(args["alias"]))
    version = workspace.models.get(ref)
    return {"model": {"ref": version.ref, "package": version.package_digest}}


def _compare(workspace: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    from modelyard.pipelines._compare import compare_models, endpoint_champion

    if args.get("endpoint") is not None:
        champion = endpoint_champion(workspace, str(args["endpoint"]))
    else:
        champion = _model_ref(args["champion"])
    split = args.get("split")
    return compare_models(
        workspace,
        _model_ref(args["candidate"]),
        champion,
        _dataset_ref(args["data"]),
        metric=str(args.get("metric") or "roc_auc"),
        margin=float(args.get("margin") or 0.0),
        split=None if split is None else str(split),
    )


def _batch(workspace: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    from modelyard.batch import batch_predict

    inputs = args["inputs"]
    result = batch_predict(
        workspace,
        _model_ref(args["model"]),
        [str(i) for i in inputs] if isinstance(inputs, list) else str(inputs),
        str(args["output"]),
        keep=args.get("keep"),
    )
    if result.job.status.value != "succeeded":
        raise InvalidInputError(f"batch job {result.job.id} {result.job.status.value}")
    return {"output": str(args["output"]), "job": result.job.id, "rows": result.job.rows_done}


def _deploy(workspace: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    from modelyard.errors import NotFoundError
    from modelyard.pipelines._guard import Alarms, RolledBackError, guarded_deploy
    from modelyard.serving import VariantConfig

    ref = _model_ref(args["model"])
    name = str(args["endpoint"])
    variant = None if args.get("variant") is None else str(args["variant"])
    try:
        workspace.endpoints.get(name)
    except NotFoundError:
        created = workspace.endpoints.create(name, [VariantConfig(variant or "main", ref)])
        return _deployed(created.name, created.config_version, True, None)
    if args.get("strategy") is None:
        replaced = workspace.endpoints.update(
            name, variants=[VariantConfig(variant or "main", ref)]
        )
        return _deployed(replaced.name, replaced.config_version, True, None)
    gateway = args.get("gateway")
    gateways = [str(g) for g in gateway] if isinstance(gateway, list) else [str(gateway or "")]
    defaults = Alarms()
    alarms = Alarms(
        max_error_rate=float(_given(args, "max_error_rate", defaults.max_error_rate)),
        max_p99_seconds=_given(args, "max_p99_seconds", defaults.max_p99_seconds),
        min_requests=int(_given(args, "min_requests", defaults.min_requests)),
    )
    deployment = guarded_deploy(
        workspace,
        name,
        ref,
        strategy=str(args["strategy"]),
        gateways=[g for g in gateways if g],
        alarms=alarms,
        variant=variant,
    )
    if not deployment.promoted:
        raise RolledBackError(
            f"deployment {deployment.id[:12]} rolled back: {deployment.reason}",
            details={"deployment": deployment.id},
        )
    return _deployed(name, deployment.config_version, True, deployment.id)


def _given(args: dict[str, Any], key: str, default: Any) -> Any:
    return default if args.get(key) is None else args[key]


def _deployed(name: str, revision: int, promoted: bool, deployment: str | None) -> dict[str, Any]:
    return {"endpoint": name, "revision": revision, "promoted": promoted, "deployment": deployment}

"""The step classes of the SDK: each records its kind and JSON arguments.

A step object is a handle too: once added to a pipeline it has a name, and its
outputs (``model.metric("roc_auc")``, ``data.output("dataset")``) are references
that later steps take as arguments. Passing the step itself means its main output.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, ClassVar, Self

from modelyard.errors import InvalidInputError
from modelyard.pipelines._refs import Comparison, Output

__all__ = [
    "BatchTransform",
    "Compare",
    "Condition",
    "Deploy",
    "Fail",
    "Function",
    "Ingest",
    "Register",
    "Step",
    "Train",
    "function_path",
    "import_function",
]


class Step:
    """A step of a pipeline (see the subclasses).

    Args:
        name: the step's name in the pipeline, unique in it (default: its kind, or a
            function step's function name, numbered if taken).
        when: a ``Condition`` step (or a comparison): the step runs only when it is true.
        cache: reuse the outputs of an earlier run with the same cache key.
    """

    kind: ClassVar[str]
    main_output: ClassVar[str]

    def __init__(self, *, name: str | None = None, when: object = None, cache: bool = True):
        self.name: str | None = name
        self.named = name is not None  # chosen by the user: never renumbered
        self.when = when
        self.cache = cache
        self.args: dict[str, Any] = {}
        self.retries = 0
        self.backoff = 1.0
        self.cache_expires: float | None = None

    def retry(self, times: int, backoff: float = 1.0) -> Self:
        """Run the step up to ``times`` more times when it raises, waiting ``backoff``
        seconds before the first retry and twice as long before each next one."""
        if times < 0 or backoff < 0:
            raise InvalidInputError("retry takes a count and a backoff of 0 or more")
        self.retries, self.backoff = times, backoff
        return self

    def expire_cache(self, seconds: float) -> Self:
        """Reuse a cached result only while it is younger than ``seconds``."""
        if seconds < 0:
            raise InvalidInputError("a cache expiry is 0 seconds or more")
        self.cache_expires = seconds
        return self

    def output(self, key: str | None = None) -> Output:
        """A reference to one of this step's outputs (default: its main output)."""
        return Output(self._added_name(), (key or self.main_output,))

    def metric(self, name: str) -> Output:
        """A reference to one metric of a ``Train`` step's model (on the test split)."""
        return Output(self._added_name(), ("metrics", name))

    def _added_name(self) -> str:
        if self.name is None:
            raise InvalidInputError(
                f"this {self.kind} step is not in a pipeline yet: add it before using its outputs"
            )
        return self.name

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class Ingest(Step):
    """A dataset version from a file (``path``) or a SQL query (``sql`` on ``source``).

    The output ``dataset`` is ``{"ref", "fingerprint"}``: the version and its content
    id. A file step's cache key holds the file's bytes' hash; a SQL step always runs
    (the database may have changed), and ingesting the same rows again gives the same
    version, so the steps after it still reuse their results.
    """

    kind = "ingest"
    main_output = "dataset"

    def __init__(
        self,
        path: object = None,
        *,
        sql: object = None,
        source: object = None,
        dataset: object = None,
        target: object = None,
        **options: Any,
    ) -> None:
        super().__init__(
            name=options.pop("name", None),
            when=options.pop("when", None),
            cache=options.pop("cache", True),
        )
        if (path is None) == (sql is None):
            raise InvalidInputError("Ingest takes a path or sql, and only one")
        if sql is not None and source is None:
            raise InvalidInputError("Ingest(sql=...) needs source= (a SQLAlchemy URL)")
        self.args = {"path": path, "sql": sql, "source": source, "dataset": dataset}
        self.args["target"] = target


class Train(Step):
    """A training job (:func:`modelyard.training.train`) on a dataset; it registers the model.

    ``data``: an ``Ingest`` step, a dataset output, or a ``name[:version]`` (or a
    parameter holding one). Other arguments are :class:`~modelyard.training.TrainingSpec`
    fields. Outputs: ``model`` (``{"ref", "package"}``), ``metrics`` (test split),
    ``run_id``, ``passed``.
    """

    kind = "train"
    main_output = "model"

    def __init__(
        self,
        data: object,
        *,
        name: str | None = None,
        when: object = None,
        cache: bool = True,
        **spec: Any,
    ) -> None:
        super().__init__(name=name, when=when, cache=cache)
        if "dataset" in spec:
            raise InvalidInputError("Train takes its dataset as its first argument")
        self.args = {"data": data, "spec": spec}


class Condition(Step):
    """True or false from a comparison of outputs and parameters; gates later steps."""

    kind = "condition"
    main_output = "value"

    def __init__(self, check: Comparison, *, name: str | None = None, when: object = None) -> None:
        super().__init__(name=name, when=when, cache=True)
        if not isinstance(check, Comparison):
            raise InvalidInputError(
                "Condition takes a comparison, such as model.metric('roc_auc') >= 0.8"
            )
        self.args = {"check": check}


class Fail(Step):
    """Fails the run with ``message`` (usually gated: ``Fail("too weak", when=...)``)."""

    kind = "fail"
    main_output = "message"

    def __init__(self, message: object, *, name: str | None = None, when: object = None) -> None:
        super().__init__(name=name, when=when)
        self.args = {"message": message}


class Function(Step):
    """Your own Python function, called with the resolved inputs; returns JSON.

    A module-level function runs on the workspace's Executor (another process) and
    can be saved with the pipeline; any other callable runs in a thread of the
    runner and only from Python. Its cache key holds its source code.
    """

    kind = "function"
    main_output = "value"

    def __init__(
        self,
        fn: Callable[..., Any],
        *inputs: object,
        name: str | None = None,
        when: object = None,
        cache: bool = True,
        **kwinputs: object,
    ) -> None:
        super().__init__(name=name or getattr(fn, "__name__", None), when=when, cache=cache)
        self.named = name is not None
        if not callable(fn):
            raise InvalidInputError(f"Function takes a callable, not {fn!r}")
        if name is None and self.name is not None and not self.name.isidentifier():
            self.name = None  # a lambda ("<lambda>"): named by its kind
        self.fn = fn
        self.args = {"function": function_path(fn), "inputs": list(inputs), "kwargs": kwinputs}


class Register(Step):
    """Approves (or rejects) a trained model version and points an alias at it.

    ``Train`` registers the version already; this step records the pipeline's
    verdict on it, usually gated (``Register(model, status="approved", when=gate)``).
    Its output ``model`` is the same version, for a ``Deploy`` after it.
    """

    kind = "register"
    main_output = "model"

    def __init__(
        self,
        model: object,
        *,
        status: object = "approved",
        alias: object = None,
        reason: object = None,
        name: str | None = None,
        when: object = None,
    ) -> None:
        super().__init__(name=name, when=when)
        self.args = {"model": model, "status": status, "alias": alias, "reason": reason}


class Compare(Step):
    """The candidate model against the champion on the same labelled rows.

    ``champion`` is a model, or ``endpoint`` names the endpoint whose main model is
    the champion now. ``data`` is a dataset (an ``Ingest`` step, or a name: its
    newest version), scored on ``split`` (``None``: every row). Outputs: ``better``
    (by at least ``margin`` in ``metric``), both scores, ``rows`` and ``reason``, so
    a run records why it deployed or did not. Runs every time when it reads an
    endpoint (its champion may have changed).
    """

    kind = "compare"
    main_output = "better"

    def __init__(
        self,
        candidate: object,
        *,
        data: object,
        champion: object = None,
        endpoint: object = None,
        metric: object = "roc_auc",
        margin: object = 0.0,
        split: object = "test",
        name: str | None = None,
        when: object = None,
    ) -> None:
        super().__init__(name=name, when=when)
        if (champion is None) == (endpoint is None):
            raise InvalidInputError("Compare takes a champion model or an endpoint, and only one")
        self.args = {
            "candidate": candidate,
            "champion": champion,
            "endpoint": endpoint,
            "data": data,
            "metric": metric,
            "margin": margin,
            "split": split,
        }


class BatchTransform(Step):
    """Scores every row of ``inputs`` (files or a folder) with the model into ``output``
    (:func:`modelyard.batch_predict`); runs every time, since it writes files.
    Outputs: ``job`` (the batch job's id), ``output`` and ``rows``."""

    kind = "batch"
    main_output = "output"

    def __init__(
        self,
        model: object,
        *,
        inputs: object,
        output: object,
        keep: object = None,
        name: str | None = None,
        when: object = None,
    ) -> None:
        super().__init__(name=name, when=when)
        self.args = {"model": model, "inputs": inputs, "output": output, "keep": keep}


class Deploy(Step):
    """Points ``endpoint`` at the model (creating it when new).

    Without ``strategy`` the model replaces the endpoint's variants at once. With one
    (``canary:10%:30m``, ``linear:25%:5m``, ``all-at-once:10m``) an existing endpoint
    gets the model behind the guard (:func:`~modelyard.pipelines.guarded_deploy`):
    traffic moves in steps while the gateways at ``gateway`` (a URL or a list) are
    watched, and an alarm (more than ``max_error_rate`` server errors, a p99 over
    ``max_p99_seconds``) rolls it back and fails the step with the reason.
    Outputs: ``endpoint``, ``revision``, ``promoted``, ``deployment`` (the guard's job).
    """

    kind = "deploy"
    main_output = "endpoint"

    def __init__(
        self,
        model: object,
        *,
        endpoint: object,
        variant: object = None,
        strategy: object = None,
        gateway: object = None,
        max_error_rate: object = None,
        max_p99_seconds: object = None,
        min_requests: object = None,
        name: str | None = None,
        when: object = None,
    ) -> None:
        super().__init__(name=name, when=when)
        self.args = {
            "model": model,
            "endpoint": endpoint,
            "variant": variant,
            "strategy": strategy,
            "gateway": gateway,
            "max_error_rate": max_error_rate,
            "max_p99_seconds": max_p99_seconds,
            "min_requests": min_requests,
        }


def function_path(fn: Callable[..., Any]) -> str | None:
    """``module:qualname`` when that names ``fn`` on import; ``None`` otherwise."""
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", "")
    if not module or "<" in qualname or module == "__main__":
        return None
    try:
        found = import_function(f"{module}:{qualname}")
    except InvalidInputError:
        return None
    return f"{module}:{qualname}" if found is fn else None


def import_function(path: str) -> Callable[..., Any]:
    """The function named ``module:qualname``.

    Raises:
        InvalidInputError: it cannot be imported.
    """
    module_name, _, qualname = path.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as exc:
        raise InvalidInputError(f"function {path} cannot be imported: {exc}") from exc
    if not callable(found):
        raise InvalidInputError(f"{path} is not a function")
    return found  # type: ignore[no-any-return]

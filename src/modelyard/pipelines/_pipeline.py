"""A pipeline: named steps, their parameters, and the checks made before anything runs.

The definition is JSON (:meth:`Pipeline.to_dict`); :func:`validate` checks it whole
(unknown step kinds, inputs from nowhere, parameters never declared, inputs of the
wrong type, cycles) and says the first problem in one line naming the step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from modelyard.errors import InvalidInputError
from modelyard.pipelines._refs import Output, Param, encode, references
from modelyard.pipelines._steps import Step

if TYPE_CHECKING:
    from modelyard.workspace import Workspace

__all__ = ["INPUT_TYPES", "OUTPUTS", "Pipeline", "check_params", "topological_order", "validate"]

# kind -> its outputs and their types; "any" outputs may be walked into freely
OUTPUTS: dict[str, dict[str, str]] = {
    "ingest": {"dataset": "dataset"},
    "train": {"model": "model", "metrics": "metrics", "run_id": "text", "passed": "bool"},
    "condition": {"value": "bool"},
    "fail": {"message": "text"},
    "function": {"value": "any"},
    "deploy": {
        "endpoint": "text",
        "revision": "number",
        "promoted": "bool",
        "deployment": "text",
    },
    "register": {"model": "model"},
    "batch": {"output": "text", "job": "text", "rows": "number"},
    "compare": {
        "better": "bool",
        "candidate": "number",
        "champion": "number",
        "rows": "number",
        "reason": "text",
    },
}
# (kind, argument) -> the type it takes; a parameter holding text is a name for it
INPUT_TYPES: dict[tuple[str, str], str] = {
    ("train", "data"): "dataset",
    ("deploy", "model"): "model",
    ("register", "model"): "model",
    ("batch", "model"): "model",
    ("compare", "candidate"): "model",
    ("compare", "champion"): "model",
    ("compare", "data"): "dataset",
}
_PARAM_TYPES = (bool, int, float, str)


class Pipeline:
    """Steps and parameters, checked and saved as one JSON definition.

    Args:
        name: the pipeline's name in the workspace.
        params: each parameter with its default; a run's values must have the same
            type (an integer is accepted for a float).
    """

    def __init__(self, name: str, params: Mapping[str, Any] | None = None) -> None:
        if not name or not name.replace("-", "_").replace(".", "_").isidentifier():
            raise InvalidInputError(
                f"pipeline name {name!r}: use letters, digits, '-', '_' and '.'"
            )
        self.name = name
        self.params = dict(params or {})
        for key, value in self.params.items():
            if not isinstance(value, _PARAM_TYPES):
                raise InvalidInputError(
                    f"parameter {key}: a default must be text, a number or a boolean, "
                    f"not {type(value).__name__}"
                )
        self.steps: list[Step] = []
        self.functions: dict[str, Callable[..., Any]] = {}

    def param(self, name: str) -> Param:
        """A reference to parameter ``name`` (declared in ``params``)."""
        if name not in self.params:
            raise InvalidInputError(f"parameter {name} is not declared in pipeline {self.name}")
        return Param(name)

    def add(self, *steps: Step) -> Any:
        """Add steps in order; returns the step (or the tuple of steps) for later references."""
        for step in steps:
            if not isinstance(step, Step):
                raise InvalidInputError(f"pipeline {self.name}: {step!r} is not a step")
            if any(step is s for s in self.steps):
                raise InvalidInputError(f"step {step.name} is already in pipeline {self.name}")
            taken = {s.name for s in self.steps}
            if step.named and step.name in taken:
                raise InvalidInputError(
                    f"step {step.name}: pipeline {self.name} has a step of that name already "
                    "(step names are unique: give this one another name=)"
                )
            if step.name is None or step.name in taken:
                base = step.name or step.kind
                step.name = base
                number = 2
                while step.name in taken:
                    step.name = f"{base}-{number}"
                    number += 1
            self.steps.append(step)
            fn = getattr(step, "fn", None)
            if fn is not None:
                self.functions[step.name] = fn
        validate(self.to_dict())
        return steps[0] if len(steps) == 1 else steps

    def to_dict(self) -> dict[str, Any]:
        """The JSON definition: name, parameters and steps in order."""

        def main_output(value: object) -> Output | None:
            if isinstance(value, Step):
                return Output(value._added_name(), (value.main_output,))
            return None

        return {
            "name": self.name,
            "params": dict(self.params),
            "steps": [
                {
                    "name": step.name,
                    "kind": step.kind,
                    "args": encode(step.args, main_output),
                    "when": encode(step.when, main_output),
                    "cache": step.cache,
                    "cache_expires": step.cache_expires,
                    "retries": step.retries,
                    "backoff": step.backoff,
                }
                for step in self.steps
            ],
        }

    def validate(self) -> None:
        """Check the whole definition (see :func:`validate`)."""
        validate(self.to_dict())

    def save(self, workspace: Workspace | None = None) -> None:
        """Store the definition in ``workspace`` (default: the current directory's).

        Raises:
            InvalidInputError: the definition is invalid, or a function step's
                function cannot be imported by name (a lambda, a nested function).
        """
        from modelyard.pipelines._store import PipelineStore
        from modelyard.workspace import Workspace

        if workspace is None:
            with Workspace.open() as opened:
                PipelineStore(opened).save(self)
        else:
            PipelineStore(workspace).save(self)


def validate(definition: Mapping[str, Any]) -> list[str]:
    """Check a definition; returns its step names in an order where inputs come first.

    Raises:
        InvalidInputError: one line naming the step or parameter at fault.
    """
    steps = definition.get("steps")
    params = definition.get("params", {})
    if not isinstance(steps, list) or not isinstance(params, dict):
        raise InvalidInputError("a pipeline definition has a list of steps and a dict of params")
    kinds: dict[str, str] = {}
    for index, step in enumerate(steps):
        name = step.get("name") if isinstance(step, dict) else None
        if not isinstance(name, str) or not name:
            raise InvalidInputError(f"step #{index + 1} has no name")
        if name in kinds:
            raise InvalidInputError(f"step {name}: the name is used twice")
        kind = step.get("kind")
        if kind not in OUTPUTS:
            known = ", ".join(sorted(OUTPUTS))
            raise InvalidInputError(f"step {name}: unknown step kind {kind!r} (known: {known})")
        kinds[name] = kind
    depends: dict[str, set[str]] = {}
    for step in steps:
        name = step["name"]
        depends[name] = set()
        for kind_of, target in references([step.get("args", {}), step.get("when")]):
            if kind_of == "param":
                if target not in params:
                    raise InvalidInputError(f"step {name}: parameter {target} is not declared")
                continue
            source, *path = target
            if source not in kinds:
                raise InvalidInputError(f"step {name}: its input comes from no step {source!r}")
            outputs = OUTPUTS[kinds[source]]
            if path and path[0] not in outputs and "value" not in outputs:
                raise InvalidInputError(
                    f"step {name}: step {source} has no output {path[0]!r} "
                    f"(it has {', '.join(outputs) or 'none'})"
                )
            depends[name].add(source)
        _check_types(step, kinds, params)
        _check_deploy(step)
    return topological_order(depends)


def _check_deploy(step: Mapping[str, Any]) -> None:
    """A deploy step's strategy, when written out, parses (before anything runs)."""
    from modelyard.pipelines._guard import DeployStrategy

    args = step.get("args", {})
    strategy = args.get("strategy") if step["kind"] == "deploy" else None
    if not isinstance(strategy, str):
        return
    try:
        DeployStrategy.parse(strategy)
    except InvalidInputError as exc:
        raise InvalidInputError(f"step {step['name']}: {exc}") from None
    if not args.get("gateway"):
        raise InvalidInputError(
            f"step {step['name']}: a {strategy.split(':')[0]} deployment watches the gateway: "
            "give gateway (its URL, or a list of them)"
        )


def _check_types(
    step: Mapping[str, Any], kinds: Mapping[str, str], params: Mapping[str, Any]
) -> None:
    name, kind, args = step["name"], step["kind"], step.get("args", {})
    for (for_kind, arg), wanted in INPUT_TYPES.items():
        if for_kind != kind or arg not in args:
            continue
        given = _type_of(args[arg], kinds, params)
        if given not in (wanted, "any", "text"):
            raise InvalidInputError(f"step {name}: input {arg} takes a {wanted}, not a {given}")
    when = step.get("when")
    if when is not None:
        given = _type_of(when, kinds, params)
        if given not in ("bool", "any"):
            raise InvalidInputError(f"step {name}: when takes a condition, not a {given}")


def _type_of(value: Any, kinds: Mapping[str, str], params: Mapping[str, Any]) -> str:
    if isinstance(value, dict) and "$output" in value:
        source, *path = value["$output"]
        outputs = OUTPUTS[kinds[source]]
        if "value" in outputs and kinds[source] == "function":
            return "any"
        if len(path) > 1 and outputs.get(path[0]) == "metrics":
            return "number"
        return outputs.get(path[0], "any")
    if isinstance(value, dict) and "$param" in value:
        default = params[value["$param"]]
        return (
            "bool"
            if isinstance(default, bool)
            else "text"
            if isinstance(default, str)
            else "number"
        )
    if isinstance(value, dict) and "$compare" in value:
        return "bool"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "text"
    if isinstance(value, int | float):
        return "number"
    return "any"


def topological_order(depends: Mapping[str, set[str]]) -> list[str]:
    """Step names, each after the steps it depends on (in definition order otherwise).

    Raises:
        InvalidInputError: the steps form a cycle (named).
    """
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = [*trail[trail.index(name) :], name]
            raise InvalidInputError(f"steps {' -> '.join(cycle)} form a cycle")
        state[name] = "visiting"
        for source in sorted(depends[name]):
            visit(source, [*trail, name])
        state[name] = "done"
        order.append(name)

    for name in depends:
        visit(name, [])
    return order


def check_params(declared: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """The run's parameters: defaults overridden by ``given``, each of its default's type.

    Text values (from the command line) are converted to the default's type.

    Raises:
        InvalidInputError: an undeclared parameter, or a value of the wrong type.
    """
    values = dict(declared)
    for key, value in given.items():
        if key not in declared:
            known = ", ".join(sorted(declared)) or "none"
            raise InvalidInputError(f"parameter {key} is not declared (declared: {known})")
        values[key] = _convert(key, declared[key], value)
    return values


def _convert(key: str, default: Any, value: Any) -> Any:
    wanted = type(default)
    if isinstance(value, str) and wanted is not str:
        text = value.strip()
        try:
            if wanted is bool:
                lowered = text.lower()
                if lowered not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError(text)
                return lowered in ("true", "1", "yes")
            return wanted(text)
        except ValueError:
            raise InvalidInputError(
                f"parameter {key}: expected {wanted.__name__}, got {value!r}"
            ) from None
    if wanted is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if type(value) is not wanted:
        raise InvalidInputError(
            f"parameter {key}: expected {wanted.__name__}, got {type(value).__name__} {value!r}"
        )
    return value

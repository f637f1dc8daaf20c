"""A pipeline written as YAML, read into the same JSON definition as the SDK builds.

::

    name: churn-weekly
    params: {min_auc: 0.8}
    steps:
      - {name: data, kind: ingest, path: churn.csv, dataset: churn, target: churned}
      - {name: model, kind: train, data: "${data}", algorithm: linear}
      - {name: gate, kind: condition, check: "${model.metrics.roc_auc} >= ${params.min_auc}"}
      - {name: ship, kind: deploy, model: "${model}", endpoint: churn-api, when: "${gate}"}

``${step}`` is a step's main output, ``${step.key...}`` walks into its outputs and
``${params.name}`` is a parameter; a condition's ``check`` is ``left op right``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from modelyard.errors import InvalidInputError
from modelyard.pipelines._pipeline import OUTPUTS, validate

__all__ = ["definition_from_yaml"]

# kind -> the arguments it takes (train: ``data`` and any TrainingSpec field)
_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "ingest": ("path", "sql", "source", "dataset", "target"),
    "condition": ("check",),
    "fail": ("message",),
    "function": ("function", "inputs", "kwargs"),
    "deploy": (
        "model",
        "endpoint",
        "variant",
        "strategy",
        "gateway",
        "max_error_rate",
        "max_p99_seconds",
        "min_requests",
    ),
    "register": ("model", "status", "alias", "reason"),
    "batch": ("model", "inputs", "output", "keep"),
    "compare": ("candidate", "champion", "endpoint", "data", "metric", "margin", "split"),
}
_COMMON = ("name", "kind", "when", "cache", "cache_expires", "retries", "backoff")
_REFERENCE = re.compile(r"^\$\{\s*([A-Za-z0-9_.\-]+)\s*\}$")
_COMPARISON = re.compile(r"^\s*(.+?)\s*(>=|<=|==|!=|>|<)\s*(.+?)\s*$")


def definition_from_yaml(source: str | Path) -> dict[str, Any]:
    """The definition in a YAML file (a :class:`~pathlib.Path`) or text, checked.

    Raises:
        InvalidInputError: not YAML, or an invalid pipeline (one line naming the step).
        NotFoundError: the file does not exist.
    """
    import yaml

    if isinstance(source, Path):
        if not source.is_file():
            from modelyard.errors import NotFoundError

            raise NotFoundError(f"file {source} not found")
        label, text = str(source), source.read_text(encoding="utf-8")
    else:
        label, text = "the pipeline", source
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"{label} is not valid YAML: {exc}".splitlines()[0]) from None
    if not isinstance(document, dict) or not isinstance(document.get("steps"), list):
        raise InvalidInputError(f"{label}: expected a mapping with name, params and steps")
    name = document.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidInputError(f"{label}: the pipeline has no name")
    params = document.get("params") or {}
    if not isinstance(params, dict):
        raise InvalidInputError(f"{label}: params must be a mapping of name: default")
    kinds: dict[str, str] = {}
    steps = []
    for index, raw in enumerate(document["steps"]):
        if not isinstance(raw, dict):
            raise InvalidInputError(f"step #{index + 1}: expected a mapping")
        steps.append(_step(raw, index, kinds))
    definition = {"name": name, "params": params, "steps": steps}
    validate(definition)
    return definition


def _step(raw: dict[str, Any], index: int, kinds: dict[str, str]) -> dict[str, Any]:
    kind = raw.get("kind")
    name = str(raw.get("name") or f"{kind}-{index + 1}")
    if kind not in OUTPUTS:
        known = ", ".join(sorted(OUTPUTS))
        raise InvalidInputError(f"step {name}: unknown step kind {kind!r} (known: {known})")
    kinds[name] = kind
    given = {k: v for k, v in raw.items() if k not in _COMMON}
    if kind == "train":
        if "data" not in given:
            raise InvalidInputError(f"step {name}: a train step needs data")
        data = given.pop("data")
        args: dict[str, Any] = {"data": _value(data, kinds), "spec": _value(given, kinds)}
    else:
        unknown = sorted(set(given) - set(_ARGUMENTS[kind]))
        if unknown:
            takes = ", ".join(_ARGUMENTS[kind])
            raise InvalidInputError(
                f"step {name}: unknown argument {unknown[0]!r} for a {kind} step (takes: {takes})"
            )
        args = {key: None for key in _ARGUMENTS[kind]}
        if kind == "function":
            args.update(inputs=[], kwargs={})
        for key, value in given.items():
            args[key] = _check(value, kinds) if key == "check" else _value(value, kinds)
    when = raw.get("when")
    return {
        "name": name,
        "kind": kind,
        "args": args,
        "when": None if when is None else _check(when, kinds),
        "cache": bool(raw.get("cache", True)),
        "cache_expires": raw.get("cache_expires"),
        "retries": raw.get("retries", 0),
        "backoff": raw.get("backoff", 1.0),
    }


def _check(value: Any, kinds: dict[str, str]) -> Any:
    """A condition: a reference alone, or ``left op right``."""
    if not isinstance(value, str) or _REFERENCE.match(value):
        return _value(value, kinds)
    match = _COMPARISON.match(value)
    if match is None:
        raise InvalidInputError(f"condition {value!r}: write it as 'left op right'")
    left, op, right = match.groups()
    return {"$compare": [_operand(left, kinds), op, _operand(right, kinds)]}


def _operand(text: str, kinds: dict[str, str]) -> Any:
    import yaml

    if _REFERENCE.match(text):
        return _value(text, kinds)
    return yaml.safe_load(text)


def _value(value: Any, kinds: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {str(k): _value(v, kinds) for k, v in value.items()}
    if isinstance(value, list):
        return [_value(v, kinds) for v in value]
    if not isinstance(value, str):
        return value
    match = _REFERENCE.match(value)
    if match is None:
        return value
    head, *path = match.group(1).split(".")
    if head == "params":
        if len(path) != 1:
            raise InvalidInputError(f"{value}: write a parameter as ${{params.name}}")
        return {"$param": path[0]}
    if not path and head in kinds:
        path = [next(iter(OUTPUTS[kinds[head]]))]  # a step alone: its main output
    return {"$output": [head, *path]}

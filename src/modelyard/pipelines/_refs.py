"""References between steps: a step's output, a pipeline parameter, a comparison.

A pipeline is data: every argument of a step is JSON, and a value that comes from
elsewhere is a reference (``{"$output": [step, key, ...]}``, ``{"$param": name}``,
``{"$compare": [left, op, right]}``). The SDK's objects below encode to that form,
so a pipeline built in Python and one read back from the database are the same.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from modelyard.errors import InvalidInputError

__all__ = ["Comparison", "Output", "Param", "encode", "references", "resolve"]

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}


class _Comparable:
    """Comparing a reference builds a :class:`Comparison` for a ``Condition`` step."""

    def __ge__(self, other: object) -> Comparison:
        return Comparison(self, ">=", other)

    def __gt__(self, other: object) -> Comparison:
        return Comparison(self, ">", other)

    def __le__(self, other: object) -> Comparison:
        return Comparison(self, "<=", other)

    def __lt__(self, other: object) -> Comparison:
        return Comparison(self, "<", other)

    def eq(self, other: object) -> Comparison:
        """``self == other`` as a comparison (``==`` itself keeps its Python meaning)."""
        return Comparison(self, "==", other)

    def ne(self, other: object) -> Comparison:
        """``self != other`` as a comparison."""
        return Comparison(self, "!=", other)


@dataclass(frozen=True, eq=False)
class Output(_Comparable):
    """An output of a step: ``path`` walks into it (``("metrics", "roc_auc")``)."""

    step: str
    path: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Param(_Comparable):
    """A pipeline parameter, given a value when the pipeline runs."""

    name: str


@dataclass(frozen=True, eq=False)
class Comparison:
    """``left op right``: true or false once the pipeline runs."""

    left: object
    op: str
    right: object


def encode(value: object, name_of: Callable[[object], Output | None]) -> Any:
    """The JSON form of ``value``; ``name_of`` turns a step object into its default output."""
    output = name_of(value)
    if output is not None:
        value = output
    if isinstance(value, Output):
        return {"$output": [value.step, *value.path]}
    if isinstance(value, Param):
        return {"$param": value.name}
    if isinstance(value, Comparison):
        if value.op not in _OPERATORS:
            raise InvalidInputError(f"unknown comparison {value.op!r}")
        return {"$compare": [encode(value.left, name_of), value.op, encode(value.right, name_of)]}
    if isinstance(value, Mapping):
        return {str(k): encode(v, name_of) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v, name_of) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise InvalidInputError(
        f"a step argument must be JSON, a step, an output or a parameter, not {value!r}"
    )


def references(value: Any) -> Iterator[tuple[str, Any]]:
    """Every reference in an encoded value: ``("output", [step, *path])`` or ``("param", name)``."""
    if isinstance(value, dict):
        if "$output" in value:
            yield "output", value["$output"]
        elif "$param" in value:
            yield "param", value["$param"]
        elif "$compare" in value:
            left, _, right = value["$compare"]
            yield from references(left)
            yield from references(right)
        else:
            for item in value.values():
                yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


def resolve(value: Any, outputs: Mapping[str, Any], params: Mapping[str, Any]) -> Any:
    """An encoded value with its references replaced by what they stand for."""
    if isinstance(value, dict):
        if "$output" in value:
            step, *path = value["$output"]
            found = outputs[step]
            for key in path:
                if not isinstance(found, dict) or key not in found:
                    shown = ".".join(path)
                    raise InvalidInputError(f"step {step} has no output {shown}")
                found = found[key]
            return found
        if "$param" in value:
            return params[value["$param"]]
        if "$compare" in value:
            left, op, right = value["$compare"]
            a, b = resolve(left, outputs, params), resolve(right, outputs, params)
            try:
                return bool(_OPERATORS[op](a, b))
            except TypeError as exc:
                raise InvalidInputError(f"cannot compare {a!r} {op} {b!r}") from exc
        return {k: resolve(v, outputs, params) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, outputs, params) for v in value]
    return value

"""Search-space overrides: the catalog's space, with some dimensions narrowed or
replaced from YAML (``tune --space space.yaml``)::

    learning_rate: {low: 0.02, high: 0.1, log: true}
    num_leaves: {low: 16, high: 64}
    boosting_type: {choices: [gbdt, dart]}

A name the catalog's space does not suggest is refused, so a typo never leaves a
study tuning what the user meant to fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from modelyard.errors import InvalidInputError

if TYPE_CHECKING:
    from modelyard.training import Algorithm, Task
    from modelyard.training._catalog import SearchSpace

__all__ = ["OverriddenSpace", "check_overrides", "read_space"]


def read_space(path: str | Path) -> dict[str, dict[str, Any]]:
    """The overrides in the YAML file at ``path``.

    Raises:
        InvalidInputError: the file is missing, not YAML, or not ``NAME: {low, high}``
            / ``NAME: {choices: [...]}`` entries.
    """
    import yaml

    try:
        loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInputError(f"cannot read search space {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"search space {path} is not valid YAML: {exc}") from None
    if not isinstance(loaded, dict):
        raise InvalidInputError(f"search space {path} must map parameter names to ranges")
    for name, entry in loaded.items():
        ok = isinstance(entry, dict) and (
            ("choices" in entry and isinstance(entry["choices"], list) and entry["choices"])
            or (
                {"low", "high"} <= set(entry)
                and all(isinstance(entry[k], int | float) for k in ("low", "high"))
                and entry["low"] <= entry["high"]
            )
        )
        if not ok:
            raise InvalidInputError(
                f"search space {path}: {name!r} needs {{low, high[, log]}} with low <= high, "
                "or {choices: [...]}",
                details={"parameter": str(name)},
            )
    return {str(k): v for k, v in loaded.items()}


class OverriddenSpace:
    """A :class:`~modelyard.training.SearchSpace` that answers each suggestion from
    the overrides when they name it, and from the wrapped trial as it was asked
    otherwise."""

    def __init__(self, trial: SearchSpace, overrides: dict[str, dict[str, Any]]) -> None:
        self.trial, self.overrides = trial, overrides

    def _override(self, name: str) -> Any:
        entry = self.overrides[name]
        if "choices" in entry:
            return self.trial.suggest_categorical(name, list(entry["choices"]))
        low, high, log = entry["low"], entry["high"], bool(entry.get("log", False))
        if isinstance(low, int) and isinstance(high, int):
            return self.trial.suggest_int(name, low, high, log=log)
        return self.trial.suggest_float(name, float(low), float(high), log=log)

    def suggest_float(self, name: str, low: float, high: float, *, log: bool = False) -> float:
        if name in self.overrides:
            return cast(float, self._override(name))
        return self.trial.suggest_float(name, low, high, log=log)

    def suggest_int(self, name: str, low: int, high: int, *, log: bool = False) -> int:
        if name in self.overrides:
            return cast(int, self._override(name))
        return self.trial.suggest_int(name, low, high, log=log)

    def suggest_categorical(self, name: str, choices: list[Any]) -> Any:
        if name in self.overrides:
            return self._override(name)
        return self.trial.suggest_categorical(name, choices)


def check_overrides(algorithm: Algorithm, task: Task, overrides: dict[str, dict[str, Any]]) -> None:
    """Refuse overrides of parameters the algorithm's space does not tune.

    Raises:
        InvalidInputError: naming the unknown parameters and the known ones.
    """
    from modelyard.automl._study import grid_space

    known = set(grid_space(algorithm, task))
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise InvalidInputError(
            f"search space overrides unknown parameter(s) of {algorithm.name}: "
            f"{', '.join(unknown)}; its space tunes {', '.join(sorted(known))}",
            details={"unknown": unknown},
        )

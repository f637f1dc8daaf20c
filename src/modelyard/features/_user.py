"""The user's recipe: steps written in YAML or as SDK objects, checked, then fitted.

A :class:`Recipe` is a list of :class:`RecipeStep` (a kind and its arguments,
exactly the YAML form ``- kind: arguments``). :meth:`Recipe.plan` checks it
against a dataset's columns before anything is fitted (a missing column, a wrong
argument, a bad expression, a column used before the step that makes it: one
line naming the step by number and kind) and works out which raw columns the
model will read; :meth:`Recipe.fit` then fits each step on the training rows, in
order, into the steps of :mod:`._derive` and :mod:`._steps`. One walk over the
steps does both, so what is checked is what is fitted.

Columns the recipe does not encode itself get the schema-driven defaults at the
end (numbers filled and flagged, categories one-hot / ordinal / target encoded),
as without a recipe; a text column left unencoded is not used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from modelyard.errors import InvalidInputError
from modelyard.features._derive import (
    Bucket,
    Cast,
    Clip,
    DateParts,
    DaysBetween,
    Deduplicate,
    Derived,
    Drop,
    Fill,
    Function,
    GroupFill,
    Power,
    Rename,
    RowFilter,
    TextStats,
    Tfidf,
    cast,
    domain_words,
    outside_domain,
)
from modelyard.features._expr import Expression
from modelyard.features._read import DATETIME_PARTS, MISSING_CATEGORY
from modelyard.features._steps import (
    FitData,
    Impute,
    MissingFlag,
    OneHot,
    Ordinal,
    RecipeOptions,
    Step,
    TargetMean,
)

if TYPE_CHECKING:
    from modelyard.data import ColumnSchema
    from modelyard.features._adapter import InputAdapter

__all__ = ["Recipe", "RecipeStep"]

KINDS = (
    "drop",
    "rename",
    "cast",
    "impute",
    "clip",
    "log1p",
    "log",
    "sqrt",
    "power",
    "ratio",
    "arithmetic",
    "date_parts",
    "days_between",
    "bucket",
    "one_hot",
    "ordinal",
    "target",
    "scale",
    "text",
    "text_stats",
    "filter",
    "deduplicate",
)
_STRATEGIES = ("constant", "median", "mean", "mode")
_DATE_PARTS = {"year": "year", "month": "month", "weekday": "dayofweek", "dayofweek": "dayofweek"}
_DATE_PARTS["hour"] = "hour"


@dataclass(frozen=True)
class RecipeStep:
    """One step as the user writes it: ``RecipeStep("log1p", ["total_charges"])`` is
    the YAML ``- log1p: [total_charges]``."""

    kind: str
    args: Any = None

    def to_dict(self) -> dict[str, Any]:
        """The YAML form: ``{kind: args}``."""
        return {self.kind: self.args}


@dataclass(frozen=True)
class Recipe:
    """A user's feature recipe (see the module docstring)."""

    steps: tuple[RecipeStep, ...] = field(default_factory=tuple)

    def __init__(self, steps: Sequence[RecipeStep | Mapping[str, Any]] = ()) -> None:
        object.__setattr__(self, "steps", tuple(_step(item, i) for i, item in enumerate(steps, 1)))

    @classmethod
    def from_yaml(cls, text: str) -> Recipe:
        """A recipe from YAML text (``steps:`` then a list of ``- kind: arguments``).

        Raises:
            InvalidInputError: not YAML, or not that shape.
        """
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise InvalidInputError(f"recipe is not valid YAML: {error}") from None
        return cls.from_dict(data)

    @classmethod
    def from_file(cls, path: str | Path) -> Recipe:
        """A recipe from a YAML file.

        Raises:
            InvalidInputError: the file cannot be read, or its recipe is malformed
                (the message names the file).
        """
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise InvalidInputError(f"cannot read recipe {str(path)!r}: {error}") from None
        try:
            return cls.from_yaml(text)
        except InvalidInputError as error:
            raise InvalidInputError(f"{path}: {error.message}", details=error.details) from None

    @classmethod
    def from_dict(cls, data: Any) -> Recipe:
        """A recipe from ``{"steps": [...]}`` or a plain list of steps."""
        if isinstance(data, Mapping):
            data = data.get("steps")
        if not isinstance(data, list):
            raise InvalidInputError("a recipe is 'steps:' followed by a list of steps")
        return cls(data)

    def to_dict(self) -> dict[str, Any]:
        """JSON/YAML-ready form."""
        return {"steps": [step.to_dict() for step in self.steps]}

    def to_yaml(self) -> str:
        """The YAML form."""
        import yaml

        return str(yaml.safe_dump(self.to_dict(), sort_keys=False))

    def filters(self) -> list[RowFilter]:
        """The training-only row filters."""
        return [
            RowFilter(tuple(Expression(s.args, condition=True).names), s.args)
            for s in self.steps
            if s.kind == "filter"
        ]

    def training_rows(self, frame: Any) -> npt.NDArray[np.bool_]:
        """Which rows of a training frame (a DataFrame) the recipe's filters and
        de-duplication keep (all when it has neither)."""
        keep = np.ones(len(frame), dtype=bool)
        for step in self.steps:
            if step.kind == "deduplicate":
                subset = None if step.args is True else _names(step.args)
                keep &= ~frame.duplicated(subset=subset).to_numpy()
        for row_filter in self.filters():
            table = {
                name: np.asarray(frame[name].to_numpy(dtype=np.float64, na_value=np.nan))
                for name in row_filter.columns
            }
            keep &= row_filter.keep(table)
        return keep

    def plan(self, columns: Sequence[ColumnSchema]) -> InputAdapter:
        """Check the recipe against a dataset's columns and return the adapter for
        the raw columns it reads.

        Raises:
            InvalidInputError: ``recipe step N (kind): problem`` for the first bad step.
        """
        from modelyard.data import LogicalType, Role
        from modelyard.features._adapter import InputAdapter

        kinds: dict[str, str] = {}
        for column in columns:
            if column.role is not Role.FEATURE:
                continue
            kind = _KIND_OF_TYPE.get(column.logical_type.value)
            if kind is not None:
                kinds[column.name] = kind
        walk = _Walk(self, kinds, None)
        walk.unused = {c.name for c in columns} - set(kinds)
        walk.run()
        types = {c.name: c.logical_type for c in columns}
        read = [name for name in kinds if name in walk.used or name in walk.final]
        read = [n for n in read if kinds[n] != "text" or n in walk.used]

        def of(*wanted: LogicalType) -> tuple[str, ...]:
            return tuple(n for n in read if types[n] in wanted)

        adapter = InputAdapter(
            numeric=of(LogicalType.NUMERIC, LogicalType.INTEGER),
            boolean=of(LogicalType.BOOLEAN),
            categorical=of(LogicalType.CATEGORICAL, LogicalType.TEXT, LogicalType.IDENTIFIER),
            datetime=of(LogicalType.DATETIME),
        )
        if not adapter.raw_columns:
            raise InvalidInputError("the recipe leaves no feature columns")
        return adapter

    def fit(
        self,
        adapter: InputAdapter,
        adapted: Mapping[str, npt.NDArray[Any]],
        target: npt.NDArray[np.float64] | None,
        options: RecipeOptions,
    ) -> list[Step]:
        """Fit every step on the training rows' adapted columns, in order; the
        columns left unencoded get the default steps at the end."""
        kinds = dict(adapter.kinds())
        for name, kind in kinds.items():
            if kind == "boolean":
                kinds[name] = "numeric"
            elif kind == "categorical" and name in self._text_columns():
                kinds[name] = "text"
        walk = _Walk(self, kinds, (dict(adapted), target, options))
        walk.run()
        return [*walk.derives, *walk.defaults(), *walk.outputs]

    def _text_columns(self) -> set[str]:
        names = {
            str(s.args.get("column"))
            for s in self.steps
            if s.kind == "text" and isinstance(s.args, Mapping)
        }
        for step in self.steps:
            if step.kind == "text_stats":
                names.update([step.args] if isinstance(step.args, str) else step.args or [])
        return names


_KIND_OF_TYPE = {
    "numeric": "numeric",
    "integer": "numeric",
    "boolean": "numeric",
    "categorical": "categorical",
    "datetime": "datetime",
    "text": "text",
}


def _step(item: RecipeStep | Mapping[str, Any], index: int) -> RecipeStep:
    if isinstance(item, RecipeStep):
        step = item
    elif isinstance(item, Mapping) and len(item) == 1:
        ((kind, args),) = item.items()
        step = RecipeStep(str(kind), args)
    else:
        raise InvalidInputError(f"recipe step {index}: write it as '- kind: arguments'")
    if step.kind not in KINDS:
        raise InvalidInputError(
            f"recipe step {index} ({step.kind}): unknown kind; use one of {', '.join(KINDS)}"
        )
    return step


class _StepError(Exception):
    """A step's problem, raised inside the walk and reported with its step."""


class _Walk:
    """One pass over the steps: checks each against the columns it has so far and,
    with training rows (``fitting``), fits it."""

    def __init__(
        self,
        recipe: Recipe,
        kinds: dict[str, str],
        fitting: tuple[dict[str, npt.NDArray[Any]], npt.NDArray[np.float64] | None, RecipeOptions]
        | None,
    ) -> None:
        self.recipe = recipe
        self.kinds = dict(kinds)  # current column -> numeric / categorical / datetime / text
        self.origin = {name: name for name in kinds}  # current column -> raw column
        self.raw_kinds = dict(kinds)
        self.used: set[str] = set()
        self.encoded: set[str] = set()
        self.derives: list[Step] = []
        self.outputs: list[Step] = []
        self.table: dict[str, npt.NDArray[Any]] | None = None
        self.target: npt.NDArray[np.float64] | None = None
        self.options: RecipeOptions | None = None
        if fitting is not None:
            self.table, self.target, self.options = fitting
        self.later: dict[str, int] = {}
        self.dated: dict[str, int] = {}  # datetime column -> the date_parts step that split it
        # columns of the dataset the model does not read (identifiers, the
        # target): dropping one is allowed and does nothing; None when fitting
        self.unused: set[str] | None = None
        for index, step in enumerate(recipe.steps, 1):
            if step.kind in ("ratio", "arithmetic", "days_between") and isinstance(
                step.args, Mapping
            ):
                self.later.setdefault(str(step.args.get("name")), index)
            if step.kind == "rename" and isinstance(step.args, Mapping):
                for new in step.args.values():
                    self.later.setdefault(str(new), index)

    @property
    def final(self) -> set[str]:
        """Raw columns behind the columns still present at the end."""
        return {self.origin[name] for name in self.kinds if name not in self.encoded}

    def run(self) -> None:
        for index, step in enumerate(self.recipe.steps, 1):
            self.index = index
            try:
                getattr(self, f"_{step.kind}")(step.args)
            except _StepError as problem:
                raise InvalidInputError(
                    f"recipe step {index} ({step.kind}): {problem}",
                    details={"step": index, "kind": step.kind},
                ) from None
            except InvalidInputError as error:
                raise InvalidInputError(
                    f"recipe step {index} ({step.kind}): {error.message}",
                    details={"step": index, "kind": step.kind},
                ) from None

    # -- argument helpers ----------------------------------------------------------

    def column(self, name: Any, *allowed: str) -> str:
        if not isinstance(name, str) or not name:
            raise _StepError("needs a column name")
        if name not in self.kinds:
            later = self.later.get(name)
            if later is not None and later >= self.index:
                raise _StepError(
                    f"column {name!r} is made by step {later}, not before this one "
                    "(a cycle or steps out of order)"
                )
            raise _StepError(f"no column {name!r}")
        if name in self.encoded:
            raise _StepError(f"column {name!r} was already encoded by an earlier step")
        if allowed and self.kinds[name] not in allowed:
            raise _StepError(
                f"column {name!r} is {self.kinds[name]}; this step takes {' or '.join(allowed)}"
            )
        self.used.add(self.origin[name])
        return name

    def columns(self, args: Any, *allowed: str) -> list[str]:
        names = [args] if isinstance(args, str) else args
        if not isinstance(names, list) or not names:
            raise _StepError("needs a column name or a list of them")
        return [self.column(name, *allowed) for name in names]

    @staticmethod
    def mapping(args: Any, required: Sequence[str], optional: Sequence[str] = ()) -> dict[str, Any]:
        if not isinstance(args, Mapping):
            raise _StepError(f"needs a mapping with {', '.join(required)}")
        unknown = [key for key in args if key not in (*required, *optional)]
        if unknown:
            raise _StepError(f"unknown argument(s) {', '.join(map(str, unknown))}")
        missing = [key for key in required if key not in args]
        if missing:
            raise _StepError(f"missing argument(s) {', '.join(missing)}")
        return dict(args)

    def values(self, name: str) -> npt.NDArray[Any]:
        assert self.table is not None
        return self.table[name]

    def derive(self, step: Step) -> None:
        self.derives.append(step)
        if self.table is not None:
            step.rewrite(self.table)  # type: ignore[attr-defined]  # a Derive

    def new_column(self, name: Any, kind: str, inputs: list[str]) -> str:
        if not isinstance(name, str) or not name.isidentifier():
            raise _StepError(f"the new column's name {name!r} must be a plain identifier")
        if name in self.kinds:
            raise _StepError(f"column {name!r} already exists")
        self.kinds[name] = kind
        self.origin[name] = self.origin[inputs[0]] if inputs else name
        return name

    def fit_data(self) -> FitData:
        assert self.table is not None and self.options is not None
        return FitData(self.table, self.target, self.options)

    # -- the steps -----------------------------------------------------------------

    def _drop(self, args: Any) -> None:
        names = [args] if isinstance(args, str) else args
        if not isinstance(names, list) or not names:
            raise _StepError("needs a column name or a list of them")
        dropped: list[str] = []
        for name in names:
            if name not in self.kinds:
                if self.unused is None or name in self.unused:
                    continue
                raise _StepError(f"no column {name!r}")
            if self.kinds.pop(name) == "datetime":
                dropped += [f"{name}__{part}" for part in DATETIME_PARTS]
            else:
                dropped.append(name)
        self.derive(Drop(tuple(dropped)))

    def _rename(self, args: Any) -> None:
        if not isinstance(args, Mapping) or not args:
            raise _StepError("needs a mapping of old name to new name")
        for old, new in args.items():
            self.column(old, "numeric", "categorical", "text")
            kind = self.kinds.pop(old)
            self.kinds[new] = kind
            self.origin[new] = self.origin.pop(old)
            if not isinstance(new, str) or not new:
                raise _StepError(f"the new name of {old!r} must be text")
            self.derive(Rename((old,), new))

    def _cast(self, args: Any) -> None:
        spec = self.mapping(args, ("column", "to"))
        if spec["to"] not in ("numeric", "categorical"):
            raise _StepError("'to' must be numeric or categorical")
        name = self.column(spec["column"], "numeric", "categorical")
        self.kinds[name] = spec["to"]
        self.derive(Cast((name,), spec["to"]))

    def _impute(self, args: Any) -> None:
        spec = self.mapping(args, ("column", "strategy"), ("value", "by"))
        strategy = spec["strategy"]
        if strategy not in _STRATEGIES:
            raise _StepError(f"strategy must be {', '.join(_STRATEGIES[:-1])} or mode")
        name = self.column(spec["column"], "numeric", "categorical")
        numeric = self.kinds[name] == "numeric"
        if "by" in spec:
            self._impute_by_group(name, spec["by"], strategy, numeric)
            return
        if strategy == "constant":
            value = spec.get("value")
            if value is None or (numeric and isinstance(value, str)):
                raise _StepError(
                    f"strategy constant needs a {'number' if numeric else 'text'} value"
                )
        elif strategy in ("median", "mean") and not numeric:
            raise _StepError(f"column {name!r} is categorical: use mode or constant")
        else:
            value = None
        if self.table is None:
            self.derive(Fill((name,), 0.0))
            return
        values = self.values(name)
        if value is None:
            value = _learn_fill(values, strategy, numeric)
        self.derive(Fill((name,), float(value) if numeric else str(value)))

    def _impute_by_group(self, name: str, by: Any, strategy: str, numeric: bool) -> None:
        """Each group's statistic of the column (its training rows'), the overall
        statistic for a missing or unseen group (``SimpleImputer`` per
        ``groupby``)."""
        if strategy == "constant":
            raise _StepError(
                "a constant is the same for every group: drop 'by', or use median, mean or mode"
            )
        if strategy in ("median", "mean") and not numeric:
            raise _StepError(f"column {name!r} is categorical: use mode")
        group = self.column(by, "numeric", "categorical")
        if group == name:
            raise _StepError(f"column {name!r} cannot be its own group")
        if self.table is None:
            self.derive(GroupFill((name, group), (), (), 0.0))
            return
        values, keys = self.values(name), self.values(group)
        if keys.dtype != object:
            keys = cast(group, keys, "categorical")
        default = _learn_fill(values, strategy, numeric)
        labels, inverse = np.unique(keys, return_inverse=True)
        order = np.argsort(inverse, kind="stable")
        bounds = np.cumsum(np.bincount(inverse, minlength=len(labels)))[:-1]
        groups: list[str] = []
        fills: list[float | str] = []
        for label, rows in zip(labels.tolist(), np.split(order, bounds), strict=True):
            part = values[rows]
            if label == MISSING_CATEGORY or not _present(part, numeric).any():
                continue  # the default's
            groups.append(str(label))
            fills.append(_learn_fill(part, strategy, numeric))
        self.derive(GroupFill((name, group), tuple(groups), tuple(fills), default))

    def _clip(self, args: Any) -> None:
        spec = self.mapping(args, ("column",), ("quantiles", "min", "max"))
        name = self.column(spec["column"], "numeric")
        if "quantiles" in spec:
            q = spec["quantiles"]
            if (
                not isinstance(q, list)
                or len(q) != 2
                or not all(isinstance(v, (int, float)) and 0 <= v <= 1 for v in q)
                or q[0] >= q[1]
            ):
                raise _StepError("quantiles must be [low, high] between 0 and 1, low < high")
            if self.table is None:
                low, high = 0.0, 0.0
            else:
                values = self.values(name)
                present = values[~np.isnan(values)]
                if present.size == 0:
                    raise _StepError(f"column {name!r} has no training values to take quantiles of")
                low, high = (float(v) for v in np.quantile(present, q))
            self.derive(Clip((name,), low, high))
            return
        bounds = [spec.get("min"), spec.get("max")]
        if all(b is None for b in bounds) or not all(
            b is None or isinstance(b, (int, float)) for b in bounds
        ):
            raise _StepError("needs quantiles: [low, high], or numeric min and/or max")
        low_bound, high_bound = (None if b is None else float(b) for b in bounds)
        self.derive(Clip((name,), low_bound, high_bound))

    def _function(self, function: str, args: Any) -> None:
        names = self.columns(args, "numeric")
        if self.table is not None:
            for name in names:
                values = self.values(name)
                bad = outside_domain(function, values)
                if bad.any():
                    raise _StepError(
                        f"column {name!r} has training values that are not "
                        f"{domain_words(function)} (e.g. {values[bad][0]:g})"
                    )
        self.derive(Function(tuple(names), function))

    def _log1p(self, args: Any) -> None:
        self._function("log1p", args)

    def _log(self, args: Any) -> None:
        self._function("log", args)

    def _sqrt(self, args: Any) -> None:
        self._function("sqrt", args)

    def _power(self, args: Any) -> None:
        spec = self.mapping(args, ("column",), ("method",))
        method = spec.get("method", "yeo-johnson")
        if method not in ("yeo-johnson", "box-cox"):
            raise _StepError("method must be yeo-johnson or box-cox")
        name = self.column(spec["column"], "numeric")
        lam = 1.0
        if self.table is not None:
            values = self.values(name)
            present = values[~np.isnan(values)]
            if method == "box-cox" and (present <= 0).any():
                raise _StepError(
                    f"column {name!r} has training values that are not greater than 0 "
                    f"(e.g. {present[present <= 0][0]:g}); Box-Cox needs positive values"
                )
            if present.size > 1 and np.ptp(present) > 0:
                from sklearn.preprocessing import PowerTransformer

                fitted = PowerTransformer(method=method, standardize=False)
                lam = float(fitted.fit(present.reshape(-1, 1)).lambdas_[0])
        self.derive(Power((name,), method, lam))

    def _text_stats(self, args: Any) -> None:
        for name in self.columns(args, "text", "categorical"):
            for part in ("chars", "words"):
                self.new_column(f"{name}__{part}", "numeric", [name])
            self.derive(TextStats((name,)))

    def _ratio(self, args: Any) -> None:
        spec = self.mapping(args, ("name", "numerator", "denominator"))
        top = self.column(spec["numerator"], "numeric")
        bottom = self.column(spec["denominator"], "numeric")
        name = self.new_column(spec["name"], "numeric", [top, bottom])
        self.derive(Derived((top, bottom), name, f"{top} / {bottom}"))

    def _arithmetic(self, args: Any) -> None:
        spec = self.mapping(args, ("name", "expression"))
        if not isinstance(spec["expression"], str):
            raise _StepError("expression must be text")
        try:
            parsed = Expression(spec["expression"])
        except ValueError as error:
            raise _StepError(str(error)) from None
        inputs = [self.column(name, "numeric") for name in parsed.names]
        name = self.new_column(spec["name"], "numeric", inputs)
        self.derive(Derived(tuple(inputs), name, spec["expression"]))

    def _date_parts(self, args: Any) -> None:
        spec = self.mapping(args, ("column",), ("parts", "days_since"))
        name = self.column(spec["column"], "datetime")
        parts = spec.get("parts", ["year", "month", "weekday"])
        if not isinstance(parts, list) or any(p not in _DATE_PARTS for p in parts):
            raise _StepError(f"parts must be a list of {', '.join(_DATE_PARTS)}")
        since = spec.get("days_since", False)
        reference: float | None = None
        if since is True:
            if self.table is not None:  # the latest training date
                days = self.values(f"{name}__days_since_ref")
                present = days[~np.isnan(days)]
                reference = float(present.max()) if present.size else 0.0
            else:
                reference = 0.0
        elif isinstance(since, str):
            reference = _days_of(since)
        elif since is not False:
            raise _StepError("days_since must be true, false or a date (YYYY-MM-DD)")
        kept = tuple(dict.fromkeys(_DATE_PARTS[p] for p in parts))
        del self.kinds[name]
        self.dated[name] = self.index
        for part in kept:
            self.new_column(f"{name}__{part}", "numeric", [])
            self.origin[f"{name}__{part}"] = self.origin.get(name, name)
        if reference is not None:
            self.new_column(f"{name}__days_since", "numeric", [])
            self.origin[f"{name}__days_since"] = self.origin.get(name, name)
        self.derive(DateParts((name,), kept, reference))

    def _days_between(self, args: Any) -> None:
        spec = self.mapping(args, ("name", "start", "end"))
        ends = []
        for key in ("start", "end"):
            given = spec[key]
            if isinstance(given, str) and given in self.dated and given not in self.kinds:
                raise _StepError(
                    f"column {given!r} was split into its date parts by step "
                    f"{self.dated[given]}; put days_between before that step"
                )
            ends.append(self.column(given, "datetime"))
        start, end = ends
        name = self.new_column(spec["name"], "numeric", [start, end])
        self.derive(DaysBetween((start, end), name))

    def _bucket(self, args: Any) -> None:
        spec = self.mapping(args, ("column",), ("edges", "quantiles"))
        name = self.column(spec["column"], "numeric")
        if "edges" in spec:
            edges = spec["edges"]
            if (
                not isinstance(edges, list)
                or not edges
                or not all(isinstance(v, (int, float)) for v in edges)
                or sorted(edges) != edges
            ):
                raise _StepError("edges must be an increasing list of numbers")
            learned = tuple(float(v) for v in edges)
        elif isinstance(spec.get("quantiles"), int) and spec["quantiles"] >= 2:
            learned = ()
            if self.table is not None:
                values = self.values(name)
                present = values[~np.isnan(values)]
                inner = np.linspace(0, 1, spec["quantiles"] + 1)[1:-1]
                qs = np.quantile(present, inner) if present.size else np.zeros(0)
                learned = tuple(float(v) for v in np.unique(qs))
        else:
            raise _StepError("needs edges: [..] or quantiles: N (N >= 2)")
        self.encoded.add(name)
        self.outputs.append(Bucket((name,), learned))

    def _encode(self, kind: type[Step], args: Any) -> None:
        for name in self.columns(args, "categorical"):
            if kind is TargetMean and self.table is not None and self.target is None:
                raise _StepError("target encoding needs the target")
            self.encoded.add(name)
            if self.table is not None:
                self.outputs.append(kind.fit((name,), self.fit_data()))

    def _one_hot(self, args: Any) -> None:
        self._encode(OneHot, args)

    def _ordinal(self, args: Any) -> None:
        self._encode(Ordinal, args)

    def _target(self, args: Any) -> None:
        self._encode(TargetMean, args)

    def _scale(self, args: Any) -> None:
        names = self.columns(args, "numeric")
        self.encoded.update(names)
        if self.table is not None:
            data = FitData(self.table, self.target, RecipeOptions(scale=True))
            self.outputs.append(Impute.fit(tuple(names), data))

    def _text(self, args: Any) -> None:
        spec = self.mapping(args, ("column",), ("method", "max_features", "ngrams"))
        name = self.column(spec["column"], "text", "categorical")
        if spec.get("method", "tfidf") != "tfidf":
            raise _StepError("method must be tfidf")
        most = spec.get("max_features", 2000)
        ngrams = spec.get("ngrams", [1, 1])
        if not isinstance(most, int) or most < 1:
            raise _StepError("max_features must be a positive integer")
        if (
            not isinstance(ngrams, list)
            or len(ngrams) != 2
            or not all(isinstance(n, int) and n >= 1 for n in ngrams)
            or ngrams[0] > ngrams[1]
        ):
            raise _StepError("ngrams must be [low, high] with 1 <= low <= high")
        self.encoded.add(name)
        if self.table is not None:
            self.outputs.append(_fit_tfidf(name, self.values(name), most, (ngrams[0], ngrams[1])))

    def _deduplicate(self, args: Any) -> None:
        if args is True:
            self.derives.append(Deduplicate(()))
            return
        names = _names(args)
        if not names:
            raise _StepError("needs true (all columns) or a list of column names")
        for name in names:
            if name not in self.raw_kinds:
                raise _StepError(f"no column {name!r} (de-duplication reads the dataset's rows)")
        self.derives.append(Deduplicate(tuple(names)))

    def _filter(self, args: Any) -> None:
        if not isinstance(args, str):
            raise _StepError("needs a condition such as 'tenure_months >= 0'")
        try:
            parsed = Expression(args, condition=True)
        except ValueError as error:
            raise _StepError(str(error)) from None
        for name in parsed.names:  # read from the training rows as stored
            if self.raw_kinds.get(name) != "numeric":
                raise _StepError(
                    f"a filter reads numeric columns of the dataset; {name!r} is not one"
                )
        self.derives.append(RowFilter(tuple(parsed.names), args))

    # -- the end -------------------------------------------------------------------

    def defaults(self) -> list[Step]:
        """The schema-driven steps for the columns the recipe left unencoded."""
        if self.table is None or self.options is None:
            return []
        left = [n for n in self.kinds if n not in self.encoded]
        numeric: list[str] = []
        for name in left:
            if self.kinds[name] == "numeric":
                numeric.append(name)
            elif self.kinds[name] == "datetime":
                numeric += [f"{name}__{part}" for part in DATETIME_PARTS]
        data = self.fit_data()
        steps: list[Step] = [
            Impute.fit(tuple(numeric), data),
            MissingFlag.fit(tuple(numeric), data),
        ]
        for name in left:
            if self.kinds[name] != "categorical":
                continue
            n_levels = len(set(self.table[name].tolist()))
            if n_levels <= self.options.one_hot_max_categories:
                kind: type[Step] = OneHot
            elif self.target is None or self.options.high_cardinality != "target":
                kind = Ordinal
            else:
                kind = TargetMean
            steps.append(kind.fit((name,), data))
        return steps


def _names(args: Any) -> list[str]:
    """A column name or a list of them, as a list (empty when neither)."""
    names = [args] if isinstance(args, str) else args
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return []
    return names


def _present(values: npt.NDArray[Any], numeric: bool) -> npt.NDArray[np.bool_]:
    """Which values are not missing."""
    present: npt.NDArray[np.bool_] = ~np.isnan(values) if numeric else values != MISSING_CATEGORY
    return present


def _learn_fill(values: npt.NDArray[Any], strategy: str, numeric: bool) -> float | str:
    """The median, mean or mode (the smallest of equally common values) of the
    present values; 0 or the missing label when there are none."""
    if numeric:
        present = values[~np.isnan(values)]
        if present.size == 0:
            return 0.0
        if strategy == "median":
            return float(np.median(present))
        if strategy == "mean":
            return float(np.mean(present))
        uniques, counts = np.unique(present, return_counts=True)
        return float(uniques[np.argmax(counts)])
    labels = [v for v in values.tolist() if v != MISSING_CATEGORY]
    if not labels:
        return MISSING_CATEGORY
    uniques_text, counts = np.unique(np.asarray(labels, dtype=object), return_counts=True)
    return str(uniques_text[np.argmax(counts)])


def _days_of(text: str) -> float:
    try:
        moment = np.datetime64(text, "s")
    except ValueError:
        raise _StepError(f"days_since {text!r} is not a date (YYYY-MM-DD)") from None
    return float((moment - np.datetime64("2000-01-01T00:00:00", "s")) / np.timedelta64(1, "D"))


def _fit_tfidf(name: str, values: npt.NDArray[Any], most: int, ngrams: tuple[int, int]) -> Tfidf:
    """scikit-learn's TfidfVectorizer fitted on the training texts, kept as data."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = ["" if v == MISSING_CATEGORY else str(v) for v in values.tolist()]
    vectorizer = TfidfVectorizer(max_features=most, ngram_range=ngrams, dtype=np.float64)
    try:
        vectorizer.fit(texts)
    except ValueError:  # no word in any training text
        return Tfidf((name,), (), (), ngrams)
    terms = vectorizer.get_feature_names_out().tolist()
    return Tfidf((name,), tuple(terms), tuple(float(v) for v in vectorizer.idf_), ngrams)

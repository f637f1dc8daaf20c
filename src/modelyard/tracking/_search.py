"""Search runs: a filter expression, an order and a page, all answered by the database.

The expression language is MLflow's search syntax, small and safe (parsed here,
never evaluated): clauses joined by ``and``, each ``KIND.KEY OP VALUE`` with

- ``metrics.roc_auc > 0.8`` (a metric's last logged value; numbers only),
- ``params.algorithm = 'xgboost'`` (parameters are text; compared as text),
- ``tags.task != 'regression'``,
- ``status = 'finished'`` or ``name = 'nightly'`` (the run's own attributes),

``OP`` one of ``= != < <= > >=``; a key with characters other than letters,
digits, ``_ . -`` is written in backquotes (```metrics.`f1 score` > 0.5```).
A dashboard over 10,000 runs sends one query for a page, not 10,000 records.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, and_, exists, func, select
from sqlalchemy.orm import Session

from modelyard.errors import InvalidInputError
from modelyard.metadata._tables import ExperimentRow, MetricRow, ParamRow, RunRow, TagRow
from modelyard.tracking._records import RunInfo, RunStatus

__all__ = ["MAX_PAGE", "Clause", "RunPage", "parse_filter", "parse_order", "search_runs"]

Kind = Literal["metrics", "params", "tags", "attributes"]
MAX_PAGE = 500
_ATTRIBUTES = {"status": RunRow.status, "name": RunRow.name}
_OPERATORS = ("<=", ">=", "!=", "=", "<", ">")
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
      | (?P<op><=|>=|!=|==|=|<|>)
      | (?P<ident>(?:[A-Za-z_][A-Za-z0-9_]*\.)?(?:`[^`]+`|[A-Za-z_][A-Za-z0-9_.\-]*))
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Clause:
    """One comparison of a filter: ``kind.key op value``."""

    kind: Kind
    key: str
    op: str
    value: str | float


@dataclass(frozen=True)
class RunPage:
    """One page of a search: the runs shown and how many match in all."""

    runs: list[RunInfo]
    total: int
    offset: int
    limit: int
    param_keys: list[str] = field(default_factory=list)
    metric_keys: list[str] = field(default_factory=list)


def _fail(text: str, position: int, why: str) -> InvalidInputError:
    return InvalidInputError(
        f"bad filter at character {position + 1}: {why} (in {text!r})",
        details={"filter": text, "position": position},
    )


def _tokens(text: str) -> list[tuple[str, str, int]]:
    found: list[tuple[str, str, int]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.lastgroup is None:
            start = len(text) - len(text[position:].lstrip())
            raise _fail(text, start, f"unexpected {text[start : start + 10]!r}")
        found.append((match.lastgroup, match.group(match.lastgroup), match.start(match.lastgroup)))
        position = match.end()
    return found


def _identifier(text: str, word: str, position: int) -> tuple[Kind, str]:
    prefix, dot, rest = word.partition(".")
    if dot and prefix in ("metrics", "params", "tags", "attributes"):
        key = rest[1:-1] if rest.startswith("`") else rest
        kind: Kind = prefix  # type: ignore[assignment]
    elif not dot and word in _ATTRIBUTES:
        kind, key = "attributes", word
    else:
        raise _fail(
            text,
            position,
            f"unknown field {word!r}: use metrics.KEY, params.KEY, tags.KEY, status or name",
        )
    if kind == "attributes" and key not in _ATTRIBUTES:
        raise _fail(text, position, f"unknown attribute {key!r}: use status or name")
    if not key:
        raise _fail(text, position, f"{word!r} names no key")
    return kind, key


def parse_filter(text: str) -> list[Clause]:
    """The clauses of a filter expression (see the module docstring); empty for ``""``.

    Raises:
        InvalidInputError: the expression does not parse; the message names the
            character where it went wrong and what was expected.
    """
    tokens = _tokens(text)
    clauses: list[Clause] = []
    index = 0
    while index < len(tokens):
        if clauses:
            kind_, word, position = tokens[index]
            if kind_ != "ident" or word.lower() != "and":
                raise _fail(text, position, f"expected 'and' before {word!r}")
            index += 1
        if index + 3 > len(tokens):
            where = tokens[index][2] if index < len(tokens) else len(text)
            raise _fail(text, where, "incomplete comparison: expected FIELD OP VALUE")
        (k1, word, p1), (k2, op, p2), (k3, raw, p3) = tokens[index : index + 3]
        if k1 != "ident":
            raise _fail(text, p1, f"expected a field such as metrics.KEY, got {word!r}")
        kind, key = _identifier(text, word, p1)
        if k2 != "op":
            raise _fail(text, p2, f"expected one of {' '.join(_OPERATORS)}, got {op!r}")
        op = "=" if op == "==" else op
        value: str | float
        if k3 == "number":
            value = float(raw)
        elif k3 == "string":
            value = re.sub(r"\\(.)", r"\1", raw[1:-1])
        else:
            raise _fail(text, p3, f"expected a number or a quoted string, got {raw!r}")
        if kind == "metrics" and not isinstance(value, float):
            raise _fail(text, p3, f"metrics.{key} is a number: compare it with a number")
        if kind != "metrics" and isinstance(value, float):
            value = raw  # parameters, tags and attributes are text
        clauses.append(Clause(kind, key, op, value))
        index += 3
    return clauses


def parse_order(text: str) -> tuple[Kind | None, str, bool]:
    """``metrics.KEY``, ``params.KEY``, ``name``, ``status`` or ``start_time``, then
    ``asc`` or ``desc`` (default): ``(kind, key, descending)``; kind ``None`` for
    ``start_time``.

    Raises:
        InvalidInputError: anything else.
    """
    parts = text.split()
    descending = True
    if len(parts) == 2 and parts[1].lower() in ("asc", "desc"):
        descending = parts[1].lower() == "desc"
        parts = parts[:1]
    if len(parts) != 1:
        raise InvalidInputError(f"bad order {text!r}: use FIELD [asc|desc]")
    if parts[0] == "start_time":
        return None, "start_time", descending
    kind, key = _identifier(parts[0], parts[0], 0)
    if kind == "tags":
        raise InvalidInputError(f"bad order {text!r}: runs sort by metrics, params or attributes")
    return kind, key, descending


def _compare(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    comparisons: dict[str, Any] = {
        "=": column == value,
        "!=": column != value,
        "<": column < value,
        "<=": column <= value,
        ">": column > value,
        ">=": column >= value,
    }
    result: ColumnElement[bool] = comparisons[op]
    return result


def _last_metric(key: str) -> Any:
    """The last logged value of metric ``key`` of the outer query's run: one probe of
    the ``(run_id, key, id)`` index per run."""
    return (
        select(MetricRow.value)
        .where(MetricRow.run_id == RunRow.id, MetricRow.key == key)
        .order_by(MetricRow.id.desc())
        .limit(1)
        .correlate(RunRow)
        .scalar_subquery()
    )


def _condition(clause: Clause) -> ColumnElement[bool]:
    if clause.kind == "metrics":
        return _compare(_last_metric(clause.key), clause.op, clause.value)
    if clause.kind == "attributes":
        return _compare(_ATTRIBUTES[clause.key], clause.op, clause.value)
    table: Any = ParamRow if clause.kind == "params" else TagRow
    return exists(
        select(table.run_id).where(
            table.run_id == RunRow.id,
            table.key == clause.key,
            _compare(table.value, clause.op, clause.value),
        )
    ).correlate(RunRow)


def _ordered(query: Select[Any], order: str) -> Select[Any]:
    kind, key, descending = parse_order(order)
    column: Any
    if kind is None:
        column = RunRow.start_time
    elif kind == "metrics":
        column = _last_metric(key)
    elif kind == "params":
        column = (
            select(ParamRow.value)
            .where(ParamRow.run_id == RunRow.id, ParamRow.key == key)
            .correlate(RunRow)
            .scalar_subquery()
        )
    else:
        column = _ATTRIBUTES[key]
    if kind is None:
        # start_time is never null: a plain order, which an index on it delivers
        # (PostgreSQL's backward index scan gives DESC NULLS FIRST, not LAST)
        first = column.desc() if descending else column.asc()
        return query.order_by(first, RunRow.id)
    first = column.desc().nulls_last() if descending else column.asc().nulls_last()
    return query.order_by(first, RunRow.start_time.desc(), RunRow.id)


def search_runs(
    session: Session,
    experiment: str | None,
    clauses: Sequence[Clause],
    order: str,
    offset: int,
    limit: int,
) -> RunPage:
    """One page of the runs matching every clause (see :meth:`RunStore.search`)."""
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InvalidInputError(f"a page holds 1 to {MAX_PAGE} runs from an offset of 0 or more")
    where: list[ColumnElement[bool]] = [_condition(c) for c in clauses]
    if experiment is not None:
        where.append(
            RunRow.experiment_id
            == select(ExperimentRow.id).where(ExperimentRow.name == experiment).scalar_subquery()
        )
    condition = and_(True, *where)
    total = session.scalar(select(func.count()).select_from(RunRow).where(condition)) or 0
    page_query = _ordered(select(RunRow).where(condition), order).offset(offset).limit(limit)
    rows = list(session.scalars(page_query))
    runs = _records(session, rows)
    param_keys = sorted({key for run in runs for key in run.params})
    metric_keys = sorted({key for run in runs for key in run.metrics})
    return RunPage(runs, total, offset, limit, param_keys, metric_keys)


def _records(session: Session, rows: list[RunRow]) -> list[RunInfo]:
    """The runs of one page with their params, tags and last metrics, in four queries."""
    from modelyard.tracking._store import _gone_owner as gone_owner

    ids = [row.id for row in rows]
    if not ids:
        return []
    experiments = dict(session.execute(select(ExperimentRow.id, ExperimentRow.name)).all())
    params: dict[str, dict[str, str]] = {run_id: {} for run_id in ids}
    for run_id, key, value in session.execute(
        select(ParamRow.run_id, ParamRow.key, ParamRow.value).where(ParamRow.run_id.in_(ids))
    ):
        params[run_id][key] = value
    tags: dict[str, dict[str, str]] = {run_id: {} for run_id in ids}
    for run_id, key, value in session.execute(
        select(TagRow.run_id, TagRow.key, TagRow.value).where(TagRow.run_id.in_(ids))
    ):
        tags[run_id][key] = value
    latest = (
        select(func.max(MetricRow.id).label("last_id"), func.count().label("n"))
        .where(MetricRow.run_id.in_(ids))
        .group_by(MetricRow.run_id, MetricRow.key)
        .subquery()
    )
    metrics: dict[str, dict[str, float]] = {run_id: {} for run_id in ids}
    counts: dict[str, dict[str, int]] = {run_id: {} for run_id in ids}
    for run_id, key, value, n in session.execute(
        select(MetricRow.run_id, MetricRow.key, MetricRow.value, latest.c.n).join(
            latest, MetricRow.id == latest.c.last_id
        )
    ):
        metrics[run_id][key] = value
        counts[run_id][key] = int(n)
    return [
        RunInfo(
            id=row.id,
            experiment=experiments.get(row.experiment_id, "?"),
            name=row.name,
            status=RunStatus(row.status),
            start_time=row.start_time,
            end_time=row.end_time,
            error=row.error,
            environment=row.environment,
            inputs=row.inputs,
            params=params[row.id],
            metrics=metrics[row.id],
            metric_counts=counts[row.id],
            tags=tags[row.id],
            owner=row.owner,
            process_gone=gone_owner(row) is not None,
        )
        for row in rows
    ]

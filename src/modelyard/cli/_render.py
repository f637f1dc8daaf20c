"""Rendering for the CLI: Rich tables for people, JSON for scripts."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Collection
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = [
    "WideOption",
    "console",
    "err_console",
    "format_value",
    "print_json",
    "print_records",
    "print_table",
    "table",
]

console = Console()
err_console = Console(stderr=True)

WideOption = Annotated[
    bool, typer.Option("--wide", help="Every column, however wide (default: fit the terminal).")
]


def print_json(data: Any) -> None:
    """Machine-readable output (one JSON document on stdout), indented as Rich would,
    but written plainly: Rich's JSON renderer cost a batch job's command 0.1 s."""
    sys.stdout.write(json.dumps(data, default=str, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def format_value(value: Any) -> str:
    """A short human form of a cell value."""
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return f"{value:.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, list):
        return ", ".join(format_value(v) for v in value)
    return str(value)


# A cell wider than this folds onto more lines rather than widening its column.
_FOLD_AT = 24
_WIDE_HINT = "--wide or --json shows them"


def table(
    title: str | None,
    columns: list[str],
    rows: list[list[Any]],
    *,
    optional: Collection[str] = (),
    wide: bool = False,
) -> Table:
    """A Rich table with formatted cells, each shown as written (a value such as
    ``[bold]`` is data, never Rich markup).

    A header is never broken inside a word. When the table is wider than the
    terminal, the ``optional`` columns are left out, the last of ``optional`` first,
    until it fits, and a caption says how many (``wide`` keeps them all).
    """
    return _fitted(title, columns, rows, optional, wide)[0]


def print_table(
    title: str | None,
    columns: list[str],
    rows: list[list[Any]],
    *,
    optional: Collection[str] = (),
    wide: bool = False,
) -> None:
    """Print :func:`table`; ``wide`` prints every column at its full width, past the
    terminal's edge if need be (for a pager or a file), rather than squeezing them."""
    result, needed = _fitted(title, columns, rows, optional, wide)
    _print(result, needed if wide else None)


def print_records(
    title: str | None, columns: list[str], rows: list[list[Any]], *, wide: bool = False
) -> None:
    """Print ``rows`` of many columns as one table, or, wider than the terminal, as
    several tables of consecutive columns that each fit (as pandas prints a wide
    frame); ``wide`` prints one table at its full width."""
    cells = [[format_value(cell) for cell in row] for row in rows]
    groups: list[list[int]] = [[]]
    for index in range(len(columns)):
        candidate = [*groups[-1], index]
        fits = _width([columns[i] for i in candidate], cells, candidate) <= console.width
        if wide or fits or not groups[-1]:
            groups[-1] = candidate
        else:
            groups.append([index])
    for number, group in enumerate(groups, 1):
        part = title if len(groups) == 1 else f"{title or ''} (columns {number}/{len(groups)})"
        headers = [columns[i] for i in group]
        result = _table(part, headers, [[r[i] for i in group] for r in cells])
        _print(result, _width(headers, cells, group) if wide else None)


def _fitted(
    title: str | None,
    columns: list[str],
    rows: list[list[Any]],
    optional: Collection[str],
    wide: bool,
) -> tuple[Table, int]:
    """The table and the width it needs, optional columns left out until it fits."""
    cells = [[format_value(cell) for cell in row] for row in rows]
    shown = list(range(len(columns)))
    if not wide:
        droppable = [columns.index(name) for name in optional if name in columns]
        while droppable and _width([columns[i] for i in shown], cells, shown) > console.width:
            shown.remove(droppable.pop())
    headers = [columns[i] for i in shown]
    result = _table(title, headers, [[row[i] for i in shown] for row in cells])
    hidden = len(columns) - len(shown)
    if hidden:
        result.caption = Text(f"{hidden} more column{'s' * (hidden > 1)}: {_WIDE_HINT}")
        result.caption_justify = "left"
    return result, _width(headers, cells, shown)


def _print(result: Table, width: int | None) -> None:
    if width is None or width <= console.width:
        console.print(result)
    else:
        console.print(result, width=width, crop=False)


def _width(headers: list[str], cells: list[list[str]], indices: list[int]) -> int:
    """The width a table of these columns needs: each column as wide as its header
    and its widest cell (up to the folding width), plus borders and padding."""
    total = 1
    for header, index in zip(headers, indices, strict=True):
        widest = max((len(row[index]) for row in cells), default=0)
        total += min(max(len(header), widest), max(len(header), _FOLD_AT)) + 3
    return total


def _table(title: str | None, columns: list[str], rows: list[list[str]]) -> Table:
    result = Table(
        title=Text(title) if title else None,
        title_justify="left",
        header_style="bold",
        min_width=len(title) if title else None,  # a title on one line
    )
    for column in columns:
        result.add_column(Text(column), overflow="fold", min_width=len(column))
    for row in rows:
        result.add_row(*(Text(cell) for cell in row))
    return result

"""Adapted columns, with the codes of the categorical columns read from their
distinct values.

A long categorical column (a training split, a batch of a million rows) is read
one distinct value at a time (:func:`~modelyard.features._read.read_categories`):
the reader has each row's code into those values anyway. :class:`Table` keeps
the codes beside the column's text so that a step encoding it
(:meth:`~modelyard.features._steps._Levels.codes`) looks each distinct value up
once and takes the codes, instead of hashing every row's text again. The text
column stays what every step reads (the one definition of the values); the codes
are only a faster way to the same lookups, and are trusted only while the column
is the very array they were recorded with: a step that rewrites a column (a
``fill``, a ``cast``) replaces the array, which retires its codes unless the step
records new ones.

This module imports only numpy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = ["Coded", "Table", "coded", "rows"]


class Coded(NamedTuple):
    """A categorical column as codes into its distinct labels.

    Attributes:
        codes: each row's position in ``labels`` (intp; -1 picks the last label,
            as numpy's indexing does).
        labels: the distinct labels (an object array of text); the column is
            ``labels[codes]``.
    """

    codes: npt.NDArray[np.intp]
    labels: npt.NDArray[np.object_]


class Table(dict[str, npt.NDArray[Any]]):
    """Adapted columns by name (a plain ``dict`` to every step), plus the codes of
    the categorical columns that were read from their distinct values."""

    def __init__(self, columns: Mapping[str, npt.NDArray[Any]] | None = None) -> None:
        super().__init__(columns or {})
        known = columns._coded if isinstance(columns, Table) else None
        self._coded: dict[str, tuple[npt.NDArray[Any], Coded]] = dict(known) if known else {}

    def put_coded(self, name: str, codes: npt.NDArray[np.intp], labels: npt.NDArray[Any]) -> None:
        """Set column ``name`` to ``labels[codes]`` and remember the codes."""
        column = labels[codes]
        self[name] = column
        self._coded[name] = (column, Coded(codes, labels))

    def rows(self, start: int, stop: int) -> Table:
        """Rows ``start`` to ``stop`` of every column (views), with their codes."""
        part = Table({name: column[start:stop] for name, column in self.items()})
        for name, (column, (codes, labels)) in self._coded.items():
            if column is self.get(name):
                part._coded[name] = (part[name], Coded(codes[start:stop], labels))
        return part

    def coded(self, name: str) -> Coded | None:
        """The codes of column ``name``, while the column is the array they were
        recorded with (``None`` otherwise)."""
        entry = self._coded.get(name)
        if entry is None or entry[0] is not self.get(name):
            return None
        return entry[1]


def rows(table: Mapping[str, npt.NDArray[Any]], start: int, stop: int) -> Table:
    """Rows ``start`` to ``stop`` of ``table``'s columns (views; codes kept)."""
    if isinstance(table, Table):
        return table.rows(start, stop)
    return Table({name: column[start:stop] for name, column in table.items()})


def coded(table: Mapping[str, Any], name: str) -> Coded | None:
    """The codes of ``table``'s column ``name`` when ``table`` is a :class:`Table`
    that has them."""
    # a request's few rows never have codes: two attribute reads, not a call
    return table.coded(name) if isinstance(table, Table) and table._coded else None

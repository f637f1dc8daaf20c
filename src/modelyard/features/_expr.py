"""The recipe's small expression language: column arithmetic and row filters.

An expression is parsed with Python's :mod:`ast` and accepted only when every
node is a column name, a number, ``+ - * /``, unary minus, and (in filters)
comparisons joined by ``and`` / ``or``; nothing is ever passed to ``eval``. The
parsed tree is evaluated over numpy float64 columns, the same for one row or a
million, so training, a request and batch compute identical values. Division by
zero gives NaN (a missing value the recipe fills like any other).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["Expression"]

_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div)
_COMPARE = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)


class Expression:
    """A parsed expression over numeric columns.

    Args:
        text: the expression, e.g. ``"total_charges / tenure_months"``.
        condition: accept comparisons and ``and``/``or`` (a filter) instead of
            requiring plain arithmetic.

    Raises:
        ValueError: the text does not parse, or uses anything but names, numbers
            and the allowed operators (the message says what).
    """

    def __init__(self, text: str, *, condition: bool = False) -> None:
        self.text = text
        self.condition = condition
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as error:
            raise ValueError(f"expression {text!r} does not parse: {error.msg}") from None
        self._tree = tree.body
        self.names: list[str] = []
        self._check(self._tree, top=True)

    def _check(self, node: ast.AST, *, top: bool = False) -> None:
        if isinstance(node, ast.Name):
            if node.id not in self.names:
                self.names.append(node.id)
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise ValueError(f"expression {self.text!r}: only numbers are allowed as constants")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, _ARITHMETIC):
            self._check(node.left)
            self._check(node.right)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            self._check(node.operand)
        elif self.condition and isinstance(node, ast.Compare):
            if not all(isinstance(op, _COMPARE) for op in node.ops):
                raise ValueError(f"expression {self.text!r}: unsupported comparison")
            for part in (node.left, *node.comparators):
                self._check(part)
        elif self.condition and isinstance(node, ast.BoolOp):
            for part in node.values:
                self._check(part, top=True)
        else:
            allowed = "names, numbers, + - * /" + (
                ", comparisons, and/or" if self.condition else ""
            )
            raise ValueError(
                f"expression {self.text!r}: {type(node).__name__} is not allowed (only {allowed})"
            )
        if top and self.condition and not isinstance(node, (ast.Compare, ast.BoolOp)):
            raise ValueError(f"filter {self.text!r} must be a comparison such as 'x >= 0'")

    def evaluate(self, table: Mapping[str, npt.NDArray[Any]], n_rows: int) -> npt.NDArray[Any]:
        """The expression's value for each row (float64; a filter gives booleans)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            value = _evaluate(self._tree, table, n_rows)
        if isinstance(value, float):
            return np.full(n_rows, value)
        return np.asarray(value)


def _evaluate(node: ast.AST, table: Mapping[str, npt.NDArray[Any]], n: int) -> Any:
    if isinstance(node, ast.Name):
        return np.asarray(table[node.id], dtype=np.float64)
    if isinstance(node, ast.Constant):
        assert isinstance(node.value, (int, float))  # checked at parse time
        return float(node.value)
    if isinstance(node, ast.UnaryOp):
        operand = _evaluate(node.operand, table, n)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        left, right = _evaluate(node.left, table, n), _evaluate(node.right, table, n)
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        quotient = np.divide(np.asarray(left, dtype=np.float64), right)
        return np.where(np.isfinite(quotient), quotient, np.nan)
    if isinstance(node, ast.Compare):
        result = np.ones(n, dtype=bool)
        left = _evaluate(node.left, table, n)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _evaluate(comparator, table, n)
            result &= _compare(op, left, right)
            left = right
        return result
    assert isinstance(node, ast.BoolOp)
    parts = [_evaluate(value, table, n) for value in node.values]
    combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
    return combine.reduce(parts)


def _compare(op: ast.cmpop, left: Any, right: Any) -> Any:
    if isinstance(op, ast.Lt):
        return left < right
    if isinstance(op, ast.LtE):
        return left <= right
    if isinstance(op, ast.Gt):
        return left > right
    if isinstance(op, ast.GtE):
        return left >= right
    if isinstance(op, ast.Eq):
        return left == right
    return left != right

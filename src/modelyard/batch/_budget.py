"""``--max-errors``: how many rejected rows a batch job tolerates, as a count or a share."""

from __future__ import annotations

from dataclasses import dataclass

from modelyard.errors import InvalidInputError

__all__ = ["ErrorBudget"]


@dataclass(frozen=True)
class ErrorBudget:
    """At most ``count`` rejected rows, or at most ``share`` of the rows read.

    A count is checked after every partition, so the job stops as soon as it is
    exceeded; a share is checked after every partition against the rows planned
    (when known) and at the end against the rows read.
    """

    count: int | None = None
    share: float | None = None

    @classmethod
    def parse(cls, text: str | int | float | None) -> ErrorBudget:
        """``None`` (no limit), ``"100"`` (rows) or ``"2.5%"`` (share of rows).

        Raises:
            InvalidInputError: anything else.
        """
        if text is None:
            return cls()
        if isinstance(text, int) and not isinstance(text, bool) and text >= 0:
            return cls(count=text)
        value = str(text).strip()
        try:
            if value.endswith("%"):
                share = float(value[:-1]) / 100.0
                if not 0.0 <= share <= 1.0:
                    raise ValueError(value)
                return cls(share=share)
            count = int(value)
            if count < 0:
                raise ValueError(value)
            return cls(count=count)
        except ValueError:
            raise InvalidInputError(
                f"invalid --max-errors {text!r}: give a number of rows (e.g. 100) "
                "or a share (e.g. 2.5%)",
                details={"max_errors": str(text)},
            ) from None

    def __str__(self) -> str:
        if self.count is not None:
            return str(self.count)
        if self.share is not None:
            return f"{self.share * 100:g}%"
        return "unlimited"

    def exceeded(
        self, rejected: int, rows_read: int, rows_total: int | None, *, final: bool
    ) -> str | None:
        """Why the budget is exceeded, or ``None`` when it is not."""
        if self.count is not None and rejected > self.count:
            return f"{rejected:,} rejected rows exceed --max-errors {self.count:,}"
        if self.share is None:
            return None
        base = rows_read if final else rows_total
        if base and rejected > self.share * base:
            return f"{rejected:,} rejected rows of {base:,} exceed --max-errors {self}"
        return None

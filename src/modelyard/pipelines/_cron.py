"""Cron expressions for pipeline schedules: five fields, checked when saved.

``minute hour day-of-month month day-of-week``, each ``*``, a number, a range
``a-b``, a step ``*/n`` or ``a-b/n``, or a comma list of those; months and days
may be named (``JAN``, ``MON``); day of week 0 or 7 is Sunday. As in cron, when
both day fields are restricted a day matching either runs. Times are UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from modelyard.errors import InvalidInputError

__all__ = ["Cron"]

_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
# field name, lowest, highest, names (numbered from lowest)
_FIELDS = [
    ("minute", 0, 59, []),
    ("hour", 0, 23, []),
    ("day of month", 1, 31, []),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
]
_SEARCH_DAYS = 366 * 5  # 29 February on a Monday: the rarest a valid expression gets


@dataclass(frozen=True)
class Cron:
    """A parsed cron expression (see the module docstring)."""

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool
    any_weekday: bool

    @classmethod
    def parse(cls, text: str) -> Cron:
        """Parse ``text``.

        Raises:
            InvalidInputError: one line naming the expression and the field at fault.
        """
        parts = str(text).split()
        if len(parts) != 5:
            raise InvalidInputError(
                f"cron expression {text!r}: five fields (minute hour day month weekday), "
                f"got {len(parts)}"
            )
        sets = [_field(part, *spec, text) for part, spec in zip(parts, _FIELDS, strict=True)]
        weekdays = frozenset(d % 7 for d in sets[4])
        cron = cls(text, sets[0], sets[1], sets[2], sets[3], weekdays,
                   parts[2] == "*", parts[4] == "*")  # fmt: skip
        if cron.next_after(datetime(2000, 1, 1, tzinfo=UTC)) is None:
            raise InvalidInputError(f"cron expression {text!r} never matches a date")
        return cron

    def matches(self, moment: datetime) -> bool:
        """Whether ``moment`` (its minute, UTC) is one the expression names."""
        moment = moment.astimezone(UTC)
        if moment.minute not in self.minutes or moment.hour not in self.hours:
            return False
        return moment.month in self.months and self._day_matches(moment)

    def next_after(self, moment: datetime) -> datetime | None:
        """The first matching minute strictly after ``moment`` (``None``: never)."""
        start = moment.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.replace(hour=0, minute=0)
        for _ in range(_SEARCH_DAYS):
            if day.month in self.months and self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        candidate = day.replace(hour=hour, minute=minute)
                        if candidate >= start:
                            return candidate
            day += timedelta(days=1)
        return None

    def _day_matches(self, moment: datetime) -> bool:
        in_month = moment.day in self.days
        in_week = (moment.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return in_month and in_week
        return in_month or in_week


def _field(
    part: str, name: str, low: int, high: int, names: list[str], text: str
) -> frozenset[int]:
    found: set[int] = set()
    for item in part.split(","):
        body, slash, step_text = item.partition("/")
        step = _number(step_text, name, low, None, names, text) if slash else 1
        if slash and step < 1:
            raise InvalidInputError(f"cron expression {text!r}: {name} step must be 1 or more")
        if body == "*":
            first, last = low, high
        elif "-" in body:
            a, _, b = body.partition("-")
            first = _number(a, name, low, high, names, text)
            last = _number(b, name, low, high, names, text)
        else:
            first = _number(body, name, low, high, names, text)
            last = high if slash else first
        if first > last:
            raise InvalidInputError(f"cron expression {text!r}: {name} range {body} is backwards")
        found.update(range(first, last + 1, step))
    return frozenset(found)


def _number(token: str, name: str, low: int, high: int | None, names: list[str], text: str) -> int:
    upper = token.strip().upper()
    if upper in names:
        return low + names.index(upper)
    if not upper.isdigit():
        raise InvalidInputError(f"cron expression {text!r}: {name} {token!r} is not a number")
    value = int(upper)
    if high is not None and not low <= value <= high:
        raise InvalidInputError(f"cron expression {text!r}: {name} {value} is outside {low}-{high}")
    return value

"""Calendar arithmetic for statutory timescales (domain.md, "Rules of calculation").

Working days skip Saturdays, Sundays and England bank holidays; weeks and
months are calendar, and months clamp to the last day of a shorter month.
"""

from __future__ import annotations

import calendar as _cal
import importlib.util
import sys
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import TypeVar, cast

import holidays


@cache
def _england_holidays(first_year: int, last_year: int) -> frozenset[date]:
    table = _united_kingdom()(subdiv="ENG", years=range(first_year, last_year + 1))
    return frozenset(table.keys())


def _united_kingdom() -> type[holidays.HolidayBase]:
    """The `holidays` package's UK calendar, its module loaded on its own.

    Asked for "GB" the usual way, the package imports `holidays.countries`, which imports
    every country it knows (250 modules: 8 MB resident for good, and most of a second)
    to answer for one. The UK module needs only the package's base classes.
    """
    name = "holidays.countries.united_kingdom"
    module = sys.modules.get(name)
    path = Path(holidays.__file__).parent / "countries" / "united_kingdom.py"
    if module is None and path.is_file():
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is not None and spec.loader is not None:
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module  # the package's own registry finds it here too
            spec.loader.exec_module(module)
    if module is None:  # laid out differently in another version: the usual way
        return type(holidays.country_holidays("GB"))
    return cast(type[holidays.HolidayBase], module.UnitedKingdom)


def england_bank_holidays(years: Iterable[int]) -> frozenset[date]:
    ys = sorted(set(years))
    return _england_holidays(ys[0], ys[-1]) if ys else frozenset()


@dataclass(frozen=True)
class WorkingCalendar:
    """Working days in England. Extra closure days (e.g. a council's own
    Christmas shutdown) can be added; they only ever push deadlines later."""

    extra_closures: frozenset[date] = field(default_factory=frozenset)
    first_year: int = 2000
    last_year: int = 2060
    # Answers already worked out: reminders and digests ask the same few hundred
    # questions for tens of thousands of children. Not part of the calendar's identity.
    _added: dict[tuple[date, int], date] = field(default_factory=dict, init=False, repr=False, compare=False)
    _between: dict[tuple[date, date], int] = field(default_factory=dict, init=False, repr=False, compare=False)

    def _holidays(self) -> frozenset[date]:
        return _closed_days(self.first_year, self.last_year, self.extra_closures)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self._holidays()

    def add_working_days(self, start: date, days: int) -> date:
        """The date `days` working days after `start` (`start` itself not counted).

        "Within 20 working days of X" means by `add_working_days(X, 20)`.
        """
        if days < 0:
            raise ValueError("days must not be negative")
        if days == 0:
            return start
        known = self._added.get((start, days))
        if known is None:
            known = _remember(self._added, (start, days), self._add_working_days(start, days))
        return known

    def _add_working_days(self, start: date, days: int) -> date:
        # Arithmetic, like working_days_between (reminders and digests ask for every child):
        # the days-th weekday after `start`, pushed on by each closure it passes, until no
        # more closures fall in between. Each push only moves later, so the first fixed
        # point is the answer, and it is a working day.
        closed = _closed_weekdays(self.first_year, self.last_year, self.extra_closures)
        origin = start.toordinal()
        before = bisect_right(closed, origin)
        end = _nth_weekday_after(origin, days)
        while True:
            later = _nth_weekday_after(origin, days + bisect_right(closed, end) - before)
            if later == end:
                return date.fromordinal(end)
            end = later

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (0 if end <= start).

        Arithmetic rather than a walk day by day: reminders and digests ask this
        for every child, tens of thousands of times a run.
        """
        if end <= start:
            return 0
        known = self._between.get((start, end))
        if known is None:
            known = _remember(self._between, (start, end), self._working_days_between(start, end))
        return known

    def _working_days_between(self, start: date, end: date) -> int:
        closed = _closed_weekdays(self.first_year, self.last_year, self.extra_closures)
        after_end = bisect_right(closed, end.toordinal())
        holidays_in = after_end - bisect_right(closed, start.toordinal())
        return _weekdays_up_to(end) - _weekdays_up_to(start) - holidays_in

    def next_working_day(self, day: date) -> date:
        """`day` itself if it is a working day, else the next one."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day


K = TypeVar("K")
V = TypeVar("V")
# Answers kept per calendar: a long-running bot asks about new dates every day.
_REMEMBERED = 50_000


def _remember(memo: dict[K, V], key: K, value: V) -> V:
    if len(memo) >= _REMEMBERED:
        memo.clear()
    memo[key] = value
    return value


@cache
def _closed_days(first_year: int, last_year: int, extra: frozenset[date]) -> frozenset[date]:
    return _england_holidays(first_year, last_year) | extra


@cache
def _closed_weekdays(first_year: int, last_year: int, extra: frozenset[date]) -> tuple[int, ...]:
    """Ordinals of bank holidays and closures that fall on a weekday, sorted."""
    days = _closed_days(first_year, last_year, extra)
    return tuple(sorted(d.toordinal() for d in days if d.weekday() < 5))


def _weekdays_up_to(day: date) -> int:
    """Mondays to Fridays from 1 January of year 1 (a Monday) up to and including `day`."""
    days = day.toordinal()
    return 5 * (days // 7) + min(days % 7, 5)


def _nth_weekday_after(ordinal: int, n: int) -> int:
    """The ordinal of the n-th Monday-to-Friday after `ordinal` (n >= 1): inverts _weekdays_up_to."""
    target = 5 * (ordinal // 7) + min(ordinal % 7, 5) + n
    weeks, day = divmod(target, 5)
    return 7 * (weeks - 1) + 5 if day == 0 else 7 * weeks + day


def add_months(start: date, months: int) -> date:
    """Calendar months, clamped: 31 January + 3 months is 30 April."""
    index = start.month - 1 + months
    year = start.year + index // 12
    month = index % 12 + 1
    last = _cal.monthrange(year, month)[1]
    return date(year, month, min(start.day, last))


def add_weeks(start: date, weeks: int) -> date:
    return start + timedelta(weeks=weeks)


def whole_months_between(start: date, end: date) -> int:
    """Completed calendar months from `start` to `end` (0 when end is before start).

    Consistent with `add_months`: the result m is the largest with
    add_months(start, m) <= end.
    """
    if end < start:
        return 0
    months = (end.year - start.year) * 12 + (end.month - start.month)
    while months > 0 and add_months(start, months) > end:
        months -= 1
    return months

"""Working days on the official calendar (rules.md: the deadline of a warning).

A working day is a day that is not a weekend day and not a public holiday of the State
Council's yearly notice (国务院办公厅关于 XXXX 年部分节假日安排的通知), plus the make-up working
days (调休: a Saturday or Sunday declared a working day). The notice comes out each November
for the next year.

Source of the calendar: the `chinesecalendar` package (PyPI `chinesecalendar`, module
`chinese_calendar`), which carries each year's notice as two explicit lists — days off and
make-up working days — and raises for a year it does not know, so "unknown year" is never
confused with "no holidays". (The `holidays` package's CN calendar also has the make-up days,
but estimates future years' festivals instead of saying it does not know them.) It is
updated when the notice is published; upgrading it is how a county gets the new year.

A county can give a year the installed package does not know yet in its configuration:

    [calendar]
    holidays = ["2027-01-01", "2027-02-06", ...]   # days off (weekdays or not)
    workdays = ["2027-02-14"]                     # make-up working days (调休上班)

A year is known when the package knows it or the configuration names any day of it; the
configuration wins over the package for the days it names. For a year that is known by
neither, only weekends are skipped and the caller is told which years those were
(`WorkCalendar.unknown_years`), so the run summary can say so.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import cache


@cache
def _library() -> tuple[dict, dict, int, int]:
    """(days off, make-up working days, first year, last year) of the installed chinesecalendar."""
    try:
        from chinese_calendar import constants
    except ImportError:  # pragma: no cover - a broken installation falls back to weekends only
        return {}, {}, 0, -1
    years = [d.year for d in constants.holidays]
    return dict(constants.holidays), dict(constants.workdays), min(years), max(years)


def library_years() -> tuple[int, int]:
    """First and last year the installed calendar package knows."""
    _, _, first, last = _library()
    return first, last


class WorkCalendar:
    """Official working days: the package's years, the county's own, weekends elsewhere."""

    def __init__(self, holidays: Iterable[date] = (), workdays: Iterable[date] = ()):
        self.extra_off = frozenset(holidays)
        self.extra_on = frozenset(workdays)
        self.configured_years = frozenset(d.year for d in (*self.extra_off, *self.extra_on))
        self.unknown_years: set[int] = set()

    def knows(self, year: int) -> bool:
        first, last = library_years()
        return first <= year <= last or year in self.configured_years

    def is_workday(self, d: date) -> bool:
        if d in self.extra_on:
            return True
        if d in self.extra_off:
            return False
        if not self.knows(d.year):
            self.unknown_years.add(d.year)
            return d.weekday() < 5
        off, on, _, _ = _library()
        if d in on:
            return True
        if d in off:
            return False
        return d.weekday() < 5

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after start (start itself not counted)."""
        d, left = start, n
        while left > 0:
            d += timedelta(days=1)
            if self.is_workday(d):
                left -= 1
        return d


def from_config(config) -> WorkCalendar:
    """The county's calendar ([calendar] holidays / workdays of its configuration)."""
    cal = getattr(config, "calendar", None) or {}
    return WorkCalendar(cal.get("holidays", ()), cal.get("workdays", ()))

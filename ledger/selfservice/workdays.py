"""Working days (工作日) under an operator-maintained calendar.

Monday to Friday are working days, Saturday and Sunday are not, except where the
calendar says otherwise: a `holiday` entry makes a weekday a rest day (法定节假日), a
`workday` entry makes a weekend day a working day (调休上班). The State Council
publishes the year's arrangement each winter, so it is data an operator enters, never
code.

A deadline of *n* working days counts from the day after the start: something filed on
a Friday with a 1-working-day deadline is due the next Monday (if that is a working day).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

__all__ = ["DayKind", "WorkCalendar", "add_working_days", "working_days_between"]

#: no real arrangement has more than this many consecutive rest days (Spring Festival: 8-9)
_MAX_REST_RUN = 31


class DayKind(StrEnum):
    HOLIDAY = "holiday"  # a rest day, even on a weekday
    WORKDAY = "workday"  # a working day, even on a weekend


@dataclass(frozen=True)
class WorkCalendar:
    """The exceptions to the Monday-Friday week."""

    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def of(cls, entries: Iterable[tuple[date, DayKind]]) -> WorkCalendar:
        holidays: set[date] = set()
        workdays: set[date] = set()
        for day, kind in entries:
            (holidays if kind is DayKind.HOLIDAY else workdays).add(day)
        return cls(frozenset(holidays), frozenset(workdays))

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5


def add_working_days(start: date, days: int, calendar: WorkCalendar) -> date:
    """The `days`-th working day after `start` (`start` itself never counts); `start` for 0."""
    if days < 0:
        raise ValueError(f"days must be non-negative, got {days}")
    day = start
    counted = 0
    rest_run = 0
    while counted < days:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            counted += 1
            rest_run = 0
        else:
            rest_run += 1
            if rest_run > _MAX_REST_RUN:
                raise ValueError(f"the calendar has no working day for {_MAX_REST_RUN} days after {day}")
    return day


def working_days_between(start: date, end: date, calendar: WorkCalendar) -> int:
    """Working days in (start, end]: how many have passed since `start` by the end of `end`."""
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            count += 1
    return count

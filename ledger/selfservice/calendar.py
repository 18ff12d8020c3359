"""The working-day calendar operators maintain: holidays and make-up working days.

Deadlines already set are not moved when the calendar changes later (a filing's due date
is fixed when it is filed, as a notice to the enterprise would be).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.chain.membership import Member, Role
from ledger.errors import InvalidInput, NotAuthorized, NotFound
from ledger.selfservice.context import SelfServiceContext, audit
from ledger.selfservice.models import CalendarDay
from ledger.selfservice.workdays import DayKind, WorkCalendar, add_working_days

__all__ = ["CalendarEntry", "CalendarService", "load_calendar"]

#: how far ahead of a start day exceptions are loaded to compute a deadline
_HORIZON_DAYS = 400


@dataclass(frozen=True)
class CalendarEntry:
    day: Annotated[date, Field(examples=["2026-05-01"])]
    kind: DayKind
    name: Annotated[str, Field(examples=["劳动节"])]
    set_by: str
    set_at: datetime


def load_calendar(session: Session, start: date, end: date | None = None) -> WorkCalendar:
    """The calendar's exceptions from `start` to `end` (default: a year and a bit ahead)."""
    last = end or start + timedelta(days=_HORIZON_DAYS)
    rows = session.execute(
        select(CalendarDay.day, CalendarDay.kind).where(CalendarDay.day >= start, CalendarDay.day <= last)
    ).all()
    return WorkCalendar.of((day, DayKind(kind)) for day, kind in rows)


def _entry(row: CalendarDay) -> CalendarEntry:
    return CalendarEntry(row.day, DayKind(row.kind), row.name, row.set_by, row.set_at)


class CalendarService:
    def __init__(self, ctx: SelfServiceContext) -> None:
        self.ctx = ctx

    def days(self, year: int) -> list[CalendarEntry]:
        with self.ctx.db.session() as session:
            rows = session.scalars(
                select(CalendarDay)
                .where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
                .order_by(CalendarDay.day)
            ).all()
        return [_entry(r) for r in rows]

    def set_day(self, caller: str, member: Member, day: date, kind: DayKind, name: str) -> CalendarEntry:
        """Make `day` a holiday or a (make-up) working day; replaces what was set for it.

        A holiday on a weekend day changes no deadline but keeps the arrangement as published.
        """
        self._operator(caller, member)
        if kind is DayKind.WORKDAY and day.weekday() < 5:
            raise InvalidInput(f"{day} is a weekday: only a weekend day can be made a working day (调休)")
        with self.ctx.db.session() as session:
            row = session.get(CalendarDay, day)
            if row is None:
                row = CalendarDay(day=day)
                session.add(row)
            row.kind, row.name, row.set_by, row.set_at = kind.value, name, caller, self.ctx.now()
            audit(session, caller, "calendar.set", "done", f"{day} {kind.value} {name}")
            return _entry(row)

    def delete_day(self, caller: str, member: Member, day: date) -> None:
        self._operator(caller, member)
        with self.ctx.db.session() as session:
            row = session.get(CalendarDay, day)
            if row is None:
                raise NotFound(f"the calendar has no entry for {day}")
            session.delete(row)
            audit(session, caller, "calendar.delete", "done", str(day))

    def add_working_days(self, start: date, days: int) -> date:
        with self.ctx.db.session() as session:
            return add_working_days(start, days, load_calendar(session, start))

    @staticmethod
    def _operator(caller: str, member: Member) -> None:
        if member.role is not Role.OPERATOR:
            raise NotAuthorized(f"{caller} is a {member.role.name.lower()}: operators maintain the calendar")

"""Time as the self-service rules see it: an injectable clock and the local calendar day.

Deadlines count working days of the platform's business day (`ledger.domain.business_day`,
UTC+8); tests inject a `FixedClock` and move it, production uses `SystemClock`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Protocol

__all__ = ["Clock", "FixedClock", "SystemClock"]


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until moved: for tests and for replaying a scenario."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, *, days: int = 0, hours: int = 0) -> None:
        self.at += timedelta(days=days, hours=hours)

    def set_day(self, day: date, utc_offset_minutes: int = 480) -> None:
        """Move to 10:00 local time of `day`."""
        tz = timezone(timedelta(minutes=utc_offset_minutes))
        self.at = datetime(day.year, day.month, day.day, 10, tzinfo=tz).astimezone(UTC)

"""The platform's business day: the calendar day where the platform runs, China Standard Time.

Instants are stored in UTC; a *day* - a deadline's, a fact's filing day, an evaluation's
`as_of`, the day a publicity period or a future date is judged on, an enterprise's years in
operation - is the calendar day in the platform's time zone, UTC+8 (China has one time zone
and no daylight saving time, so a fixed offset is exact; `LEDGER_CALENDAR_UTC_OFFSET_MINUTES`,
480). From 16:00 UTC the business day is already the next UTC day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

__all__ = ["BUSINESS_UTC_OFFSET_MINUTES", "business_day"]

#: China Standard Time
BUSINESS_UTC_OFFSET_MINUTES = 480


def business_day(at: datetime, utc_offset_minutes: int = BUSINESS_UTC_OFFSET_MINUTES) -> date:
    """The calendar day of the aware instant `at` at `utc_offset_minutes` from UTC."""
    if at.tzinfo is None:
        raise ValueError("business_day needs a timezone-aware instant")
    return at.astimezone(timezone(timedelta(minutes=utc_offset_minutes))).date()

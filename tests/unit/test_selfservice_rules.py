"""The pure self-service rules: working days, publicity windows, the local day, rule-named errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from api.errors import status_for
from ledger.domain.business_day import business_day as local_day
from ledger.domain.catalogue import default_catalogue
from ledger.domain.publicity import is_dishonesty, publication_ended, publicity_window
from ledger.selfservice import errors as rules
from ledger.selfservice.clock import FixedClock
from ledger.selfservice.workdays import DayKind, WorkCalendar, add_working_days, working_days_between

CATALOGUE = default_catalogue()

# 2026: Labour Day holiday 1-5 May, make-up working days Sunday 26 April and Saturday 9 May
MAY_DAY = WorkCalendar.of(
    [(date(2026, 5, d), DayKind.HOLIDAY) for d in range(1, 6)]
    + [(date(2026, 4, 26), DayKind.WORKDAY), (date(2026, 5, 9), DayKind.WORKDAY)]
)
PLAIN = WorkCalendar()


@pytest.mark.parametrize(
    ("start", "days", "calendar", "due"),
    [
        (date(2026, 3, 2), 0, PLAIN, date(2026, 3, 2)),  # Monday, nothing to count
        (date(2026, 3, 2), 5, PLAIN, date(2026, 3, 9)),  # Monday + 5 = next Monday
        (date(2026, 3, 6), 1, PLAIN, date(2026, 3, 9)),  # Friday + 1 = Monday
        (date(2026, 3, 7), 1, PLAIN, date(2026, 3, 9)),  # filed on Saturday: Monday is the first
        (date(2026, 4, 30), 1, MAY_DAY, date(2026, 5, 6)),  # over the five-day holiday
        (date(2026, 4, 30), 3, MAY_DAY, date(2026, 5, 8)),
        (date(2026, 4, 30), 4, MAY_DAY, date(2026, 5, 9)),  # a Saturday worked (调休)
        (date(2026, 4, 24), 1, MAY_DAY, date(2026, 4, 26)),  # Friday + 1 = the Sunday worked
    ],
)
def test_add_working_days(start: date, days: int, calendar: WorkCalendar, due: date) -> None:
    assert add_working_days(start, days, calendar) == due
    assert working_days_between(start, due, calendar) == days


def test_working_days_refuse_nonsense() -> None:
    with pytest.raises(ValueError):
        add_working_days(date(2026, 1, 1), -1, PLAIN)
    never = WorkCalendar.of((date(2026, 1, 1) + timedelta(days=n), DayKind.HOLIDAY) for n in range(60))
    with pytest.raises(ValueError, match="no working day"):
        add_working_days(date(2026, 1, 1), 1, never)


def test_publicity_windows_follow_the_catalogue() -> None:
    start = date(2026, 1, 10)
    general = publicity_window(CATALOGUE, "administrative_penalty", "general", start)
    assert general is not None
    assert general.minimum_until == start + timedelta(days=90)
    assert general.maximum_until == start + timedelta(days=365)
    serious_fire = publicity_window(CATALOGUE, "administrative_penalty", "general", start, "fire_safety")
    assert serious_fire is not None and serious_fire.minimum_until == start + timedelta(days=365)
    minor = publicity_window(CATALOGUE, "administrative_penalty", "minor", start, "work_safety")
    assert minor is not None and minor.minimum_until == start  # fulfilment alone, whatever the sector
    assert minor.minimum_passed(start)
    assert publicity_window(CATALOGUE, "tax", None, start) is None
    assert publicity_window(CATALOGUE, "serious_dishonesty_list", "minor", start) is None  # not a class there
    assert is_dishonesty(CATALOGUE, "judicial", "serious") and not is_dishonesty(CATALOGUE, "nope", "minor")


def test_publication_ends_the_day_after_the_maximum() -> None:
    start = date(2025, 1, 1)
    last = start + timedelta(days=365)
    assert not publication_ended(CATALOGUE, "administrative_penalty", "general", start, last)
    assert publication_ended(CATALOGUE, "administrative_penalty", "general", start, last + timedelta(days=1))
    assert not publication_ended(CATALOGUE, "tax", None, start, date(2100, 1, 1))


def test_the_local_day_is_the_calendars() -> None:
    late_utc = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)  # 01:30 on 2 March in Beijing
    assert local_day(late_utc, 480) == date(2026, 3, 2)
    assert local_day(late_utc, 0) == date(2026, 3, 1)
    clock = FixedClock(late_utc)
    clock.set_day(date(2026, 5, 6))
    assert local_day(clock.now(), 480) == date(2026, 5, 6)
    clock.advance(days=1)
    assert local_day(clock.now(), 480) == date(2026, 5, 7)
    with pytest.raises(ValueError):
        FixedClock(datetime(2026, 1, 1))  # naive


def test_every_refusal_names_its_rule_and_maps_to_one_status() -> None:
    expected = {
        rules.NotTheSubject: 403,
        rules.NotTheDecider: 403,
        rules.CommitmentNotYours: 403,
        rules.UnknownRecord: 404,
        rules.CommitmentUnknown: 404,
        rules.ObjectionAlreadyOpen: 409,
        rules.RecordSuperseded: 409,
        rules.MinimumPeriodNotPassed: 409,
        rules.CommitmentBreached: 409,
        rules.NotDishonesty: 422,
        rules.CorrectionInvalid: 422,
        rules.CommitmentWrongKind: 422,
    }
    for cls, status in expected.items():
        exc = cls.__new__(cls)
        assert status_for(exc) == status, cls
    codes = [cls.code for cls in rules.RULE_ERRORS]
    assert len(codes) == len(set(codes)), "each rule has its own code"
    assert all(getattr(cls, "example", "") for cls in rules.RULE_ERRORS)


def test_the_business_day_turns_at_16_00_utc_and_needs_an_aware_instant() -> None:
    """One calendar for the platform (ledger.domain.business_day): deadlines, filing days,
    an evaluation's as_of, publicity and future dates are all judged on the UTC+8 day."""
    from datetime import UTC, datetime

    import pytest

    assert local_day(datetime(2026, 12, 7, 15, 59, 59, tzinfo=UTC)) == date(2026, 12, 7)
    assert local_day(datetime(2026, 12, 7, 16, 0, 0, tzinfo=UTC)) == date(2026, 12, 8)
    assert local_day(datetime(2026, 12, 31, 16, 0, 0, tzinfo=UTC)) == date(2027, 1, 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        local_day(datetime(2026, 12, 7, 16, 0, 0))

"""Publicity periods of dishonesty (失信) records: the one place the rule is written.

Per severity the catalogue gives a minimum and a maximum number of days (国办发〔2025〕22号;
penalties of some sectors have a longer minimum); the clock starts at the record's
event date, which for dishonesty categories is the decision date. A record:

* may be repaired once its minimum has passed; a minor record at once, fulfilment alone
  sufficing (NDRC Order 36), whatever the sector;
* leaves publication, and sharing, automatically the day after its maximum; the release
  path asks `publication_ended` for that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated

from pydantic import Field

from ledger.domain.catalogue import Catalogue, CatalogueError, Severity

__all__ = ["PublicityWindow", "is_dishonesty", "publication_ended", "publicity_window"]


@dataclass(frozen=True)
class PublicityWindow:
    starts: date
    minimum_until: Annotated[
        date, Field(description="repair may be applied for from this day (minor: at once)")
    ]
    maximum_until: Annotated[
        date, Field(description="last day of publication; it ends automatically after it")
    ]

    def minimum_passed(self, today: date) -> bool:
        return today >= self.minimum_until

    def ended(self, today: date) -> bool:
        return self.maximum_until < today


def is_dishonesty(catalogue: Catalogue, category: str, severity: str | None) -> bool:
    """Whether a record of `category` with `severity` is dishonesty information."""
    try:
        policy = catalogue.category(category).dishonesty
    except CatalogueError:
        return False
    return policy is not None and severity is not None and severity in {s.value for s in policy.periods}


def publicity_window(
    catalogue: Catalogue, category: str, severity: str | None, starts: date, sector: str | None = None
) -> PublicityWindow | None:
    """The publicity window of a record; None when it is not dishonesty information."""
    if not is_dishonesty(catalogue, category, severity):
        return None
    policy = catalogue.category(category).dishonesty
    assert policy is not None and severity is not None
    period = policy.periods[Severity(severity)]
    if severity == Severity.MINOR:
        minimum = 0  # repair on fulfilment alone
    else:
        minimum = max(period.min_days, policy.sector_min_days.get(sector or "", 0))
    return PublicityWindow(
        starts=starts,
        minimum_until=starts + timedelta(days=minimum),
        maximum_until=starts + timedelta(days=period.max_days),
    )


def publication_ended(
    catalogue: Catalogue, category: str, severity: str | None, starts: date, today: date
) -> bool:
    """Whether a dishonesty record has left publication (and sharing) at its maximum period."""
    window = publicity_window(catalogue, category, severity, starts)
    return window is not None and window.ended(today)

"""Wiring: every self-service use case over one context (platform, records, clock, catalogue)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ledger.selfservice.calendar import CalendarService
from ledger.selfservice.clock import Clock, SystemClock
from ledger.selfservice.consents import ConsentsService
from ledger.selfservice.context import SelfServiceContext
from ledger.selfservice.declarations import DeclarationsService
from ledger.selfservice.notices import NoticesService
from ledger.selfservice.objections import ObjectionsService
from ledger.selfservice.repairs import RepairsService
from ledger.selfservice.selfquery import SelfQueryService

if TYPE_CHECKING:
    from ledger.platform import Platform
    from ledger.records.service import RecordsService

__all__ = ["SelfService"]


@dataclass(frozen=True)
class SelfService:
    ctx: SelfServiceContext
    consents: ConsentsService
    records: SelfQueryService
    declarations: DeclarationsService
    objections: ObjectionsService
    repairs: RepairsService
    calendar: CalendarService
    notices: NoticesService

    @classmethod
    def for_platform(
        cls, platform: Platform, *, records: RecordsService, clock: Clock | None = None
    ) -> SelfService:
        ctx = SelfServiceContext(platform, records, clock or SystemClock())
        return cls(
            ctx,
            ConsentsService(ctx),
            SelfQueryService(ctx),
            DeclarationsService(ctx),
            ObjectionsService(ctx),
            RepairsService(ctx),
            CalendarService(ctx),
            NoticesService(ctx),
        )

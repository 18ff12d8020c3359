"""Every self-service use case over one context (collaborators, clock, catalogue)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ledger.selfservice.calendar import CalendarService
from ledger.selfservice.clock import Clock
from ledger.selfservice.consents import ConsentsService
from ledger.selfservice.context import SelfServiceContext
from ledger.selfservice.declarations import DeclarationsService
from ledger.selfservice.notices import NoticesService
from ledger.selfservice.objections import ObjectionsService
from ledger.selfservice.repairs import RepairsService
from ledger.selfservice.selfquery import SelfQueryService

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
    def over(cls, ctx: SelfServiceContext) -> SelfService:
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

    def with_clock(self, clock: Clock) -> SelfService:
        """The same use cases with deadlines following `clock`; itself if that is its clock."""
        if clock is self.ctx.clock:
            return self
        return SelfService.over(dataclasses.replace(self.ctx, clock=clock))

"""Dependencies of the self-service routers: the clock deadlines follow, and the wired service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from api.deps import PlatformDep
from api.routers.records import records_service
from api.routers.selfservice_schemas import USCC_EXAMPLE
from ledger.selfservice.clock import Clock, SystemClock
from ledger.selfservice.service import SelfService

_SYSTEM_CLOCK = SystemClock()


def get_clock() -> Clock:
    """The clock deadlines follow (tests override this dependency)."""
    return _SYSTEM_CLOCK


def get_selfservice(platform: PlatformDep, clock: Annotated[Clock, Depends(get_clock)]) -> SelfService:
    return SelfService.for_platform(platform, records=records_service(platform), clock=clock)


SelfServiceDep = Annotated[SelfService, Depends(get_selfservice)]
Subject = Annotated[str, Query(description="the enterprise's own USCC", examples=[USCC_EXAMPLE])]

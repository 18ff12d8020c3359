"""Dependencies of the self-service routers: the clock deadlines follow, and the service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from api.deps import ServicesDep
from api.routers.selfservice_schemas import USCC_EXAMPLE
from ledger.selfservice.clock import Clock
from ledger.selfservice.service import SelfService


async def get_clock(services: ServicesDep) -> Clock:
    """The clock deadlines follow: the services' own (tests override this dependency)."""
    return services.selfservice.ctx.clock


async def get_selfservice(services: ServicesDep, clock: Annotated[Clock, Depends(get_clock)]) -> SelfService:
    """The service built at start-up, over the clock of `get_clock`."""
    return services.selfservice.with_clock(clock)


SelfServiceDep = Annotated[SelfService, Depends(get_selfservice)]
Subject = Annotated[str, Query(description="the enterprise's own USCC", examples=[USCC_EXAMPLE])]

"""The working-day calendar: holidays and make-up working days, maintained by operators."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from api.deps import CallerDep
from api.routers.selfservice_deps import SelfServiceDep
from api.routers.selfservice_schemas import CalendarDayBody, CalendarDayOut, rule_responses
from ledger.selfservice.calendar import CalendarEntry

router = APIRouter(prefix="/calendar", tags=["calendar"])

Day = Annotated[date, Path(description="a calendar day", examples=["2026-05-01"])]


@router.get(
    "/days",
    response_model=list[CalendarDayOut],
    summary="The calendar's exceptions in a year (any member)",
    description="Monday to Friday are working days except `holiday` entries; Saturday and Sunday are not, "
    "except `workday` entries (调休). Objection and repair deadlines count working days.",
    responses=rule_responses(),
)
def calendar_days(
    caller: CallerDep, service: SelfServiceDep, year: Annotated[int, Query(ge=2000, le=2100, examples=[2026])]
) -> list[CalendarEntry]:
    del caller  # any member
    return service.calendar.days(year)


@router.put(
    "/days/{day}",
    response_model=CalendarDayOut,
    summary="Make a day a holiday, or a weekend day a working day (operator)",
    description="Deadlines already set are not moved; later ones follow the new calendar.",
    responses=rule_responses(_403="not an operator", _422="a workday on a weekday (it is one already)"),
)
def set_calendar_day(
    day: Day, body: CalendarDayBody, caller: CallerDep, service: SelfServiceDep
) -> CalendarEntry:
    return service.calendar.set_day(caller.address, caller.member, day, body.kind, body.name)


@router.delete(
    "/days/{day}",
    status_code=204,
    summary="Remove a day's entry (operator)",
    responses=rule_responses(_403="not an operator", _404="no entry for that day"),
)
def delete_calendar_day(day: Day, caller: CallerDep, service: SelfServiceDep) -> Response:
    service.calendar.delete_day(caller.address, caller.member, day)
    return Response(status_code=204)

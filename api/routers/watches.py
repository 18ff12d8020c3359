"""Watches (an institution's post-loan monitoring of a subject) and operators' evasion flags.

Every route is a signed request (`X-Ledger-*` headers over method, path and body): creating,
listing and ending a watch by the institution itself, flagging malicious debt evasion by an
operator. A watch is created only when the chain allows it now; a refusal names the rule
that failed, stores nothing and is recorded (by the service and by the edge).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.deps import CallerDep, EvasionDep, WatchesDep, require_role
from api.view_models import ViewModel, view_of
from ledger.alerts.evasion import EvasionFlagView
from ledger.alerts.watches import (
    WatchNoAgreement,
    WatchNoGrant,
    WatchOutsideAgreement,
    WatchPurposeNotAllowed,
    WatchRefused,
    WatchView,
)
from ledger.chain.membership import Role

router = APIRouter(tags=["alerts"])

WATCH_EXAMPLE = "watch_0f6b2c1e9d3a4b5c8e7f6a5b4c3d2e1f"


class WatchBody(BaseModel):
    subject: str = Field(examples=["91410100MA44TL7G2F"], description="the enterprise's 统一社会信用代码")
    categories: list[str] = Field(
        min_length=1, max_length=32, examples=[["judicial", "tax"]], description="catalogue category names"
    )
    agreement_id: int = Field(ge=1, lt=2**48, description="the institution's agreement allowing 贷后管理")


@view_of(WatchView)
class WatchOut(ViewModel):
    pass


class FlagBody(BaseModel):
    subject: str = Field(examples=["91410100MA44TL7G2F"], description="the enterprise's 统一社会信用代码")
    reference: str = Field(min_length=1, max_length=200, description="the decision or case the flag rests on")


@view_of(EvasionFlagView)
class FlagOut(ViewModel):
    pass


def _refusals(*classes: type[WatchRefused]) -> dict[int | str, dict[str, str]]:
    codes = ", ".join(f"`{c.code}`" for c in classes)
    return {403: {"description": f"the chain does not allow the watch now ({codes}); nothing stored"}}


@router.post(
    "/watches",
    response_model=WatchOut,
    status_code=201,
    summary="Watch a subject for post-loan management (institution)",
    description=(
        "Allowed when the chain says so now: an active agreement of the institution whose purposes "
        "include post-loan management (贷后管理) and whose commitment is not breached, the categories in "
        "its scope, and a live grant of the subject covering the non-public categories. Each alert the "
        "watch yields is authorized again on chain at delivery, at a block B recorded with it."
    ),
    responses=_refusals(WatchNoAgreement, WatchPurposeNotAllowed, WatchOutsideAgreement, WatchNoGrant),
)
async def create_watch(body: WatchBody, caller: CallerDep, service: WatchesDep) -> WatchView:
    require_role(caller, Role.INSTITUTION)
    return await run_in_threadpool(
        service.create, caller.address, body.subject, body.categories, body.agreement_id
    )


@router.get(
    "/watches",
    response_model=list[WatchOut],
    summary="The caller's own watches, newest first (institution)",
)
async def list_watches(
    caller: CallerDep,
    service: WatchesDep,
    subject: Annotated[str | None, Query(max_length=18, description="only watches of this subject")] = None,
    include_ended: Annotated[bool, Query(description="ended watches too")] = False,
) -> list[WatchView]:
    require_role(caller, Role.INSTITUTION)
    return await run_in_threadpool(
        service.list_watches, caller.address, subject=subject, include_ended=include_ended
    )


@router.post(
    "/watches/{watch_id}/end",
    response_model=WatchOut,
    summary="End one of the caller's watches at once (institution)",
    description="No alert is enqueued for it from now on, and none enqueued before is delivered.",
    responses={404: {"description": "`watch_unknown`: no watch of the caller has this id"}},
)
async def end_watch(
    watch_id: Annotated[str, Path(max_length=40, examples=[WATCH_EXAMPLE])],
    caller: CallerDep,
    service: WatchesDep,
) -> WatchView:
    require_role(caller, Role.INSTITUTION)
    return await run_in_threadpool(service.end, caller.address, watch_id)


@router.post(
    "/evasion-flags",
    response_model=FlagOut,
    status_code=201,
    summary="Flag a subject for malicious debt evasion, 恶意逃废债 (operator): joint action by alerts",
    description=(
        "The flag and an alert to every institution watching the subject are written together; each "
        "alert is authorized on chain and logged in the access trail before it is delivered."
    ),
)
async def flag_evasion(body: FlagBody, caller: CallerDep, service: EvasionDep) -> EvasionFlagView:
    require_role(caller, Role.OPERATOR)
    return await run_in_threadpool(service.flag, caller.address, body.subject, body.reference)

"""Alerts to institutions (issue 19): endpoints, the pull feed, redelivery.

Every route is an institution's signed request (a signed read for the GETs). Registering
an endpoint runs the verification handshake (`ledger.alerts.endpoints`) before anything is
stored; its answer carries the `whsec_` secret, shown only there and in a rotation's answer.
The pull feed lists the institution's alerts that passed the delivery gate, in order, from a
cursor; redelivery queues a dead (or delivered) alert again under the same `webhook-id`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.deps import AlertEndpointsDep, AlertFeedDep, CallerDep, InstitutionBody, require_role
from api.view_models import ViewModel, view_of
from ledger.alerts.endpoints import EndpointStatus, Registered, Rotated
from ledger.alerts.feed import MAX_PAGE, FeedItem, FeedPage
from ledger.chain.membership import Role
from ledger.errors import InvalidInput

router = APIRouter(tags=["alerts"])

AlertId = Annotated[str, Path(pattern=r"^msg_[0-9a-f]{32}$", description="the alert id (its webhook-id)")]


class EndpointBody(BaseModel):
    url: str = Field(max_length=2048, description="https, outside private ranges (loopback in development)")


@view_of(Registered)
class RegisteredOut(ViewModel):
    pass


@view_of(Rotated)
class RotatedOut(ViewModel):
    pass


@view_of(EndpointStatus)
class EndpointOut(ViewModel):
    pass


@view_of(FeedItem)
class AlertOut(ViewModel):
    pass


@view_of(FeedPage, nested={FeedItem: AlertOut})
class FeedOut(ViewModel):
    pass


@router.post(
    "/alerts/endpoints",
    response_model=RegisteredOut,
    status_code=status.HTTP_201_CREATED,
    summary="Register the institution's webhook endpoint (verification handshake first)",
    responses={
        422: {
            "description": "endpoint_url_invalid, endpoint_not_https, endpoint_private_address, "
            "endpoint_unresolvable or endpoint_unverified: nothing stored"
        }
    },
)
async def register_endpoint(signed: InstitutionBody, endpoints: AlertEndpointsDep) -> Registered:
    try:
        body = EndpointBody.model_validate_json(signed.body)
    except ValueError as exc:
        raise InvalidInput(f"body: {exc}") from None
    return await run_in_threadpool(endpoints.register, signed.caller.address, body.url)


@router.get(
    "/alerts/endpoints",
    response_model=EndpointOut,
    summary="The institution's endpoint",
    responses={404: {"description": "no endpoint registered for this institution"}},
)
def endpoint_status(caller: CallerDep, endpoints: AlertEndpointsDep) -> EndpointStatus:
    require_role(caller, Role.INSTITUTION)
    return endpoints.status(caller.address)


@router.post(
    "/alerts/endpoints/rotate",
    response_model=RotatedOut,
    summary="Rotate the signing secret; both sign during the overlap",
    responses={404: {"description": "no active endpoint"}},
)
def rotate_secret(caller: CallerDep, endpoints: AlertEndpointsDep) -> Rotated:
    require_role(caller, Role.INSTITUTION)
    return endpoints.rotate(caller.address)


@router.post(
    "/alerts/endpoints/remove",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Stop pushing to the endpoint (the pull feed goes on)",
    responses={404: {"description": "no active endpoint"}},
)
def remove_endpoint(caller: CallerDep, endpoints: AlertEndpointsDep) -> None:
    require_role(caller, Role.INSTITUTION)
    endpoints.remove(caller.address)


@router.get("/alerts", response_model=FeedOut, summary="The pull feed: alerts after a cursor")
def alert_feed(
    caller: CallerDep,
    feed: AlertFeedDep,
    after: Annotated[str | None, Query(max_length=18, description="a cursor from an earlier page")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> FeedPage:
    require_role(caller, Role.INSTITUTION)
    return feed.feed(caller.address, after, limit)


@router.get(
    "/alerts/{alert_id}",
    response_model=AlertOut,
    summary="One alert and its delivery state",
    responses={404: {"description": "no such alert for this institution"}},
)
def alert(alert_id: AlertId, caller: CallerDep, feed: AlertFeedDep) -> FeedItem:
    require_role(caller, Role.INSTITUTION)
    return feed.alert(caller.address, alert_id)


@router.post(
    "/alerts/{alert_id}/redeliver",
    response_model=AlertOut,
    summary="Queue a dead (or delivered) alert again, same webhook-id and body",
    responses={
        404: {"description": "no such alert for this institution"},
        409: {"description": "not redeliverable now"},
    },
)
def redeliver(alert_id: AlertId, caller: CallerDep, feed: AlertFeedDep) -> FeedItem:
    require_role(caller, Role.INSTITUTION)
    return feed.redeliver(caller.address, alert_id)

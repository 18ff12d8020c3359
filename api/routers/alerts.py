"""Alerts to institutions (issue 19): endpoints, the pull feed, redelivery.

Every route is an institution's signed request (a signed read for the GETs). Registering
an endpoint runs the verification handshake (`ledger.alerts.endpoints`) before anything is
stored; its answer carries the `whsec_` secret, shown only there and in a rotation's answer.
The pull feed lists the institution's alerts that passed the delivery gate, in order, from a
cursor; redelivery queues a dead (or delivered) alert again under the same `webhook-id`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.deps import AlertEndpointsDep, AlertFeedDep, CallerDep, InstitutionBody, require_role
from ledger.alerts.endpoints import EndpointStatus
from ledger.alerts.feed import MAX_PAGE, FeedItem
from ledger.chain.membership import Role
from ledger.errors import InvalidInput

router = APIRouter(tags=["alerts"])

AlertId = Annotated[str, Path(pattern=r"^msg_[0-9a-f]{32}$", description="the alert id (its webhook-id)")]


class EndpointBody(BaseModel):
    url: str = Field(max_length=2048, description="https, outside private ranges (loopback in development)")


class RegisteredOut(BaseModel):
    endpoint_id: str
    url: str
    secret: str = Field(description="the whsec_ signing secret: shown only here")


class RotatedOut(BaseModel):
    endpoint_id: str
    secret: str = Field(description="the new whsec_ secret: shown only here")
    previous_valid_until_ms: int = Field(description="the previous secret signs too until then")


class EndpointOut(BaseModel):
    endpoint_id: str
    url: str
    state: str = Field(description="active or disabled")
    reason: str | None
    rotating_until_ms: int | None


class AlertOut(BaseModel):
    alert_id: str
    cursor: str
    state: str = Field(description="queued, delivered, dead (redeliverable) or fed (pull feed only)")
    attempts: int
    payload: dict[str, Any] = Field(description="the thin payload, exactly as pushed")


class FeedOut(BaseModel):
    alerts: list[AlertOut]
    next_cursor: str = Field(description="pass as `after` to continue")


def _alert(item: FeedItem) -> AlertOut:
    return AlertOut(
        alert_id=item.alert_id,
        cursor=item.cursor,
        state=item.state,
        attempts=item.attempts,
        payload=item.payload,
    )


def _endpoint(s: EndpointStatus) -> EndpointOut:
    return EndpointOut(
        endpoint_id=s.endpoint_id,
        url=s.url,
        state=s.state,
        reason=s.reason,
        rotating_until_ms=s.rotating_until_ms,
    )


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
async def register_endpoint(signed: InstitutionBody, endpoints: AlertEndpointsDep) -> RegisteredOut:
    try:
        body = EndpointBody.model_validate_json(signed.body)
    except ValueError as exc:
        raise InvalidInput(f"body: {exc}") from None
    done = await run_in_threadpool(endpoints.register, signed.caller.address, body.url)
    return RegisteredOut(endpoint_id=done.endpoint_id, url=done.url, secret=done.secret)


@router.get("/alerts/endpoints", response_model=EndpointOut, summary="The institution's endpoint")
def endpoint_status(caller: CallerDep, endpoints: AlertEndpointsDep) -> EndpointOut:
    require_role(caller, Role.INSTITUTION)
    return _endpoint(endpoints.status(caller.address))


@router.post(
    "/alerts/endpoints/rotate",
    response_model=RotatedOut,
    summary="Rotate the signing secret; both sign during the overlap",
    responses={404: {"description": "no active endpoint"}},
)
def rotate_secret(signed: InstitutionBody, endpoints: AlertEndpointsDep) -> RotatedOut:
    done = endpoints.rotate(signed.caller.address)
    return RotatedOut(
        endpoint_id=done.endpoint_id, secret=done.secret, previous_valid_until_ms=done.previous_valid_until_ms
    )


@router.post(
    "/alerts/endpoints/remove",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Stop pushing to the endpoint (the pull feed goes on)",
    responses={404: {"description": "no active endpoint"}},
)
def remove_endpoint(signed: InstitutionBody, endpoints: AlertEndpointsDep) -> None:
    endpoints.remove(signed.caller.address)


@router.get("/alerts", response_model=FeedOut, summary="The pull feed: alerts after a cursor")
def alert_feed(
    caller: CallerDep,
    feed: AlertFeedDep,
    after: Annotated[str | None, Query(max_length=18, description="a cursor from an earlier page")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> FeedOut:
    require_role(caller, Role.INSTITUTION)
    page = feed.feed(caller.address, after, limit)
    return FeedOut(alerts=[_alert(i) for i in page.items], next_cursor=page.next_cursor)


@router.get("/alerts/{alert_id}", response_model=AlertOut, summary="One alert and its delivery state")
def alert(alert_id: AlertId, caller: CallerDep, feed: AlertFeedDep) -> AlertOut:
    require_role(caller, Role.INSTITUTION)
    return _alert(feed.alert(caller.address, alert_id))


@router.post(
    "/alerts/{alert_id}/redeliver",
    response_model=AlertOut,
    summary="Queue a dead (or delivered) alert again, same webhook-id and body",
    responses={
        404: {"description": "no such alert for this institution"},
        409: {"description": "not redeliverable now"},
    },
)
def redeliver(alert_id: AlertId, signed: InstitutionBody, feed: AlertFeedDep) -> AlertOut:
    return _alert(feed.redeliver(signed.caller.address, alert_id))

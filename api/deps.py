"""Dependencies shared by the routers: the platform and the authenticated member.

Authentication failures become HTTP errors here, in one place, and each refusal is
written to the audit records before the error leaves.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from ledger.chain.membership import Member, Role, Status
from ledger.errors import LedgerError, NotAuthorized
from ledger.platform import Platform
from ledger.request_auth import api_domain, verify_request
from ledger.services import audit_events
from ledger.services.membership import MembershipService
from ledger.services.replay import remember_nonce


def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


def get_membership(platform: PlatformDep) -> MembershipService:
    return MembershipService(platform)


MembershipDep = Annotated[MembershipService, Depends(get_membership)]


@dataclass(frozen=True)
class Caller:
    """The member whose signature authenticated this request."""

    address: str
    member: Member


async def authenticated(request: Request, platform: PlatformDep, membership: MembershipDep) -> Caller:
    body = await request.body()
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    claimed = request.headers.get("x-ledger-signer")
    try:
        verified = verify_request(
            dict(request.headers),
            api_domain(platform.deployment.chain_id, platform.deployment.addresses["Membership"]),
            request.method,
            path,
            body,
            now=time.time(),
            max_age_seconds=platform.settings.request_max_age_seconds,
        )
        member = membership.member(verified.signer)
        if member.role == Role.NONE:
            raise NotAuthorized(f"{verified.signer} is not a member")
        if member.status != Status.ACTIVE:
            raise NotAuthorized(f"{verified.signer} is {member.status.name.lower()}, not active")
        remember_nonce(platform.db, verified.signer, verified.nonce)
    except LedgerError as exc:
        _audit_refusal(platform, claimed, f"{request.method} {path}", exc)
        raise
    return Caller(address=verified.signer, member=member)


def _audit_refusal(platform: Platform, actor: str | None, event: str, exc: LedgerError) -> None:
    with contextlib.suppress(LedgerError):  # the database is down: refused all the same
        audit_events.record(
            platform.db,
            actor=(actor or "")[:42] or None,
            event=event[:64],
            outcome="refused",
            detail=f"{exc.code}: {exc.message}",
        )


CallerDep = Annotated[Caller, Depends(authenticated)]


def require_role(caller: Caller, *roles: Role) -> None:
    if caller.member.role not in roles:
        names = " or ".join(r.name.lower() for r in roles)
        raise NotAuthorized(f"{caller.address} is a {caller.member.role.name.lower()}; this needs {names}")

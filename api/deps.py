"""Dependencies shared by the routers: the platform and the authenticated member.

`authenticated` is the one check of a signed request: the body it hashes was already
bounded by the edge (`api.edge`), which also records the refusal of every request that
fails here. The signature covers the path exactly as sent (`raw_path`, percent-encoding
included) and the raw query string.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from ledger.chain.membership import Member, Role, Status
from ledger.errors import NotAuthorized
from ledger.platform import Platform
from ledger.request_auth import api_domain, verify_request
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


def signed_path(request: Request) -> str:
    """The path and query as the client sent them: what a request signature covers."""
    raw: bytes = request.scope.get("raw_path") or request.url.path.encode()
    query: bytes = request.scope.get("query_string", b"")
    path = raw.decode("latin-1")
    return path + ("?" + query.decode("latin-1") if query else "")


async def authenticated(request: Request, platform: PlatformDep, membership: MembershipDep) -> Caller:
    body = await request.body()
    verified = verify_request(
        dict(request.headers),
        api_domain(platform.deployment.chain_id, platform.deployment.addresses["Membership"]),
        request.method,
        signed_path(request),
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
    return Caller(address=verified.signer, member=member)


CallerDep = Annotated[Caller, Depends(authenticated)]


def member_of(*roles: Role) -> Any:
    """A dependency: the authenticated caller, refused (403) unless its role is one of `roles`."""

    async def dependency(caller: CallerDep) -> Caller:
        require_role(caller, *roles)
        return caller

    return Depends(dependency)


ProviderDep = Annotated[Caller, member_of(Role.PROVIDER)]
OperatorDep = Annotated[Caller, member_of(Role.OPERATOR)]


def require_role(caller: Caller, *roles: Role) -> None:
    if caller.member.role not in roles:
        names = " or ".join(r.name.lower() for r in roles)
        raise NotAuthorized(f"{caller.address} is a {caller.member.role.name.lower()}; this needs {names}")

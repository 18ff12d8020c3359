"""Dependencies shared by the routers: the services built at start-up, and the authenticated member.

The application builds every service once at start-up (`ledger.wiring.Services`, put on
the app by `api.app`); a route reaches one through the typed getters here (`RecordsDep`,
`ReleaseDep` …), never by building it. The getters are `async` so that resolving them
takes no thread of the pool.

`authenticated` is the one check of a signed request: the body it hashes was already
bounded by the edge (`api.edge`), which also records the refusal of every request that
fails here. The signature covers the path exactly as sent (`raw_path`, percent-encoding
included) and the raw query string. A route that takes a body uses `RequireSignedBody`: the
body, its signer authenticated and holding the route's role, in one dependency.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from ledger.alerts.endpoints import AlertEndpoints
from ledger.alerts.evasion import EvasionService
from ledger.alerts.feed import AlertFeed
from ledger.alerts.watches import WatchService
from ledger.chain.membership import Member, Role, Status
from ledger.errors import NotAuthorized
from ledger.evaluation_release.service import EvaluationService
from ledger.financing.kpi_publish import KpiSnapshots
from ledger.financing.kpis import KpiService
from ledger.financing.loans import LoanReports
from ledger.financing.service import FinancingService
from ledger.logs.bundles import ProofBundles
from ledger.logs.tlog import TlogTiles
from ledger.platform import Platform
from ledger.records.catalogues import CatalogueService
from ledger.records.service import RecordsService
from ledger.release.accesses import AccessesService
from ledger.release.service import ReleaseService
from ledger.request_auth import api_domain, verify_request
from ledger.services.acts import ActsService
from ledger.services.membership import MembershipService
from ledger.services.replay import remember_nonce
from ledger.wiring import Services


def services_of(app: Any) -> Services:
    """The services `app` built at start-up (`api.app.create_app`)."""
    services: Services = app.state.services
    return services


async def get_services(request: Request) -> Services:
    return services_of(request.app)


async def get_platform(request: Request) -> Platform:
    return services_of(request.app).platform


async def get_membership(request: Request) -> MembershipService:
    return services_of(request.app).membership


async def get_acts(request: Request) -> ActsService:
    return services_of(request.app).acts


async def get_catalogues(request: Request) -> CatalogueService:
    return services_of(request.app).catalogues


async def get_records(request: Request) -> RecordsService:
    return services_of(request.app).records


async def get_bundles(request: Request) -> ProofBundles:
    return services_of(request.app).bundles


async def get_tlog(request: Request) -> TlogTiles:
    return services_of(request.app).tlog


async def get_accesses(request: Request) -> AccessesService:
    return services_of(request.app).accesses


async def get_release(request: Request) -> ReleaseService:
    return services_of(request.app).release


async def get_evaluation(request: Request) -> EvaluationService:
    return services_of(request.app).evaluation


async def get_watches(request: Request) -> WatchService:
    return services_of(request.app).watches


async def get_evasion(request: Request) -> EvasionService:
    return services_of(request.app).evasion


async def get_loans(request: Request) -> LoanReports:
    return services_of(request.app).loans


async def get_kpis(request: Request) -> KpiService:
    return services_of(request.app).kpis


async def get_snapshots(request: Request) -> KpiSnapshots:
    return services_of(request.app).snapshots


async def get_alert_endpoints(request: Request) -> AlertEndpoints:
    return services_of(request.app).alert_endpoints


async def get_alert_feed(request: Request) -> AlertFeed:
    return services_of(request.app).alert_feed


async def get_financing(request: Request) -> FinancingService:
    return services_of(request.app).financing


ServicesDep = Annotated[Services, Depends(get_services)]
PlatformDep = Annotated[Platform, Depends(get_platform)]
MembershipDep = Annotated[MembershipService, Depends(get_membership)]
ActsDep = Annotated[ActsService, Depends(get_acts)]
CataloguesDep = Annotated[CatalogueService, Depends(get_catalogues)]
RecordsDep = Annotated[RecordsService, Depends(get_records)]
BundlesDep = Annotated[ProofBundles, Depends(get_bundles)]
TlogDep = Annotated[TlogTiles, Depends(get_tlog)]
AccessesDep = Annotated[AccessesService, Depends(get_accesses)]
ReleaseDep = Annotated[ReleaseService, Depends(get_release)]
EvaluationDep = Annotated[EvaluationService, Depends(get_evaluation)]
WatchesDep = Annotated[WatchService, Depends(get_watches)]
EvasionDep = Annotated[EvasionService, Depends(get_evasion)]
LoansDep = Annotated[LoanReports, Depends(get_loans)]
KpisDep = Annotated[KpiService, Depends(get_kpis)]
SnapshotsDep = Annotated[KpiSnapshots, Depends(get_snapshots)]
AlertEndpointsDep = Annotated[AlertEndpoints, Depends(get_alert_endpoints)]
AlertFeedDep = Annotated[AlertFeed, Depends(get_alert_feed)]
FinancingDep = Annotated[FinancingService, Depends(get_financing)]


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
        api_domain(platform.deployment.chain_id, platform.deployment.addresses.membership),
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


def require_role(caller: Caller, *roles: Role) -> None:
    if caller.member.role not in roles:
        names = " or ".join(r.name.lower() for r in roles)
        raise NotAuthorized(f"{caller.address} is a {caller.member.role.name.lower()}; this needs {names}")


@dataclass(frozen=True)
class SignedBody:
    """A signed request's body (bounded by the edge, covered by the signature) and its caller."""

    caller: Caller
    body: bytes


class RequireSignedBody:
    """A dependency: the body of a signed request whose signer holds one of `roles` (403 otherwise).

    The edge (`api.edge.BODY_ROUTES`) bounds the body first, reading past its small
    unauthenticated cap only for a claimed signer holding the same roles.
    """

    def __init__(self, *roles: Role) -> None:
        self.roles = roles

    async def __call__(self, request: Request, caller: CallerDep) -> SignedBody:
        require_role(caller, *self.roles)
        return SignedBody(caller, await request.body())  # already read, within its limit, by `authenticated`


ProviderBody = Annotated[SignedBody, Depends(RequireSignedBody(Role.PROVIDER))]
OperatorBody = Annotated[SignedBody, Depends(RequireSignedBody(Role.OPERATOR))]
InstitutionBody = Annotated[SignedBody, Depends(RequireSignedBody(Role.INSTITUTION))]

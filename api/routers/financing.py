"""Financing services (issue 18): white lists, loan products, demands, matching, applications.

Publishing (`POST /financing/publications`: white lists by operators, loan products by
the institution offering them) takes the document and its publisher's signature of the `Publish` act
under the `Publications` domain of `GET /chain` (nonce from `GET /members/{address}`);
the act's kind, id, version and validity are the document's own, so only the hash the
publisher signed travels beside it. Lists and products are public to members.

Demands, the eligibility profile and matching are the enterprise's own view (403 for
anyone else); applying is one signed `Grant` to the product's institution for the
loan-application purpose, which the institution then sees in `GET /financing/applications`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from api.deps import Caller, CallerDep, FinancingDep, RequireSignedBody, SignedBody
from api.errors import InvalidRequest
from api.routers.selfservice_deps import Subject
from api.schemas import INT32_MAX, Address, Bytes32, Signature, Strict, Uint, UintRule, to_bytes
from api.view_models import IsoText, ViewModel, view_of
from ledger.chain.consents import GrantMessage
from ledger.chain.eip712 import Signed
from ledger.chain.membership import Role
from ledger.chain.publications import PublicationKind
from ledger.errors import NotAuthorized
from ledger.financing.applications import Application
from ledger.financing.demands import DemandRecord
from ledger.financing.matching import matches_json
from ledger.financing.service import PublishSignature
from ledger.financing.store import StoredDocument
from ledger.financing.whitelists import Listing

router = APIRouter(prefix="/financing", tags=["financing"])

KeyPath = Annotated[str, Path(min_length=1, max_length=128, description="the document's key")]
VersionQuery = Annotated[int | None, Query(ge=1, le=INT32_MAX, description="a version; the newest if absent")]


class PublishBody(Strict):
    kind: Literal["white_list", "loan_product"] = Field(
        description="white_list (operators) or loan_product (the institution offering it)"
    )
    document: dict[str, Any] = Field(description="the document; its key, version and validity are the act's")
    content_hash: Bytes32 = Field(description="SHA-256 of the document's RFC 8785 form, as signed")
    nonce: Uint
    deadline: Uint
    signature: Signature


class DocumentOut(BaseModel):
    anchor: dict[str, Any] = Field(
        description="kind, key, version, content hash, publisher, block, transaction"
    )
    document: dict[str, Any]

    @classmethod
    def of(cls, stored: StoredDocument) -> DocumentOut:
        return cls(anchor=stored.anchor_json(), document=stored.content)


_PUBLISH_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": PublishBody.model_json_schema()}},
    }
}


@view_of(Listing, wire={"since": IsoText | None})
class ListingOut(ViewModel):
    pass


@view_of(DemandRecord, wire={"created_at": IsoText})
class DemandOut(ViewModel):
    pass


@view_of(Application, wire={"created_at": IsoText})
class ApplicationOut(ViewModel):
    pass


def _signature(body: PublishBody) -> PublishSignature:
    return PublishSignature(to_bytes(body.content_hash), body.nonce, body.deadline, to_bytes(body.signature))


PublisherBody = Annotated[SignedBody, Depends(RequireSignedBody(Role.DISTRICT_OPERATOR, Role.INSTITUTION))]


def _require(caller: Caller, role: Role, what: str) -> None:
    if caller.member.role is not role:
        raise NotAuthorized(f"{caller.address} is a {caller.member.role.name.lower()}: {what}")


# -- publishing -----------------------------------------------------------------------------


@router.post(
    "/publications", response_model=DocumentOut, status_code=201,
    summary="Publish a white-list version (district operators) or a loan-product version (its institution)",
    responses={
        413: {"description": "body over LEDGER_INGEST_MAX_SINGLE_BYTES"},
        422: {"description": "an invalid USCC or eligibility rule (position, field named) or document"},
    },
    openapi_extra=_PUBLISH_BODY,
)  # fmt: skip
async def publish(signed_body: PublisherBody, financing: FinancingDep) -> DocumentOut:
    """The document is anchored on chain by the signed `Publish` act, then stored. A white
    list may name many enterprises: the body is bounded by the edge for the publishing roles
    (`api.edge.BODY_ROUTES`) and parsed by pydantic's JSON parser, like a catalogue's."""
    try:
        body = PublishBody.model_validate_json(signed_body.body)
    except ValidationError as exc:
        raise InvalidRequest(exc.errors()) from None
    caller = signed_body.caller
    if body.kind == "white_list":
        stored = await run_in_threadpool(
            financing.publish_white_list, caller.address, caller.member.role, body.document, _signature(body)
        )
    else:
        _require(caller, Role.INSTITUTION, "loan products are published by the institution offering them")
        stored = await run_in_threadpool(
            financing.publish_product, caller.address, body.document, _signature(body)
        )
    return DocumentOut.of(stored)


# -- white lists ----------------------------------------------------------------------------


@router.get("/white-lists", summary="Every white list's newest version (without its enterprises)")
def white_lists(_caller: CallerDep, financing: FinancingDep) -> list[dict[str, Any]]:
    out = []
    for stored in financing.store.all_latest(PublicationKind.WHITE_LIST):
        summary = {k: v for k, v in stored.content.items() if k != "enterprises"}
        out.append(
            {"anchor": stored.anchor_json(), **summary, "enterprises": len(stored.content["enterprises"])}
        )
    return out


@router.get(
    "/white-lists/{key}", response_model=DocumentOut, summary="A white list (a version, or the newest)"
)
def white_list(
    key: KeyPath, _caller: CallerDep, financing: FinancingDep, version: VersionQuery = None
) -> DocumentOut:
    kind = PublicationKind.WHITE_LIST
    stored = (
        financing.store.latest(kind, key) if version is None else financing.store.version(kind, key, version)
    )
    return DocumentOut.of(stored)


@router.get(
    "/enterprises/{uscc}/white-lists", response_model=list[ListingOut],
    summary="The white lists that named an enterprise: whether it is on each now, and since when",
)  # fmt: skip
def listings(
    uscc: Annotated[str, Path(max_length=32)], caller: CallerDep, financing: FinancingDep
) -> list[Listing]:
    return financing.listings_of(caller.address, uscc)


# -- loan products --------------------------------------------------------------------------


@router.get("/products", response_model=list[DocumentOut], summary="Every loan product's newest version")
def products(_caller: CallerDep, financing: FinancingDep) -> list[DocumentOut]:
    return [DocumentOut.of(stored) for stored, _ in financing.products()]


@router.get(
    "/products/{key}", response_model=DocumentOut, summary="A loan product (a version, or the newest)"
)
def product(
    key: KeyPath, _caller: CallerDep, financing: FinancingDep, version: VersionQuery = None
) -> DocumentOut:
    kind = PublicationKind.LOAN_PRODUCT
    stored = (
        financing.store.latest(kind, key) if version is None else financing.store.version(kind, key, version)
    )
    return DocumentOut.of(stored)


# -- demands and matching (the enterprise's own) --------------------------------------------


class DemandBody(Strict):
    subject: str = Field(max_length=32, description="the enterprise's own USCC")
    amount: int = Field(gt=0, le=10**12, description="yuan")
    term_months: int = Field(gt=0, le=360)
    use: str = Field(min_length=1, max_length=2000)
    collateral: str = Field(default="", max_length=2000)


@router.post(
    "/demands",
    response_model=DemandOut,
    status_code=201,
    summary="Post a financing demand (the enterprise itself)",
)
def post_demand(body: DemandBody, caller: CallerDep, financing: FinancingDep) -> DemandRecord:
    demand = financing.post_demand(
        caller.address, caller.member, body.subject, amount=body.amount, term_months=body.term_months,
        use=body.use, collateral=body.collateral,
    )  # fmt: skip
    return demand


@router.get("/demands", response_model=list[DemandOut], summary="The enterprise's own demands")
def demands(subject: Subject, caller: CallerDep, financing: FinancingDep) -> list[DemandRecord]:
    return financing.demands_of(caller.address, caller.member, subject)


@router.get(
    "/profile", summary="The enterprise's eligibility profile: the facts products' rules are checked on"
)
def profile(subject: Subject, caller: CallerDep, financing: FinancingDep) -> dict[str, Any]:
    found = financing.profile(caller.address, caller.member, subject)
    return {"subject": found.subject, "values": _plain(found.values)}


@router.get(
    "/demands/{demand_id}/matches",
    summary="Match a demand against every product in force: per criterion met or not, with reasons (zh/en)",
    description="The enterprise's own view, computed from its data; never shown to institutions.",
)
def matches(
    demand_id: Annotated[str, Path(max_length=36)],
    subject: Subject,
    caller: CallerDep,
    financing: FinancingDep,
) -> dict[str, Any]:
    found, results = financing.match(caller.address, caller.member, subject, demand_id)
    return {
        "subject": subject, "demand_id": demand_id, "profile": _plain(found.values),
        "eligible": matches_json(r for r in results if r.eligible),
        "not_eligible": matches_json(r for r in results if not r.eligible),
    }  # fmt: skip


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {k: sorted(v) if isinstance(v, set | frozenset) else v for k, v in values.items()}


# -- applications ---------------------------------------------------------------------------


class GrantBody(Strict):
    """The `Grant` act of `Consents` (see `POST /acts/Grant`), signed by the enterprise."""

    uscc_hash: Bytes32
    institution: Address
    agreement_id: Uint
    categories: Uint
    purposes: Uint
    raw_categories: Uint
    expires_at: Uint
    enterprise: Address
    nonce: Uint
    deadline: Uint
    signature: Signature


class ApplicationBody(Strict):
    subject: str = Field(max_length=32, description="the enterprise's own USCC")
    product_key: str = Field(min_length=1, max_length=128)
    product_version: int = Field(ge=1, le=INT32_MAX)
    demand_id: str | None = Field(default=None, max_length=36)
    grant: GrantBody | None = Field(default=None, description="the signed grant to relay")
    grant_id: Annotated[int, UintRule(63, minimum=1)] | None = Field(
        default=None, description="or: a grant already on chain (after a lost answer)"
    )


@router.post(
    "/applications", response_model=ApplicationOut, status_code=201,
    summary="Apply to a loan product: one signed consent grant to its institution (the enterprise)",
)  # fmt: skip
def apply(body: ApplicationBody, caller: CallerDep, financing: FinancingDep) -> Application:
    grant = None
    if body.grant is not None:
        g = body.grant
        message = GrantMessage(
            to_bytes(g.uscc_hash), g.institution, g.agreement_id, g.categories, g.purposes, g.raw_categories,
            g.expires_at, g.enterprise, g.nonce, g.deadline,
        )  # fmt: skip
        grant = Signed(message, to_bytes(g.signature))
    application = financing.apply(
        caller.address, caller.member, body.subject, product_key=body.product_key,
        product_version=body.product_version, demand_id=body.demand_id, grant=grant, grant_id=body.grant_id,
    )  # fmt: skip
    return application


@router.get(
    "/applications",
    response_model=list[ApplicationOut],
    summary="Applications received (an institution; `subject` names one enterprise) or made (the enterprise)",
)
def applications(
    caller: CallerDep, financing: FinancingDep, subject: Annotated[str | None, Query(max_length=32)] = None
) -> list[Application]:
    return financing.applications_of(caller.address, caller.member, subject)

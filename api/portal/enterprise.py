"""The enterprise's pages: records, who read its data, consents, cases, declarations, notices,
evaluation and financing.

Each page is a thin route over `ledger.portal.enterprise.EnterprisePages` (or the
self-service calls the API makes), read with the session's member and USCC; the
enterprise's acts (grant, revoke, objection, repair, declaration) are forms the browser
signs and sends to the API's own routes (`static/portal.js`, `static/enterprise.js`).
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import ServicesDep
from api.portal.render import render
from api.portal.session import EnterpriseUser, PortalUser
from ledger.errors import InvalidInput
from ledger.financing.matching import matches_json
from ledger.portal.enterprise import PAGE

router = APIRouter(prefix="/portal/enterprise", include_in_schema=False)

Offset = Annotated[int, Query(ge=0, le=2**62)]
#: a form's checked bits (each a decimal string), OR-ed into one mask
Bits = Annotated[tuple[str, ...], Query(max_length=256)]


def _mask(bits: tuple[str, ...]) -> int:
    mask = 0
    for bit in bits:
        if not bit.isdigit() or len(bit) > 78:
            raise InvalidInput(f"{bit!r} is not a decimal bit value")
        mask |= int(bit)
    return mask


def _subject(user: PortalUser) -> str:
    if not user.session.subject:
        raise InvalidInput("this session names no USCC: sign in again giving your enterprise's USCC")
    return user.session.subject


def _download(name: str, value: Any) -> Response:
    return Response(
        json.dumps(value, ensure_ascii=False, indent=2, default=str),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/", response_class=HTMLResponse)
def home(request: Request, user: EnterpriseUser) -> HTMLResponse:
    return render(request, "enterprise/home.html", user, page="home", subject=_subject(user))


@router.get("/records", response_class=HTMLResponse)
def records(
    request: Request, user: EnterpriseUser, services: ServicesDep, offset: Offset = 0
) -> HTMLResponse:
    pages = services.enterprise_pages
    found = pages.records(user.address, user.member, _subject(user), offset)
    return render(
        request, "enterprise/records.html", user, page="records", found=found, catalogue=pages.catalogue
    )


@router.get("/records/{record_id}", response_class=HTMLResponse)
def record(
    request: Request,
    user: EnterpriseUser,
    services: ServicesDep,
    record_id: Annotated[str, Path(max_length=64)],
) -> HTMLResponse:
    pages = services.enterprise_pages
    found = pages.record(user.address, user.member, _subject(user), record_id)
    return render(
        request, "enterprise/record.html", user, page="records", record=found, catalogue=pages.catalogue
    )


@router.get("/records/{record_id}/versions/{version}/proof.json")
def record_proof(
    user: EnterpriseUser,
    services: ServicesDep,
    record_id: Annotated[str, Path(max_length=64)],
    version: Annotated[int, Path(ge=1, le=2**31)],
) -> Response:
    found = services.selfservice.records.records(
        user.address, user.member, _subject(user), record_id=record_id
    )
    for v in found[0].versions:
        if v.version == version:
            leaf = {"log": "credit-records", "index": v.log_index, "leaf_hash": "0x" + v.leaf_hash.hex()}
            return _download(f"record-{record_id}-v{version}-proof.json", {**leaf, "proof": v.proof})
    raise InvalidInput(f"record {record_id} has no version {version}")


@router.get("/accesses", response_class=HTMLResponse)
def accesses(
    request: Request,
    user: EnterpriseUser,
    services: ServicesDep,
    before: Annotated[int | None, Query(ge=0, le=2**62)] = None,
) -> HTMLResponse:
    pages = services.enterprise_pages
    lines = pages.who_read(user.member, _subject(user), before, user.locale)
    return render(
        request, "enterprise/accesses.html", user, page="accesses", lines=lines, before=before, page_size=PAGE
    )


@router.get("/accesses/{index}/proof.json")
def access_proof(
    user: EnterpriseUser, services: ServicesDep, index: Annotated[int, Path(ge=0, le=2**62)]
) -> Response:
    proof = services.enterprise_pages.access_proof(user.member, index)
    return _download(f"access-{index}-proof.json", proof)


@router.get("/consents", response_class=HTMLResponse)
def consents(request: Request, user: EnterpriseUser, services: ServicesDep) -> HTMLResponse:
    at, institutions, grants = services.selfservice.consents.listing(user.address, user.member)
    return render(
        request,
        "enterprise/consents.html",
        user,
        page="consents",
        at=at,
        institutions=institutions,
        grants=sorted(grants, key=lambda g: -g.id),
        catalogue=services.enterprise_pages.catalogue,
        subject=_subject(user),
    )


@router.get("/consents/summary", response_class=HTMLResponse)
def consent_summary(
    request: Request,
    user: EnterpriseUser,
    services: ServicesDep,
    institution: Annotated[str, Query(max_length=42)] = "",
    categories: Bits = (),
    purposes: Bits = (),
    raw_categories: Bits = (),
    days: Annotated[int, Query(ge=1, le=3660)] = 30,
    agreement_id: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> HTMLResponse:
    """The plain summary of what the grant form would share (an htmx part, updated as it changes)."""
    summary = services.enterprise_pages.summary(
        institution,
        _mask(categories),
        _mask(purposes),
        _mask(raw_categories) & _mask(categories),
        int(time.time()) + days * 86400,
        agreement_id,
        locale=user.locale,
    )
    return render(request, "enterprise/consent_summary.html", user, summary=summary)


@router.get("/cases", response_class=HTMLResponse)
def cases(request: Request, user: EnterpriseUser, services: ServicesDep) -> HTMLResponse:
    subject = _subject(user)
    ss = services.selfservice
    return render(
        request,
        "enterprise/cases.html",
        user,
        page="cases",
        objections=ss.objections.listing(user.address, user.member, subject=subject),
        repairs=ss.repairs.listing(user.address, user.member, subject=subject),
    )


@router.get("/notices", response_class=HTMLResponse)
def notices(request: Request, user: EnterpriseUser, services: ServicesDep) -> HTMLResponse:
    found = services.selfservice.notices.feed(user.address, user.member, _subject(user), limit=100)
    return render(request, "enterprise/notices.html", user, page="notices", notices=list(reversed(found)))


@router.get("/declarations", response_class=HTMLResponse)
def declarations(request: Request, user: EnterpriseUser, services: ServicesDep) -> HTMLResponse:
    subject = _subject(user)
    found = services.selfservice.records.records(
        user.address, user.member, subject, category="self_declared", with_proofs=False
    )
    return render(
        request, "enterprise/declarations.html", user, page="declarations", records=found, subject=subject
    )


@router.get("/evaluation", response_class=HTMLResponse)
def evaluation(request: Request, user: EnterpriseUser, services: ServicesDep) -> HTMLResponse:
    found = services.enterprise_pages.evaluation_of(user.address, user.member, _subject(user))
    return render(request, "enterprise/evaluation.html", user, page="evaluation", evaluation=found)


@router.get("/financing", response_class=HTMLResponse)
def financing(
    request: Request,
    user: EnterpriseUser,
    services: ServicesDep,
    demand: Annotated[str | None, Query(max_length=36)] = None,
) -> HTMLResponse:
    subject = _subject(user)
    service = services.financing
    demands = service.demands_of(user.address, user.member, subject)
    matches = matches_json(service.match(user.address, user.member, subject, demand)[1]) if demand else None
    return render(
        request,
        "enterprise/financing.html",
        user,
        page="financing",
        listings=service.listings_of(user.address, subject),
        demands=demands,
        demand=demand,
        matches=matches,
        subject=subject,
    )

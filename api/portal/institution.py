"""The institution's pages: agreements and commitments, the data request, alerts, loans.

Thin routes over the views of `ledger.portal.institution` and `ledger.portal.product_draft`.
The data request is signed in the browser and sent to `POST /releases` itself
(`static/portal.js`, `data-sign="body"`); the browser then posts the platform's answer here
(`/releases/check`), which checks its receipt against the access trail and the chain and
shows what was released. A loan product is checked here first (`/products/draft`: the
product in words, or the refusal naming the field), then signed in the browser (`Publish`)
and sent to `POST /financing/publications`; a loan report (a decision on an application, or
a repayment status) is signed and sent to `POST /loans/reports`.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import ServicesDep
from api.portal.forms import InstitutionForm
from api.portal.i18n import field_name, field_value
from api.portal.refusals import refusal_context
from api.portal.render import render
from api.portal.session import InstitutionUser
from ledger.alerts.rules import default_rules
from ledger.errors import InvalidInput
from ledger.financing.eligibility import FIELDS
from ledger.financing.loan_report import INDUSTRY_SECTIONS
from ledger.financing.products import PRODUCT_KINDS
from ledger.logs.verify import verify_inclusion_bundle
from ledger.portal.institution import (
    AgreementView,
    DatabaseTrail,
    MalformedRelease,
    agreements_of,
    alert_views,
    check_release,
    commitments_of,
    request_form,
)
from ledger.portal.product_draft import RULE_ROWS, product_draft
from ledger.release.request import request_domain
from ledger.wiring import Services

router = APIRouter(prefix="/portal/institution", include_in_schema=False)

#: the alerts shown, newest last
ALERTS_SHOWN = 100
#: the most a browser may post back: a release answer of this size is far beyond any page's
MAX_ANSWER_CHARS = 2_000_000


def _agreements(services: Services, user: InstitutionUser) -> list[AgreementView]:
    return agreements_of(
        services.platform.contracts.agreements,
        user.address,
        now=int(time.time()),
        catalogue=services.catalogues.current().catalogue,
        locale=user.locale,
    )


@router.get("/", response_class=HTMLResponse)
def home(request: Request, user: InstitutionUser, services: ServicesDep) -> HTMLResponse:
    return render(
        request,
        "institution/home.html",
        user,
        page="home",
        agreements=_agreements(services, user),
        commitments=commitments_of(services.platform.contracts.agreements, user.address),
    )


@router.get("/request", response_class=HTMLResponse)
def request_page(request: Request, user: InstitutionUser, services: ServicesDep) -> HTMLResponse:
    deployment = services.platform.deployment
    form = request_form(
        user.address,
        request_domain(deployment.chain_id, deployment.addresses.consents),
        _agreements(services, user),
        max_lifetime=services.platform.settings.request_max_lifetime_seconds,
    )
    return render(request, "institution/request.html", user, page="request", form=form)


@router.post("/releases/check", response_class=HTMLResponse)
def check(
    request: Request,
    user: InstitutionForm,
    services: ServicesDep,
    answer: Annotated[str, Form(max_length=MAX_ANSWER_CHARS)],
    nonce: Annotated[str, Form(pattern=r"^0x[0-9a-fA-F]{64}$")],
) -> HTMLResponse:
    """The platform's answer to this institution's data request, its receipt checked."""
    try:
        checked = check_release(
            answer.encode("utf-8"),
            institution=user.address,
            nonce=nonce,
            trail=DatabaseTrail(services.platform.db, services.bundles),
            verify_proof=lambda bundle: verify_inclusion_bundle(
                bundle, checkpoints=services.platform.contracts.checkpoints
            ),
            catalogue=services.catalogues.current().catalogue,
            locale=user.locale,
            field_name=lambda f: field_name(f, user.locale),
            field_value=lambda category, f, value: field_value(category, f, value, user.locale),
        )
    except MalformedRelease as exc:
        raise InvalidInput(f"answer: {exc}") from None
    return render(request, "institution/release.html", user, checked=checked, answer=answer, nonce=nonce)


@router.get("/alerts", response_class=HTMLResponse)
def alerts(request: Request, user: InstitutionUser, services: ServicesDep) -> HTMLResponse:
    page = services.alert_feed.feed(user.address, None, ALERTS_SHOWN)
    catalogue = services.catalogues.current().catalogue
    views = alert_views(page.items, catalogue=catalogue, rules=default_rules(), locale=user.locale)
    return render(request, "institution/alerts.html", user, page="alerts", alerts=views)


#: the longest value a product form's field may hold (the description's limit)
MAX_FIELD_CHARS = 4000


@router.get("/loans", response_class=HTMLResponse)
def loans(
    request: Request,
    user: InstitutionUser,
    services: ServicesDep,
    subject: Annotated[str, Query(max_length=32, description="an applicant, to decide on")] = "",
) -> HTMLResponse:
    """Products, applications and reports, with the forms that publish a product and report a loan."""
    financing = services.financing
    products = [(s, d) for s, d in financing.products() if s.publisher.lower() == user.address.lower()]
    return render(
        request,
        "institution/loans.html",
        user,
        page="loans",
        products=products,
        applications=financing.applications_of(user.address, user.member, None),
        reports=services.loans.recent(user.address),
        agreements=[a for a in _agreements(services, user) if a.active],
        product_kinds=PRODUCT_KINDS,
        fields=FIELDS,
        rule_rows=RULE_ROWS,
        industries=sorted(INDUSTRY_SECTIONS),
        idempotency_key=uuid.uuid4().hex,
        today=datetime.now(UTC).date().isoformat(),
        subject=subject,
        **refusal_context(),
    )


@router.post("/products/draft", response_class=HTMLResponse)
async def product_check(request: Request, user: InstitutionForm) -> HTMLResponse:
    """The product of the form, checked as the API checks it: in words with what to sign, or refused."""
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str) and len(v) <= MAX_FIELD_CHARS}
    try:
        draft = product_draft(values)
    except InvalidInput as exc:
        return render(request, "institution/product_draft.html", user, refused=exc, **refusal_context())
    return render(request, "institution/product_draft.html", user, draft=draft, refused=None)

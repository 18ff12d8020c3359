"""The operator's pages: proposals with their quorum, members, catalogue versions, the
working-day calendar and the KPI dashboard.

Thin routes over `ledger.portal.operator` and `ledger.portal.proposing`. Proposing and
approving are acts the operator's browser signs (`Propose`, `Approve`) and sends to
`POST /governance/proposals` and `POST /governance/proposals/{id}/approvals`; while the
operator types a proposal, `/proposals/summary` says in words what it would do. A model
version's activation or retirement is proposed and approved the same way through the
generic acts (`POST /acts/ProposeModel`, after `POST /models/documents`;
`/acts/ProposeModelRetirement`, `/acts/ApproveModelProposal`), as `credit-ledger model` does. A calendar
day is set or cleared by a signed request to `PUT` or `DELETE /calendar/days/{day}`. The
proposals and the calendar reload after an act.

A catalogue version is uploaded here first (`/catalogue/draft`: what it adds to the version
in force, in words, or why the platform would refuse it), then signed in the browser
(`PublishCatalogue`) and sent to `POST /catalogue/versions`, as `credit-ledger catalogue
publish` does. An enterprise's 统一社会信用代码 is checked here (`/enterprises/check`, the
position at fault named) before the browser signs `RegisterEnterprise` (`POST /enterprises`),
or `SuspendEnterprise` / `ReinstateEnterprise`.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import HTMLResponse

from api.deps import ServicesDep
from api.portal.forms import OperatorForm
from api.portal.i18n import N_, translations
from api.portal.refusals import refusal_context
from api.portal.render import render
from api.portal.session import OperatorUser
from ledger.financing.kpis import KpiFilter
from ledger.portal.catalogue_draft import CatalogueDraft, catalogue_draft
from ledger.portal.operator import (
    catalogue_versions,
    kpi_dashboard,
    member_views,
    model_proposals,
    proposals,
)
from ledger.portal.proposing import ADMITTED_ROLES, INSTITUTION_KINDS, proposal_draft
from ledger.portal.registering import uscc_verdict

router = APIRouter(prefix="/portal/operator", include_in_schema=False)

#: the charts of the KPI dashboard, titled in the reader's language by the template's catalogue
CHART_TITLES = {
    "records_by_category": N_("Records collected by category"),
    "records_by_month": N_("Records collected by month"),
    "loans_by_month": N_("Approved loan volume by month (yuan)"),
    "loans_by_industry": N_("Loans approved by industry"),
}


def _proposals(
    request: Request, user: OperatorUser, services: ServicesDep, *, fragment: bool
) -> HTMLResponse:
    contract, now = services.membership.contract, int(time.time())
    views = proposals(contract, user.address, now=now)
    quorum = contract.quorum()
    models = [] if fragment else model_proposals(
        services.platform.contracts.model_registry, user.address, quorum=quorum, now=now
    )  # fmt: skip
    return render(
        request, "operator/proposals.html", user, page="home", proposals=views, fragment=fragment,
        roles=ADMITTED_ROLES, kinds=INSTITUTION_KINDS, quorum=quorum, model_proposals=models,
        **refusal_context(),
    )  # fmt: skip


@router.get("/", response_class=HTMLResponse)
def home(request: Request, user: OperatorUser, services: ServicesDep) -> HTMLResponse:
    """Proposals, newest first, with approvals against the quorum; those this operator may approve."""
    return _proposals(request, user, services, fragment=False)


@router.get("/proposals", response_class=HTMLResponse)
def proposals_part(request: Request, user: OperatorUser, services: ServicesDep) -> HTMLResponse:
    """The proposals alone, as the page reloads them after an approval."""
    return _proposals(request, user, services, fragment=True)


@router.get("/proposals/summary", response_class=HTMLResponse)
def proposal_summary(
    request: Request,
    user: OperatorUser,
    services: ServicesDep,
    action: Annotated[str, Query(max_length=16)] = "admit",
    account: Annotated[str, Query(max_length=64)] = "",
    role: Annotated[str, Query(max_length=32)] = "",
    kind: Annotated[str, Query(max_length=32)] = "",
    name: Annotated[str, Query(max_length=200)] = "",
    new_quorum: Annotated[str, Query(max_length=8)] = "",
) -> HTMLResponse:
    """What the proposal being typed would do, in words, and what the operator must still fix."""
    draft = proposal_draft(
        services.membership.contract, action=action, account=account, role=role, kind=kind, name=name,
        new_quorum=new_quorum,
    )  # fmt: skip
    return render(request, "operator/proposal_summary.html", user, draft=draft)


@router.get("/members", response_class=HTMLResponse)
def members(request: Request, user: OperatorUser, services: ServicesDep) -> HTMLResponse:
    views = member_views(services.membership.members())
    return render(request, "operator/members.html", user, page="members", members=views)


@router.get("/catalogue", response_class=HTMLResponse)
def catalogue(request: Request, user: OperatorUser, services: ServicesDep) -> HTMLResponse:
    service = services.catalogues
    current = service.current().version
    published = [service.get(v) for v in range(1, current + 1)]
    views = catalogue_versions(published, locale=user.locale)
    return render(
        request, "operator/catalogue.html", user, page="catalogue", versions=views, **refusal_context()
    )


#: the largest catalogue file the page checks (the packaged versions are about 30 kB)
MAX_CATALOGUE_BYTES = 1_000_000


@router.post("/catalogue/draft", response_class=HTMLResponse)
async def catalogue_check(
    request: Request,
    user: OperatorForm,
    services: ServicesDep,
    catalogue: Annotated[UploadFile, File(description="the catalogue version, JSON")],
) -> HTMLResponse:
    """The uploaded version checked against the one in force: what it adds, or why it is refused."""
    raw = await catalogue.read(MAX_CATALOGUE_BYTES + 1)
    current = services.catalogues.current().catalogue
    too_large = len(raw) > MAX_CATALOGUE_BYTES
    text = "" if too_large else raw.decode("utf-8", errors="replace")
    draft = CatalogueDraft(current.version) if too_large else catalogue_draft(text, current)
    return render(
        request, "operator/catalogue_draft.html", user, draft=draft, too_large=too_large,
        limit=MAX_CATALOGUE_BYTES,
    )  # fmt: skip


@router.get("/enterprises", response_class=HTMLResponse)
def enterprises(request: Request, user: OperatorUser) -> HTMLResponse:
    """The forms that register an enterprise and suspend or reinstate one."""
    return render(request, "operator/enterprises.html", user, page="enterprises", **refusal_context())


@router.get("/enterprises/check", response_class=HTMLResponse)
def uscc_check(
    request: Request, user: OperatorUser, uscc: Annotated[str, Query(max_length=64)] = ""
) -> HTMLResponse:
    """A 统一社会信用代码 checked before it is signed: valid, or the rule it breaks and where."""
    return render(request, "operator/uscc_check.html", user, verdict=uscc_verdict(uscc))


@router.get("/calendar", response_class=HTMLResponse)
def calendar(
    request: Request,
    user: OperatorUser,
    services: ServicesDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> HTMLResponse:
    shown = year or datetime.now(UTC).year
    days = services.selfservice.calendar.days(shown)
    return render(
        request, "operator/calendar.html", user, page="calendar", year=shown, days=days, **refusal_context()
    )


@router.get("/kpis", response_class=HTMLResponse)
def kpis(
    request: Request,
    user: OperatorUser,
    services: ServicesDep,
    month: Annotated[str | None, Query(max_length=7)] = None,
    district: Annotated[str | None, Query(max_length=6)] = None,
) -> HTMLResponse:
    """The KPI report (filtered by month and district) as figures and inline SVG charts."""
    f = KpiFilter(month or None, district or None)
    gettext = translations(user.locale).gettext
    board = kpi_dashboard(
        services.kpis.report(f),
        catalogue=services.catalogues.current().catalogue,
        locale=user.locale,
        titles={key: gettext(title) for key, title in CHART_TITLES.items()},
    )
    return render(
        request, "operator/kpis.html", user, page="kpis", board=board, filter=f, titles=CHART_TITLES
    )

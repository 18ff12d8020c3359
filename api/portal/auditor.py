"""The auditor's pages: run the verification with its progress shown, read the report, follow
a finding to its entry.

A run is a background job of this process (`ledger.portal.auditor.AuditRuns`, one per
app, made on first use); the page polls its progress with htmx every second until the
report is there.
"""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from api.deps import ServicesDep, services_of
from api.portal.forms import AuditorForm
from api.portal.render import render
from api.portal.session import AuditorUser
from ledger.audit.verifier import VerifyOptions
from ledger.errors import InvalidInput
from ledger.logs.leaves import LOG_NAME
from ledger.portal.auditor import STEP_KEYS, AuditRuns, entry_view, platform_audit, report_view

router = APIRouter(prefix="/portal/auditor", include_in_schema=False)

_made = threading.Lock()


def audit_runs(request: Request) -> AuditRuns:
    """The app's audit runs, made on first use over its platform."""
    with _made:
        runs: AuditRuns | None = getattr(request.app.state, "portal_audit_runs", None)
        if runs is None:
            platform = services_of(request.app).platform
            settings = platform.settings
            # as `credit-ledger audit verify` does: the chain from the settings, and the
            # platform's own bound on a decision block's age
            options = VerifyOptions(workers=1, max_block_age_seconds=settings.max_block_age_seconds)
            runs = AuditRuns(
                platform_audit(platform.db, platform.deployment, settings.effective_rpc_url, options=options)
            )
            request.app.state.portal_audit_runs = runs
        return runs


def _run_page(
    request: Request, user: AuditorUser, services: ServicesDep, run_id: str | None, *, fragment: bool
) -> HTMLResponse:
    """The run section: the whole page (`fragment` false) or the section alone, as htmx polls it."""
    runs = audit_runs(request)
    run = runs.latest(user.address) if run_id is None else runs.get(run_id, user.address)
    report = None
    if run is not None and run.report is not None:
        report = report_view(
            run.report, catalogue=services.catalogues.current().catalogue, locale=user.locale
        )
    return render(
        request,
        "auditor/run.html",
        user,
        page="home",
        run=run,
        report=report,
        step_keys=STEP_KEYS,
        fragment=fragment,
    )


@router.get("/", response_class=HTMLResponse)
def home(request: Request, user: AuditorUser, services: ServicesDep) -> HTMLResponse:
    """The latest run of this auditor (its progress, or its report) and the button to start one."""
    return _run_page(request, user, services, None, fragment=False)


@router.post("/runs", response_class=HTMLResponse)
def start(request: Request, user: AuditorForm, services: ServicesDep) -> HTMLResponse:
    run = audit_runs(request).start(user.address)
    return _run_page(request, user, services, run.id, fragment=True)


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run(
    request: Request,
    user: AuditorUser,
    services: ServicesDep,
    run_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")],
) -> HTMLResponse:
    return _run_page(request, user, services, run_id, fragment=True)


@router.get("/entries/{log}/{index}", response_class=HTMLResponse)
def entry(
    request: Request,
    user: AuditorUser,
    services: ServicesDep,
    log: Annotated[str, Path(max_length=64)],
    index: Annotated[int, Path(ge=0, le=2**62)],
) -> HTMLResponse:
    """One entry of a log as the platform holds it, with its inclusion proof once anchored."""
    if not LOG_NAME.match(log):
        raise InvalidInput(f"log: {log!r} is not a log name")
    view = entry_view(
        services.platform.db,
        services.bundles,
        log,
        index,
        catalogue=services.catalogues.current().catalogue,
        locale=user.locale,
    )
    return render(request, "auditor/entry.html", user, page="entry", entry=view)

"""The enterprise's pages: its records, who read its data, consents, cases, declarations, notices.

Each page is a thin route over a view assembled in `ledger.portal.enterprise`; the
enterprise's acts (grant, revoke, objection, repair, declaration) are forms the browser
signs and sends to the API's own routes (`static/portal.js`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.portal.render import render
from api.portal.session import EnterpriseUser

router = APIRouter(prefix="/portal/enterprise", include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, user: EnterpriseUser) -> HTMLResponse:
    return render(request, "enterprise/home.html", user, page="home")

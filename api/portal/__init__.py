"""The web portal: server-rendered pages (Jinja2, htmx) over the ledger's services.

`install(app)` adds the portal to the API application: sign-in and its session
(`auth`), the files it serves itself (`assets`), Swagger UI from local files (`docs`),
and each role's pages (`ROLE_PAGES`). The pages are not part of the API's OpenAPI
document; every act a page offers is signed in the browser and sent to the API's routes.

To add a role's pages: a module here with its `router` (pages under `/portal/<role>/`,
templates under `templates/<role>/`, including `nav.html`), one entry in `ROLE_PAGES`.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from api import errors
from api.portal import assets, auditor, auth, docs, enterprise, institution, operator
from api.portal.render import render
from api.portal.session import SignInRequired
from ledger.chain.membership import Role
from ledger.errors import LedgerError

#: each role's pages: the role, its router, its home page
ROLE_PAGES: list[tuple[Role, APIRouter, str]] = [
    (Role.ENTERPRISE, enterprise.router, "/portal/enterprise/"),
    (Role.INSTITUTION, institution.router, "/portal/institution/"),
    (Role.AUDITOR, auditor.router, "/portal/auditor/"),
    (Role.OPERATOR, operator.router, "/portal/operator/"),
]


def _wants_html(request: Request) -> bool:
    return request.url.path.startswith("/portal") and "text/html" in request.headers.get("accept", "")


def install(app: FastAPI) -> None:
    """The portal's routes on `app`, and its refusals as pages (after `api.errors.install`)."""
    app.include_router(assets.router)
    app.include_router(auth.router)
    app.include_router(docs.router)
    for role, router, home in ROLE_PAGES:
        app.include_router(router)
        auth.ROLE_HOMES[role] = home

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        if request.headers.get("HX-Request") == "true":  # a part of a page: htmx follows HX-Redirect
            return Response(status_code=401, headers={"HX-Redirect": "/portal/signin"})
        return RedirectResponse(f"/portal/signin?next={quote(exc.next_path)}", status_code=303)

    @app.exception_handler(LedgerError)
    async def _ledger_error(request: Request, exc: LedgerError) -> Response:
        answer: JSONResponse = errors.error_response(exc)
        if not _wants_html(request):
            return answer
        return render(request, "error.html", status=answer.status_code, code=exc.code, detail=exc.message)

"""Sign-in, sign-out and the language switch of the portal.

Sign-in: the page asks `GET /portal/signin/challenge?address=` for a challenge in the form
of EIP-4361, the browser signs it with the key it opened from the member's keystore, and
`POST /portal/signin` checks it (`ledger.portal.sessions`) and sets the session cookie:
HttpOnly, SameSite=Strict, Secure outside development. The key never leaves the browser.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from api.deps import ServicesDep
from api.portal.i18n import LOCALES
from api.portal.render import render
from api.portal.session import LANG_COOKIE, SESSION_COOKIE, CsrfChecked, PortalUserDep
from ledger.chain.membership import Role, uscc_hash
from ledger.errors import InvalidInput, NotAuthorized

router = APIRouter(include_in_schema=False)

#: where each role lands after sign-in; a role's pages add its home here (`api.portal.ROLE_PAGES`)
ROLE_HOMES: dict[Role, str] = {}


class SignInBody(BaseModel):
    message: str = Field(max_length=2000, description="the challenge exactly as it was given")
    signature: str = Field(max_length=200, description="its EIP-191 signature, 0x and 130 hex digits")
    subject: str | None = Field(default=None, max_length=18, description="an enterprise's USCC")


def origin_of(request: Request) -> str:
    """Scheme and host as the browser reached the platform: what a challenge is bound to."""
    return f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"


def home_of(role: Role) -> str:
    return ROLE_HOMES.get(role, "/portal/me")


def safe_next(path: str | None) -> str | None:
    """`path` if it is one of the portal's own pages (never another site), else None."""
    if path and path.startswith("/portal/") and not path.startswith("//") and "\\" not in path:
        return path
    return None


@router.get("/portal", response_class=HTMLResponse)
@router.get("/portal/", response_class=HTMLResponse)
def portal_root(request: Request, services: ServicesDep) -> Response:
    session = services.portal.find(request.cookies.get(SESSION_COOKIE))
    if session is None:
        return RedirectResponse("/portal/signin", status_code=303)
    return RedirectResponse(home_of(services.membership.member(session.address).role), status_code=303)


@router.get("/portal/signin", response_class=HTMLResponse)
def signin_page(request: Request, next: Annotated[str | None, Query(max_length=500)] = None) -> Response:
    return render(request, "signin.html", next_path=safe_next(next) or "")


@router.get("/portal/signin/challenge")
def signin_challenge(
    request: Request, services: ServicesDep, address: Annotated[str, Query(max_length=42)]
) -> dict[str, str]:
    found = services.portal.challenge(origin_of(request), address)
    return {"message": found.text, "expires_at": found.expires_at.isoformat()}


@router.post("/portal/signin")
def sign_in(request: Request, body: SignInBody, services: ServicesDep) -> Response:
    address = services.portal.verify(body.message, body.signature, origin=origin_of(request))
    member = services.membership.member(address)
    if member.role in (Role.NONE, Role.PLATFORM) or not member.active:
        raise NotAuthorized(f"{address} is not an active member: the portal is closed to it")
    subject = None
    if member.role is Role.ENTERPRISE:
        subject = (body.subject or "").strip().upper()
        if uscc_hash(subject) != member.uscc_hash:
            raise InvalidInput(f"subject: {subject or 'nothing'} is not the USCC of enterprise {address}")
    opened = services.portal.open(address, subject=subject)
    response = JSONResponse(
        {"address": address, "role": member.role.name.lower(), "next": home_of(member.role)}
    )
    settings = services.platform.settings
    response.set_cookie(
        SESSION_COOKIE,
        opened.token,
        max_age=settings.portal_session_seconds,
        path="/",
        httponly=True,
        samesite="strict",
        secure=settings.environment != "development",
    )
    return response


@router.post("/portal/signout")
def sign_out(request: Request, user: CsrfChecked, services: ServicesDep) -> Response:
    del user  # the session of this request's cookie, its CSRF token checked
    services.portal.sign_out(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/portal/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.post("/portal/language")
def language(
    request: Request,
    services: ServicesDep,
    lang: Annotated[str, Form(max_length=8)],
    next: Annotated[str, Form(max_length=500)] = "/portal/",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """The reader's language (a cookie); signed in, the form must carry the session's CSRF token."""
    session = services.portal.find(request.cookies.get(SESSION_COOKIE))
    if session is not None:
        session.check_csrf(csrf_token)
    response = RedirectResponse(safe_next(next) or "/portal/", status_code=303)
    if lang in LOCALES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, path="/", samesite="strict")
    return response


@router.get("/portal/me", response_class=HTMLResponse)
def me(request: Request, user: PortalUserDep) -> Response:
    return render(request, "me.html", user)

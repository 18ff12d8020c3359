"""Who is looking at a portal page: the session cookie, the member on chain, the language.

`PortalUserDep` opens the session of the request's cookie and reads the member from the
chain (an inactive or unknown member is refused, whatever the session says);
`RequirePortalRole(role)` is the same for pages of one role, and `CsrfChecked` for the
portal's own forms (sign-out, language). Acts are not sent here: the browser signs each
and sends it to the API's own routes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from api.deps import ServicesDep
from api.portal.i18n import locale_of
from ledger.chain.membership import Member, Role
from ledger.errors import NotAuthorized
from ledger.portal.sessions import OpenSession

SESSION_COOKIE = "ledger_portal"
LANG_COOKIE = "ledger_lang"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


class SignInRequired(Exception):
    """No live session: the page answers with the sign-in page's address (303)."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


@dataclass(frozen=True)
class PortalUser:
    """The signed-in member of a portal page."""

    address: str
    member: Member
    session: OpenSession
    locale: str

    @property
    def role(self) -> str:
        """The role's lower-case name (`enterprise`, `institution` …), as in template folders."""
        return self.member.role.name.lower()


def locale(request: Request) -> str:
    return locale_of(request.cookies.get(LANG_COOKIE))


def portal_user(request: Request, services: ServicesDep) -> PortalUser:
    session = services.portal.find(request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise SignInRequired(request.url.path)
    member = services.membership.member(session.address)
    if member.role in (Role.NONE, Role.PLATFORM) or not member.active:
        raise NotAuthorized(f"{session.address} is not an active member: the portal is closed to it")
    return PortalUser(session.address, member, session, locale(request))


PortalUserDep = Annotated[PortalUser, Depends(portal_user)]


class RequirePortalRole:
    """A dependency: the signed-in member, who must hold one of `roles` (403 otherwise)."""

    def __init__(self, *roles: Role) -> None:
        self.roles = roles

    async def __call__(self, user: PortalUserDep) -> PortalUser:
        if user.member.role not in self.roles:
            names = " or ".join(r.name.lower() for r in self.roles)
            raise NotAuthorized(f"{user.address} is a {user.role}; this page is for {names}")
        return user


EnterpriseUser = Annotated[PortalUser, Depends(RequirePortalRole(Role.ENTERPRISE))]
InstitutionUser = Annotated[PortalUser, Depends(RequirePortalRole(Role.INSTITUTION))]
AuditorUser = Annotated[PortalUser, Depends(RequirePortalRole(Role.AUDITOR))]
OperatorUser = Annotated[PortalUser, Depends(RequirePortalRole(Role.OPERATOR))]


async def csrf_checked(request: Request, user: PortalUserDep) -> PortalUser:
    """The signed-in member of a portal form, once the form carries its session's CSRF token."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = str((await request.form()).get(CSRF_FIELD) or "")
    user.session.check_csrf(sent)
    return user


CsrfChecked = Annotated[PortalUser, Depends(csrf_checked)]

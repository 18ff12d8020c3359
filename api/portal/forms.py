"""The portal's own forms of one role: the signed-in member holds the role, the CSRF token is right.

`CsrfChecked` (`api.portal.session`) checks a form's token for any member; the pages of the
institution, auditor and operator post forms that only their role may send.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from api.portal.session import CsrfChecked, PortalUser
from ledger.chain.membership import Role
from ledger.errors import NotAuthorized


class RoleForm:
    """A dependency: the member of a portal form (CSRF checked), who must hold `role` (403 otherwise)."""

    def __init__(self, role: Role) -> None:
        self.role = role

    async def __call__(self, user: CsrfChecked) -> PortalUser:
        if user.member.role is not self.role:
            raise NotAuthorized(f"{user.address} is a {user.role}; this form is for {self.role.name.lower()}")
        return user


InstitutionForm = Annotated[PortalUser, Depends(RoleForm(Role.INSTITUTION))]
AuditorForm = Annotated[PortalUser, Depends(RoleForm(Role.AUDITOR))]
OperatorForm = Annotated[PortalUser, Depends(RoleForm(Role.OPERATOR))]

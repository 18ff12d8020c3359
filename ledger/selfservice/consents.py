"""Consent management as the enterprise sees it: whom it could consent to, and what it has granted.

Both listings are read from the chain at one block B (named in the answer), so they are
consistent with each other and with the authorization check at that block. Granting and
revoking are the enterprise's own signed acts (`POST /acts/Grant`, `POST /acts/Revoke`);
a revocation is effective from the next block.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from ledger.chain.agreements import Agreement, AgreementStatus
from ledger.chain.consents import Grant
from ledger.chain.membership import Member, Role, Status, uscc_hash
from ledger.errors import NotAuthorized
from ledger.selfservice.context import SelfServiceContext

__all__ = [
    "ActiveAgreement",
    "ChainView",
    "ConsentsService",
    "GrantStatus",
    "GrantView",
    "InstitutionView",
]


class GrantStatus(StrEnum):
    LIVE = "live"
    REVOKED = "revoked"
    EXPIRED = "expired"


@dataclass(frozen=True)
class ChainView:
    block: Annotated[int, Field(description="block B the listing was read at", examples=[1284])]
    timestamp: Annotated[
        int, Field(description="its timestamp: statuses are as of then", examples=[1772409600])
    ]


@dataclass(frozen=True)
class ActiveAgreement:
    id: Annotated[int, Field(examples=[3])]
    categories: Annotated[int, Field(description="bit mask, decimal")]
    category_names: Annotated[list[str], Field(examples=[["registration", "administrative_penalty", "tax"]])]
    purposes: int
    purpose_names: Annotated[list[str], Field(examples=[["credit_assessment"]])]
    max_level: Annotated[int, Field(examples=[3])]
    valid_from: int
    valid_until: int
    document_hash: bytes
    commitment_id: int
    commitment_breached: Annotated[
        bool, Field(description="a breached usage commitment refuses every release")
    ]


@dataclass(frozen=True)
class InstitutionView:
    account: Annotated[str, Field(examples=["0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"])]
    kind: Annotated[str, Field(examples=["bank"])]
    name_hash: Annotated[bytes, Field(description="keccak256 of the registered name")]
    since_block: int
    agreements: Annotated[list[ActiveAgreement], Field(description="its agreements active at block B")]


@dataclass(frozen=True)
class GrantView:
    id: Annotated[int, Field(examples=[7])]
    institution: Annotated[str, Field(examples=["0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"])]
    agreement_id: Annotated[
        int, Field(description="0: any active agreement of the institution", examples=[0])
    ]
    categories: int
    category_names: Annotated[list[str], Field(examples=[["tax"]])]
    purposes: int
    purpose_names: Annotated[list[str], Field(examples=[["credit_assessment"]])]
    raw_categories: Annotated[int, Field(description="categories released unmasked")]
    raw_category_names: Annotated[list[str], Field(examples=[[]])]
    expires_at: Annotated[int, Field(examples=[1775001600])]
    status: Annotated[GrantStatus, Field(description="live, revoked or expired, at block B")]


def grant_status(grant: Grant, timestamp: int) -> GrantStatus:
    if grant.revoked:
        return GrantStatus.REVOKED
    if not grant.live_at(timestamp):
        return GrantStatus.EXPIRED
    return GrantStatus.LIVE


class ConsentsService:
    def __init__(self, ctx: SelfServiceContext) -> None:
        self.ctx = ctx
        self.membership = ctx.contracts.membership
        self.agreements = ctx.contracts.agreements
        self.consents = ctx.contracts.consents

    def _view(self) -> ChainView:
        block = self.ctx.chain.guard(lambda: self.ctx.chain.w3.eth.get_block("latest"))
        return ChainView(int(block["number"]), int(block["timestamp"]))

    def institutions(self, view: ChainView | None = None) -> tuple[ChainView, list[InstitutionView]]:
        """Active institutions, each with its agreements active at block B (`view`'s, or the
        latest): the members, agreements and commitments are each read in one batch of calls."""
        view = view or self._view()
        b = view.block
        members = [
            m for m in self.membership.members(b) if m.role is Role.INSTITUTION and m.status is Status.ACTIVE
        ]
        by_institution: dict[str, list[ActiveAgreement]] = {m.account: [] for m in members}
        ids = range(1, self.agreements.agreement_count(b) + 1)
        active = [
            a
            for a in self.agreements.agreements(ids, b)
            if a is not None and a.institution in by_institution and _active(a, view.timestamp)
        ]
        cids = sorted({a.terms.commitment_id for a in active})
        commitments = self.agreements.commitments(cids, b)
        breached = {cid: c is None or c.breached for cid, c in zip(cids, commitments, strict=True)}
        for agreement in active:
            by_institution[agreement.institution].append(
                self._agreement(agreement, breached[agreement.terms.commitment_id])
            )
        return view, [
            InstitutionView(m.account, m.kind.name.lower(), m.name_hash, m.since, by_institution[m.account])
            for m in members
        ]

    def listing(
        self, caller: str, member: Member
    ) -> tuple[ChainView, list[InstitutionView], list[GrantView]]:
        """The institutions it could consent to and the calling enterprise's grants, both at one B."""
        _require_enterprise(caller, member)
        view, institutions = self.institutions()
        return view, institutions, self.grants_of(member.uscc_hash, view)[1]

    def grants(self, caller: str, member: Member) -> tuple[ChainView, list[GrantView]]:
        """Every grant of the calling enterprise, newest first per institution, with its status at B."""
        _require_enterprise(caller, member)
        return self.grants_of(member.uscc_hash)

    def grants_of_subject(
        self, caller: str, member: Member, subject: str
    ) -> tuple[ChainView, list[GrantView]]:
        """Operators and auditors: the grants of enterprise `subject`."""
        if member.role not in (Role.OPERATOR, Role.AUDITOR):
            if member.role is Role.ENTERPRISE and uscc_hash(subject) == member.uscc_hash:
                return self.grants_of(member.uscc_hash)
            raise NotAuthorized(
                f"{caller} is a {member.role.name.lower()}: another enterprise's grants are for operators "
                "and auditors"
            )
        return self.grants_of(uscc_hash(subject))

    def grants_of(
        self, subject_hash: bytes, view: ChainView | None = None
    ) -> tuple[ChainView, list[GrantView]]:
        """The grants of enterprise `subject_hash` at block B (`view`'s, or the latest), read in
        one batch of calls."""
        view = view or self._view()
        out: list[GrantView] = []
        catalogue = self.ctx.catalogue
        ids = self.consents.grants_of(subject_hash, view.block)
        for grant in self.consents.grants(ids, view.block):
            if grant is None:
                continue
            t = grant.terms
            out.append(
                GrantView(
                    id=grant.id,
                    institution=t.institution,
                    agreement_id=t.agreement_id,
                    categories=t.categories,
                    category_names=catalogue.names_in_mask(t.categories),
                    purposes=t.purposes,
                    purpose_names=catalogue.names_in_mask(t.purposes, purposes=True),
                    raw_categories=t.raw_categories,
                    raw_category_names=catalogue.names_in_mask(t.raw_categories),
                    expires_at=t.expires_at,
                    status=grant_status(grant, view.timestamp),
                )
            )
        return view, out

    def _agreement(self, a: Agreement, breached: bool) -> ActiveAgreement:
        t = a.terms
        catalogue = self.ctx.catalogue
        return ActiveAgreement(
            id=a.id,
            categories=t.categories,
            category_names=catalogue.names_in_mask(t.categories),
            purposes=t.purposes,
            purpose_names=catalogue.names_in_mask(t.purposes, purposes=True),
            max_level=t.max_level,
            valid_from=t.valid_from,
            valid_until=t.valid_until,
            document_hash=t.document_hash,
            commitment_id=t.commitment_id,
            commitment_breached=breached,
        )


def _require_enterprise(caller: str, member: Member) -> None:
    if member.role is not Role.ENTERPRISE:
        raise NotAuthorized(f"{caller} is a {member.role.name.lower()}: grants are listed for enterprises")


def _active(agreement: Agreement, timestamp: int) -> bool:
    return (
        agreement.status_at(timestamp) is AgreementStatus.ACTIVE and agreement.terms.valid_from <= timestamp
    )

"""What the enterprise's portal pages show, assembled from the services the API uses.

Every page reads through the same service calls (and so the same rules, refusals and
audit records) as the enterprise's own API requests; this module only puts their
answers into the shape a page shows: bit masks as catalogue words, the access trail as a
timeline newest first, a consent as a plain summary of exactly what would be shared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ledger.chain.membership import Member
from ledger.domain.catalogue import Catalogue, Category, Field, MaskingRule
from ledger.errors import NotFound
from ledger.evaluation_release.service import EvaluationService
from ledger.evaluation_release.views import SelfEvaluation
from ledger.financing.service import FinancingService
from ledger.release.accesses import Access, AccessesService, entry_names
from ledger.selfservice.selfquery import SelfRecord
from ledger.selfservice.service import SelfService
from ledger.services.membership import MembershipService

#: records and accesses shown on one page
PAGE = 25


@dataclass(frozen=True)
class RecordsPage:
    records: list[SelfRecord]
    total: int
    offset: int

    @property
    def next_offset(self) -> int | None:
        return self.offset + PAGE if self.offset + PAGE < self.total else None

    @property
    def previous_offset(self) -> int | None:
        return max(0, self.offset - PAGE) if self.offset > 0 else None


@dataclass(frozen=True)
class AccessLine:
    """One read of the enterprise's data, in words: who, why, what, how, when, at which block."""

    index: int
    kind: str  # "release" or "evaluation"
    institution: str
    institution_kind: str
    purposes: list[str]  # each in the reader's language (`Catalogue.names_in_mask`)
    categories: list[str]
    raw: list[str]  # the categories released unmasked; empty: all masked
    released_at: datetime | None
    block: int | None
    record_count: int | None
    anchored: bool


@dataclass(frozen=True)
class FieldShare:
    field: Field
    raw: bool  # shown as held, unmasked

    @property
    def masking(self) -> MaskingRule:
        return self.field.masking


@dataclass(frozen=True)
class CategoryShare:
    category: Category
    raw: bool
    fields: list[FieldShare]


@dataclass(frozen=True)
class ConsentSummary:
    """Exactly what a grant would let one institution read, and until when."""

    institution: str
    institution_kind: str
    shares: list[CategoryShare]
    purposes: list[str]  # in the reader's language
    expires_at: datetime | None
    agreement_id: int


class EnterprisePages:
    """The enterprise's pages over the self-service, access-trail, evaluation and financing services."""

    def __init__(
        self,
        selfservice: SelfService,
        accesses: AccessesService,
        evaluation: EvaluationService,
        financing: FinancingService,
        membership: MembershipService,
    ) -> None:
        self.selfservice = selfservice
        self.accesses = accesses
        self.evaluation = evaluation
        self.financing = financing
        self.membership = membership

    @property
    def catalogue(self) -> Catalogue:
        return self.selfservice.ctx.catalogue

    # -- records ---------------------------------------------------------------------------------

    def records(self, caller: str, member: Member, subject: str, offset: int) -> RecordsPage:
        page, total = self.selfservice.records.page(caller, member, subject, offset, PAGE)
        return RecordsPage(page, total, offset)

    def record(self, caller: str, member: Member, subject: str, record_id: str) -> SelfRecord:
        return self.selfservice.records.records(caller, member, subject, record_id=record_id)[0]

    # -- who read my data ------------------------------------------------------------------------

    def who_read(self, member: Member, subject: str, before: int | None, locale: str) -> list[AccessLine]:
        found = self.accesses.visible_to(
            member,
            subject=subject,
            limit=PAGE,
            newest_first_before=before if before is not None else 2**63 - 1,
            with_proofs=False,  # a proof is downloaded from its entry; the page says which have one
        )
        anchored = self.accesses.anchored_size()
        kinds: dict[str, str] = {}
        return [self._line(a, kinds, anchored, locale) for a in found]

    def _line(self, access: Access, kinds: dict[str, str], anchored: int, locale: str) -> AccessLine:
        entry = access.entry
        institution = str(entry.get("institution", ""))
        if institution not in kinds:
            kinds[institution] = self.membership.member(institution).kind.name.lower() if institution else ""
        released = entry.get("released_at")
        names = entry_names(self.catalogue, entry, locale=locale)
        return AccessLine(
            index=access.index,
            kind="evaluation" if "evaluation" in entry or "model_version" in entry else "release",
            institution=institution,
            institution_kind=kinds[institution],
            purposes=names.purpose,
            categories=names.categories,
            raw=names.raw_categories,
            released_at=datetime.fromisoformat(released) if isinstance(released, str) else None,
            block=entry.get("block") if isinstance(entry.get("block"), int) else None,
            record_count=entry.get("record_count") if isinstance(entry.get("record_count"), int) else None,
            anchored=access.index < anchored,
        )

    def access_proof(self, member: Member, index: int) -> dict[str, Any]:
        return self.accesses.proof(member, index)

    # -- consents --------------------------------------------------------------------------------

    def summary(
        self,
        institution: str,
        categories: int,
        purposes: int,
        raw_categories: int,
        expires_at: int | None,
        agreement_id: int = 0,
        *,
        locale: str,
    ) -> ConsentSummary:
        """What a grant of these values would share: each category's fields, masked or raw."""
        shares = [
            CategoryShare(
                category=c,
                raw=bool(raw_categories >> c.bit & 1),
                fields=[
                    FieldShare(f, bool(raw_categories >> c.bit & 1))
                    for f in c.fields
                    if f.masking
                    is not MaskingRule.NEVER  # never released, raw or masked (ledger.domain.masking)
                ],
            )
            for c in map(self.catalogue.category, self.catalogue.names_in_mask(categories))
        ]
        kind = self.membership.member(institution).kind.name.lower() if institution else ""
        return ConsentSummary(
            institution=institution,
            institution_kind=kind,
            shares=shares,
            purposes=self.catalogue.names_in_mask(purposes, purposes=True, locale=locale),
            expires_at=datetime.fromtimestamp(expires_at, UTC) if expires_at else None,
            agreement_id=agreement_id,
        )

    # -- evaluation and financing ----------------------------------------------------------------

    def evaluation_of(self, caller: str, member: Member, subject: str) -> SelfEvaluation | None:
        """The enterprise's own evaluation; None while no model is active."""
        try:
            return self.evaluation.self_evaluation(caller, member, subject)
        except NotFound:
            return None

"""Watches: an institution watches a subject's categories for post-loan management (贷后管理).

A watch is created only when the chain allows it now: the institution's agreement is
active, its purposes include post-loan management, its commitment is not breached, the
categories are in its scope, and either every category is public or a live grant of the
subject covers them (`Consents.authorize` at a fresh block, for the categories at their
masked level, as a masked release would be asked). A refusal names the rule that failed
(`watch_no_agreement`, `watch_purpose_not_allowed`, `watch_outside_agreement`,
`watch_no_grant` …), stores nothing and is written to the MLPS audit records.

Being allowed once is not a licence: each alert a watch yields is authorized again at
delivery, at a block B recorded with it (`ledger.alerts.authorize`), so a watch whose
grant was revoked or expired, whose agreement ended or whose commitment was breached
yields nothing from then on. Ending a watch stops it at once; watches are never deleted.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.alerts.rules import RuleSet
from ledger.alerts.watch_model import Watch
from ledger.chain.authorize_call import AuthorizeCaller
from ledger.chain.consents import AuthorizationQuery, Decision, Reason
from ledger.chain.errors import ChainStale
from ledger.chain.membership import uscc_hash
from ledger.domain.catalogue import Catalogue, CatalogueError
from ledger.domain.identifiers import validate_uscc
from ledger.errors import InvalidInput, LedgerError, NotAuthorized, NotFound, Unavailable
from ledger.services import audit_events
from ledger.storage.database import Database

__all__ = [
    "WatchNoAgreement",
    "WatchNoGrant",
    "WatchOutsideAgreement",
    "WatchPurposeNotAllowed",
    "WatchService",
    "WatchUnknown",
    "WatchView",
    "active_watches",
]

#: watches one institution may hold on one subject at once
MAX_WATCHES_PER_SUBJECT = 16


class WatchInvalid(InvalidInput):
    code = "watch_invalid"


class WatchUnknown(NotFound):
    """No watch of the caller has this id (another institution's watch is not told apart)."""

    code = "watch_unknown"


class WatchRefused(NotAuthorized):
    """The chain does not allow the watch; `reason` is the contract's reason code."""

    code = "watch_refused"

    def __init__(self, message: str, reason: Reason, block: int) -> None:
        super().__init__(f"{message} (at block {block}: {reason.name.lower()}); nothing stored")
        self.reason = reason
        self.block = block


class WatchNoAgreement(WatchRefused):
    """The agreement is unknown, not the institution's, not active, not yet valid or expired,
    or its credit commitment was breached."""

    code = "watch_no_agreement"


class WatchPurposeNotAllowed(WatchRefused):
    """The agreement's purposes do not include post-loan management (贷后管理)."""

    code = "watch_purpose_not_allowed"


class WatchOutsideAgreement(WatchRefused):
    """The subject or a category lies outside the agreement: unknown enterprise, a category
    out of its scope or above its maximum sensitivity."""

    code = "watch_outside_agreement"


class WatchNoGrant(WatchRefused):
    """No live grant of the subject covers the non-public categories for this purpose and agreement."""

    code = "watch_no_grant"


_REFUSALS: dict[Reason, tuple[type[WatchRefused], str]] = {
    Reason.REQUESTER_NOT_ACTIVE_INSTITUTION: (WatchRefused, "the caller is not an active institution"),
    Reason.SUBJECT_UNKNOWN: (WatchOutsideAgreement, "the subject is not a registered enterprise"),
    Reason.AGREEMENT_UNKNOWN: (WatchNoAgreement, "no such agreement"),
    Reason.AGREEMENT_NOT_OWNED: (WatchNoAgreement, "the agreement is another institution's"),
    Reason.AGREEMENT_NOT_ACTIVE: (WatchNoAgreement, "the agreement is not active"),
    Reason.AGREEMENT_NOT_YET_VALID: (WatchNoAgreement, "the agreement is not yet valid"),
    Reason.AGREEMENT_EXPIRED: (WatchNoAgreement, "the agreement has expired"),
    Reason.COMMITMENT_BREACHED: (WatchNoAgreement, "the agreement's credit commitment was breached"),
    Reason.CATEGORY_OUT_OF_SCOPE: (WatchOutsideAgreement, "a category is outside the agreement's scope"),
    Reason.PURPOSE_NOT_ALLOWED: (WatchPurposeNotAllowed, "the agreement does not allow post-loan management"),
    Reason.LEVEL_ABOVE_MAXIMUM: (WatchOutsideAgreement, "the categories exceed the agreement's sensitivity"),
    Reason.NO_COVERING_GRANT: (WatchNoGrant, "no live grant of the subject covers these categories"),
}


@dataclass(frozen=True)
class WatchView:
    """A watch as its institution sees it."""

    id: Annotated[str, Field(description="the watch's id")]
    institution: Annotated[str, Field(description="the watching institution (EIP-55)")]
    subject: Annotated[str, Field(description="the watched enterprise's 统一社会信用代码")]
    categories: Annotated[list[str], Field(description="the watched catalogue categories")]
    agreement_id: Annotated[int, Field(description="the agreement the watch relies on")]
    purpose: Annotated[str, Field(description="the purpose alerts are authorized for (post_loan_monitoring)")]
    created_at: Annotated[str, Field(description="when the watch was created (ISO 8601, UTC)")]
    created_block: Annotated[int, Field(description="the block the chain allowed the watch at")]
    grant_id: Annotated[int, Field(description="the grant that covered it then; 0: every category public")]
    ended_at: Annotated[str | None, Field(description="when it was ended; null while active")]


def _view(row: Watch, purpose: str) -> WatchView:
    return WatchView(
        id=row.id,
        institution=row.institution,
        subject=row.subject,
        categories=list(json.loads(row.categories)),
        agreement_id=row.agreement_id,
        purpose=purpose,
        created_at=_utc(row.created_at).isoformat(),
        created_block=row.created_block,
        grant_id=row.grant_id,
        ended_at=None if row.ended_at is None else _utc(row.ended_at).isoformat(),
    )


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def active_watches(session: Session, subject: str) -> list[Watch]:
    """The subject's watches not ended, oldest first, read in the caller's session."""
    query = select(Watch).where(Watch.subject == subject, Watch.ended_at.is_(None)).order_by(Watch.created_at)
    return list(session.scalars(query))


class WatchService:
    """Create, list and end watches; usable without HTTP (the API signs nothing itself:
    its routes pass the authenticated institution)."""

    def __init__(
        self,
        db: Database,
        *,
        authorizer: AuthorizeCaller,
        catalogue: Catalogue,
        rules: RuleSet,
        max_block_age_seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.authorizer = authorizer
        self.catalogue = catalogue
        self.rules = rules
        self.max_block_age_seconds = max_block_age_seconds
        self.clock = clock

    def close(self) -> None:
        self.authorizer.close()

    # -- create --------------------------------------------------------------------------------

    def create(self, institution: str, subject: str, categories: list[str], agreement_id: int) -> WatchView:
        """A new watch, once the chain allows it at a fresh block; every refusal is audited."""
        try:
            return self._create(institution, subject, categories, agreement_id)
        except LedgerError as exc:
            self._audit(
                institution, "watch.create", "refused", f"{exc.code}: {exc.message}; subject={subject}"
            )
            raise
        except Exception as exc:  # a defect refuses too, never stores half a watch
            error = Unavailable(f"watch not created: {exc!r}")
            self._audit(institution, "watch.create", "refused", f"{error.code}: {error.message}")
            raise error from exc

    def _create(self, institution: str, subject: str, categories: list[str], agreement_id: int) -> WatchView:
        self._check_subject(subject)
        names = self._categories(categories)
        if not 1 <= agreement_id < 2**48:
            raise WatchInvalid("agreement_id: an agreement id, 1 to 2^48 - 1")
        mask = self.catalogue.category_mask(names)
        now = self.clock()
        decision = self.decide(institution, subject, mask, names, agreement_id, now)
        if not decision.allowed:
            cls, why = _REFUSALS.get(decision.reason, (WatchRefused, "refused"))
            raise cls(why, decision.reason, decision.block_number)
        row = Watch(
            id=f"watch_{uuid.uuid4().hex}",
            institution=institution,
            subject=subject,
            categories=json.dumps(names),
            category_mask=str(mask),
            agreement_id=agreement_id,
            purpose_bit=self.rules.purpose_bit,
            created_at=datetime.fromtimestamp(now, UTC),
            created_block=decision.block_number,
            grant_id=decision.grant_id,
            ended_at=None,
        )
        with self.db.session() as session:
            held = session.scalars(
                select(Watch.id).where(
                    Watch.institution == institution, Watch.subject == subject, Watch.ended_at.is_(None)
                )
            ).all()
            if len(held) >= MAX_WATCHES_PER_SUBJECT:
                raise WatchInvalid(
                    f"at most {MAX_WATCHES_PER_SUBJECT} active watches per subject; end one first"
                )
            session.add(row)
            session.add(
                audit_events.row(
                    row.created_at,
                    institution,
                    "watch.create",
                    "accepted",
                    f"{row.id} subject={subject} categories={','.join(names)} agreement={agreement_id} "
                    f"block={decision.block_number}",
                )
            )
            view = _view(row, self.rules.purpose)
        return view

    def decide(
        self, institution: str, subject: str, mask: int, names: list[str], agreement_id: int, now: float
    ) -> Decision:
        """`Consents.authorize` for the watch's terms at the latest block, which must be fresh."""
        query = AuthorizationQuery(
            institution,
            uscc_hash(subject),
            mask,
            self.rules.purpose_mask,
            agreement_id,
            self.catalogue.max_level(names, raw=False),
            int(now),
        )
        decision = self.authorizer.authorize(query)
        age = int(now) - decision.block_timestamp
        if age > self.max_block_age_seconds:
            raise ChainStale(
                f"the chain's latest block {decision.block_number} is {age} s old "
                f"(at most {self.max_block_age_seconds} s): no watch created"
            )
        return decision

    # -- list and end -----------------------------------------------------------------------

    def list_watches(
        self, institution: str, *, subject: str | None = None, include_ended: bool = False
    ) -> list[WatchView]:
        """The institution's own watches, newest first (another's are never listed)."""
        query = select(Watch).where(Watch.institution == institution)
        if subject is not None:
            query = query.where(Watch.subject == subject)
        if not include_ended:
            query = query.where(Watch.ended_at.is_(None))
        with self.db.session() as session:
            rows = session.scalars(query.order_by(Watch.created_at.desc()).limit(500)).all()
            return [_view(r, self.rules.purpose) for r in rows]

    def end(self, institution: str, watch_id: str) -> WatchView:
        """End the institution's watch at once: no alert is enqueued for it, and none
        enqueued before is delivered (the gate withholds it). Ending twice is harmless."""
        view: WatchView | None = None
        with self.db.session() as session:
            row = session.get(Watch, watch_id) if len(watch_id) <= 40 else None
            if row is not None and row.institution == institution:
                if row.ended_at is None:
                    row.ended_at = datetime.fromtimestamp(self.clock(), UTC)
                    session.add(audit_events.row(row.ended_at, institution, "watch.end", "accepted", row.id))
                view = _view(row, self.rules.purpose)
        if view is None:
            error = WatchUnknown(f"no watch {watch_id[:40]!r} of {institution}")
            self._audit(institution, "watch.end", "refused", f"{error.code}: {error.message}")
            raise error
        return view

    # -- checks ---------------------------------------------------------------------------------

    def _check_subject(self, subject: str) -> None:
        canonical = validate_uscc(subject, field="subject").code  # InvalidInput naming the rule
        if canonical != subject:
            raise WatchInvalid(
                f"subject must be the canonical 统一社会信用代码 {canonical!r} as the release path names it"
            )

    def _categories(self, categories: list[str]) -> list[str]:
        if not categories:
            raise WatchInvalid("categories: name at least one catalogue category")
        try:
            mask = self.catalogue.category_mask(categories)
        except CatalogueError as exc:
            raise WatchInvalid(f"categories: {exc.message}") from None
        return self.catalogue.categories_in_mask(mask)  # catalogue order, no duplicates

    def _audit(self, actor: str, event: str, outcome: str, detail: str) -> None:
        with contextlib.suppress(LedgerError):  # the database is down: refused all the same
            audit_events.record(self.db, actor=actor, event=event, outcome=outcome, detail=detail)

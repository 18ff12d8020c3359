"""What every self-service use case shares: its collaborators, the clock, and small checks.

`SelfServiceContext` takes its collaborators keyword-only and does no I/O when built;
the composition root (`ledger.wiring`) builds the production one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from eth_utils import to_checksum_address
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.chain.agreements import AgreementsContract, Commitment, CommitmentKind
from ledger.chain.client import ChainClient
from ledger.chain.contracts import Contracts
from ledger.chain.membership import Member, Role, uscc_hash
from ledger.domain.business_day import business_day
from ledger.domain.catalogue import Catalogue, default_catalogue
from ledger.errors import InvalidInput, LedgerError, Unavailable
from ledger.logs.bundles import ProofBundles
from ledger.records.ingest import Receipt, RecordsRejected
from ledger.records.models import CreditRecord
from ledger.records.submission import Mode, parse_submission
from ledger.selfservice.clock import Clock, SystemClock
from ledger.selfservice.errors import (
    CommitmentBreached,
    CommitmentNotYours,
    CommitmentUnknown,
    CommitmentWrongKind,
    NotTheSubject,
    RecordInvalid,
    UnknownRecord,
)
from ledger.services import audit_events
from ledger.settings import Settings
from ledger.storage.database import Database

if TYPE_CHECKING:
    from ledger.records.service import RecordsService

__all__ = [
    "SelfServiceContext",
    "audit",
    "audited",
    "audited_unavailable",
    "ingest_one",
    "latest_version",
    "normalize_hashes",
    "own_record",
    "require_subject",
]


#: (session, kind "objection" or "repair", outcome, subject, record category) -> anything
CaseHook = Callable[[Session, str, str, str, str], object]


@dataclass(kw_only=True)
class SelfServiceContext:
    db: Database
    settings: Settings
    chain: ChainClient
    contracts: Contracts
    records: RecordsService
    bundles: ProofBundles
    clock: Clock = field(default_factory=SystemClock)
    catalogue: Catalogue = field(default_factory=default_catalogue)
    #: called in a case decision's transaction, before it commits, with (session, kind,
    #: outcome, subject, category of the record): the alert triggers enqueue in it
    on_decided: CaseHook | None = None

    def now(self) -> datetime:
        """Now, in UTC: what is stored (SQLite keeps no offset)."""
        return self.clock.now().astimezone(UTC)

    def today(self) -> date:
        """Today on the platform's calendar (working days are local days)."""
        return business_day(self.clock.now(), self.settings.calendar_utc_offset_minutes)

    def agreements(self) -> AgreementsContract:
        return self.contracts.agreements

    def check_commitment(self, commitment_id: int, member: str, kind: CommitmentKind) -> Commitment:
        """The on-chain commitment `commitment_id`: it exists, `member` made it, of `kind`, not breached."""
        commitment = self.agreements().commitment(commitment_id)
        if commitment is None:
            raise CommitmentUnknown(
                f"no commitment {commitment_id} on chain: sign one with POST /acts/Commit first"
            )
        if to_checksum_address(commitment.member) != to_checksum_address(member):
            raise CommitmentNotYours(
                f"commitment {commitment_id} was made by {commitment.member}, not by {member}"
            )
        if commitment.kind is not kind:
            raise CommitmentWrongKind(
                f"commitment {commitment_id} is a {commitment.kind.name.lower()} commitment; "
                f"this needs {kind.name.lower()}"
            )
        if commitment.breached:
            raise CommitmentBreached(f"commitment {commitment_id} was marked breached by an operator")
        return commitment


def require_subject(caller: str, member: Member, subject: str, what: str) -> None:
    """`member` must be the enterprise `subject` (its USCC) to do `what`."""
    if member.role is not Role.ENTERPRISE:
        raise NotTheSubject(
            f"{caller} is a {member.role.name.lower()}: only the enterprise itself may {what}"
        )
    if uscc_hash(subject) != member.uscc_hash:
        raise NotTheSubject(f"{caller} is not enterprise {subject}: only the enterprise itself may {what}")


def own_record(session: Session, caller: str, member: Member, record_id: str, what: str) -> CreditRecord:
    """The latest version of `record_id`, a record about the enterprise `member`, to do `what`.

    A record about another enterprise is answered as one that does not exist (404
    `record_unknown`, the same message): an enterprise cannot learn which record ids exist
    by filing against them. A caller that is no enterprise is refused before any look-up.
    """
    if member.role is not Role.ENTERPRISE:
        raise NotTheSubject(
            f"{caller} is a {member.role.name.lower()}: only the enterprise itself may {what}"
        )
    record = latest_version(session, record_id)
    if uscc_hash(record.subject) != member.uscc_hash:
        raise UnknownRecord(f"no record {record_id}")
    return record


def latest_version(session: Session, record_id: str) -> CreditRecord:
    row = session.scalars(
        select(CreditRecord)
        .where(CreditRecord.record_id == record_id)
        .order_by(CreditRecord.version.desc())
        .limit(1)
    ).first()
    if row is None:
        raise UnknownRecord(f"no record {record_id}")
    return row


def audit(session: Session, actor: str | None, event: str, outcome: str, detail: str) -> None:
    """An MLPS audit record written in the caller's transaction (so it commits with the act).

    Stamped with the real time, whatever clock the workflow's deadlines follow.
    """
    at = datetime.now(UTC)
    session.add(audit_events.row(at, actor, event, outcome, detail))


def record_refusal(db: Database, actor: str, event: str, exc: LedgerError) -> None:
    """Write refusal `exc` to the audit records in its own transaction (the act's rolled back)."""
    with contextlib.suppress(LedgerError):  # the database is down: refused all the same
        audit_events.record(
            db, actor=actor, event=event, outcome="refused", detail=f"{exc.code}: {exc.message}"
        )


@contextlib.contextmanager
def audited(db: Database, actor: str, event: str) -> Iterator[None]:
    """Write every refusal raised inside to the audit records (the act's own transaction rolled back)."""
    try:
        yield
    except LedgerError as exc:
        record_refusal(db, actor, event, exc)
        raise


@contextlib.contextmanager
def audited_unavailable(db: Database, actor: str, event: str) -> Iterator[None]:
    """Write to the audit records the refusals raised inside that the HTTP edge does not record.

    The edge (`api.edge`) records every 4xx answer, naming the route; a service whose every
    caller comes through it records only what is answered 503 (`Unavailable`: the chain or
    a defect), so that each refusal is recorded exactly once.
    """
    try:
        yield
    except Unavailable as exc:
        record_refusal(db, actor, event, exc)
        raise


def ingest_one(
    ctx: SelfServiceContext,
    provider: str,
    document: dict[str, Any],
    invalid: type[RecordInvalid],
    what: str,
) -> Receipt:
    """Ingest one record through the records service; its refusals become `invalid` (422).

    A conflict with stored versions (`RecordsConflict`, 409) is left to the caller.
    """
    parsed = parse_submission(document)
    if isinstance(parsed, list):
        raise invalid(f"{what} is invalid", parsed)
    try:
        report = ctx.records.ingest(provider, [(1, parsed)], Mode.ALL_OR_NOTHING)
    except RecordsRejected as exc:
        raise invalid(f"{what} is invalid", list(exc.report.rejected[0].errors)) from None
    return report.receipts[0]


def normalize_hashes(values: list[str], field: str, *, least: int = 0, most: int = 50) -> list[str]:
    """0x + 64 lower-case hex digits each: hashes of attachments, never the attachments."""
    if not least <= len(values) <= most:
        raise InvalidInput(f"{field}: between {least} and {most} hashes, got {len(values)}")
    out: list[str] = []
    for i, value in enumerate(values):
        raw = value.removeprefix("0x").lower()
        if len(raw) != 64 or any(c not in "0123456789abcdef" for c in raw):
            raise InvalidInput(f"{field}[{i}]: expected a 32-byte hash as 0x + 64 hex digits")
        out.append("0x" + raw)
    if len(set(out)) != len(out):
        raise InvalidInput(f"{field}: the same hash is listed twice")
    return out

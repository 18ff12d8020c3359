"""Ingestion: validate, seal, store and log credit records, all or nothing per request.

A request goes through two phases:

1. Outside any lock: every submission is validated against the catalogue version in
   force, canonicalised, committed to with a fresh salt and sealed. This is the costly
   part and runs while other requests write.
2. In one database transaction holding the credit-record log's write lock: stored
   versions of the same source references are looked up (the lock makes this see every
   earlier writer), duplicates and conflicts are decided, and the new versions and their
   log leaves are inserted together. Either all of them commit or none does.

Idempotency is by (provider, source reference, version): the same content again gets
the same receipt; different content under a stored reference is a conflict naming it; a
correction names the version it corrects (`corrects`) and becomes the next version.

Modes: `all_or_nothing` stores nothing if any record is rejected; `accept_valid` stores
the valid ones. Either way the rejected ones are listed with their line and errors and
nothing of them is stored.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated, Any, cast

from eth_utils import to_checksum_address
from pydantic import Field
from sqlalchemy import String, Table, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from ledger.domain.business_day import BUSINESS_UTC_OFFSET_MINUTES, business_day
from ledger.domain.catalogue import FieldError
from ledger.domain.log_names import CREDIT_RECORDS_LOG, RECORD_LEAF_TYPE
from ledger.errors import Conflict, InvalidInput
from ledger.logs.store import open_for_append
from ledger.records import canonical as canon
from ledger.records.catalogues import CatalogueService, PublishedCatalogue
from ledger.records.crypto import Keyring
from ledger.records.models import CreditRecord
from ledger.records.opening import sealed_aad
from ledger.records.submission import Mode, Submission
from ledger.records.validation import CheckedRecord, check_submission
from ledger.storage.bulk import bulk_insert
from ledger.storage.database import Database
from ledger.storage.models import AuditEvent

__all__ = [
    "CONFLICT_RULES",
    "IngestReport",
    "IngestService",
    "Receipt",
    "RecordsConflict",
    "RecordsRejected",
    "Rejection",
]

#: rules that mean "contradicts what is stored" (409) rather than "malformed" (422)
CONFLICT_RULES = frozenset({"source_ref_conflict", "corrects_stale", "corrects_unknown"})
_LOOKUP_CHUNK = 500
_RECORDS = cast(Table, CreditRecord.__table__)  # Core inserts: the ORM bulk path is several times slower


@dataclass(frozen=True)
class Receipt:
    """Where an accepted record version sits: its log index and leaf hash."""

    line: Annotated[int, Field(description="line of the request body (1 for a single record)")]
    source_ref: str
    record_id: str
    version: int
    log_index: Annotated[int, Field(description="index of the record's leaf in the credit-record log")]
    leaf_hash: bytes
    status: Annotated[
        str, Field(description="created, existing (stored before) or duplicate (earlier line)")
    ]  # duplicate: of an earlier line of this request
    warnings: tuple[FieldError, ...] = ()


@dataclass(frozen=True)
class Rejection:
    line: int
    source_ref: str | None
    errors: tuple[FieldError, ...]

    @property
    def is_conflict(self) -> bool:
        return all(e.rule in CONFLICT_RULES for e in self.errors)


@dataclass(frozen=True)
class IngestReport:
    mode: Mode
    catalogue_version: int
    receipts: list[Receipt]
    rejected: list[Rejection]

    @property
    def created(self) -> int:
        return sum(1 for r in self.receipts if r.status == "created")

    @property
    def existing(self) -> int:
        return sum(1 for r in self.receipts if r.status != "created")


class RecordsRejected(InvalidInput):
    """An all-or-nothing submission had rejected records: nothing was stored (HTTP 422)."""

    code = "records_rejected"

    def __init__(self, report: IngestReport) -> None:
        n = len(report.rejected)
        super().__init__(f"{n} record(s) rejected; nothing was stored (mode {report.mode.value})")
        self.report = report


class RecordsConflict(Conflict):
    """Every rejection contradicts stored records (e.g. a source reference reused with other
    content): nothing was stored (HTTP 409)."""

    code = "records_conflict"

    def __init__(self, report: IngestReport) -> None:
        refs = ", ".join(repr(r.source_ref) for r in report.rejected[:5])
        more = "" if len(report.rejected) <= 5 else f" and {len(report.rejected) - 5} more"
        super().__init__(f"conflict on source reference(s) {refs}{more}; nothing was stored")
        self.report = report


@dataclass
class _Candidate:
    line: int
    rec: CheckedRecord
    mac: bytes
    row: dict[str, Any] | None = None
    commitment: bytes = b""
    receipt: Receipt | None = None
    duplicates: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Stored:
    record_id: str
    version: int
    mac: bytes
    log_seq: int
    leaf_hash: bytes
    warnings: tuple[FieldError, ...]


def _warnings_json(warnings: Sequence[FieldError]) -> str | None:
    if not warnings:
        return None
    return json.dumps(
        [{"field": w.field, "rule": w.rule, "message": w.message} for w in warnings], ensure_ascii=False
    )


def _warnings_from(text: str | None) -> tuple[FieldError, ...]:
    if not text:
        return ()
    return tuple(FieldError(w["field"], w["rule"], w["message"]) for w in json.loads(text))


@dataclass(frozen=True)
class StoredRecord:
    """A record version an ingestion is storing, as handed to `RecordsHook` in its transaction."""

    record_id: str
    version: int
    subject: str
    category: str
    corrected: bool  # a later version of a stored record
    fields: Mapping[str, Any]  # in clear: the hook must never store or send them


#: called in the ingestion's transaction with the versions it stores, before it commits
#: (the alert triggers, `ledger.alerts.triggers`, enqueue in it: both commit or neither)
RecordsHook = Callable[[Session, Sequence[StoredRecord]], object]


class IngestService:
    """Validated, sealed, logged ingestion for one platform."""

    def __init__(
        self,
        db: Database,
        catalogues: CatalogueService,
        keyring: Keyring,
        *,
        encrypt_min_level: int = 3,
        today: date | None = None,
        on_stored: RecordsHook | None = None,
        utc_offset_minutes: int = BUSINESS_UTC_OFFSET_MINUTES,
    ) -> None:
        self.db = db
        self.utc_offset_minutes = utc_offset_minutes  # of the business day event dates are checked on
        self.on_stored = on_stored
        self.catalogues = catalogues
        self.keyring = keyring
        self.encrypt_min_level = encrypt_min_level
        self._today = today

    def ingest(
        self,
        provider: str,
        items: Iterable[tuple[int, Submission | list[FieldError]]],
        mode: Mode = Mode.ALL_OR_NOTHING,
    ) -> IngestReport:
        """Store the valid submissions of one request (see the module doc for the rules).

        Raises `RecordsRejected` / `RecordsConflict` (nothing stored) in all-or-nothing
        mode when any record is rejected; returns the report otherwise.
        """
        provider = to_checksum_address(provider)
        published = self.catalogues.current()
        today = self._today or business_day(datetime.now(UTC), self.utc_offset_minutes)
        rejected: list[Rejection] = []
        candidates: list[_Candidate] = []
        first_of: dict[tuple[str, int], _Candidate] = {}

        # Phase 1: validate and prepare, outside the lock.
        for line, item in items:
            if isinstance(item, list):
                rejected.append(Rejection(line, None, tuple(item)))
                continue
            checked = check_submission(item, published.catalogue, today)
            if isinstance(checked, list):
                rejected.append(Rejection(line, item.source_ref, tuple(checked)))
                continue
            cand = _Candidate(line, checked, self.keyring.mac(canon.mac_input(checked)))
            key = (checked.source_ref, checked.version)
            first = first_of.get(key)
            if first is not None:
                if first.mac == cand.mac:
                    first.duplicates.append(line)
                else:
                    rejected.append(
                        _conflict(line, checked.source_ref, f"line {first.line} of this request has it")
                    )
                continue
            first_of[key] = cand
            if checked.corrects is None:
                self._prepare(cand, str(uuid.uuid4()), provider, published)
            candidates.append(cand)
        if mode is Mode.ALL_OR_NOTHING and rejected:
            raise _refusal(IngestReport(mode, published.version, [], sorted(rejected, key=lambda r: r.line)))

        # Phase 2: decide against stored versions and write, under the log lock.
        receipts: list[Receipt] = []
        with self.db.session() as session:
            writer = open_for_append(session, CREDIT_RECORDS_LOG)
            stored = _stored_versions(session, provider, {c.rec.source_ref for c in candidates})
            to_create: list[_Candidate] = []
            late: list[Rejection] = []
            for cand in candidates:
                problem = self._decide(cand, stored.get(cand.rec.source_ref, {}), provider, published)
                if problem is not None:
                    late.append(problem)
                elif cand.receipt is None:
                    to_create.append(cand)
            rejected.extend(late)
            if mode is Mode.ALL_OR_NOTHING and late:
                raise _refusal(
                    IngestReport(mode, published.version, [], sorted(rejected, key=lambda r: r.line))
                )
            appended = writer.append(
                [
                    (
                        RECORD_LEAF_TYPE,
                        canon.leaf_payload(c.row["record_id"], c.rec.version, c.commitment),
                    )
                    for c in to_create
                    if c.row is not None
                ]
            )
            now = datetime.now(UTC)
            rows: list[dict[str, Any]] = []
            for cand, entry in zip(to_create, appended, strict=True):
                assert cand.row is not None
                rows.append(
                    {**cand.row, "log_seq": entry.seq, "leaf_hash": entry.leaf_hash, "created_at": now}
                )
                cand.receipt = Receipt(
                    cand.line,
                    cand.rec.source_ref,
                    cand.row["record_id"],
                    cand.rec.version,
                    entry.seq,
                    entry.leaf_hash,
                    "created",
                    cand.rec.warnings,
                )
            bulk_insert(session, _RECORDS, rows)
            if self.on_stored is not None and to_create:
                self.on_stored(session, [_stored(c) for c in to_create])
            errors_of = {r.line: r.errors for r in late}
            for cand in candidates:
                if cand.receipt is not None:
                    receipts.append(cand.receipt)
                    receipts.extend(_duplicate(cand.receipt, line) for line in cand.duplicates)
                elif cand.line in errors_of:  # duplicates of a rejected line share its fate
                    errors = errors_of[cand.line]
                    rejected.extend(Rejection(line, cand.rec.source_ref, errors) for line in cand.duplicates)
            report = IngestReport(
                mode,
                published.version,
                sorted(receipts, key=lambda r: r.line),
                sorted(rejected, key=lambda r: r.line),
            )
            session.add(
                AuditEvent(
                    at=now,
                    actor=provider,
                    event="records.ingest",
                    outcome="accepted" if not report.rejected else "partial",
                    detail=(
                        f"catalogue v{published.version}: {report.created} created, "
                        f"{report.existing} existing, {len(report.rejected)} rejected ({mode.value})"
                    ),
                )
            )
        return report

    # -- helpers ---------------------------------------------------------------------------

    def _decide(
        self, cand: _Candidate, versions: dict[int, _Stored], provider: str, published: PublishedCatalogue
    ) -> Rejection | None:
        """Set the candidate's receipt (already stored) or prepare it; or say why not."""
        rec = cand.rec
        same = versions.get(rec.version)
        if same is not None:
            if same.mac == cand.mac:
                cand.receipt = Receipt(
                    cand.line, rec.source_ref, same.record_id, same.version, same.log_seq, same.leaf_hash,
                    "existing", same.warnings,
                )  # fmt: skip
                return None
            return _conflict(
                cand.line,
                rec.source_ref,
                f"record {same.record_id} version {same.version} holds other content; "
                f"submit a correction with corrects={max(versions)}",
            )
        if rec.corrects is None:
            return None  # a new record, prepared in phase 1
        if not versions:
            return Rejection(
                cand.line,
                rec.source_ref,
                (
                    FieldError(
                        "corrects", "corrects_unknown", f"no record with source reference {rec.source_ref!r}"
                    ),
                ),
            )
        latest = versions[max(versions)]
        if latest.version != rec.corrects:
            return Rejection(
                cand.line,
                rec.source_ref,
                (
                    FieldError(
                        "corrects",
                        "corrects_stale",
                        f"the latest version of {rec.source_ref!r} is {latest.version}, not {rec.corrects}",
                    ),
                ),
            )
        if latest.mac == cand.mac:
            return Rejection(
                cand.line,
                rec.source_ref,
                (
                    FieldError(
                        "corrects", "correction_unchanged", f"same content as version {latest.version}"
                    ),
                ),
            )
        self._prepare(cand, latest.record_id, provider, published)
        return None

    def _prepare(
        self, cand: _Candidate, record_id: str, provider: str, published: PublishedCatalogue
    ) -> None:
        """Commit to the record with a fresh salt and seal its sensitive fields and the salt."""
        rec = cand.rec
        document = canon.record_document(
            record_id=record_id,
            version=rec.version,
            provider=provider,
            catalogue_version=published.version,
            category=rec.category,
            subject=rec.subject,
            event_date=rec.event_date,
            severity=rec.severity,
            source_ref=rec.source_ref,
            fields=rec.fields,
        )
        salt = os.urandom(canon.SALT_SIZE)
        cand.commitment = canon.commitment(salt, canon.canonical(document))
        public, sensitive = canon.split_fields(
            published.catalogue, rec.category, rec.fields, self.encrypt_min_level
        )
        secret = json.dumps(
            {"salt": base64.b64encode(salt).decode(), "fields": sensitive}, ensure_ascii=False, sort_keys=True
        ).encode()
        key_id, sealed = self.keyring.seal(secret, sealed_aad(record_id, rec.version))
        cand.row = {
            "record_id": record_id,
            "version": rec.version,
            "provider": provider,
            "source_ref": rec.source_ref,
            "category": rec.category,
            "subject": rec.subject,
            "event_date": rec.event_date,
            "severity": rec.severity,
            "catalogue_version": published.version,
            "public_fields": json.dumps(public, ensure_ascii=False, sort_keys=True),
            "sealed": sealed,
            "key_id": key_id,
            "content_mac": cand.mac,
            "commitment": cand.commitment,
            "warnings": _warnings_json(rec.warnings),
        }


def _stored(cand: _Candidate) -> StoredRecord:
    assert cand.row is not None
    rec = cand.rec
    return StoredRecord(
        cand.row["record_id"], rec.version, rec.subject, rec.category, rec.corrects is not None, rec.fields
    )


def _conflict(line: int, source_ref: str, why: str) -> Rejection:
    return Rejection(
        line,
        source_ref,
        (
            FieldError(
                "source_ref", "source_ref_conflict", f"source reference {source_ref!r} is taken: {why}"
            ),
        ),
    )


def _duplicate(receipt: Receipt, line: int) -> Receipt:
    return Receipt(
        line, receipt.source_ref, receipt.record_id, receipt.version, receipt.log_index, receipt.leaf_hash,
        "duplicate", receipt.warnings,
    )  # fmt: skip


def _refusal(report: IngestReport) -> RecordsRejected | RecordsConflict:
    if report.rejected and all(r.is_conflict for r in report.rejected):
        return RecordsConflict(report)
    return RecordsRejected(report)


def _stored_versions(session: Session, provider: str, refs: set[str]) -> dict[str, dict[int, _Stored]]:
    """Every stored version of these source references of `provider`."""
    out: dict[str, dict[int, _Stored]] = {}
    ordered = sorted(refs)
    columns = select(
        CreditRecord.source_ref,
        CreditRecord.record_id,
        CreditRecord.version,
        CreditRecord.content_mac,
        CreditRecord.log_seq,
        CreditRecord.leaf_hash,
        CreditRecord.warnings,
    ).where(CreditRecord.provider == provider)
    if session.connection().dialect.name == "postgresql":
        # one array parameter: PostgreSQL hashes `= ANY(array)`, where a long IN list of
        # parameters is compared element by element (seconds for 10,000 references)
        queries = [
            columns.where(CreditRecord.source_ref == any_(bindparam("refs", ordered, type_=ARRAY(String))))
        ]
    else:
        queries = [
            columns.where(CreditRecord.source_ref.in_(ordered[i : i + _LOOKUP_CHUNK]))
            for i in range(0, len(ordered), _LOOKUP_CHUNK)
        ]
    for query in queries if ordered else []:
        for ref, record_id, version, mac, seq, leaf_hash, warnings in session.execute(query).all():
            out.setdefault(ref, {})[version] = _Stored(
                record_id, version, bytes(mac), seq, bytes(leaf_hash), _warnings_from(warnings)
            )
    return out

"""Credit-record use cases: ingest, read back, prove.

The API and the CLI call these; nothing here knows about HTTP. A record is opened
(sealed fields decrypted) only for the provider that submitted it, and only after its
commitment has been recomputed and found equal to the one in the log: a record that no
longer matches its leaf is never served (fail closed).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from eth_utils import to_checksum_address
from sqlalchemy import Select, select

from ledger.domain.business_day import BUSINESS_UTC_OFFSET_MINUTES
from ledger.domain.catalogue import FieldError
from ledger.domain.log_names import CREDIT_RECORDS_LOG
from ledger.errors import NotAuthorized, NotFound
from ledger.logs.bundles import ProofBundles
from ledger.logs.proofs import InclusionProof
from ledger.logs.store import LogCorrupted
from ledger.records import canonical as canon
from ledger.records.catalogues import CatalogueService
from ledger.records.crypto import Keyring
from ledger.records.ingest import IngestReport, IngestService, RecordsHook
from ledger.records.models import CreditRecord
from ledger.records.opening import open_version
from ledger.records.submission import Mode, Submission
from ledger.storage.database import Database

__all__ = ["OpenedRecord", "RecordVersion", "RecordsService"]


@dataclass(frozen=True)
class RecordVersion:
    """What anyone allowed to know a record exists may see: no field values."""

    record_id: str
    version: int
    provider: str
    source_ref: str
    category: str
    subject: str
    catalogue_version: int
    log_index: int
    leaf_hash: bytes
    created_at: datetime


@dataclass(frozen=True)
class OpenedRecord:
    """One record version in full, with the opening of its commitment (salt, canonical bytes)."""

    version: RecordVersion
    event_date: date
    severity: str | None
    fields: dict[str, Any]
    warnings: list[FieldError]
    salt: bytes
    canonical: bytes
    commitment: bytes


def _version(row: CreditRecord) -> RecordVersion:
    return RecordVersion(
        record_id=row.record_id,
        version=row.version,
        provider=row.provider,
        source_ref=row.source_ref,
        category=row.category,
        subject=row.subject,
        catalogue_version=row.catalogue_version,
        log_index=int(row.log_seq),
        leaf_hash=bytes(row.leaf_hash),
        created_at=row.created_at,
    )


class RecordsService:
    """Records of database `db`, sealed with `keyring`, proved through `bundles`."""

    def __init__(
        self,
        db: Database,
        *,
        keyring: Keyring,
        catalogues: CatalogueService,
        bundles: ProofBundles,
        encrypt_min_level: int,
        on_stored: RecordsHook | None = None,
        utc_offset_minutes: int = BUSINESS_UTC_OFFSET_MINUTES,
    ) -> None:
        self.db = db
        self.keyring = keyring
        self.catalogues = catalogues
        self.ingestion = IngestService(
            db, catalogues, keyring, encrypt_min_level=encrypt_min_level, on_stored=on_stored,
            utc_offset_minutes=utc_offset_minutes,
        )  # fmt: skip
        self.bundles = bundles

    def ingest(
        self, provider: str, items: Iterable[tuple[int, Submission | list[FieldError]]], mode: Mode
    ) -> IngestReport:
        return self.ingestion.ingest(provider, items, mode)

    # -- reading ----------------------------------------------------------------------------

    def _row(self, record_id: str, version: int | None) -> CreditRecord:
        query = select(CreditRecord).where(CreditRecord.record_id == record_id)
        if version is None:
            query = query.order_by(CreditRecord.version.desc()).limit(1)
        else:
            query = query.where(CreditRecord.version == version)
        return self._one(query, f"record {record_id}" + ("" if version is None else f" version {version}"))

    def _one(self, query: Select[CreditRecord], what: str) -> CreditRecord:
        """The one row `query` selects; `NotFound` saying there is no `what` otherwise."""
        with self.db.session() as session:
            row = session.execute(query).scalar_one_or_none()
        if row is None:
            raise NotFound(f"no {what}")
        return row

    def at_log_index(self, log_index: int) -> RecordVersion:
        """The record version that is entry `log_index` of the credit-record log (its receipt's
        `log_index`), for those who hold the index but not the record's id."""
        query = select(CreditRecord).where(CreditRecord.log_seq == log_index)
        return _version(self._one(query, f"record at credit-record log index {log_index}"))

    def versions(self, record_id: str) -> list[RecordVersion]:
        with self.db.session() as session:
            rows = session.scalars(
                select(CreditRecord).where(CreditRecord.record_id == record_id).order_by(CreditRecord.version)
            ).all()
        if not rows:
            raise NotFound(f"no record {record_id}")
        return [_version(r) for r in rows]

    def by_source_ref(self, provider: str, source_ref: str) -> list[RecordVersion]:
        with self.db.session() as session:
            rows = session.scalars(
                select(CreditRecord)
                .where(
                    CreditRecord.provider == to_checksum_address(provider),
                    CreditRecord.source_ref == source_ref,
                )
                .order_by(CreditRecord.version)
            ).all()
        if not rows:
            raise NotFound(f"no record with source reference {source_ref!r}")
        return [_version(r) for r in rows]

    def open(self, caller: str, record_id: str, version: int | None = None) -> OpenedRecord:
        """The full record for the provider that submitted it, checked against its commitment."""
        row = self._row(record_id, version)
        if to_checksum_address(caller) != row.provider:
            raise NotAuthorized(f"{caller} did not submit record {record_id}")
        return self.open_row(row)

    def open_row(self, row: CreditRecord) -> OpenedRecord:
        """Decrypt a row its caller already selected (release, self-query, corrections),
        refusing it if it no longer matches its commitment; access checks are the caller's."""
        opened = open_version(row, self.keyring)
        canonical = canon.canonical(opened.document)
        commitment = canon.commitment(opened.salt, canonical)
        if commitment != bytes(row.commitment):
            raise LogCorrupted(
                f"record {row.record_id} version {row.version} no longer matches its commitment"
            )
        warnings = [FieldError(w["field"], w["rule"], w["message"]) for w in json.loads(row.warnings or "[]")]
        return OpenedRecord(
            _version(row),
            row.event_date,
            row.severity,
            opened.fields,
            warnings,
            opened.salt,
            canonical,
            commitment,
        )

    # -- proofs -----------------------------------------------------------------------------

    def proof(self, record_id: str, version: int | None = None) -> tuple[RecordVersion, InclusionProof]:
        """The record version's leaf and its inclusion proof to the latest anchored checkpoint.

        Raises `NotYetAnchored` (409) while no checkpoint covers it yet.
        """
        row = self._row(record_id, version)
        proof = self.bundles.proofs.inclusion(CREDIT_RECORDS_LOG, int(row.log_seq))
        if proof.leaf_hash != bytes(row.leaf_hash):
            raise LogCorrupted(
                f"record {record_id} version {row.version}: leaf hash differs from its log entry"
            )
        return _version(row), proof

    def proof_bundle(self, record_id: str, version: int | None = None) -> dict[str, Any]:
        record, proof = self.proof(record_id, version)
        bundle = self.bundles.bundle(proof)
        bundle["record"] = {"record_id": record.record_id, "version": record.version}
        return bundle

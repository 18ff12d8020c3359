"""The platform's side of the audit: the export an auditor verifies, read from the database.

This is the platform's tool, not the verifier: it reads the log tables, the records
table and the MLPS audit records and writes them in the documented export format
(`ledger.audit.export`). The verifier (`ledger.audit`) never imports this module.

What leaves the platform: leaf bytes (which carry no credit data: record leaves hold a
salted commitment, access leaves who asked for what), each record version's commitment
and leaf hash, and refusals. Openings (salt and every stored value of each record
version) are written only when the operator asks for them with the record keys at hand
(`keyring`): they hold personal data and are for an audit run inside the platform.

The same page functions serve the auditors' API (`api/routers/audit.py`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.audit.export import (
    CatalogueDocument,
    EvaluationModelDocument,
    ExportHeader,
    Opening,
    Refusal,
    StoredVersion,
    catalogue_line,
    entry_line,
    evaluation_model_line,
    header_line,
    record_line,
    refusal_line,
)
from ledger.chain.deploy import Deployment
from ledger.chain.model_registry import ModelRegistryContract
from ledger.domain.catalogue import Catalogue, packaged_catalogues
from ledger.evaluation_release.models import EvaluationModelRow
from ledger.logs.leaves import check_log_name
from ledger.logs.models import LogEntry, LogHead
from ledger.records.crypto import Keyring
from ledger.records.models import CatalogueVersionRow, CreditRecord
from ledger.records.opening import open_version
from ledger.storage.database import Database
from ledger.storage.models import AuditEvent

__all__ = [
    "REFUSED",
    "ExportCounts",
    "catalogue_documents",
    "entries_page",
    "export_header",
    "records_page",
    "refusals_page",
    "write_export",
]

REFUSED = "refused"
_PAGE = 5_000


@dataclass(frozen=True)
class ExportCounts:
    entries: dict[str, int]
    records: int
    openings: int
    refusals: int


def log_sizes(session: Session) -> dict[str, int]:
    return {name: int(size) for name, size in session.execute(select(LogHead.name, LogHead.size)).all()}


def export_header(db: Database, deployment: Deployment, *, openings: bool = False) -> ExportHeader:
    with db.session() as session:
        sizes = log_sizes(session)
    return ExportHeader(
        chain_id=deployment.chain_id,
        contracts=deployment.addresses.by_name(),
        deployment_block=deployment.block,
        exported_at=datetime.now(UTC).isoformat(timespec="seconds"),
        logs=sizes,
        records=True,
        openings=openings,
    )


def entries_page(db: Database, log: str, start: int, limit: int) -> list[tuple[int, bytes]]:
    """Entries of `log` with sequence number >= `start`, in order, at most `limit`."""
    check_log_name(log)
    with db.session() as session:
        rows = session.execute(
            select(LogEntry.seq, LogEntry.leaf)
            .where(LogEntry.log_name == log, LogEntry.seq >= start)
            .order_by(LogEntry.seq)
            .limit(limit)
        ).all()
    return [(int(seq), bytes(leaf)) for seq, leaf in rows]


def _opening(row: CreditRecord, keyring: Keyring) -> Opening:
    opened = open_version(row, keyring)
    return Opening(opened.salt, opened.document)


def records_page(
    db: Database, after: int, limit: int, *, keyring: Keyring | None = None
) -> tuple[list[StoredVersion], int | None]:
    """Stored record versions after row id `after`, and the cursor of the next page (None at the end)."""
    with db.session() as session:
        rows = list(
            session.scalars(
                select(CreditRecord).where(CreditRecord.id > after).order_by(CreditRecord.id).limit(limit)
            )
        )
    versions = [
        StoredVersion(
            record_id=row.record_id,
            version=row.version,
            log_seq=int(row.log_seq),
            commitment=bytes(row.commitment),
            leaf_hash=bytes(row.leaf_hash),
            opening=None if keyring is None else _opening(row, keyring),
        )
        for row in rows
    ]
    return versions, (int(rows[-1].id) if len(rows) == limit else None)


def refusals_page(db: Database, after: int, limit: int) -> tuple[list[Refusal], int | None]:
    """Refusals recorded in the MLPS audit records after row id `after`, and the next cursor."""
    with db.session() as session:
        rows = list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.outcome == REFUSED, AuditEvent.id > after)
                .order_by(AuditEvent.id)
                .limit(limit)
            )
        )
    refusals = [Refusal(r.at.isoformat(), r.actor, r.event, r.outcome, r.detail) for r in rows]
    return refusals, (int(rows[-1].id) if len(rows) == limit else None)


def catalogue_documents(db: Database) -> list[CatalogueDocument]:
    """Every catalogue version the platform knows (the packaged ones and those stored), in
    the form whose RFC 8785 hash the chain anchored (defaults filled in)."""
    known: dict[bytes, CatalogueDocument] = {}
    for packaged in packaged_catalogues():
        known[packaged.content_hash()] = CatalogueDocument(packaged.version, packaged.model_dump(mode="json"))
    with db.session() as session:
        rows = session.scalars(select(CatalogueVersionRow).order_by(CatalogueVersionRow.version)).all()
    for row in rows:
        catalogue = Catalogue.model_validate(json.loads(row.content))
        known.setdefault(
            catalogue.content_hash(), CatalogueDocument(row.version, catalogue.model_dump(mode="json"))
        )
    return sorted(known.values(), key=lambda c: c.version)


def evaluation_models(db: Database) -> list[EvaluationModelDocument]:
    """Every model document the platform holds, with its card (what evaluations were made with)."""
    with db.session() as session:
        rows = session.scalars(select(EvaluationModelRow).order_by(EvaluationModelRow.stored_at)).all()
        return [EvaluationModelDocument(json.loads(r.document), json.loads(r.card)) for r in rows]


@dataclass(frozen=True)
class GovernedModel:
    """A model document held here whose hash the ModelRegistry names, with each version
    proposed for it and that version's status on chain (proposed, active or retired)."""

    model: EvaluationModelDocument
    versions: tuple[tuple[int, str], ...]


def governed_models(db: Database, registry: ModelRegistryContract) -> list[GovernedModel]:
    """The model documents held here that were proposed on chain, each with its versions'
    statuses; a document stored but never proposed is left out (it was never approved for
    any evaluation, and an auditor recomputes only what the chain names).

    Retired versions are kept: evaluations made while they were active are recomputed
    with them (step 6.1 checks the status at each evaluation's block B).
    """
    versions: dict[bytes, list[tuple[int, str]]] = {}
    for version in range(1, registry.version_count() + 1):
        model = registry.model(version)
        versions.setdefault(model.model_hash, []).append((version, model.status.name.lower()))
    with db.session() as session:
        rows = session.scalars(select(EvaluationModelRow).order_by(EvaluationModelRow.stored_at)).all()
        return [
            GovernedModel(EvaluationModelDocument(json.loads(r.document), json.loads(r.card)),
                          tuple(versions[bytes(r.model_hash)]))
            for r in rows
            if bytes(r.model_hash) in versions
        ]  # fmt: skip


def _pages(fetch: Callable[[int], tuple[list[Any], int | None]]) -> Iterator[Any]:
    cursor: int | None = 0
    while cursor is not None:
        items, cursor = fetch(cursor)
        yield from items


def write_export(
    db: Database,
    deployment: Deployment,
    out: TextIO,
    *,
    keyring: Keyring | None = None,
    with_refusals: bool = True,
    on_lines: Callable[[int], None] | None = None,
) -> ExportCounts:
    """Write the whole export to `out`; `keyring` adds record openings (personal data)."""
    header = export_header(db, deployment, openings=keyring is not None)
    out.write(header_line(header) + "\n")
    counts: dict[str, int] = {}
    for log in sorted(header.logs):
        start, n = 0, 0
        while True:
            page = entries_page(db, log, start, _PAGE)
            for seq, leaf in page:
                out.write(entry_line(log, seq, leaf) + "\n")
            n += len(page)
            if on_lines is not None:
                on_lines(len(page))
            if len(page) < _PAGE:
                break
            start = page[-1][0] + 1
        counts[log] = n
    records = openings = 0
    for version in _pages(lambda after: records_page(db, after, _PAGE, keyring=keyring)):
        out.write(record_line(version) + "\n")
        records += 1
        openings += version.opening is not None
    for catalogue in catalogue_documents(db):
        out.write(catalogue_line(catalogue) + "\n")
    for model in evaluation_models(db):
        out.write(evaluation_model_line(model) + "\n")
    refusals = 0
    if with_refusals:
        for refusal in _pages(lambda after: refusals_page(db, after, _PAGE)):
            out.write(refusal_line(refusal) + "\n")
            refusals += 1
    return ExportCounts(counts, records, openings, refusals)

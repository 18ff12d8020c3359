"""Monthly KPI snapshots published: checked, anchored on chain, stored for anyone to fetch.

An operator fetches a month's export (`GET /kpis/export`), wraps it in a
`KpiSnapshotDocument` (key: the month; the next version; its validity) and signs the
`Publish` act over the document's hash. `KpiSnapshots.publish` refuses a document whose
figures do not recompute from its own rows (`kpi_snapshot_mismatch`, 422: nothing
anchored) and otherwise anchors and stores it through the financing documents' store
(`ledger.financing.store`), so that the published export can be fetched and checked
against the chain by anyone (`credit-ledger kpi verify`).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ledger.chain.publications import PublicationKind
from ledger.errors import InvalidInput
from ledger.financing.documents import KpiSnapshotDocument
from ledger.financing.kpi_snapshot import SNAPSHOT_FORMAT, check_export_document
from ledger.financing.service import PublishSignature
from ledger.financing.store import DocumentStore, StoredDocument
from ledger.selfservice.context import audited_unavailable
from ledger.storage.database import Database

__all__ = ["KpiSnapshotMismatch", "KpiSnapshots"]


class KpiSnapshotMismatch(InvalidInput):
    """The snapshot's figures do not recompute from its rows, or it names another month (HTTP 422)."""

    code = "kpi_snapshot_mismatch"


class KpiSnapshots:
    def __init__(self, db: Database, store: DocumentStore) -> None:
        self.db = db
        self.store = store

    def publish(self, caller: str, document: object, signature: PublishSignature) -> StoredDocument:
        """Check, anchor and store a month's snapshot signed by operator `caller`."""
        with audited_unavailable(self.db, caller, "financing.publish.kpi_snapshot"):
            try:
                parsed = KpiSnapshotDocument.model_validate(document)
            except ValidationError as exc:
                raise InvalidInput(f"KPI snapshot document: {exc.errors()[0]['msg']}") from None
            body: dict[str, Any] = parsed.body
            if body.get("format") != SNAPSHOT_FORMAT:
                raise KpiSnapshotMismatch(f"body: not a {SNAPSHOT_FORMAT} export")
            if body.get("month") != parsed.key:
                raise KpiSnapshotMismatch(f"body.month {body.get('month')!r} is not the key {parsed.key!r}")
            differences = check_export_document(body)
            if differences:
                raise KpiSnapshotMismatch(
                    f"{len(differences)} figure(s) do not recompute from the rows: "
                    + "; ".join(differences[:3])
                )
            return self.store.publish(caller, parsed, signature.signed(caller, parsed))

    def version(self, month: str, version: int | None = None) -> StoredDocument:
        """A published snapshot of `month` (the newest, or `version`); 404 when none."""
        kind = PublicationKind.KPI_SNAPSHOT
        return self.store.latest(kind, month) if version is None else self.store.version(kind, month, version)

"""Published financing documents: anchored on chain by the publisher's act, stored here.

`DocumentStore.publish` takes a document and its publisher's signed `Publish` act,
checks that the act names exactly this document (kind, id, version, hash, validity) and
that the authenticated caller is the publisher, relays the act (the contract checks
the role, the version order and a product's ownership), and stores the document with
its anchor - and whatever index the kind keeps (a white list's entries) - in one
transaction. The chain goes first: a version stored here is always anchored.

Crash between the two: the version is anchored but not stored. Sending the same
document again stores it without relaying (the anchor on chain, same hash and
publisher, is the proof), so nothing is lost and nothing is anchored twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from eth_utils import to_checksum_address
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.chain.eip712 import Signed
from ledger.chain.publications import PublicationKind, PublicationsContract, PublishMessage
from ledger.errors import Conflict, NotAuthorized, NotFound
from ledger.financing.documents import PublishedDocument, utc
from ledger.financing.models import FinancingDocumentRow
from ledger.services import audit_events
from ledger.storage.database import Database

D = TypeVar("D", bound=PublishedDocument)

#: an index a kind keeps beside its documents, written in the publication's transaction
Indexer = Callable[[Session, PublishedDocument], None]


class DocumentUnknown(NotFound):
    code = "document_unknown"


class VersionConflict(Conflict):
    """The version is already published (or anchored) with other content."""

    code = "version_conflict"


@dataclass(frozen=True)
class StoredDocument:
    """A published version: the document as hashed, and its on-chain anchor."""

    kind: PublicationKind
    key: str
    version: int
    content: dict[str, Any]
    content_hash: bytes
    publisher: str
    valid_from: datetime
    valid_until: datetime | None
    block_number: int
    transaction: str

    def anchor_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.name.lower(),
            "key": self.key,
            "version": self.version,
            "content_hash": "0x" + self.content_hash.hex(),
            "publisher": self.publisher,
            "block": self.block_number,
            "transaction": self.transaction,
        }


def _kind_name(kind: PublicationKind) -> str:
    return kind.name.lower()


def _aware(value: datetime | None) -> datetime | None:
    """SQLite keeps no offset: what is stored is UTC."""
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _stored(row: FinancingDocumentRow) -> StoredDocument:
    valid_from = _aware(row.valid_from)
    assert valid_from is not None
    return StoredDocument(
        PublicationKind[row.kind.upper()], row.document_key, row.version, json.loads(row.content),
        bytes(row.content_hash), row.publisher, valid_from, _aware(row.valid_until), row.block_number,
        row.transaction,
    )  # fmt: skip


class DocumentStore:
    """Published documents of every kind in `db`, anchored through `publications`."""

    def __init__(self, db: Database, publications: PublicationsContract) -> None:
        self.db = db
        self.publications = publications

    def publish(
        self,
        caller: str,
        document: PublishedDocument,
        signed: Signed[PublishMessage],
        *,
        index: Indexer | None = None,
    ) -> StoredDocument:
        """Anchor and store `document`, signed by `caller` (see the module docstring).

        Refusals: 403 if `caller` is not the act's publisher; 422 `document_mismatch` if the
        act names another document; 409 `version_conflict` if the version is stored or
        anchored with other content; the contract's own (role, order, ownership). An
        identical document sent again answers its stored version.
        """
        message = signed.message
        if to_checksum_address(message.publisher) != to_checksum_address(caller):
            raise NotAuthorized(f"the request is signed by {caller} but the act names {message.publisher}")
        document.check_message(message)
        kind, key = document.KIND, document.key
        content_hash = document.content_hash()
        with self.db.session() as session:
            existing = self._row(session, kind, key, document.version)
        if existing is not None:
            if bytes(existing.content_hash) != content_hash:
                raise VersionConflict(
                    f"{_kind_name(kind)} {key} version {document.version} is already published "
                    "with other content; publish the next version instead"
                )
            return _stored(existing)
        anchored = self.publications.version_count(kind, document.document_id())
        if anchored >= document.version:  # anchored already: a crash between chain and store?
            on_chain = self.publications.publication(kind, document.document_id(), document.version)
            same = on_chain.content_hash == content_hash and to_checksum_address(
                on_chain.publisher
            ) == to_checksum_address(caller)
            if not same:
                raise VersionConflict(
                    f"{_kind_name(kind)} {key} version {document.version} is anchored with other "
                    f"content (0x{on_chain.content_hash.hex()}); publish version {anchored + 1}"
                )
            block, transaction = on_chain.block_number, ""
        else:
            receipt = self.publications.publish(signed)
            block, transaction = int(receipt["blockNumber"]), receipt["transactionHash"].to_0x_hex()
        row = FinancingDocumentRow(
            kind=_kind_name(kind), document_key=key, version=document.version,
            content=document.canonical().decode(), content_hash=content_hash,
            publisher=to_checksum_address(caller), valid_from=document.valid_from.astimezone(UTC),
            valid_until=None if document.valid_until is None else document.valid_until.astimezone(UTC),
            block_number=block, transaction=transaction, stored_at=datetime.now(UTC),
        )  # fmt: skip
        with self.db.session() as session:
            session.add(row)
            if index is not None:
                index(session, document)
            session.add(
                audit_events.row(
                    datetime.now(UTC), caller, f"financing.publish.{_kind_name(kind)}", "served",
                    f"{key} v{document.version} 0x{content_hash.hex()}",
                )
            )  # fmt: skip
        return _stored(row)

    def session(self, session: Session | None = None) -> AbstractContextManager[Session]:
        """`session` if the caller has one (several reads in one transaction), else a new one."""
        return nullcontext(session) if session is not None else self.db.session()

    def count(self, kind: PublicationKind, *, session: Session | None = None) -> int:
        """How many versions of documents of `kind` are stored: rows are only ever added, so
        an unchanged count means unchanged documents (what a reader's cache checks)."""
        with self.session(session) as session:
            n = session.scalar(select(func.count()).where(FinancingDocumentRow.kind == _kind_name(kind)))
        return int(n or 0)

    def next_version(self, kind: PublicationKind, key: str) -> int:
        with self.db.session() as session:
            count = session.scalar(
                select(func.count()).where(
                    FinancingDocumentRow.kind == _kind_name(kind), FinancingDocumentRow.document_key == key
                )
            )
        return int(count or 0) + 1

    def version(self, kind: PublicationKind, key: str, version: int) -> StoredDocument:
        with self.db.session() as session:
            row = self._row(session, kind, key, version)
        if row is None:
            raise DocumentUnknown(f"no {_kind_name(kind)} {key} version {version}")
        return _stored(row)

    def versions(
        self, kind: PublicationKind, key: str, *, session: Session | None = None
    ) -> list[StoredDocument]:
        """Every version of the document, oldest first (404 if none)."""
        with self.session(session) as session:
            rows = session.scalars(
                select(FinancingDocumentRow)
                .where(
                    FinancingDocumentRow.kind == _kind_name(kind), FinancingDocumentRow.document_key == key
                )
                .order_by(FinancingDocumentRow.version)
            ).all()
        if not rows:
            raise DocumentUnknown(f"no {_kind_name(kind)} {key}")
        return [_stored(r) for r in rows]

    def latest(self, kind: PublicationKind, key: str) -> StoredDocument:
        return self.versions(kind, key)[-1]

    def all_latest(self, kind: PublicationKind, *, session: Session | None = None) -> list[StoredDocument]:
        """The newest version of every document of `kind`, by key."""
        newest = (
            select(FinancingDocumentRow.document_key, func.max(FinancingDocumentRow.version).label("v"))
            .where(FinancingDocumentRow.kind == _kind_name(kind))
            .group_by(FinancingDocumentRow.document_key)
            .subquery()
        )
        with self.session(session) as session:
            rows = session.scalars(
                select(FinancingDocumentRow)
                .join(
                    newest,
                    (FinancingDocumentRow.document_key == newest.c.document_key)
                    & (FinancingDocumentRow.version == newest.c.v),
                )
                .where(FinancingDocumentRow.kind == _kind_name(kind))
                .order_by(FinancingDocumentRow.document_key)
            ).all()
        return [_stored(r) for r in rows]

    @staticmethod
    def _row(session: Session, kind: PublicationKind, key: str, version: int) -> FinancingDocumentRow | None:
        return session.get(FinancingDocumentRow, (_kind_name(kind), key, version))


__all__ = ["DocumentStore", "DocumentUnknown", "StoredDocument", "VersionConflict", "utc"]

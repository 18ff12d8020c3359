"""What every published financing document shares: its key, version, validity and hash.

A document is a pydantic model; what is hashed and anchored is the RFC 8785 form of its
JSON dump (defaults filled in), so key order and formatting never change the hash, and
anyone holding the document recomputes the hash the chain holds. The document carries
its own key, version and validity, so the hash covers them, and the signed `Publish`
act must name the same (`check_message`).

This module is pure (pydantic and hashing only): a client builds and hashes documents
with it without the server.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any, ClassVar

import rfc8785
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from ledger.chain.publications import PublicationKind, PublishMessage, document_id
from ledger.errors import InvalidInput

#: a document's key: letters (any script), digits and - _ . : /, as a URL path segment allows
KEY_PATTERN = r"^[^\s/?#%\\]{1,128}$"


class DocumentMismatch(InvalidInput):
    """The signed `Publish` act does not name the document sent with it."""

    code = "document_mismatch"


class PublishedDocument(BaseModel):
    """Base of white lists, loan products and KPI snapshots."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    KIND: ClassVar[PublicationKind]

    key: str = Field(pattern=KEY_PATTERN, description="the document's id within its kind")
    version: int = Field(ge=1, description="1 for the first publication, then each next")
    valid_from: AwareDatetime
    valid_until: AwareDatetime | None = Field(default=None, description="open-ended when absent")

    @model_validator(mode="after")
    def _validity(self) -> PublishedDocument:
        if self.valid_until is not None and self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self

    def canonical(self) -> bytes:
        """The RFC 8785 form that is hashed and stored."""
        return bytes(rfc8785.dumps(self.model_dump(mode="json")))

    def content_hash(self) -> bytes:
        return hashlib.sha256(self.canonical()).digest()

    def document_id(self) -> bytes:
        return document_id(self.KIND, self.key)

    def valid_from_seconds(self) -> int:
        return int(self.valid_from.timestamp())

    def valid_until_seconds(self) -> int:
        return 0 if self.valid_until is None else int(self.valid_until.timestamp())

    def in_force(self, at: datetime) -> bool:
        """Whether the validity covers `at`."""
        return self.valid_from <= at and (self.valid_until is None or at < self.valid_until)

    def message_fields(self) -> dict[str, Any]:
        """The `Publish` fields this document determines (kind, id, version, hash, validity)."""
        return {
            "kind": int(self.KIND),
            "document_id": self.document_id(),
            "version": self.version,
            "content_hash": self.content_hash(),
            "valid_from": self.valid_from_seconds(),
            "valid_until": self.valid_until_seconds(),
        }

    def check_message(self, message: PublishMessage) -> None:
        """Refuse (`DocumentMismatch`, naming the field) a signed act about another document."""
        for name, expected in self.message_fields().items():
            actual = getattr(message, name)
            if actual != expected:
                shown = "0x" + expected.hex() if isinstance(expected, bytes) else expected
                raise DocumentMismatch(
                    f"the signed Publish act's {name} does not match the document's ({shown})"
                )


class KpiSnapshotDocument(PublishedDocument):
    """A KPI snapshot (四(四)), published by an operator: `body` is the snapshot's figures,
    whose shape the KPI service defines; the key names the period (e.g. `2026-11`)."""

    KIND = PublicationKind.KPI_SNAPSHOT

    body: dict[str, Any]


def utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)

"""The committed form of a record and its leaf in the credit-record log.

The leaf commits to the record by SHA-256(salt ‖ canonical record) with a fresh 32-byte
random salt per record version (transparency-log.md): the public hash cannot be
brute-forced back to a low-entropy value such as an ID number, and erasing the salt
makes the hash meaningless once the data must be deleted. The leaf itself carries only
the record's opaque id, its version and that commitment.

The canonical record is RFC 8785 JSON of every stored value, so anyone holding the
record, the salt and the leaf can recompute the commitment with standard tools.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from ledger.domain.catalogue import Catalogue, Field, FieldType, MaskingRule
from ledger.logs.canonical_json import canonical_json
from ledger.records.validation import CheckedRecord

__all__ = [
    "SALT_SIZE",
    "canonical",
    "commitment",
    "content_document",
    "is_sensitive",
    "leaf_payload",
    "mac_input",
    "record_document",
    "split_fields",
]

SALT_SIZE = 32


def content_document(rec: CheckedRecord) -> dict[str, Any]:
    """What the provider said: compared to recognise a re-submission of the same content."""
    return {
        "category": rec.category,
        "subject": rec.subject,
        "event_date": rec.event_date.isoformat(),
        "severity": rec.severity,
        "source_ref": rec.source_ref,
        "fields": rec.fields,
    }


def mac_input(rec: CheckedRecord) -> bytes:
    """Deterministic bytes of the content (sorted JSON), for the keyed content MAC."""
    return json.dumps(
        content_document(rec), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    ).encode()


def record_document(
    *,
    record_id: str,
    version: int,
    provider: str,
    catalogue_version: int,
    category: str,
    subject: str,
    event_date: date,
    severity: str | None,
    source_ref: str,
    fields: dict[str, Any],
) -> dict[str, Any]:
    """Every stored value of one record version: what the commitment covers.

    The one place this document is built: ingestion commits to it, and every reader of a
    stored version rebuilds it here (`ledger.records.opening`), so the two cannot drift.
    """
    return {
        "category": category,
        "subject": subject,
        "event_date": event_date.isoformat(),
        "severity": severity,
        "source_ref": source_ref,
        "fields": fields,
        "record_id": record_id,
        "version": version,
        "provider": provider,
        "catalogue_version": catalogue_version,
    }


def canonical(document: Mapping[str, Any]) -> bytes:
    return canonical_json(dict(document))


def commitment(salt: bytes, canonical_record: bytes) -> bytes:
    return hashlib.sha256(salt + canonical_record).digest()


def leaf_payload(record_id: str, version: int, commitment_hash: bytes) -> dict[str, Any]:
    return {"record_id": record_id, "version": version, "commitment": "0x" + commitment_hash.hex()}


def is_sensitive(f: Field, min_level: int) -> bool:
    """Sealed at rest: identity types, anything with a masking rule, anything at `min_level`+."""
    return f.level >= min_level or f.masking is not MaskingRule.PUBLIC or f.type is FieldType.RESIDENT_ID


def split_fields(
    catalogue: Catalogue, category: str, fields: Mapping[str, Any], min_level: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(public, sensitive) parts of a record's fields under its catalogue version."""
    cat = catalogue.category(category)
    sensitive_names = {f.name for f in cat.fields if is_sensitive(f, min_level)}
    public = {k: v for k, v in fields.items() if k not in sensitive_names}
    sensitive = {k: v for k, v in fields.items() if k in sensitive_names}
    return public, sensitive

"""Opening a stored record version: its sealed salt and fields, and what its commitment covers.

The sensitive fields and the salt of each version are sealed together (`Keyring.seal`),
bound to the version by `sealed_aad`. Every reader of stored versions opens them here:
the records service (providers, the release path, self-service) and the openings of
the audit export, so each rebuilds the document ingestion committed to
(`canonical.record_document`) the same way.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from ledger.records.canonical import record_document
from ledger.records.crypto import Keyring
from ledger.records.models import CreditRecord

__all__ = ["OpenedVersion", "open_version", "sealed_aad"]


def sealed_aad(record_id: str, version: int) -> bytes:
    """Associated data binding a sealed blob to its record version."""
    return f"credit-record/{record_id}/{version}".encode()


@dataclass(frozen=True)
class OpenedVersion:
    salt: bytes
    fields: dict[str, Any]  # public and sensitive
    document: dict[str, Any]  # what the commitment covers, with the salt


def open_version(row: CreditRecord, keyring: Keyring) -> OpenedVersion:
    """Decrypt `row`'s sealed part and rebuild its committed document (not checked here).

    Raises `SealedDataError` when the sealed part does not open (unknown key, tampering).
    """
    secret = json.loads(keyring.open(row.key_id, bytes(row.sealed), sealed_aad(row.record_id, row.version)))
    fields = {**json.loads(row.public_fields), **secret["fields"]}
    document = record_document(
        record_id=row.record_id,
        version=row.version,
        provider=row.provider,
        catalogue_version=row.catalogue_version,
        category=row.category,
        subject=row.subject,
        event_date=row.event_date,
        severity=row.severity,
        source_ref=row.source_ref,
        fields=fields,
    )
    return OpenedVersion(base64.b64decode(secret["salt"]), fields, document)

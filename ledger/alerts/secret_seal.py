"""Webhook secrets sealed at rest, the way records' sealed fields are (`ledger.records.crypto`).

An endpoint's `whsec_` secret signs every message it receives: whoever reads it from the
database can forge alerts to that institution. So `alert_endpoints` stores it sealed
under the records' keyring (AES-256-GCM or SM4-GCM, the key id kept with it, keys rotated
without touching old rows), with associated data binding the blob to its endpoint and
column: a sealed secret copied onto another endpoint, or from `previous_secret` to
`secret`, does not open. Stored form: ``sealed:1:<key id>:<base64 blob>``.

A secret that does not open (key missing, tampered, copied) is `SealedDataError`
(503-class): the sender delivers nothing with it rather than sign with a wrong key.
Rows stored before sealing (plain ``whsec_``) are read as they are until the next
registration or rotation seals them; `seal_stored_secrets` seals them at once.
"""

from __future__ import annotations

import base64
import binascii

from sqlalchemy import select

from ledger.alerts.endpoint_model import AlertEndpoint
from ledger.records.crypto import Algorithm, Keyring, SealedDataError
from ledger.settings import dev_mac_key, dev_record_keys
from ledger.storage.database import Database

__all__ = ["development_keyring", "open_secret", "seal_secret", "seal_stored_secrets"]

_PREFIX = "sealed:1:"
_PLAIN = "whsec_"


def development_keyring() -> Keyring:
    """The records' development keyring (fixed public keys): for development and tests only."""
    return Keyring(dev_record_keys(), "dev-aes-256-gcm", Algorithm.AES_256_GCM, dev_mac_key())


def _aad(endpoint_id: str, column: str) -> bytes:
    return f"alert_endpoints:{endpoint_id}:{column}".encode()


def seal_secret(keyring: Keyring, endpoint_id: str, column: str, secret: str) -> str:
    """`secret` sealed for `column` of endpoint `endpoint_id`, in its stored form."""
    key_id, blob = keyring.seal(secret.encode(), _aad(endpoint_id, column))
    return f"{_PREFIX}{key_id}:{base64.b64encode(blob).decode()}"


def open_secret(keyring: Keyring, endpoint_id: str, column: str, stored: str) -> str:
    """The secret of a stored value (`SealedDataError` if it does not open)."""
    if stored.startswith(_PLAIN):
        return stored  # stored before sealing
    if not stored.startswith(_PREFIX):
        raise SealedDataError(f"the {column} of endpoint {endpoint_id} has an unknown format")
    key_id, _, encoded = stored.removeprefix(_PREFIX).partition(":")
    try:
        blob = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise SealedDataError(f"the {column} of endpoint {endpoint_id} is not base64") from None
    return keyring.open(key_id, blob, _aad(endpoint_id, column)).decode()


def seal_stored_secrets(db: Database, keyring: Keyring) -> int:
    """Seal every secret still stored plain; returns how many values were sealed."""
    sealed = 0
    with db.session() as session:
        for row in session.scalars(select(AlertEndpoint)):
            if row.secret.startswith(_PLAIN):
                row.secret = seal_secret(keyring, row.id, "secret", row.secret)
                sealed += 1
            if row.previous_secret and row.previous_secret.startswith(_PLAIN):
                row.previous_secret = seal_secret(keyring, row.id, "previous_secret", row.previous_secret)
                sealed += 1
    return sealed

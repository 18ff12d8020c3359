"""Sealing sensitive record fields at rest: AES-256-GCM, or SM4-GCM where GB/T 39786
commercial cryptography is required.

Every sealed value carries the id of its key (in its own column) and, in a two-byte
header, the format and the algorithm, so keys can be rotated and the cipher changed
without touching old rows: they open with the key and algorithm they were sealed with.
The associated data binds a ciphertext to its record version, so a blob copied onto
another row does not open.

Keys come from configuration (`LEDGER_RECORD_KEYS`, `LEDGER_RECORD_KEY_ID`,
`LEDGER_RECORD_MAC_KEY`). In development, fixed keys derived from public strings are
used when none are configured; production settings refuse them
(`ledger.settings.production_key_problems`).

Blob layout: format (1 byte, 1) ‖ algorithm (1 byte) ‖ nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Mapping
from enum import StrEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.errors import LedgerError, Unavailable
from ledger.settings import RECORD_KEY_SIZES, Settings, dev_mac_key, dev_record_keys

__all__ = [
    "Algorithm",
    "Keyring",
    "KeyringError",
    "SealedDataError",
]

FORMAT = 1
NONCE_SIZE = 12
TAG_SIZE = 16
MIN_MAC_KEY = 32


class Algorithm(StrEnum):
    AES_256_GCM = "aes-256-gcm"
    SM4_GCM = "sm4-gcm"


KEY_SIZES = {alg: RECORD_KEY_SIZES[alg.value] for alg in Algorithm}
_CODES = {Algorithm.AES_256_GCM: 1, Algorithm.SM4_GCM: 2}
_BY_CODE = {code: alg for alg, code in _CODES.items()}


class KeyringError(LedgerError):
    """The key configuration is unusable (missing, malformed, wrong length)."""

    code = "keyring_error"


class SealedDataError(Unavailable):
    """A sealed value cannot be opened (unknown key id, tampering): nothing is served (503)."""

    code = "sealed_data_error"


def _b64(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise KeyringError(f"{what} is not base64") from None


def _seal_sm4(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    return encryptor.update(plaintext) + encryptor.finalize() + encryptor.tag


def _open_sm4(key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
    if len(sealed) < TAG_SIZE:
        raise InvalidTag
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, sealed[-TAG_SIZE:])).decryptor()
    decryptor.authenticate_additional_data(aad)
    return decryptor.update(sealed[:-TAG_SIZE]) + decryptor.finalize()


def _require_sm4_gcm() -> None:
    """Fail at start-up, not at the first record, when OpenSSL lacks SM4-GCM."""
    try:
        _seal_sm4(bytes(16), bytes(NONCE_SIZE), b"", b"")
    except Exception as exc:  # UnsupportedAlgorithm, or an OpenSSL error
        raise KeyringError(f"sm4-gcm is not available in this OpenSSL build: {exc}") from exc


class Keyring:
    """Data keys by id, the active one for new seals, and the content-MAC key."""

    def __init__(self, keys: Mapping[str, bytes], active: str, algorithm: Algorithm, mac_key: bytes) -> None:
        if active not in keys:
            raise KeyringError(
                f"active record key id {active!r} is not among the configured keys {sorted(keys)}"
            )
        if len(keys[active]) != KEY_SIZES[algorithm]:
            raise KeyringError(
                f"record key {active!r} has {len(keys[active])} bytes; "
                f"{algorithm.value} needs {KEY_SIZES[algorithm]}"
            )
        if len(mac_key) < MIN_MAC_KEY:
            raise KeyringError(f"the content MAC key needs at least {MIN_MAC_KEY} bytes")
        if algorithm is Algorithm.SM4_GCM:
            _require_sm4_gcm()
        self._keys = dict(keys)
        self.active = active
        self.algorithm = algorithm
        self._mac_key = mac_key
        self._aes = {kid: AESGCM(k) for kid, k in keys.items() if len(k) == KEY_SIZES[Algorithm.AES_256_GCM]}

    @classmethod
    def from_settings(cls, settings: Settings) -> Keyring:
        algorithm = Algorithm(settings.record_cipher)
        if settings.record_keys:
            keys = {
                kid: _b64(v.get_secret_value(), f"record key {kid!r}")
                for kid, v in settings.record_keys.items()
            }
            active = settings.record_key_id or ""
            if not active:
                raise KeyringError("LEDGER_RECORD_KEY_ID must name the key new records are sealed with")
        elif settings.environment == "development":
            keys = dev_record_keys()
            active = settings.record_key_id or f"dev-{algorithm.value}"
        else:
            raise KeyringError("LEDGER_RECORD_KEYS must be configured outside development")
        if settings.record_mac_key is not None:
            mac_key = _b64(settings.record_mac_key.get_secret_value(), "LEDGER_RECORD_MAC_KEY")
        elif settings.environment == "development":
            mac_key = dev_mac_key()
        else:
            raise KeyringError("LEDGER_RECORD_MAC_KEY must be configured outside development")
        return cls(keys, active, algorithm, mac_key)

    def seal(self, plaintext: bytes, aad: bytes) -> tuple[str, bytes]:
        """Encrypt under the active key; returns (key id, blob)."""
        key = self._keys[self.active]
        nonce = os.urandom(NONCE_SIZE)
        if self.algorithm is Algorithm.AES_256_GCM:
            body = self._aes[self.active].encrypt(nonce, plaintext, aad)
        else:
            body = _seal_sm4(key, nonce, plaintext, aad)
        return self.active, bytes((FORMAT, _CODES[self.algorithm])) + nonce + body

    def open(self, key_id: str, blob: bytes, aad: bytes) -> bytes:
        """Decrypt a blob sealed by `seal` under key `key_id`; `SealedDataError` if it does not open."""
        key = self._keys.get(key_id)
        if key is None:
            raise SealedDataError(f"record key {key_id!r} is not configured; cannot open sealed fields")
        if len(blob) < 2 + NONCE_SIZE + TAG_SIZE or blob[0] != FORMAT or blob[1] not in _BY_CODE:
            raise SealedDataError("sealed fields have an unknown format")
        algorithm = _BY_CODE[blob[1]]
        if len(key) != KEY_SIZES[algorithm]:
            raise SealedDataError(f"record key {key_id!r} does not fit {algorithm.value}")
        nonce, body = blob[2 : 2 + NONCE_SIZE], blob[2 + NONCE_SIZE :]
        try:
            if algorithm is Algorithm.AES_256_GCM:
                return AESGCM(key).decrypt(nonce, body, aad)
            return _open_sm4(key, nonce, body, aad)
        except InvalidTag:
            raise SealedDataError(
                "sealed fields failed authentication (tampered, or sealed for another row)"
            ) from None

    def mac(self, data: bytes) -> bytes:
        """HMAC-SHA256 of `data`: recognises re-submitted content without storing a guessable hash."""
        return hmac.new(self._mac_key, data, hashlib.sha256).digest()

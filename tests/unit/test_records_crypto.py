"""Sealing at rest: AES-256-GCM and SM4-GCM, key ids, associated data, production refusal."""

from __future__ import annotations

import base64
import os
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from ledger.records.crypto import Algorithm, Keyring, KeyringError, SealedDataError
from ledger.settings import Settings, dev_mac_key, dev_record_keys


def _ring(algorithm: Algorithm = Algorithm.AES_256_GCM) -> Keyring:
    active = "a" if algorithm is Algorithm.AES_256_GCM else "s"
    return Keyring({"a": os.urandom(32), "s": os.urandom(16)}, active, algorithm, os.urandom(32))


@pytest.mark.parametrize("algorithm", list(Algorithm))
def test_round_trip_and_header(algorithm: Algorithm) -> None:
    ring = _ring(algorithm)
    key_id, blob = ring.seal("身份证 11010519491231002X".encode(), b"row-1")
    assert blob[0] == 1 and blob[1] == (1 if algorithm is Algorithm.AES_256_GCM else 2)
    assert b"11010519491231002X" not in blob
    assert ring.open(key_id, blob, b"row-1") == "身份证 11010519491231002X".encode()


@pytest.mark.parametrize("algorithm", list(Algorithm))
def test_wrong_row_tampering_and_unknown_key_fail_closed(algorithm: Algorithm) -> None:
    ring = _ring(algorithm)
    key_id, blob = ring.seal(b"secret", b"row-1")
    with pytest.raises(SealedDataError, match="authentication"):
        ring.open(key_id, blob, b"row-2")
    with pytest.raises(SealedDataError):
        ring.open(key_id, blob[:-1] + bytes([blob[-1] ^ 1]), b"row-1")
    with pytest.raises(SealedDataError, match="not configured"):
        ring.open("gone", blob, b"row-1")
    with pytest.raises(SealedDataError, match="format"):
        ring.open(key_id, b"\x09" + blob[1:], b"row-1")


def test_old_keys_still_open_after_rotation() -> None:
    keys = {"2025": os.urandom(32), "2026": os.urandom(32)}
    mac = os.urandom(32)
    old = Keyring(keys, "2025", Algorithm.AES_256_GCM, mac)
    kid, blob = old.seal(b"x", b"r")
    new = Keyring(keys, "2026", Algorithm.AES_256_GCM, mac)
    assert new.seal(b"y", b"r")[0] == "2026"
    assert new.open(kid, blob, b"r") == b"x"
    assert old.mac(b"content") == new.mac(b"content")  # re-submissions still recognised


def test_key_length_must_fit_the_cipher() -> None:
    with pytest.raises(KeyringError, match="needs 16"):
        Keyring({"a": os.urandom(32)}, "a", Algorithm.SM4_GCM, os.urandom(32))
    with pytest.raises(KeyringError, match="not among"):
        Keyring({"a": os.urandom(32)}, "b", Algorithm.AES_256_GCM, os.urandom(32))
    with pytest.raises(KeyringError, match="MAC"):
        Keyring({"a": os.urandom(32)}, "a", Algorithm.AES_256_GCM, b"short")


def test_development_uses_derived_keys() -> None:
    ring = Keyring.from_settings(Settings(environment="development"))
    assert ring.active == "dev-aes-256-gcm"
    sm4 = Keyring.from_settings(Settings(environment="development", record_cipher="sm4-gcm"))
    assert sm4.active == "dev-sm4-gcm"


def _b64(raw: bytes) -> SecretStr:
    return SecretStr(base64.b64encode(raw).decode())


PRODUCTION: dict[str, Any] = {
    "environment": "production",
    "rpc_url": "http://node:8545",
    "relayer_key": "0x" + "11" * 32,
}


def test_production_refuses_missing_or_development_keys() -> None:
    with pytest.raises(ValidationError, match="LEDGER_RECORD_KEYS must be set"):
        Settings(**PRODUCTION)
    dev = dev_record_keys()["dev-aes-256-gcm"]
    with pytest.raises(ValidationError, match="is a development key"):
        Settings(
            **PRODUCTION, record_keys={"k": _b64(dev)}, record_key_id="k", record_mac_key=_b64(os.urandom(32))
        )
    with pytest.raises(ValidationError, match="MAC_KEY is the development key"):
        Settings(
            **PRODUCTION,
            record_keys={"k": _b64(os.urandom(32))},
            record_key_id="k",
            record_mac_key=_b64(dev_mac_key()),
        )
    ok = Settings(
        **PRODUCTION,
        record_keys={"k": _b64(os.urandom(32))},
        record_key_id="k",
        record_mac_key=_b64(os.urandom(32)),
    )
    assert Keyring.from_settings(ok).active == "k"


def test_keys_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    key = base64.b64encode(os.urandom(16)).decode()
    monkeypatch.setenv("LEDGER_RECORD_KEYS", f'{{"sm4-2026": "{key}"}}')
    monkeypatch.setenv("LEDGER_RECORD_KEY_ID", "sm4-2026")
    monkeypatch.setenv("LEDGER_RECORD_CIPHER", "sm4-gcm")
    ring = Keyring.from_settings(Settings())
    kid, blob = ring.seal(b"x", b"r")
    assert kid == "sm4-2026" and blob[1] == 2

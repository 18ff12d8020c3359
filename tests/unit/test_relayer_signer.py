"""The relayer's signers: keys in memory, keystores, and the KMS/HSM-shaped digest interface."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_account import Account

from ledger.chain.signer import (
    SECP256K1_N,
    AccountSigner,
    DigestTransactionSigner,
    SignerError,
    SoftwareDigestSigner,
    as_signer,
    keystore_signer,
)
from ledger.devnet import devnet_key
from ledger.keystore import create_keystore
from ledger.settings import Settings

KEY = bytes.fromhex(devnet_key(5)[2:])


def _tx(nonce: int, *, legacy: bool = False) -> dict[str, object]:
    tx: dict[str, object] = {
        "to": "0x" + "22" * 20,
        "value": 1,
        "gas": 21000,
        "nonce": nonce,
        "chainId": 31337,
        "data": b"",
    }
    if legacy:
        tx["gasPrice"] = 10**9
    else:
        tx["maxFeePerGas"] = 2 * 10**9
        tx["maxPriorityFeePerGas"] = 10**9
    return tx


def test_digest_signer_builds_transactions_the_chain_attributes_to_its_key() -> None:
    """A KMS-shaped device returns either s and no recovery id; the transactions still verify."""
    device = SoftwareDigestSigner(KEY)
    signer = DigestTransactionSigner(device)
    assert signer.address == Account.from_key(KEY).address
    for nonce in range(24):  # random k: about half the device's signatures have a high s
        for legacy in (False, True):
            raw = signer.sign_transaction(_tx(nonce, legacy=legacy))
            assert Account.recover_transaction(raw) == signer.address


def test_digest_signer_normalises_high_s_as_eip2_requires() -> None:
    class HighS(SoftwareDigestSigner):
        def sign_digest(self, digest: bytes) -> tuple[int, int]:
            r, s = super().sign_digest(digest)
            return r, s if s > SECP256K1_N // 2 else SECP256K1_N - s

    raw = DigestTransactionSigner(HighS(KEY)).sign_transaction(_tx(0))
    assert Account.recover_transaction(raw) == Account.from_key(KEY).address


def test_a_device_signing_with_another_key_is_refused() -> None:
    class Swapped(SoftwareDigestSigner):
        def sign_digest(self, digest: bytes) -> tuple[int, int]:
            return SoftwareDigestSigner(bytes.fromhex(devnet_key(6)[2:])).sign_digest(digest)

    with pytest.raises(SignerError, match="does not match its public key"):
        DigestTransactionSigner(Swapped(KEY)).sign_transaction(_tx(0))


def test_a_signature_out_of_range_is_refused() -> None:
    class Broken(SoftwareDigestSigner):
        def sign_digest(self, digest: bytes) -> tuple[int, int]:
            return 0, 1

    with pytest.raises(SignerError, match="out of range"):
        DigestTransactionSigner(Broken(KEY)).sign_transaction(_tx(0))


def test_account_and_digest_signers_agree_on_the_sender() -> None:
    account = as_signer(devnet_key(5))
    assert isinstance(account, AccountSigner)
    raw = account.sign_transaction(_tx(3))
    assert Account.recover_transaction(raw) == DigestTransactionSigner(SoftwareDigestSigner(KEY)).address
    assert as_signer(account) is account


def test_keystore_signer_opens_with_the_password_file(tmp_path: Path) -> None:
    account = create_keystore(tmp_path / "relayer.json", "correct horse")
    (tmp_path / "password").write_text("correct horse\n")
    signer = keystore_signer(tmp_path / "relayer.json", tmp_path / "password")
    assert signer.address == account.address
    (tmp_path / "wrong").write_text("wrong horse battery")
    with pytest.raises(SignerError, match="wrong password"):
        keystore_signer(tmp_path / "relayer.json", tmp_path / "wrong")
    with pytest.raises(SignerError, match="password file"):
        keystore_signer(tmp_path / "relayer.json", tmp_path / "missing")


def test_settings_take_the_relayer_keystore_in_production(tmp_path: Path) -> None:
    account = create_keystore(tmp_path / "relayer.json", "correct horse")
    (tmp_path / "password").write_text("correct horse")
    base = {"environment": "production", "rpc_url": "http://127.0.0.1:8545", "data_dir": tmp_path}
    with pytest.raises(ValueError, match="LEDGER_RELAYER_KEYSTORE"):
        Settings(**base, record_keys={"k1": "AA=="})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs LEDGER_RELAYER_KEYSTORE_PASSWORD_FILE"):
        Settings(relayer_keystore=tmp_path / "relayer.json")
    with pytest.raises(ValueError, match="not both"):
        Settings(
            relayer_keystore=tmp_path / "relayer.json",
            relayer_keystore_password_file=tmp_path / "password",
            relayer_key=devnet_key(1),  # type: ignore[arg-type]
        )
    development = Settings(
        relayer_keystore=tmp_path / "relayer.json", relayer_keystore_password_file=tmp_path / "password"
    )
    assert development.relayer_signer().address == account.address


def test_production_refuses_a_keystore_holding_a_devnet_key(tmp_path: Path) -> None:
    encrypted = Account.encrypt(devnet_key(0), "correct horse")
    (tmp_path / "relayer.json").write_text(json.dumps(encrypted))
    (tmp_path / "password").write_text("correct horse")
    settings = Settings.model_construct(
        environment="production",
        relayer_keystore=tmp_path / "relayer.json",
        relayer_keystore_password_file=tmp_path / "password",
        relayer_key=None,
    )
    with pytest.raises(SignerError, match="devnet key"):
        settings.relayer_signer()

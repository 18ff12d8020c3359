"""Who signs the relayer's transactions: a key in memory, a keystore, or a KMS/HSM.

The relayer pays for every member's signed act and sends the anchors, so its key is
the platform's most valuable secret. The chain client never touches the key itself: it
hands each transaction to a `TransactionSigner` and sends the raw bytes it gets back.

Backends:
- `AccountSigner`: an `eth_account` account, opened from a raw key (development, tests)
  or from a Web3 secret-storage keystore with its password read from a file
  (`LEDGER_RELAYER_KEYSTORE`, `LEDGER_RELAYER_KEYSTORE_PASSWORD_FILE`), as a secret
  mounted by the orchestrator would be.
- `DigestTransactionSigner`: a production key that never leaves its KMS or HSM. Such a
  device signs a 32-byte digest with secp256k1 and returns (r, s), usually DER-encoded,
  with no recovery id and with either s. `DigestSigner` is that shape; the adapter
  turns its answer into an Ethereum signature (low s, as EIP-2 requires, and the
  recovery id found by recovering the public key) and lets `eth_account` build the
  signed transaction. A cloud KMS or a PKCS#11 HSM backend implements `DigestSigner`
  in a dozen lines (call the device, decode the DER); `SoftwareDigestSigner` is the
  reference implementation used by the tests, signing the way such a device does.

Why part of this is written here: `eth_account` signs only with a key it holds. Its
`sign_transaction_dict` accepts any object with `sign_msg_hash`, which is the seam used
below; the low-s normalisation and the recovery-id search are the few lines every KMS
adapter for Ethereum carries (no maintained Python library offers them on their own).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature
from eth_account import Account
from eth_account._utils.signing import sign_transaction_dict
from eth_account.signers.local import LocalAccount
from eth_keys.datatypes import PublicKey, Signature
from eth_typing import ChecksumAddress
from eth_utils import to_checksum_address

from ledger.errors import LedgerError

__all__ = [
    "AccountSigner",
    "DigestSigner",
    "DigestTransactionSigner",
    "SignerError",
    "SoftwareDigestSigner",
    "TransactionSigner",
    "as_signer",
    "keystore_signer",
]

#: order of the secp256k1 group
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


class SignerError(LedgerError):
    """The relayer's signer could not be opened or did not sign."""

    code = "signer_error"


@runtime_checkable
class TransactionSigner(Protocol):
    """Signs the relayer's transactions; what the chain client needs of a key."""

    @property
    def address(self) -> ChecksumAddress: ...

    def sign_transaction(self, tx: dict[str, Any]) -> bytes:
        """The raw signed transaction, ready for `eth_sendRawTransaction`."""
        ...


class DigestSigner(Protocol):
    """The shape of a KMS or HSM key: signs a 32-byte digest, returns (r, s)."""

    def public_key(self) -> bytes:
        """The 64-byte uncompressed public key (X ‖ Y, no 0x04 prefix)."""
        ...

    def sign_digest(self, digest: bytes) -> tuple[int, int]:
        """An ECDSA signature over `digest` (no hashing), either s, no recovery id."""
        ...


class AccountSigner:
    """A key held in this process (a raw key or an opened keystore)."""

    def __init__(self, account: LocalAccount) -> None:
        self._account = account

    @property
    def address(self) -> ChecksumAddress:
        return self._account.address

    def sign_transaction(self, tx: dict[str, Any]) -> bytes:
        return bytes(self._account.sign_transaction(tx).raw_transaction)


class _DigestKey:
    """What `eth_account` expects of a key (`sign_msg_hash`), answered by a `DigestSigner`."""

    def __init__(self, device: DigestSigner) -> None:
        self._device = device
        self._public = PublicKey(device.public_key())

    def sign_msg_hash(self, digest: bytes) -> Signature:
        r, s = self._device.sign_digest(digest)
        if not (0 < r < SECP256K1_N and 0 < s < SECP256K1_N):
            raise SignerError("the signing device returned a signature out of range")
        if s > SECP256K1_N // 2:  # EIP-2: only the low s is valid on chain
            s = SECP256K1_N - s
        for v in (0, 1):
            signature = Signature(vrs=(v, r, s))
            if signature.recover_public_key_from_msg_hash(digest) == self._public:
                return signature
        raise SignerError("the signing device's signature does not match its public key")


class DigestTransactionSigner:
    """Transactions signed by a key that never leaves its device (`DigestSigner`)."""

    def __init__(self, device: DigestSigner) -> None:
        self._key = _DigestKey(device)
        self._address = to_checksum_address(PublicKey(device.public_key()).to_canonical_address())

    @property
    def address(self) -> ChecksumAddress:
        return self._address

    def sign_transaction(self, tx: dict[str, Any]) -> bytes:
        _v, _r, _s, raw = sign_transaction_dict(self._key, tx)  # type: ignore[arg-type]
        return bytes(raw)


class SoftwareDigestSigner:
    """A `DigestSigner` over a key in memory, signing as a KMS does (random k, any s).

    The reference implementation of the device interface, for tests and for checking a
    real backend against: it returns what an AWS KMS `Sign` with ECDSA_SHA_256 over
    ECC_SECG_P256K1 returns once its DER is decoded.
    """

    def __init__(self, private_key: bytes) -> None:
        self._key = ec.derive_private_key(int.from_bytes(private_key, "big"), ec.SECP256K1())

    def public_key(self) -> bytes:
        numbers = self._key.public_key().public_numbers()
        return numbers.x.to_bytes(32, "big") + numbers.y.to_bytes(32, "big")

    def sign_digest(self, digest: bytes) -> tuple[int, int]:
        der = self._key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        r, s = decode_dss_signature(der)
        return r, s


def as_signer(key: str | bytes | LocalAccount | TransactionSigner) -> TransactionSigner:
    """A signer for a raw key, an account or an existing signer."""
    if isinstance(key, (str, bytes)):
        return AccountSigner(Account.from_key(key))
    if isinstance(key, LocalAccount):
        return AccountSigner(key)
    return key


def keystore_signer(path: Path, password_file: Path) -> AccountSigner:
    """The relayer's key from a Web3 secret-storage keystore; the password from a file."""
    from ledger.keystore import load_keystore

    try:
        password = password_file.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise SignerError(f"cannot read the relayer keystore's password file {password_file}: {exc}") from exc
    try:
        return AccountSigner(load_keystore(path, password))
    except LedgerError as exc:
        raise SignerError(f"cannot open the relayer keystore {path}: {exc}") from exc

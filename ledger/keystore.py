"""Member keys in encrypted Web3 Secret Storage files (scrypt + AES-128-CTR, eth-keyfile).

Members keep their own keys; the platform never holds them. These files are what the
CLI and the SDK load to sign.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger.errors import InvalidInput


def create_keystore(path: Path, password: str) -> LocalAccount:
    """Create a fresh key, write it encrypted to `path` (mode 0600), return the account."""
    account: LocalAccount = Account.create()
    save_keystore(path, account, password)
    return account


def save_keystore(path: Path, account: LocalAccount, password: str, *, scrypt_n: int | None = None) -> None:
    """Write `account`'s key encrypted to `path` (mode 0600), never over an existing file.

    `scrypt_n` lowers scrypt's work factor (eth-account's default is 2**18, about a second
    per file): only for development keys, such as the demo's, whose password is public anyway.
    """
    if len(password) < 8:
        raise InvalidInput("keystore password must have at least 8 characters")
    if path.exists():
        raise InvalidInput(f"{path} exists; refusing to overwrite a key")
    encrypted = Account.encrypt(account.key, password, iterations=scrypt_n)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(encrypted, handle)


def load_keystore(path: Path, password: str) -> LocalAccount:
    try:
        encrypted = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"cannot read keystore {path}: {exc}") from None
    try:
        key = Account.decrypt(encrypted, password)
    except (KeyError, TypeError) as exc:  # eth-account's own errors for a file of another shape
        raise InvalidInput(f"{path} is not a keystore file (missing or malformed {exc})") from None
    except ValueError:  # the MAC does not match
        raise InvalidInput(f"wrong password for keystore {path}") from None
    account: LocalAccount = Account.from_key(key)
    return account

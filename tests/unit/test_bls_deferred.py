"""The deferred BLS set-up: keystores work as before, py_ecc stays unimported until used."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from ledger.bls_deferred import BLS12_381_CURVE_ORDER


def run(code: str) -> str:
    """`code` in a fresh interpreter (this one has imported py_ecc long ago)."""
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], check=True, capture_output=True, text=True
    )
    return out.stdout.strip()


def test_the_curve_order_is_py_ecc_s() -> None:
    from py_ecc.bls12_381 import curve_order

    assert curve_order == BLS12_381_CURVE_ORDER


def test_importing_the_ledger_and_eth_account_leaves_bls_unimported_and_v3_keystores_work() -> None:
    out = run(
        """
        import sys
        import ledger
        from eth_account import Account
        account = Account.create()
        keystore = Account.encrypt(account.key, "pw", kdf="pbkdf2", iterations=2)
        assert Account.decrypt(keystore, "pw") == account.key
        print(sorted(m for m in sys.modules if m.startswith(("py_ecc.bls", "py_ecc.optimized_bls12_381"))))
        """
    )
    assert out == "[]"


def test_a_bls_keystore_still_works_and_later_importers_get_the_real_modules() -> None:
    out = run(
        """
        import ledger
        from eth_keyfile import create_keyfile_json, decode_keyfile_json
        keystore = create_keyfile_json(b"\\x01" * 32, b"pw", version=4, kdf="pbkdf2", iterations=2)
        assert decode_keyfile_json(keystore, b"pw") == b"\\x01" * 32
        from py_ecc.bls import G2ProofOfPossession
        import py_ecc.bls12_381
        assert keystore["pubkey"] == G2ProofOfPossession.SkToPk(int.from_bytes(b"\\x01" * 32, "big")).hex()
        print(isinstance(G2ProofOfPossession, type), py_ecc.bls12_381.__file__.endswith("__init__.py"))
        """
    )
    assert out == "True True"


def test_nothing_is_deferred_when_eth_keyfile_came_first() -> None:
    out = run(
        """
        import sys
        import eth_keyfile.keyfile
        import ledger
        print("py_ecc.optimized_bls12_381" in sys.modules)
        """
    )
    assert out == "True"

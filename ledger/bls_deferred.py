"""Defers py_ecc's BLS12-381 set-up, which `eth_keyfile` imports and the platform never uses.

`eth_account` imports `eth_keyfile`, whose `keyfile` module imports `py_ecc.bls` and
`py_ecc.bls12_381` at its top for one feature: version-4 (BLS, EIP-2335) keystores. Importing
those runs py_ecc's pairing set-up (twelve FQ12 exponentiations and their tables), a tenth of
an API process's start, in every process that signs or verifies anything. The platform's
keystores are Web3 secret-storage v3 (secp256k1); BLS keys never occur.

`defer()` imports `eth_keyfile.keyfile` once with two stand-ins in place of those modules:
`G2ProofOfPossession` becomes a proxy that imports the real scheme on first use (so a v4
keystore still works, only later), and `curve_order` is the constant itself (a unit test holds
it equal to py_ecc's). The stand-ins are removed from `sys.modules` at once, so any other
importer of py_ecc gets the real modules. If `eth_keyfile` is already imported, or imports
differently in another version, nothing is deferred and the import happens as usual.

Written by hand because no library offers it: it is about one dependency's import.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

#: the order of the BLS12-381 curve's subgroup, as `py_ecc.bls12_381.curve_order` has it
BLS12_381_CURVE_ORDER = 52435875175126190479447740508185965837690552500527637822603658699938581184513

_STANDINS = ("py_ecc.bls", "py_ecc.bls12_381")


class _DeferredScheme:
    """`py_ecc.bls.G2ProofOfPossession`, imported when an attribute is first asked for."""

    def __getattr__(self, name: str) -> Any:
        scheme = importlib.import_module("py_ecc.bls").G2ProofOfPossession
        return getattr(scheme, name)


def defer() -> None:
    """Import `eth_keyfile.keyfile` without py_ecc's BLS set-up (see the module's docstring)."""
    if "eth_keyfile.keyfile" in sys.modules or any(name in sys.modules for name in _STANDINS):
        return
    bls = types.ModuleType("py_ecc.bls")
    bls.G2ProofOfPossession = _DeferredScheme()  # type: ignore[attr-defined]
    curve = types.ModuleType("py_ecc.bls12_381")
    curve.curve_order = BLS12_381_CURVE_ORDER  # type: ignore[attr-defined]
    sys.modules.update({"py_ecc.bls": bls, "py_ecc.bls12_381": curve})
    try:
        importlib.import_module("eth_keyfile.keyfile")
    except ImportError:
        sys.modules.pop("eth_keyfile.keyfile", None)
        sys.modules.pop("eth_keyfile", None)
    finally:
        for name in _STANDINS:
            if sys.modules.get(name) in (bls, curve):
                del sys.modules[name]
        package = sys.modules.get("py_ecc")
        for attribute, standin in (("bls", bls), ("bls12_381", curve)):
            # vars(), not getattr(): py_ecc's module __getattr__ would import the real module
            if package is not None and vars(package).get(attribute) is standin:
                delattr(package, attribute)

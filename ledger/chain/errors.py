"""Contract custom errors as Python exceptions.

web3.py reports a Solidity custom error as an opaque `ContractCustomError` holding the
raw revert data. A table from 4-byte selector to error signature, built from every
compiled ABI, turns it into a `ContractRevert` that names the error and its decoded
arguments, so no web3 exception leaves the chain client.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eth_abi import decode
from eth_utils import keccak

from ledger.errors import LedgerError, Unavailable

# OpenZeppelin's Nonces and ECDSA errors and the Solidity built-ins are in the ABIs of
# the contracts that inherit them, so the table is complete without extra entries.


class ContractRevert(LedgerError):
    """A contract refused a call or transaction with a custom error."""

    code = "contract_revert"

    def __init__(self, error_name: str, error_args: dict[str, Any]) -> None:
        shown = ", ".join(f"{k}={_show(v)}" for k, v in error_args.items())
        super().__init__(f"{error_name}({shown})")
        self.error_name = error_name
        self.error_args = error_args

    def explained(self, note: str) -> ContractRevert:
        """The same refusal, its message followed by `note` (name and arguments unchanged)."""
        explained = ContractRevert(self.error_name, self.error_args)
        explained.message = f"{self.message}: {note}"
        explained.args = (explained.message,)
        return explained


class ChainUnavailable(Unavailable):
    """The JSON-RPC endpoint cannot be reached or answered with a transport error."""

    code = "chain_unavailable"


class ChainStale(ChainUnavailable):
    """The chain answered from a block older than a decision may rest on (HTTP 503)."""

    code = "chain_stale"


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


def _canonical_type(param: dict[str, Any]) -> str:
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_canonical_type(c) for c in param["components"])
        return f"({inner}){kind[len('tuple') :]}"
    return kind


@dataclass(frozen=True)
class _ErrorSpec:
    name: str
    names: tuple[str, ...]
    types: tuple[str, ...]


class ErrorTable:
    """Selector → decoder for every custom error declared in the given ABIs."""

    def __init__(self, abis: Iterable[list[dict[str, Any]]]) -> None:
        self._specs: dict[bytes, _ErrorSpec] = {}
        for abi in abis:
            for entry in abi:
                if entry.get("type") != "error":
                    continue
                types = tuple(_canonical_type(p) for p in entry["inputs"])
                signature = f"{entry['name']}({','.join(types)})"
                self._specs[keccak(text=signature)[:4]] = _ErrorSpec(
                    entry["name"],
                    tuple(p["name"] or f"arg{i}" for i, p in enumerate(entry["inputs"])),
                    types,
                )
        # Solidity's own Error(string) and Panic(uint256)
        self._specs[keccak(text="Error(string)")[:4]] = _ErrorSpec("Error", ("message",), ("string",))
        self._specs[keccak(text="Panic(uint256)")[:4]] = _ErrorSpec("Panic", ("code",), ("uint256",))

    def decode(self, data: bytes | str) -> ContractRevert:
        raw = bytes.fromhex(data[2:] if data.startswith("0x") else data) if isinstance(data, str) else data
        spec = self._specs.get(raw[:4])
        if spec is None:
            return ContractRevert("UnknownError", {"data": raw})
        values = decode(list(spec.types), raw[4:])
        return ContractRevert(spec.name, dict(zip(spec.names, values, strict=True)))

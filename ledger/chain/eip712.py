"""EIP-712 signing and domains, shared by the writing side and the auditor's verifier.

Members sign every act locally with their own key (anvil and most permissioned nodes
do not implement `eth_signTypedData`), and the platform relays the signature.
"""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data

EIP712_DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


def domain_of(contract: Any) -> dict[str, Any]:
    """The contract's EIP-712 domain as it reports it (ERC-5267 `eip712Domain()`)."""
    _fields, name, version, chain_id, verifying_contract, _salt, _ext = (
        contract.functions.eip712Domain().call()
    )
    return {
        "name": name,
        "version": version,
        "chainId": chain_id,
        "verifyingContract": verifying_contract,
    }


def typed_message(
    domain: dict[str, Any], types: dict[str, list[dict[str, str]]], primary_type: str, message: dict[str, Any]
) -> dict[str, Any]:
    return {
        "types": {"EIP712Domain": EIP712_DOMAIN_TYPE, **types},
        "domain": domain,
        "primaryType": primary_type,
        "message": message,
    }


def sign_typed_data(
    private_key: bytes | str,
    domain: dict[str, Any],
    types: dict[str, list[dict[str, str]]],
    primary_type: str,
    message: dict[str, Any],
) -> bytes:
    """65-byte signature (r ‖ s ‖ v) of the typed message by `private_key`."""
    signable = encode_typed_data(full_message=typed_message(domain, types, primary_type, message))
    return bytes(Account.sign_message(signable, private_key).signature)


def recover_typed_data(
    domain: dict[str, Any],
    types: dict[str, list[dict[str, str]]],
    primary_type: str,
    message: dict[str, Any],
    signature: bytes,
) -> str:
    """Address that signed the typed message (checksummed)."""
    signable = encode_typed_data(full_message=typed_message(domain, types, primary_type, message))
    return str(Account.recover_message(signable, signature=signature))

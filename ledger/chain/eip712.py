"""EIP-712 messages, signing and domains, shared by the writing side, the client and the auditor.

Members sign every act locally with their own key (anvil and most permissioned nodes
do not implement `eth_signTypedData`), and the platform relays the signature. A
message type is a frozen dataclass whose fields, in order, are the fields of the
contract's typehash (`TypedMessage`); `sign` turns one into a `Signed` message.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar, Generic, TypeVar

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount

EIP712_DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


def describe_verification(primary_type: str, domain: dict[str, Any]) -> str:
    """What a signature was verified as, for a refusal: the type and every field of the domain.

    A signature made under another domain or type recovers to some unrelated address, so a
    refusal that names the signer alone sends an integrator looking in the wrong place."""
    return (
        f"verified as EIP-712 {primary_type} under domain name {domain['name']!r}, version "
        f"{domain['version']!r}, chainId {domain['chainId']}, verifyingContract "
        f"{domain['verifyingContract']} (GET /signing)"
    )


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


def camel(name: str) -> str:
    """The EIP-712 member name of a snake_case field: `uscc_hash` -> `usccHash`."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


_camel = camel


@dataclass(frozen=True)
class TypedMessage:
    """An EIP-712 message whose fields, in order, are the contract's typehash fields.

    Python field `name_hash` is EIP-712 member `nameHash`; the Solidity types are in
    `EIP712_TYPES`, and enum fields are `uint8`.
    """

    PRIMARY_TYPE: ClassVar[str]
    EIP712_TYPES: ClassVar[tuple[str, ...]]

    @classmethod
    def types(cls) -> dict[str, list[dict[str, str]]]:
        members = [
            {"name": _camel(f.name), "type": t} for f, t in zip(fields(cls), cls.EIP712_TYPES, strict=True)
        ]
        return {cls.PRIMARY_TYPE: members}

    @classmethod
    def type_string(cls) -> str:
        """The string the contract's typehash is the keccak256 of."""
        members = cls.types()[cls.PRIMARY_TYPE]
        return f"{cls.PRIMARY_TYPE}({','.join(m['type'] + ' ' + m['name'] for m in members)})"

    def message(self) -> dict[str, Any]:
        return {_camel(f.name): getattr(self, f.name) for f in fields(self)}


M = TypeVar("M", bound=TypedMessage)


@dataclass(frozen=True)
class Signed(Generic[M]):
    """A message and its 65-byte signature (r ‖ s ‖ v) by the member it names."""

    message: M
    signature: bytes


def sign(signer: LocalAccount, domain: dict[str, Any], message: M) -> Signed[M]:
    """Sign `message` under `domain` (the verifying contract's, e.g. `SignedActsContract.domain`)."""
    signature = sign_typed_data(signer.key, domain, message.types(), message.PRIMARY_TYPE, message.message())
    return Signed(message, signature)

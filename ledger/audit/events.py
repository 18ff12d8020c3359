"""Contract events as the verifier reads them: raw `eth_getLogs` entries decoded by ABI.

The ABIs come from the compiled contracts (data, not code shared with the writing
side). An event is accepted only from the contract that declares it at the address the
auditor's own deployment manifest names: a `ConsentGranted` log emitted by any other
address is not a grant. Addresses are decoded to lower-case hex, the form every
lookup of the verifier uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import decode
from eth_utils import keccak

__all__ = ["AUTHORIZATION_EVENTS", "COMMITMENT_EVENTS", "SNAPSHOT_EVENTS", "ChainEvent", "EventDecoder"]

#: the events that change what `Consents.authorize` reads, by emitting contract
AUTHORIZATION_EVENTS: dict[str, tuple[str, ...]] = {
    "Membership": (
        "MemberAdmitted",
        "MemberSuspended",
        "MemberReinstated",
        "MemberRemoved",
        "EnterpriseRegistered",
        "EnterpriseKeyRotated",
    ),
    "Agreements": (
        "CommitmentBreached",
        "AgreementProposed",
        "AgreementCountersigned",
        "AgreementSuspended",
        "AgreementReinstated",
        "AgreementTerminated",
    ),
    "CatalogueRegistry": ("CataloguePublished",),
    "Consents": ("ConsentGranted", "ConsentRevoked"),
    "Checkpoints": ("CheckpointAnchored",),
}

#: the events an evaluation's credit commitments are replayed from (step 6.2), besides the
#: enterprises' registrations, key rotations and breaches the authorization events hold
COMMITMENT_EVENTS: dict[str, tuple[str, ...]] = {"Agreements": ("CommitmentMade",)}

#: every event the audit's chain snapshot holds
SNAPSHOT_EVENTS: dict[str, tuple[str, ...]] = {
    contract: names + COMMITMENT_EVENTS.get(contract, ()) for contract, names in AUTHORIZATION_EVENTS.items()
}


@dataclass(frozen=True, slots=True)
class ChainEvent:
    contract: str
    name: str
    block: int
    log_index: int
    transaction_hash: bytes
    args: Mapping[str, Any]

    @property
    def position(self) -> tuple[int, int]:
        return (self.block, self.log_index)


@dataclass(frozen=True)
class _EventAbi:
    contract: str
    name: str
    indexed: tuple[tuple[str, str], ...]  # (name, type) in topic order
    data: tuple[tuple[str, str], ...]  # (name, type) in data order


def _signature(event: Mapping[str, Any]) -> str:
    return f"{event['name']}({','.join(i['type'] for i in event['inputs'])})"


def _normalise(kind: str, value: Any) -> Any:
    if kind == "address":
        return str(value).lower()
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    return value


def _hex_bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    return bytes.fromhex(str(value).removeprefix("0x"))


def _int(value: Any) -> int:
    return value if isinstance(value, int) else int(str(value), 16)


class EventDecoder:
    """Decodes the wanted events of the contracts at `addresses` (name -> address)."""

    def __init__(
        self,
        abis: Mapping[str, Sequence[Mapping[str, Any]]],
        addresses: Mapping[str, str],
        wanted: Mapping[str, Iterable[str]] = AUTHORIZATION_EVENTS,
    ) -> None:
        self._by_key: dict[tuple[str, bytes], _EventAbi] = {}
        self._contract_at = {address.lower(): name for name, address in addresses.items()}
        for contract, names in wanted.items():
            if contract not in addresses:
                continue
            address = addresses[contract].lower()
            events = {e["name"]: e for e in abis[contract] if e.get("type") == "event"}
            for name in names:
                event = events[name]
                self._by_key[(address, keccak(text=_signature(event)))] = _EventAbi(
                    contract,
                    name,
                    tuple((i["name"], i["type"]) for i in event["inputs"] if i["indexed"]),
                    tuple((i["name"], i["type"]) for i in event["inputs"] if not i["indexed"]),
                )

    @property
    def addresses(self) -> list[str]:
        return sorted(self._contract_at)

    def decode(self, log: Mapping[str, Any]) -> ChainEvent | None:
        """The event in one `eth_getLogs` entry, or None when it is not a wanted one."""
        topics = [_hex_bytes(t) for t in log.get("topics", [])]
        if not topics or log.get("removed"):
            return None
        spec = self._by_key.get((str(log["address"]).lower(), topics[0]))
        if spec is None or len(topics) != len(spec.indexed) + 1:
            return None
        args: dict[str, Any] = {}
        for (name, kind), topic in zip(spec.indexed, topics[1:], strict=True):
            (args[name],) = decode([kind], topic)
            args[name] = _normalise(kind, args[name])
        values = decode([kind for _, kind in spec.data], _hex_bytes(log.get("data", "0x")))
        for (name, kind), value in zip(spec.data, values, strict=True):
            args[name] = _normalise(kind, value)
        return ChainEvent(
            contract=spec.contract,
            name=spec.name,
            block=_int(log["blockNumber"]),
            log_index=_int(log["logIndex"]),
            transaction_hash=_hex_bytes(log["transactionHash"]),
            args=args,
        )

"""Typed binding of the `Checkpoints` contract: on-chain (size, root) anchors of the logs.

The contract keeps only the latest checkpoint of each log; the history is the sequence
of its `CheckpointAnchored` events, which `history` reads back with block numbers and
transaction hashes so an auditor can line each checkpoint up with the chain.

Submitting needs no signature: the client's own account (`ChainClient.relayer`) sends
the transaction and must be an active Platform or Provider member. Refusals surface as
`ContractRevert` with the contract's error name, e.g. `ConsistencyRootMismatch`,
`ConsistencyProofLength`, `ConsistencySizeDecrease`, `CheckpointsConflictingRoot`,
`CheckpointsUnauthorizedSubmitter`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils.crypto import keccak
from web3.contract import Contract
from web3.types import TxReceipt

from ledger.chain.client import ChainClient
from ledger.errors import InvalidInput

CONTRACT_NAME = "Checkpoints"
HASH_SIZE = 32
MAX_SIZE = 2**64 - 1  # sizes are uint64 on chain


def log_id(name: str) -> bytes:
    """The on-chain id of the log called `name` (`ledger.domain.log_names`): keccak256 of its UTF-8."""
    return keccak(text=name)


@dataclass(frozen=True)
class Checkpoint:
    """A log's anchored state: its tree size and RFC 9162 root."""

    size: int
    root: bytes


@dataclass(frozen=True)
class CheckpointEvent:
    """One `CheckpointAnchored` event: the log grew from `previous_size` to `size`."""

    log_id: bytes
    previous_size: int
    size: int
    root: bytes
    submitter: str
    block_number: int
    transaction_hash: bytes
    log_index: int

    @property
    def checkpoint(self) -> Checkpoint:
        return Checkpoint(self.size, self.root)


def _hash32(value: bytes, what: str) -> bytes:
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
        raise InvalidInput(f"{what} must be {HASH_SIZE} bytes")
    return bytes(value)


class CheckpointsContract:
    """The deployed `Checkpoints` contract at `address`, driven through `client`."""

    def __init__(self, client: ChainClient, address: str) -> None:
        self.client = client
        self.contract: Contract = client.contract(CONTRACT_NAME, address)

    @classmethod
    def deploy(cls, client: ChainClient, membership: str) -> CheckpointsContract:
        """Deploy a new `Checkpoints` consulting the membership contract at `membership`."""
        return cls(client, client.deploy(CONTRACT_NAME, membership))

    @property
    def address(self) -> str:
        return str(self.contract.address)

    @staticmethod
    def log_id(name: str) -> bytes:
        """See the module-level `log_id`."""
        return log_id(name)

    def membership(self) -> str:
        """Address of the membership contract that decides who may anchor."""
        return str(self.client.call(self.contract.functions.membership()))

    def latest(self, log_id: bytes, block_identifier: int | str = "latest") -> Checkpoint:
        """The anchored checkpoint of `log_id`; (0, SHA-256("")) for a log never anchored."""
        size, root = self.client.call(
            self.contract.functions.latest(_hash32(log_id, "log id")), block_identifier=block_identifier
        )
        return Checkpoint(int(size), bytes(root))

    def submit(self, log_id: bytes, size: int, root: bytes, proof: Sequence[bytes]) -> TxReceipt:
        """Anchor (`size`, `root`) for `log_id` with the consistency `proof` from the latest.

        Sent from the client's account. Re-submitting the anchored checkpoint (same size
        and root, empty proof) succeeds without effect and emits no event.
        """
        if not 0 <= size <= MAX_SIZE:
            raise InvalidInput(f"tree size must fit in uint64, got {size}")
        fn = self.contract.functions.submit(
            _hash32(log_id, "log id"),
            size,
            _hash32(root, "root"),
            [_hash32(node, "proof hash") for node in proof],
        )
        return self.client.transact(fn)

    def events_in(self, receipt: TxReceipt) -> list[CheckpointEvent]:
        """The `CheckpointAnchored` events emitted by this contract in `receipt`."""
        mine = [log for log in receipt["logs"] if log["address"] == self.contract.address]
        decoded = self.contract.events.CheckpointAnchored().process_receipt({**receipt, "logs": mine})
        return [_event(e) for e in decoded]

    def history(
        self, log_id: bytes, from_block: int = 0, to_block: int | str = "latest"
    ) -> list[CheckpointEvent]:
        """Every checkpoint of `log_id` anchored in [from_block, to_block], oldest first."""
        topic = _hash32(log_id, "log id")
        event = self.contract.events.CheckpointAnchored()
        logs = self.client.guard(
            lambda: list(
                event.get_logs(argument_filters={"logId": topic}, from_block=from_block, to_block=to_block)
            )
        )
        events = [_event(e) for e in logs]
        events.sort(key=lambda e: (e.block_number, e.log_index))
        return events


def _event(data: Any) -> CheckpointEvent:
    args = data["args"]
    return CheckpointEvent(
        log_id=bytes(args["logId"]),
        previous_size=int(args["previousSize"]),
        size=int(args["size"]),
        root=bytes(args["root"]),
        submitter=str(args["submitter"]),
        block_number=int(data["blockNumber"]),
        transaction_hash=bytes(data["transactionHash"]),
        log_index=int(data["logIndex"]),
    )

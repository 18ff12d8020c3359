"""An enterprise's credit commitments (信用承诺) as the chain tells them at a block.

A commitment names the account that signed it (`CommitmentMade(id, member, kind, ...)`),
not the enterprise; an enterprise's accounts are every account registered or rotated to
under its USCC hash (`EnterpriseRegistered(account, usccHash, ...)`,
`EnterpriseKeyRotated(usccHash, oldAccount, newAccount)`). An account is admitted once
and never re-admitted (`Membership._checkAdmissible`), so an account that ever was the
enterprise's stays the enterprise's: commitments made under a rotated-away key still
count. A commitment is breached at a block when `CommitmentBreached(id, ...)` is at or
before it. Its date is its `CommitmentMade` block's timestamp: the `Commitment` struct
holds no time, and the block's is consensus data every node serves, so the contract and
its deployments stay as they are.

Read with `eth_getLogs` over `[from_block, block]` (the deployment's block to B), in
ranges of at most `log_range` blocks (permissioned nodes such as Besu bound a request's
range), filtered by the indexed topics (the USCC hash, the accounts, the commitment ids),
as raw JSON-RPC batches over one kept-alive `httpx` client: web3's `get_logs` builds a
filter object and decodes every log through its ABI machinery, several times the node's
own answer on the evaluation path. Two round trips for one enterprise: its accounts; then
their commitments with every breach (breaches are operators' rare acts, so reading them
all costs less than a third round trip filtering them by id). A commitment's block time
comes with its log (`blockTimestamp`, which anvil and recent geth give) or, from a node
that does not give it, from one more batch of `eth_getBlockByNumber`. Every enterprise at
once (`everyone`) takes one round trip. Any failure raises `ChainUnavailable`: the caller
then evaluates nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from eth_utils import keccak

from ledger.chain.agreements import CommitmentKind
from ledger.chain.errors import ChainUnavailable

__all__ = ["CommitmentEvents", "OnChainCommitment"]

_REGISTERED = keccak(text="EnterpriseRegistered(address,bytes32,bytes32,address)")
_ROTATED = keccak(text="EnterpriseKeyRotated(bytes32,address,address)")
_MADE = keccak(text="CommitmentMade(uint256,address,uint8,bytes32)")
_BREACHED = keccak(text="CommitmentBreached(uint256,address,bytes32)")
#: the kinds an enterprise signs (`InstitutionUsage` is an institution's)
_ENTERPRISE_KINDS = frozenset({CommitmentKind.ENTERPRISE_TRUTHFULNESS, CommitmentKind.REPAIR_APPLICANT})


@dataclass(frozen=True, slots=True)
class OnChainCommitment:
    """One credit commitment of an enterprise as of a block."""

    id: int
    kind: CommitmentKind
    member: str  # the signing account, 0x lower case
    block: int  # the block of its `CommitmentMade` event
    transaction_hash: bytes
    made_at: int  # that block's timestamp (seconds since the epoch, UTC)
    breached_block: int | None  # the block of its `CommitmentBreached` event, if at or before the block read

    @property
    def breached(self) -> bool:
        return self.breached_block is not None


def _topic(value: bytes | str) -> str:
    """A 32-byte topic: a hash, or an address left-padded."""
    if isinstance(value, str):
        return "0x" + "00" * 12 + value.lower().removeprefix("0x")
    return "0x" + value.hex()


def _word(topic: str) -> bytes:
    return bytes.fromhex(topic.removeprefix("0x"))


def _address(topic: str) -> str:
    return "0x" + topic.removeprefix("0x")[-40:].lower()


def _int(value: Any) -> int:
    return int(str(value), 16)


@dataclass(frozen=True, slots=True)
class _Made:
    id: int
    member: str
    kind: CommitmentKind
    block: int
    transaction_hash: bytes


class CommitmentEvents:
    """Commitments read from the `Agreements` and `Membership` contracts' events at a block.

    Safe to share between threads (httpx's client is).
    """

    def __init__(
        self,
        rpc_url: str,
        *,
        membership: str,
        agreements: str,
        from_block: int,
        log_range: int = 10_000,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.rpc_url = rpc_url
        self.membership = membership.lower()
        self.agreements = agreements.lower()
        self.from_block = from_block
        self.log_range = log_range
        self._http = httpx.Client(timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    # -- reads ------------------------------------------------------------------------

    def block_number(self) -> int:
        """The chain's latest block."""
        return _int(self._batch([("eth_blockNumber", [])])[0])

    def of_enterprise(self, uscc_hash: bytes, block: int) -> list[OnChainCommitment]:
        """The commitments made by any account of the enterprise `uscc_hash`, as of `block`, by id."""
        registered, rotated = self._logs(
            [
                (self.membership, [_topic(_REGISTERED), None, _topic(uscc_hash)]),
                (self.membership, [_topic(_ROTATED), _topic(uscc_hash)]),
            ],
            block,
        )
        accounts = {_address(log["topics"][1]) for log in registered}
        for log in rotated:
            accounts |= {_address(log["topics"][2]), _address(log["topics"][3])}
        if not accounts:
            return []
        made_logs, breaches = self._logs(
            [
                (self.agreements, [_topic(_MADE), None, [_topic(a) for a in sorted(accounts)]]),
                (self.agreements, [_topic(_BREACHED)]),
            ],
            block,
        )
        return self._complete([m for m in made_logs if _made(m).kind in _ENTERPRISE_KINDS], breaches)

    def everyone(self, block: int) -> dict[bytes, list[OnChainCommitment]]:
        """Every enterprise's commitments as of `block`, by USCC hash (for whole populations)."""
        members, agreements = self._logs(
            [
                (self.membership, [[_topic(_REGISTERED), _topic(_ROTATED)]]),
                (self.agreements, [[_topic(_MADE), _topic(_BREACHED)]]),
            ],
            block,
        )
        owner: dict[str, bytes] = {}
        for log in members:
            topics = log["topics"]
            if _word(topics[0]) == _REGISTERED:
                owner[_address(topics[1])] = _word(topics[2])
            else:
                owner[_address(topics[2])] = owner[_address(topics[3])] = _word(topics[1])
        made = [
            log
            for log in agreements
            if _word(log["topics"][0]) == _MADE
            and _made(log).kind in _ENTERPRISE_KINDS
            and _made(log).member in owner
        ]
        breaches = [log for log in agreements if _word(log["topics"][0]) == _BREACHED]
        out: dict[bytes, list[OnChainCommitment]] = {}
        for c in self._complete(made, breaches):
            out.setdefault(owner[c.member], []).append(c)
        return out

    # -- JSON-RPC ---------------------------------------------------------------------

    def _complete(
        self, made_logs: Sequence[Mapping[str, Any]], breaches: Iterable[Mapping[str, Any]]
    ) -> list[OnChainCommitment]:
        """The commitments `made_logs` tell, with their breaches and their blocks' timestamps:
        from the logs' `blockTimestamp` where the node gives it (anvil, recent geth), else read."""
        made = [_made(log) for log in made_logs]
        times = {_int(log["blockNumber"]): _int(log["blockTimestamp"]) for log in made_logs
                 if log.get("blockTimestamp") is not None}  # fmt: skip
        blocks = sorted({m.block for m in made} - times.keys())
        for b, answer in zip(
            blocks, self._batch([("eth_getBlockByNumber", [hex(b), False]) for b in blocks]), strict=True
        ):
            if not isinstance(answer, dict):
                raise ChainUnavailable(f"block {b} is not served by the node at {self.rpc_url}")
            times[b] = _int(answer["timestamp"])
        breached: dict[int, int] = {}
        for log in breaches:
            breached.setdefault(_int(log["topics"][1]), _int(log["blockNumber"]))
        return [
            OnChainCommitment(m.id, m.kind, m.member, m.block, m.transaction_hash, times[m.block],
                              breached.get(m.id))
            for m in sorted(made, key=lambda m: m.id)
        ]  # fmt: skip

    def _ranges(self, block: int) -> list[tuple[int, int]]:
        return [
            (start, min(block, start + self.log_range - 1))
            for start in range(self.from_block, block + 1, self.log_range)
        ]

    @staticmethod
    def _filter(address: str, topics: list[Any], start: int, stop: int) -> tuple[str, list[Any]]:
        return ("eth_getLogs", [{"address": address, "topics": topics, "fromBlock": hex(start),
                                 "toBlock": hex(stop)}])  # fmt: skip

    def _logs(self, filters: Sequence[tuple[str, list[Any]]], block: int) -> list[list[Mapping[str, Any]]]:
        """The logs of each filter over [from_block, block], in chain order, one batch for all."""
        ranges = self._ranges(block)
        calls = [self._filter(address, topics, start, stop) for address, topics in filters
                 for start, stop in ranges]  # fmt: skip
        answers = self._batch(calls)
        out = []
        for i in range(len(filters)):
            logs = [log for chunk in answers[i * len(ranges) : (i + 1) * len(ranges)] for log in chunk]
            if not all(isinstance(log, dict) and not log.get("removed") for log in logs):
                raise ChainUnavailable(f"eth_getLogs at {self.rpc_url}: a malformed or removed log")
            logs.sort(key=lambda log: (_int(log["blockNumber"]), _int(log["logIndex"])))
            out.append(logs)
        return out

    def _batch(self, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        if not calls:
            return []
        payload = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]
        try:
            bodies = self._http.post(self.rpc_url, json=payload).json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ChainUnavailable(f"commitment events at {self.rpc_url}: {exc!r}") from exc
        if not isinstance(bodies, list) or len(bodies) != len(payload):
            raise ChainUnavailable(f"commitment events at {self.rpc_url}: expected {len(payload)} answers")
        by_id = {b.get("id"): b for b in bodies if isinstance(b, dict)}
        out = []
        for i, (method, _) in enumerate(calls):
            body = by_id.get(i)
            if body is None or "result" not in body:
                error = body.get("error") if body is not None else "no answer"
                raise ChainUnavailable(f"{method} at {self.rpc_url} failed: {error}")
            out.append(body["result"])
        return out


def _made(log: Mapping[str, Any]) -> _Made:
    topics, data = log["topics"], _word(str(log["data"]))
    try:
        kind = CommitmentKind(int.from_bytes(data[:32], "big"))
    except ValueError as exc:
        raise ChainUnavailable(f"CommitmentMade with an unknown kind: {exc}") from exc
    return _Made(
        _int(topics[1]),
        _address(topics[2]),
        kind,
        _int(log["blockNumber"]),
        _word(str(log["transactionHash"])),
    )

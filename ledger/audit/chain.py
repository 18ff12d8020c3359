"""Reading what the audit needs from the chain, over plain JSON-RPC.

Everything the offline steps need is gathered once into a `ChainSnapshot` pinned at one
head block: the checkpoint history of each log (CheckpointAnchored events), each log's
latest checkpoint, the events that shape authorization, and the timestamps of the
blocks the trail names. The snapshot is plain data, so the verification steps are pure
functions of (export, snapshot) and a test can tamper with an export a thousand times
against one snapshot.

Reads go through `httpx` with JSON-RPC batches (`eth_getBlockByNumber` for hundreds of
blocks per round trip) and `eth_getLogs` over bounded block ranges, which permissioned
nodes such as Besu require. Nothing is read from the platform's API or database here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from eth_abi import decode
from eth_utils import keccak

from ledger.audit.errors import ChainReadError
from ledger.audit.events import SNAPSHOT_EVENTS, ChainEvent, EventDecoder
from ledger.chain.deploy import CONTRACTS, Deployment

__all__ = ["ChainReader", "ChainSnapshot", "CheckpointRecord", "JsonRpc", "log_id"]

_LATEST_SELECTOR = keccak(text="latest(bytes32)")[:4]
_BLOCK_BATCH = 500


def log_id(name: str) -> bytes:
    """The on-chain id of log `name`: keccak256 of its UTF-8 bytes (as the contract keys it)."""
    return keccak(text=name)


class JsonRpc:
    """A JSON-RPC endpoint; no connection is opened until the first call."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self.url = url
        self._timeout = timeout
        self._http: httpx.Client | None = None

    def _post(self, payload: Any) -> Any:
        if self._http is None:
            self._http = httpx.Client(timeout=self._timeout)
        try:
            response = self._http.post(self.url, json=payload)
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ChainReadError(f"chain endpoint {self.url} unavailable: {exc}") from exc

    @staticmethod
    def _result(body: Any, method: str) -> Any:
        if not isinstance(body, dict) or "result" not in body:
            error = body.get("error") if isinstance(body, dict) else body
            raise ChainReadError(f"{method} failed: {error}")
        return body["result"]

    def call(self, method: str, params: Sequence[Any]) -> Any:
        return self._result(
            self._post({"jsonrpc": "2.0", "id": 0, "method": method, "params": list(params)}), method
        )

    def batch(self, method: str, params_list: Sequence[Sequence[Any]]) -> list[Any]:
        """Results of `method` for each parameter list, in order, from one batch request."""
        if not params_list:
            return []
        payload = [
            {"jsonrpc": "2.0", "id": i, "method": method, "params": list(p)}
            for i, p in enumerate(params_list)
        ]
        bodies = self._post(payload)
        if not isinstance(bodies, list) or len(bodies) != len(payload):
            raise ChainReadError(f"batched {method}: expected {len(payload)} answers")
        by_id = {b.get("id"): b for b in bodies if isinstance(b, dict)}
        return [self._result(by_id.get(i), method) for i in range(len(payload))]

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None


@dataclass(frozen=True, slots=True)
class CheckpointRecord:
    """One CheckpointAnchored event: the log grew from `previous_size` to `size` with `root`."""

    previous_size: int
    size: int
    root: bytes
    submitter: str
    block: int
    transaction_hash: bytes
    log_index: int


@dataclass(frozen=True)
class ChainSnapshot:
    """The chain as the audit saw it at block `head`."""

    chain_id: int
    head: int
    deployment_block: int
    addresses: Mapping[str, str]
    missing_code: tuple[str, ...]
    checkpoints: Mapping[str, tuple[CheckpointRecord, ...]]  # by log name, oldest first
    latest: Mapping[str, tuple[int, bytes]]  # by log name: Checkpoints.latest at head
    events: tuple[ChainEvent, ...]  # authorization and commitment events, in chain order
    timestamps: Mapping[int, int] = field(default_factory=dict)

    def timestamp(self, block: int) -> int | None:
        return self.timestamps.get(block)


def _hex_int(value: Any) -> int:
    return int(str(value), 16)


class ChainReader:
    """Reads a `ChainSnapshot` of `deployment` through `rpc`, decoding events with `abis`."""

    def __init__(
        self,
        *,
        rpc: JsonRpc,
        deployment: Deployment,
        abis: Mapping[str, Sequence[Mapping[str, Any]]],
        log_range: int = 10_000,
    ) -> None:
        self.rpc = rpc
        self.deployment = deployment
        self._abis = abis
        self._log_range = log_range

    @classmethod
    def connect(cls, rpc_url: str, deployment: Deployment, *, timeout: float = 30.0) -> ChainReader:
        """The reader for `rpc_url`, with the ABIs of the compiled contracts."""
        from ledger.chain.compile import compile_contracts

        abis = {name: c.abi for name, c in compile_contracts().items()}
        return cls(rpc=JsonRpc(rpc_url, timeout=timeout), deployment=deployment, abis=abis)

    def snapshot(self, *, logs: Iterable[str], blocks: Iterable[int] = ()) -> ChainSnapshot:
        """Everything the offline steps need about `logs` and the given `blocks`."""
        chain_id = _hex_int(self.rpc.call("eth_chainId", []))
        head = _hex_int(self.rpc.call("eth_blockNumber", []))
        by_name = self.deployment.addresses.by_name()
        addresses = {name: by_name[name] for name in CONTRACTS}
        codes = self.rpc.batch("eth_getCode", [[a, hex(head)] for a in addresses.values()])
        missing = tuple(
            name
            for name, code in zip(addresses, codes, strict=True)
            if len(str(code).removeprefix("0x")) == 0
        )
        decoder = EventDecoder(self._abis, addresses, SNAPSHOT_EVENTS)
        events = self.events(decoder, self.deployment.block, head)
        names = sorted(set(logs))
        checkpoints = self._checkpoints(names, [e for e in events if e.name == "CheckpointAnchored"])
        latest = self._latest(names, head) if "Checkpoints" not in missing else {}
        wanted = sorted({b for b in blocks if self.deployment.block <= b <= head})
        return ChainSnapshot(
            chain_id=chain_id,
            head=head,
            deployment_block=self.deployment.block,
            addresses=addresses,
            missing_code=missing,
            checkpoints=checkpoints,
            latest=latest,
            events=tuple(e for e in events if e.name != "CheckpointAnchored"),
            timestamps=self.timestamps(wanted),
        )

    def events(self, decoder: EventDecoder, from_block: int, to_block: int) -> list[ChainEvent]:
        """The decoded events of the deployment's contracts in [from_block, to_block], in order."""
        out: list[ChainEvent] = []
        start = from_block
        while start <= to_block:
            stop = min(to_block, start + self._log_range - 1)
            logs = self.rpc.call(
                "eth_getLogs", [{"address": decoder.addresses, "fromBlock": hex(start), "toBlock": hex(stop)}]
            )
            for log in logs:
                event = decoder.decode(log)
                if event is not None:
                    out.append(event)
            start = stop + 1
        out.sort(key=lambda e: e.position)
        return out

    def timestamps(self, blocks: Sequence[int]) -> dict[int, int]:
        """Timestamps of `blocks` (which must exist), a few hundred per batch request."""
        out: dict[int, int] = {}
        for i in range(0, len(blocks), _BLOCK_BATCH):
            chunk = blocks[i : i + _BLOCK_BATCH]
            for number, block in zip(
                chunk, self.rpc.batch("eth_getBlockByNumber", [[hex(b), False] for b in chunk]), strict=True
            ):
                if block is None:
                    raise ChainReadError(f"block {number} is not served by the node")
                out[number] = _hex_int(block["timestamp"])
        return out

    def _checkpoints(
        self, names: Sequence[str], events: Sequence[ChainEvent]
    ) -> dict[str, tuple[CheckpointRecord, ...]]:
        by_id = {log_id(name): name for name in names}
        grouped: dict[str, list[CheckpointRecord]] = {name: [] for name in names}
        for e in events:
            name = by_id.get(bytes(e.args["logId"]))
            if name is None:
                continue
            grouped[name].append(
                CheckpointRecord(
                    previous_size=int(e.args["previousSize"]),
                    size=int(e.args["size"]),
                    root=bytes(e.args["root"]),
                    submitter=str(e.args["submitter"]),
                    block=e.block,
                    transaction_hash=e.transaction_hash,
                    log_index=e.log_index,
                )
            )
        return {name: tuple(records) for name, records in grouped.items()}

    def _latest(self, names: Sequence[str], head: int) -> dict[str, tuple[int, bytes]]:
        address = self.deployment.addresses.checkpoints
        calls = [
            [{"to": address, "data": "0x" + (_LATEST_SELECTOR + log_id(n)).hex()}, hex(head)] for n in names
        ]
        out: dict[str, tuple[int, bytes]] = {}
        for name, result in zip(names, self.rpc.batch("eth_call", calls), strict=True):
            size, root = decode(["uint64", "bytes32"], bytes.fromhex(str(result).removeprefix("0x")))
            out[name] = (int(size), bytes(root))
        return out

"""The platform's reading of an enterprise's credit commitments, against a fake JSON-RPC node
that filters logs as a node does (address, topics, block range): key rotations followed,
breaches as of the block, ranges bounded, and the same answer as the auditor's replay of the
same events (the two sides state the rule each in its own code).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from eth_abi import encode
from eth_utils import keccak

from ledger.audit.evaluation_commitments import CommitmentReplay
from ledger.audit.events import ChainEvent
from ledger.chain.commitment_events import CommitmentEvents
from ledger.chain.errors import ChainUnavailable
from ledger.evaluation_release.conduct import commitment_json

MEMBERSHIP, AGREEMENTS = "0x" + "11" * 20, "0x" + "22" * 20
SUBJECT = "91410100100000008U"
USCC, OTHER = keccak(SUBJECT.encode()), keccak(b"91410100100000009X")
OLD, NEW, STRANGER, BANK, OPERATOR = ("0x" + c * 20 for c in ("a1", "b2", "c3", "d4", "e5"))
TIMES = {b: 1_750_000_000 + 10 * b for b in range(40)}


def _word(value: bytes | str | int) -> str:
    if isinstance(value, int):
        return "0x" + value.to_bytes(32, "big").hex()
    if isinstance(value, str):
        return "0x" + "00" * 12 + value[2:]
    return "0x" + value.hex()


def _log(address: str, signature: str, block: int, topics: list[Any], data: bytes = b"") -> dict[str, Any]:
    return {
        "address": address, "topics": [_word(keccak(text=signature)), *map(_word, topics)],
        "data": "0x" + data.hex(), "blockNumber": hex(block), "logIndex": "0x0",
        "transactionHash": "0x" + bytes([block]).hex() * 32, "removed": False,
    }  # fmt: skip


def registered(block: int, account: str, uscc: bytes) -> dict[str, Any]:
    return _log(MEMBERSHIP, "EnterpriseRegistered(address,bytes32,bytes32,address)", block,
                [account, uscc, OPERATOR], bytes(32))  # fmt: skip


def rotated(block: int, uscc: bytes, old: str, new: str) -> dict[str, Any]:
    return _log(MEMBERSHIP, "EnterpriseKeyRotated(bytes32,address,address)", block, [uscc, old, new])


def made(block: int, commitment: int, member: str, kind: int) -> dict[str, Any]:
    return _log(AGREEMENTS, "CommitmentMade(uint256,address,uint8,bytes32)", block, [commitment, member],
                encode(["uint8", "bytes32"], [kind, bytes(32)]))  # fmt: skip


def breached(block: int, commitment: int) -> dict[str, Any]:
    return _log(AGREEMENTS, "CommitmentBreached(uint256,address,bytes32)", block, [commitment, OPERATOR],
                bytes(32))  # fmt: skip


LOGS = [
    registered(2, OLD, USCC), registered(2, STRANGER, OTHER), made(3, 1, OLD, 1), made(3, 2, BANK, 0),
    rotated(5, USCC, OLD, NEW), made(6, 3, NEW, 2), made(7, 4, STRANGER, 1), breached(8, 1),
    made(13, 5, NEW, 1), breached(25, 3),
]  # fmt: skip


class Node:
    """eth_getLogs, eth_getBlockByNumber and eth_blockNumber over `LOGS`, as a node filters them."""

    def __init__(self, fail: str | None = None, *, timestamps: bool = False) -> None:
        self.fail = fail
        self.timestamps = timestamps  # logs carry `blockTimestamp`, as anvil's do
        self.ranges: list[tuple[int, int]] = []
        self.posts = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.posts += 1
        return httpx.Response(200, json=[self.answer(call) for call in json.loads(request.content)])

    def answer(self, call: dict[str, Any]) -> dict[str, Any]:
        method, params = call["method"], call["params"]
        if method == self.fail:
            return {
                "jsonrpc": "2.0",
                "id": call["id"],
                "error": {"code": -32005, "message": "limit exceeded"},
            }
        if method == "eth_blockNumber":
            result: Any = hex(30)
        elif method == "eth_getBlockByNumber":
            result = {"timestamp": hex(TIMES[int(params[0], 16)])}
        else:
            f = params[0]
            start, stop = int(f["fromBlock"], 16), int(f["toBlock"], 16)
            self.ranges.append((start, stop))
            result = [
                log | ({"blockTimestamp": hex(TIMES[int(log["blockNumber"], 16)])} if self.timestamps else {})
                for log in LOGS
                if log["address"] == f["address"]
                and start <= int(log["blockNumber"], 16) <= stop
                and _matches(log["topics"], f["topics"])
            ]
        return {"jsonrpc": "2.0", "id": call["id"], "result": result}


def _matches(topics: list[str], wanted: list[Any]) -> bool:
    for i, want in enumerate(wanted):
        if want is None:
            continue
        options = want if isinstance(want, list) else [want]
        if i >= len(topics) or topics[i] not in options:
            return False
    return True


def reader(node: Node, log_range: int = 10_000) -> CommitmentEvents:
    return CommitmentEvents("http://node", membership=MEMBERSHIP, agreements=AGREEMENTS, from_block=1,
                            log_range=log_range, transport=httpx.MockTransport(node.handle))  # fmt: skip


def _address(topic: str) -> str:
    return "0x" + topic[-40:]


def _event(log: dict[str, Any]) -> ChainEvent:
    """One log as the auditor's snapshot decodes it."""
    t, block, tx = log["topics"], int(log["blockNumber"], 16), bytes.fromhex(log["transactionHash"][2:])
    if t[0] == _word(keccak(text="EnterpriseRegistered(address,bytes32,bytes32,address)")):
        name, args = "EnterpriseRegistered", {"account": _address(t[1]), "usccHash": bytes.fromhex(t[2][2:])}
    elif t[0] == _word(keccak(text="EnterpriseKeyRotated(bytes32,address,address)")):
        name = "EnterpriseKeyRotated"
        args = {
            "usccHash": bytes.fromhex(t[1][2:]),
            "oldAccount": _address(t[2]),
            "newAccount": _address(t[3]),
        }
    elif t[0] == _word(keccak(text="CommitmentMade(uint256,address,uint8,bytes32)")):
        name = "CommitmentMade"
        args = {"id": int(t[1], 16), "member": _address(t[2]), "kind": int(log["data"][2:66], 16)}
    else:
        name, args = "CommitmentBreached", {"id": int(t[1], 16)}
    return ChainEvent("x", name, block, 0, tx, args)


def replay() -> CommitmentReplay:
    return CommitmentReplay([_event(log) for log in LOGS])


@pytest.mark.parametrize("block", [2, 4, 7, 8, 20, 30])
def test_the_enterprise_s_commitments_at_a_block_are_the_auditor_s(block: int) -> None:
    node = Node()
    read = reader(node, log_range=4).of_enterprise(USCC, block)
    assert [dict(commitment_json(c, 480)) for c in read] == list(
        replay().at(SUBJECT, block, TIMES.get).values()
    )
    # every request's range is within [deployment block, block], at most 4 blocks wide, covering it all
    assert all(1 <= a <= b <= block and b - a < 4 for a, b in node.ranges)


def test_key_rotation_is_followed_and_breaches_counted_as_of_the_block() -> None:
    node = Node()
    read = reader(node).of_enterprise(USCC, 20)
    assert [(c.id, c.member, c.kind.value, c.breached_block, c.made_at) for c in read] == [
        (1, OLD, 1, 8, TIMES[3]), (3, NEW, 2, None, TIMES[6]), (5, NEW, 1, None, TIMES[13]),
    ]  # fmt: skip
    assert node.posts == 3  # accounts; their commitments and the breaches; the made blocks' times
    with_times = Node(timestamps=True)
    assert reader(with_times).of_enterprise(USCC, 20) == read and with_times.posts == 2
    assert reader(Node()).of_enterprise(keccak(b"unknown"), 20) == []


def test_everyone_at_once_gives_each_enterprise_its_own() -> None:
    node = Node()
    everyone = reader(node).everyone(30)
    assert node.posts == 2  # the four events; the made blocks' times
    with_times = Node(timestamps=True)
    assert reader(with_times).everyone(30) == everyone and with_times.posts == 1
    assert everyone[USCC] == reader(Node()).of_enterprise(USCC, 30)
    assert [c.id for c in everyone[OTHER]] == [4]
    assert BANK not in {c.member for cs in everyone.values() for c in cs}  # an institution's is no one's


@pytest.mark.parametrize("method", ["eth_getLogs", "eth_getBlockByNumber"])
def test_a_node_that_does_not_answer_refuses_the_reading(method: str) -> None:
    with pytest.raises(ChainUnavailable, match="limit exceeded"):
        reader(Node(fail=method)).of_enterprise(USCC, 20)

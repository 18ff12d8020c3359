"""Reading the chain over JSON-RPC: events decoded only from the manifest's contracts, a snapshot
pinned at one head, batches answered in order, and every failure an `AuditError`.

The node is a fake answering JSON-RPC bodies through `httpx.MockTransport`; the contracts'
ABIs are the few event fragments the tests need, written out here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from eth_abi import encode
from eth_utils import keccak

from ledger.audit.chain import ChainReader, JsonRpc, log_id
from ledger.audit.errors import ChainReadError
from ledger.audit.events import SNAPSHOT_EVENTS, ChainEvent, EventDecoder
from ledger.chain.deploy import ContractAddresses, Deployment

ADDRESSES = {
    "Membership": "0x" + "1A" * 20,
    "Agreements": "0x" + "2B" * 20,
    "CatalogueRegistry": "0x" + "3C" * 20,
    "Consents": "0x" + "4D" * 20,
    "Checkpoints": "0x" + "5E" * 20,
    "ModelRegistry": "0x" + "6F" * 20,
    "Publications": "0x" + "7A" * 20,
}
BANK = "0x" + "ab" * 20


def _event(name: str, *inputs: tuple[str, str, bool]) -> dict[str, Any]:
    return {
        "type": "event",
        "name": name,
        "inputs": [{"name": n, "type": t, "indexed": i} for n, t, i in inputs],
    }


def _abis() -> dict[str, list[dict[str, Any]]]:
    """Every wanted event (most without inputs), with the real parameters of the ones decoded here."""
    real = {
        "MemberAdmitted": _event("MemberAdmitted", ("account", "address", True), ("role", "uint8", False)),
        "MemberSuspended": _event("MemberSuspended", ("account", "address", True)),
        "CheckpointAnchored": _event(
            "CheckpointAnchored",
            ("logId", "bytes32", True),
            ("previousSize", "uint64", False),
            ("size", "uint64", False),
            ("root", "bytes32", False),
            ("submitter", "address", True),
        ),
    }
    abis: dict[str, list[dict[str, Any]]] = {}
    for contract, names in SNAPSHOT_EVENTS.items():
        abis[contract] = [real.get(n, _event(n)) for n in names]
        abis[contract].append({"type": "function", "name": "f", "inputs": []})
    return abis


def _topic(signature: str) -> str:
    return "0x" + keccak(text=signature).hex()


def admitted_log(
    account: str, role: int, *, block: int = 5, index: int = 0, address: str | None = None
) -> dict[str, Any]:
    return {
        "address": (address or ADDRESSES["Membership"]).lower(),
        "topics": [_topic("MemberAdmitted(address,uint8)"), "0x" + encode(["address"], [account]).hex()],
        "data": "0x" + encode(["uint8"], [role]).hex(),
        "blockNumber": hex(block),
        "logIndex": hex(index),
        "transactionHash": "0x" + "77" * 32,
        "removed": False,
    }


def anchored_log(log: str, previous: int, size: int, root: bytes, *, block: int) -> dict[str, Any]:
    return {
        "address": ADDRESSES["Checkpoints"],
        "topics": [
            _topic("CheckpointAnchored(bytes32,uint64,uint64,bytes32,address)"),
            "0x" + log_id(log).hex(),
            "0x" + encode(["address"], [BANK]).hex(),
        ],
        "data": "0x" + encode(["uint64", "uint64", "bytes32"], [previous, size, root]).hex(),
        "blockNumber": hex(block),
        "logIndex": "0x0",
        "transactionHash": "0x" + "88" * 32,
    }


def decoder() -> EventDecoder:
    return EventDecoder(_abis(), ADDRESSES)


# -- events ----------------------------------------------------------------------------------


def test_an_event_of_a_manifest_contract_is_decoded_with_lower_case_addresses() -> None:
    event = decoder().decode(admitted_log(BANK.upper().replace("0X", "0x"), 3, block=12, index=4))
    assert event == ChainEvent(
        "Membership", "MemberAdmitted", 12, 4, b"\x77" * 32, {"account": BANK, "role": 3}
    )
    assert event is not None and event.position == (12, 4)


def test_byte_values_and_integer_positions_decode_as_given() -> None:
    log = anchored_log("access-trail", 2, 5, b"\x09" * 32, block=30)
    log["blockNumber"], log["transactionHash"] = 30, bytes(32)
    event = decoder().decode(log)
    assert event is not None
    assert (event.block, event.transaction_hash) == (30, bytes(32))
    assert dict(event.args) == {
        "logId": log_id("access-trail"),
        "previousSize": 2,
        "size": 5,
        "root": b"\x09" * 32,
        "submitter": BANK,
    }


@pytest.mark.parametrize(
    "change",
    [
        {"address": "0x" + "99" * 20},  # the same event from a contract not in the manifest
        {"address": ADDRESSES["Consents"]},  # another manifest contract, which declares no such event
        {"removed": True},  # a log of a block the node dropped
        {"topics": []},
        {"topics": [_topic("MemberAdmitted(address,uint8)")]},  # indexed argument missing
        {"topics": [_topic("MemberAdmitted(address,uint16)"), "0x" + "00" * 32]},  # another event
    ],
)
def test_logs_that_are_not_a_wanted_event_are_ignored(change: dict[str, Any]) -> None:
    assert decoder().decode({**admitted_log(BANK, 3), **change}) is None


def test_only_the_wanted_events_of_the_contracts_in_the_manifest_are_decoded() -> None:
    partial = EventDecoder(
        _abis(),
        {"Membership": ADDRESSES["Membership"]},
        {"Consents": ("ConsentGranted",), "Membership": ("MemberAdmitted",)},
    )
    assert partial.addresses == [ADDRESSES["Membership"].lower()]
    assert partial.decode(admitted_log(BANK, 3)) is not None
    nothing_wanted = EventDecoder(_abis(), ADDRESSES, {"Membership": ()})
    assert nothing_wanted.decode(admitted_log(BANK, 3)) is None
    assert decoder().addresses == sorted(a.lower() for a in ADDRESSES.values())


def test_an_event_without_data_or_a_log_without_topics_decodes_as_such() -> None:
    suspended = {
        "address": ADDRESSES["Membership"],
        "topics": [_topic("MemberSuspended(address)"), "0x" + encode(["address"], [BANK]).hex()],
        "blockNumber": "0x9",
        "logIndex": "0x1",
        "transactionHash": "0x" + "77" * 32,
    }
    event = decoder().decode(suspended)
    assert event is not None and (event.name, dict(event.args)) == ("MemberSuspended", {"account": BANK})
    no_topics = {k: v for k, v in admitted_log(BANK, 3).items() if k != "topics"}
    assert decoder().decode(no_topics) is None


# -- JSON-RPC ----------------------------------------------------------------------------------


def transport(answer: Callable[[Any], Any], calls: list[Any] | None = None) -> httpx.MockTransport:
    """A node answering JSON-RPC bodies with `answer`, refusing requests not in JSON-RPC 2.0 form."""

    def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if calls is not None:
            calls.append(body)
        for item in body if isinstance(body, list) else [body]:
            if set(item) != {"jsonrpc", "id", "method", "params"} or item["jsonrpc"] != "2.0":
                return httpx.Response(200, json={"id": None, "error": {"code": -32600, "message": "Invalid"}})
        result = answer(body)
        if isinstance(result, httpx.Response):
            return result
        return httpx.Response(200, json=result)

    return httpx.MockTransport(handle)


def rpc(answer: Callable[[Any], Any], calls: list[Any] | None = None) -> JsonRpc:
    endpoint = JsonRpc("http://node.test", timeout=3.0)
    endpoint._http = httpx.Client(transport=transport(answer, calls))
    return endpoint


def test_a_call_sends_one_request_and_returns_its_result() -> None:
    calls: list[Any] = []
    node = rpc(lambda b: {"jsonrpc": "2.0", "id": b["id"], "result": "0x7a69"}, calls)
    assert node.call("eth_chainId", ()) == "0x7a69"
    assert calls == [{"jsonrpc": "2.0", "id": 0, "method": "eth_chainId", "params": []}]


def test_a_batch_is_answered_in_the_order_asked_whatever_the_order_of_the_answers() -> None:
    calls: list[Any] = []
    node = rpc(lambda b: [{"id": x["id"], "result": x["params"][0]} for x in reversed(b)], calls)
    assert node.batch("eth_getCode", [["a"], ["b"], ["c"]]) == ["a", "b", "c"]
    assert [x["id"] for x in calls[0]] == [0, 1, 2] and calls[0][0]["method"] == "eth_getCode"
    assert node.batch("eth_getCode", []) == [] and len(calls) == 1


@pytest.mark.parametrize(
    "answer, message",
    [
        ({"id": 0, "error": {"message": "boom"}}, "eth_chainId failed: {'message': 'boom'}"),
        ("nonsense", "eth_chainId failed: nonsense"),
        (httpx.Response(503, text="down"), "chain endpoint http://node.test unavailable"),
        (httpx.Response(200, text="not json"), "chain endpoint http://node.test unavailable"),
    ],
)
def test_a_failed_call_is_a_chain_read_error(answer: Any, message: str) -> None:
    with pytest.raises(ChainReadError, match=message.replace("(", r"\(").replace(")", r"\)")):
        rpc(lambda b: answer).call("eth_chainId", [])


def test_a_batch_answered_short_or_with_an_error_is_a_chain_read_error() -> None:
    with pytest.raises(ChainReadError, match="batched eth_call: expected 2 answers"):
        rpc(lambda b: [{"id": 0, "result": 1}]).batch("eth_call", [[], []])
    with pytest.raises(ChainReadError, match="batched eth_call: expected 1 answers"):
        rpc(lambda b: {"id": 0, "result": 1}).batch("eth_call", [[]])
    with pytest.raises(ChainReadError, match="eth_call failed"):
        rpc(lambda b: [{"id": 0, "error": "no"}, {"id": 1, "result": 1}]).batch("eth_call", [[], []])
    with pytest.raises(ChainReadError, match="eth_call failed: None"):
        rpc(lambda b: [{"id": 5, "result": 1}, "junk"]).batch("eth_call", [[], []])


def test_an_unreachable_endpoint_is_a_chain_read_error_and_close_is_idempotent() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    node = JsonRpc("http://node.test")
    node._http = httpx.Client(transport=httpx.MockTransport(refuse))
    with pytest.raises(ChainReadError, match="unavailable: refused"):
        node.call("eth_blockNumber", [])
    node.close()
    node.close()
    assert node._http is None


def test_the_client_is_opened_on_the_first_call_with_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[float] = []

    class Client(httpx.Client):
        def __init__(self, *, timeout: float) -> None:
            opened.append(timeout)
            super().__init__(transport=httpx.MockTransport(lambda r: httpx.Response(200, json={"result": 1})))

    monkeypatch.setattr(httpx, "Client", Client)
    node = JsonRpc("http://node.test", timeout=4.5)
    assert opened == []
    assert node.call("x", []) == 1 and node.call("x", []) == 1
    assert opened == [4.5]


def test_the_endpoint_waits_thirty_seconds_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[float] = []

    class Client(httpx.Client):
        def __init__(self, *, timeout: float) -> None:
            opened.append(timeout)
            super().__init__(transport=httpx.MockTransport(lambda r: httpx.Response(200, json={"result": 1})))

    monkeypatch.setattr(httpx, "Client", Client)
    JsonRpc("http://node.test").call("x", [])
    assert opened == [30.0]


# -- the snapshot -------------------------------------------------------------------------------


class Node:
    """A fake node at head 40: code at every manifest address but `without_code`, two
    checkpoints of the access trail, one of a log the audit did not ask about, and blocks
    with timestamp 1000 + 10 * number (block 33 not served)."""

    def __init__(self, *, without_code: tuple[str, ...] = (), latest_size: int = 7) -> None:
        self.without_code = {ADDRESSES[n].lower() for n in without_code}
        self.latest_size = latest_size
        self.ranges: list[tuple[int, int]] = []
        self.block_batches: list[int] = []
        self.logs = [
            anchored_log("access-trail", 3, 7, b"\x02" * 32, block=20),
            admitted_log(BANK, 3, block=5, index=1),
            anchored_log("access-trail", 0, 3, b"\x01" * 32, block=9),
            anchored_log("elsewhere", 0, 1, b"\x03" * 32, block=9),
            admitted_log(BANK, 3, block=5, address="0x" + "99" * 20),  # not a manifest contract
        ]

    def answer(self, body: Any) -> Any:
        if isinstance(body, list):
            method = body[0]["method"]
            if method == "eth_getBlockByNumber":
                self.block_batches.append(len(body))
            return [{"id": x["id"], "result": self.one(method, x["params"])} for x in body]
        return {"id": body["id"], "result": self.one(body["method"], body["params"])}

    def one(self, method: str, params: list[Any]) -> Any:
        if method == "eth_chainId":
            return "0x7a69"
        if method == "eth_blockNumber":
            return "0x28"
        if method == "eth_getCode":
            assert params[1] == "0x28"
            return "0x" if params[0].lower() in self.without_code else "0x6080"
        if method == "eth_getLogs":
            start, stop = int(params[0]["fromBlock"], 16), int(params[0]["toBlock"], 16)
            self.ranges.append((start, stop))
            addresses = params[0]["address"]  # the node filters by emitting contract
            return [
                x
                for x in self.logs
                if start <= int(x["blockNumber"], 16) <= stop and x["address"].lower() in addresses
            ]
        if method == "eth_call":
            call, block = params
            assert block == "0x28" and call["to"] == ADDRESSES["Checkpoints"]
            assert call["data"][:10] == "0x" + keccak(text="latest(bytes32)")[:4].hex()
            size = self.latest_size if call["data"][10:] == log_id("access-trail").hex() else 0
            return "0x" + encode(["uint64", "bytes32"], [size, b"\x02" * 32 if size else bytes(32)]).hex()
        if method == "eth_getBlockByNumber":
            number = int(params[0], 16)
            assert params[1] is False
            return None if number == 33 else {"timestamp": hex(1000 + 10 * number)}
        raise AssertionError(method)


def reader(node: Node, *, log_range: int = 10_000) -> ChainReader:
    deployment = Deployment(31337, 3, ContractAddresses.from_names(ADDRESSES), {})
    return ChainReader(rpc=rpc(node.answer), deployment=deployment, abis=_abis(), log_range=log_range)


def test_the_node_is_asked_for_the_logs_of_the_manifests_contracts_only() -> None:
    calls: list[Any] = []
    node = Node()
    chain = reader(node)
    chain.rpc._http = httpx.Client(transport=transport(node.answer, calls))
    chain.events(decoder(), 3, 40)
    (filter_,) = calls[0]["params"]
    assert filter_ == {
        "address": sorted(a.lower() for a in ADDRESSES.values()),
        "fromBlock": "0x3",
        "toBlock": "0x28",
    }


def test_the_snapshot_holds_what_the_offline_steps_need() -> None:
    node = Node()
    snap = reader(node).snapshot(
        logs=["access-trail", "credit-records", "access-trail"], blocks=[20, 2, 41, 9, 20, 3, 40]
    )
    assert (snap.chain_id, snap.head, snap.deployment_block) == (31337, 40, 3)
    assert snap.addresses == ADDRESSES and snap.missing_code == ()
    trail = snap.checkpoints["access-trail"]
    assert [(c.previous_size, c.size, c.root, c.block) for c in trail] == [
        (0, 3, b"\x01" * 32, 9),
        (3, 7, b"\x02" * 32, 20),
    ]
    assert (trail[0].submitter, trail[0].transaction_hash, trail[0].log_index) == (BANK, b"\x88" * 32, 0)
    assert snap.checkpoints["credit-records"] == () and set(snap.checkpoints) == {
        "access-trail",
        "credit-records",
    }
    assert snap.latest == {"access-trail": (7, b"\x02" * 32), "credit-records": (0, bytes(32))}
    assert [(e.name, e.block, e.args["account"]) for e in snap.events] == [("MemberAdmitted", 5, BANK)]
    # only blocks of the deployment, up to the head
    assert snap.timestamps == {3: 1030, 9: 1090, 20: 1200, 40: 1400}
    assert snap.timestamp(9) == 1090 and snap.timestamp(10) is None
    assert node.ranges == [(3, 40)]


def test_events_are_read_in_bounded_ranges_and_returned_in_chain_order() -> None:
    node = Node()
    snap = reader(node, log_range=10).snapshot(logs=["access-trail"])
    assert node.ranges == [(3, 12), (13, 22), (23, 32), (33, 40)]
    assert [c.size for c in snap.checkpoints["access-trail"]] == [3, 7]
    events = reader(Node(), log_range=10).events(decoder(), 3, 40)
    assert [e.position for e in events] == [(5, 1), (9, 0), (9, 0), (20, 0)]
    assert reader(Node()).events(decoder(), 41, 40) == []
    one_block = Node()
    assert [e.block for e in reader(one_block, log_range=10).events(decoder(), 20, 20)] == [20]
    assert one_block.ranges == [(20, 20)]


def test_events_are_read_ten_thousand_blocks_at_a_time_by_default() -> None:
    node = Node()
    deployment = Deployment(31337, 0, ContractAddresses.from_names(ADDRESSES), {})
    ChainReader(rpc=rpc(node.answer), deployment=deployment, abis=_abis()).events(decoder(), 0, 25_000)
    assert node.ranges == [(0, 9_999), (10_000, 19_999), (20_000, 25_000)]


def test_contracts_without_code_are_named_and_latest_is_not_asked_of_no_code() -> None:
    snap = reader(Node(without_code=("Consents", "Agreements"))).snapshot(logs=["access-trail"])
    assert snap.missing_code == ("Agreements", "Consents")  # in the order of CONTRACTS
    assert snap.latest["access-trail"] == (7, b"\x02" * 32)
    snap = reader(Node(without_code=("Checkpoints",))).snapshot(logs=["access-trail"])
    assert snap.missing_code == ("Checkpoints",) and snap.latest == {}


def test_block_timestamps_are_fetched_in_batches_and_a_missing_block_is_an_error() -> None:
    node = Node()
    chain = reader(node)
    blocks = list(range(0, 1_200))
    blocks.remove(33)
    found = chain.timestamps(blocks)
    assert found == {b: 1000 + 10 * b for b in blocks} and node.block_batches == [500, 500, 199]
    assert chain.timestamps([]) == {}
    with pytest.raises(ChainReadError, match="block 33 is not served by the node"):
        chain.timestamps([32, 33])


def test_log_ids_are_the_keccak_of_the_log_name() -> None:
    assert log_id("access-trail") == keccak(b"access-trail")


def test_connect_reads_the_endpoint_with_the_compiled_contracts_abis(monkeypatch: pytest.MonkeyPatch) -> None:
    import ledger.chain.compile

    class Compiled:
        def __init__(self, abi: list[dict[str, Any]]) -> None:
            self.abi = abi

    monkeypatch.setattr(
        ledger.chain.compile, "compile_contracts", lambda: {n: Compiled(a) for n, a in _abis().items()}
    )
    opened: list[float] = []
    node = Node()

    class Client(httpx.Client):
        def __init__(self, *, timeout: float) -> None:
            opened.append(timeout)
            super().__init__(transport=transport(node.answer))

    monkeypatch.setattr(httpx, "Client", Client)
    deployment = Deployment(31337, 3, ContractAddresses.from_names(ADDRESSES), {})
    chain = ChainReader.connect("http://node.test:8545", deployment, timeout=7.0)
    assert (chain.rpc.url, chain.deployment) == ("http://node.test:8545", deployment)
    snap = chain.snapshot(logs=["access-trail"])
    assert [e.name for e in snap.events] == ["MemberAdmitted"] and len(snap.checkpoints["access-trail"]) == 2
    assert opened[0] == 7.0
    ChainReader.connect("http://node.test:8545", deployment).rpc.call("eth_chainId", [])
    assert opened[-1] == 30.0

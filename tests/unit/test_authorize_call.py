"""The authorization caller's encoding and its transport, against a local stand-in node.

The contract-level tests (tests/contracts/test_consents.py) check the answers against
the real contract on anvil; these pin down what anvil never does: a node that drops a
kept-alive connection, answers garbage, or an HTTP error.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from eth_abi import decode, encode

from ledger.chain.authorize_call import SELECTOR, AuthorizeCaller, decode_decision, encode_call
from ledger.chain.consents import AuthorizationQuery, Decision, Reason
from ledger.chain.errors import ChainUnavailable

CONSENTS = "0x" + "ab" * 20
QUERY = AuthorizationQuery("0x" + "12" * 20, bytes(range(32)), 2**200 + 5, 4, 7, 3, 1_800_000_000)
DECISION_TYPES = ("bool", "uint8", "uint256", "uint256", "uint256", "uint256")
ALLOWED = "0x" + encode(DECISION_TYPES, (True, 0, 9, 64, 1234, 1_799_999_990)).hex()


def test_calldata_is_the_abi_encoding() -> None:
    data = bytes.fromhex(encode_call(QUERY)[2:])
    assert data[:4] == SELECTOR
    types = ("address", "bytes32", "uint256", "uint256", "uint256", "uint8", "uint256")
    assert data[4:] == encode(types, QUERY.args())
    assert decode(types, data[4:])[2] == 2**200 + 5


def test_decision_is_read_from_the_six_words() -> None:
    assert decode_decision(ALLOWED) == Decision(True, Reason.ALLOWED, 9, 64, 1234, 1_799_999_990)


@pytest.mark.parametrize(
    "result",
    [
        "0x",
        ALLOWED[:-2],  # one byte short
        ALLOWED + "00",  # one byte long
        "0x" + encode(("uint256",) * 6, (2, 0, 0, 0, 0, 0)).hex(),  # a bool word that is not 0 or 1
        "0x" + encode(("uint256",) * 6, (0, 99, 0, 0, 0, 0)).hex(),  # no such reason
        "0x" + encode(("uint256",) * 5, (1, 0, 0, 0, 0)).hex(),  # the five words of the old answer
        ALLOWED[2:],  # no 0x
        "0xzz" + ALLOWED[4:],
    ],
)
def test_malformed_results_fail_closed(result: str) -> None:
    with pytest.raises(ChainUnavailable):
        decode_decision(result)


def test_out_of_range_arguments_are_refused_before_sending() -> None:
    with pytest.raises(ValueError):
        encode_call(AuthorizationQuery(QUERY.requester, QUERY.uscc_hash, 2**256, 1, 1, 1))
    with pytest.raises(ValueError):
        encode_call(AuthorizationQuery(QUERY.requester, QUERY.uscc_hash, 1, 1, 1, 256))
    with pytest.raises(ValueError):
        encode_call(AuthorizationQuery(QUERY.requester, b"short", 1, 1, 1, 1))
    with pytest.raises(ValueError):
        encode_call(AuthorizationQuery(QUERY.requester, QUERY.uscc_hash, 1, 1, 1, 1, at=-1))


class _Node:
    """A JSON-RPC stand-in: `answer(request)` builds each reply; counts connections."""

    def __init__(self, answer: Callable[[Any], tuple[int, bytes]], *, drop_after_reply: bool) -> None:
        node = self
        self.connections = 0
        self.requests = 0

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real node

            def setup(self) -> None:
                node.connections += 1
                super().setup()

            def do_POST(self) -> None:
                node.requests += 1
                status, body = answer(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                # close without announcing it: the client's next request meets a dead socket
                self.close_connection = drop_after_reply

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _answers(request: Any) -> tuple[int, bytes]:
    reply = lambda r: {"jsonrpc": "2.0", "id": r["id"], "result": ALLOWED}  # noqa: E731
    body = [reply(r) for r in request] if isinstance(request, list) else reply(request)
    return 200, json.dumps(body).encode()


def _serving(*, drop_after_reply: bool) -> Iterator[_Node]:
    node = _Node(_answers, drop_after_reply=drop_after_reply)
    yield node
    node.close()


@pytest.fixture
def dropping_node() -> Iterator[_Node]:
    yield from _serving(drop_after_reply=True)


@pytest.fixture
def node() -> Iterator[_Node]:
    yield from _serving(drop_after_reply=False)


def test_a_connection_the_node_dropped_is_reopened_once(dropping_node: _Node) -> None:
    with AuthorizeCaller(dropping_node.url, CONSENTS) as caller:
        for _ in range(3):
            assert caller.authorize(QUERY).allowed
        assert caller.authorize_many([QUERY, QUERY]) == [decode_decision(ALLOWED)] * 2
    assert dropping_node.connections == 4


@pytest.mark.parametrize(
    "answer",
    [
        lambda r: (500, b"internal error"),
        lambda r: (200, b"<html>not json</html>"),
        lambda r: (200, json.dumps({"jsonrpc": "2.0", "id": 0, "error": {"code": -32000}}).encode()),
        lambda r: (200, json.dumps([{"jsonrpc": "2.0", "id": 0, "result": ALLOWED}]).encode()),  # 1 of 2
        lambda r: (200, json.dumps({"jsonrpc": "2.0", "id": 0, "result": None}).encode()),
    ],
)
def test_every_bad_answer_is_chain_unavailable(answer: Callable[[Any], tuple[int, bytes]]) -> None:
    node = _Node(answer, drop_after_reply=False)
    try:
        with AuthorizeCaller(node.url, CONSENTS, timeout=2) as caller, pytest.raises(ChainUnavailable):
            caller.authorize_many([QUERY, QUERY])
    finally:
        node.close()


def test_unreachable_node_is_chain_unavailable() -> None:
    with (
        AuthorizeCaller("http://127.0.0.1:9", CONSENTS, timeout=0.5) as caller,
        pytest.raises(ChainUnavailable),
    ):
        caller.authorize(QUERY)


def test_only_http_endpoints_are_accepted() -> None:
    with pytest.raises(ValueError):
        AuthorizeCaller("ws://127.0.0.1:8545", CONSENTS)


class _RawNode:
    """A node that answers every request on a connection with the bytes `reply()` returns."""

    def __init__(self, reply: Callable[[], bytes]) -> None:
        self.connections = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        threading.Thread(target=self._serve, args=(reply,), daemon=True).start()

    def _serve(self, reply: Callable[[], bytes]) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._answer, args=(conn, reply), daemon=True).start()

    def _answer(self, conn: socket.socket, reply: Callable[[], bytes]) -> None:
        with conn:
            buffer = b""
            while True:
                while b"\r\n\r\n" not in buffer:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                while len(buffer) < length:
                    buffer += conn.recv(65536)
                buffer = buffer[length:]
                answer = reply()
                if not answer:  # never answer: the client must give up on its own
                    threading.Event().wait(5)
                    return
                conn.sendall(answer)

    def close(self) -> None:
        self._server.close()


def _batch_of_two() -> bytes:
    return json.dumps([{"jsonrpc": "2.0", "id": i, "result": ALLOWED} for i in range(2)]).encode()


def _chunked(body: bytes) -> bytes:
    half = len(body) // 2
    return (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
        + f"{half:x};ext=1\r\n".encode() + body[:half] + b"\r\n"
        + f"{len(body) - half:X}\r\n".encode() + body[half:] + b"\r\n"
        + b"0\r\nX-Trailer: t\r\n\r\n"
    )  # fmt: skip


def test_chunked_answers_and_connection_close_are_understood() -> None:
    chunked = _RawNode(lambda: _chunked(_batch_of_two()))
    body = _batch_of_two()
    closing = _RawNode(
        lambda: b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    )
    try:
        with AuthorizeCaller(chunked.url, CONSENTS, timeout=2) as caller:
            for _ in range(3):  # one kept-alive connection
                assert caller.authorize_many([QUERY, QUERY]) == [decode_decision(ALLOWED)] * 2
        assert chunked.connections == 1
        with AuthorizeCaller(closing.url, CONSENTS, timeout=2) as caller:
            for _ in range(3):  # the node said it closes: a new connection each time
                assert caller.authorize_many([QUERY, QUERY]) == [decode_decision(ALLOWED)] * 2
        assert closing.connections == 3
    finally:
        chunked.close()
        closing.close()


@pytest.mark.parametrize(
    "answer",
    [
        b"SMTP 200 OK\r\nContent-Length: 2\r\n\r\n[]",  # not HTTP
        b"HTTP/1.1 OK\r\nContent-Length: 2\r\n\r\n[]",  # no status code
        b"HTTP/1.1 200 OK\r\nno colon here\r\nContent-Length: 2\r\n\r\n[]",
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n[]",  # no length
        b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n[]",
        b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n",
        b"",  # no answer at all: the timeout
    ],
)
def test_malformed_or_missing_http_answers_are_chain_unavailable(answer: bytes) -> None:
    node = _RawNode(lambda: answer)
    try:
        with AuthorizeCaller(node.url, CONSENTS, timeout=0.5) as caller, pytest.raises(ChainUnavailable):
            caller.authorize_many([QUERY, QUERY])
    finally:
        node.close()


def test_deciding_sends_at_once_and_answers_when_asked(node: _Node) -> None:
    with AuthorizeCaller(node.url, CONSENTS, timeout=2) as caller:
        with caller.deciding([QUERY, QUERY]) as decisions:
            deadline = time.monotonic() + 2
            while node.requests == 0 and time.monotonic() < deadline:  # on its way before asked
                time.sleep(0.01)
            assert node.requests == 1
            assert decisions() == decisions() == [decode_decision(ALLOWED)] * 2  # read once
        assert caller.authorize(QUERY).allowed  # the same kept-alive connection, free again
    assert (node.connections, node.requests) == (1, 2)


def test_an_answer_left_unread_is_abandoned_with_its_connection(node: _Node) -> None:
    with AuthorizeCaller(node.url, CONSENTS, timeout=2) as caller:
        with pytest.raises(RuntimeError), caller.deciding([QUERY]):
            raise RuntimeError("the database round trip failed")
        # the unread answer is not taken for the next call's: that one gets a new connection
        assert caller.authorize_many([QUERY, QUERY]) == [decode_decision(ALLOWED)] * 2
        with caller.deciding([]) as decisions:  # nothing to ask: nothing sent
            assert decisions() == []
    # the abandoned request reaches the node's handler thread in its own time (late under load)
    deadline = time.monotonic() + 5
    while node.requests < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert (node.connections, node.requests) == (2, 2)


def test_deciding_with_an_unreachable_node_fails_on_entry() -> None:
    with (
        AuthorizeCaller("http://127.0.0.1:9", CONSENTS, timeout=0.5) as caller,
        pytest.raises(ChainUnavailable),
        caller.deciding([QUERY]),
    ):
        pytest.fail("entered without a node")

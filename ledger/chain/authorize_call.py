"""The authorization check on the release path, without web3's per-call overhead.

`Consents.authorize` is a view: one `eth_call`. Through a web3 contract function each
call pays for ABI lookup, argument validation and the middleware stack (about 3 ms on
the development machine). Here the calldata is the precomputed selector and seven static
32-byte words, posted as raw JSON-RPC over one kept-alive HTTP/1.1 connection (`_Connection`),
and the six static words of the answer are read back directly. `authorize_many` sends
a JSON-RPC batch: many decisions in one HTTP round trip, all at the same block when a
block number is given.

Why not a library here: eth_abi's general encoder and decoder cost about 30 µs per call
each, httpx about a millisecond per batch of eight (request building, JSON and response
handling), and even the standard library's `http.client` about 150 µs per answer, most
of it parsing headers through the `email` package; the release path makes one call per
batch of releases, so each showed up as a sizeable share of its CPU. Every argument and
result is one static word, which `tests/contracts/test_consents.py` checks against the
ABI encoding and the contract.

Any failure to get an answer (transport, HTTP status, JSON-RPC error, malformed result)
raises `ChainUnavailable`: the caller must then release nothing.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

from eth_utils import keccak, to_checksum_address

from ledger.chain.address import checksum_address
from ledger.chain.consents import AuthorizationQuery, Decision, Reason
from ledger.chain.errors import ChainUnavailable

AUTHORIZE_SIGNATURE = "authorize(address,bytes32,uint256,uint256,uint256,uint8,uint256)"
SELECTOR = keccak(text=AUTHORIZE_SIGNATURE)[:4]
DEFAULT_TIMEOUT_SECONDS = 2.0
_WORD = 32
#: the static words of a `Decision`: allowed, reason, grant id, raw categories, block, timestamp
_DECISION_WORDS = 6
_UINT256_MAX = 2**256 - 1
#: errors of a kept-alive connection that the other side closed since its last use
_STALE_CONNECTION = (BrokenPipeError, ConnectionResetError)
#: the most header bytes an answer may carry
_MAX_HEADER = 65_536


def _word(value: int) -> bytes:
    if not 0 <= value <= _UINT256_MAX:
        raise ValueError(f"{value} does not fit a uint256")
    return value.to_bytes(_WORD, "big")


def encode_call(query: AuthorizationQuery) -> str:
    """The `authorize` calldata for `query`, 0x-prefixed."""
    if len(query.uscc_hash) != _WORD or not 0 <= query.level <= 0xFF:
        raise ValueError("uscc_hash must be 32 bytes and level a uint8")
    return "0x" + b"".join((
        SELECTOR,
        bytes(12) + bytes.fromhex(checksum_address(query.requester)[2:]),
        query.uscc_hash,
        _word(query.categories),
        _word(query.purpose),
        _word(query.agreement_id),
        _word(query.level),
        _word(query.at),
    )).hex()  # fmt: skip


def decode_decision(result: str) -> Decision:
    """The `Decision` encoded in an `eth_call` result (0x-prefixed hex)."""
    try:
        data = bytes.fromhex(result[2:]) if result.startswith("0x") else b""
        if len(data) != _DECISION_WORDS * _WORD:
            raise ValueError(f"expected {_DECISION_WORDS * _WORD} bytes, got {len(data)}")
        allowed, reason, grant_id, raw, block, timestamp = (
            int.from_bytes(data[i : i + _WORD], "big") for i in range(0, _DECISION_WORDS * _WORD, _WORD)
        )
        if allowed > 1:
            raise ValueError(f"bool word holds {allowed}")
        return Decision(bool(allowed), Reason(reason), grant_id, raw, block, timestamp)
    except Exception as exc:  # any malformed answer: fail closed
        raise ChainUnavailable(f"malformed authorize result {result[:80]!r}: {exc}") from exc


def block_param(block_identifier: int | str) -> str:
    """A JSON-RPC block parameter: a tag such as "latest", or a number as hex."""
    return hex(block_identifier) if isinstance(block_identifier, int) else block_identifier


class _Connection:
    """One kept-alive HTTP/1.1 connection that POSTs JSON and reads back one answer at a time.

    Only what a JSON-RPC node's answer needs: a status line, headers, and a body of
    Content-Length bytes or chunked (see the module docstring for why not `http.client`).
    Protocol errors raise `http.client.HTTPException`; a connection the node closed
    raises `ConnectionResetError`; a timeout or a socket error, `OSError`.
    """

    def __init__(self, host: str, port: int, *, https: bool, path: str, timeout: float) -> None:
        sock = socket.create_connection((host, port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host) if https else sock
        self._head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Content-Type: application/json\r\nContent-Length: "
        ).encode()
        self._buffer = b""
        self.reusable = True

    def send(self, body: bytes) -> None:
        """Send `body` as one request; `receive` reads its answer."""
        self._sock.sendall(self._head + str(len(body)).encode() + b"\r\n\r\n" + body)

    def receive(self) -> tuple[int, bytes]:
        """The status and body of the answer to the request sent last."""
        lines = self._read_until(b"\r\n\r\n").split(b"\r\n")
        version, _, rest = lines[0].partition(b" ")
        if not version.startswith(b"HTTP/1.") or not rest[:3].isdigit():
            raise http.client.HTTPException(f"malformed status line {lines[0][:80]!r}")
        headers = {}
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            if not colon:
                raise http.client.HTTPException(f"malformed header line {line[:80]!r}")
            headers[name.strip().lower()] = value.strip().lower()
        if headers.get(b"transfer-encoding") == b"chunked":
            content = self._read_chunked()
        elif b"content-length" in headers:
            content = self._read_exactly(int(headers[b"content-length"]))
        else:  # a body that ends when the connection does: not from a JSON-RPC node
            raise http.client.HTTPException("answer without Content-Length or chunked encoding")
        if headers.get(b"connection") == b"close" or version == b"HTTP/1.0":
            self.reusable = False
        return int(rest[:3]), content

    def close(self) -> None:
        self._sock.close()

    def _receive(self) -> None:
        chunk = self._sock.recv(65_536)
        if not chunk:
            raise ConnectionResetError("the node closed the connection")
        self._buffer += chunk

    def _read_until(self, marker: bytes) -> bytes:
        while (end := self._buffer.find(marker)) < 0:
            if len(self._buffer) > _MAX_HEADER:
                raise http.client.HTTPException("answer headers too long")
            self._receive()
        found, self._buffer = self._buffer[:end], self._buffer[end + len(marker) :]
        return found

    def _read_exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            self._receive()
        found, self._buffer = self._buffer[:size], self._buffer[size:]
        return found

    def _read_chunked(self) -> bytes:
        parts = []
        while size := int(self._read_until(b"\r\n").partition(b";")[0], 16):
            parts.append(self._read_exactly(size))
            self._read_exactly(2)  # the CRLF after each chunk
        while self._read_until(b"\r\n"):  # trailer lines, up to the empty one
            pass
        return b"".join(parts)


class AuthorizeCaller:
    """Authorization calls to the `Consents` contract at `consents` over one kept-alive connection.

    Safe to share between threads: calls take turns on the connection.
    """

    def __init__(self, rpc_url: str, consents: str, *, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self.rpc_url = rpc_url
        self.consents = to_checksum_address(consents)
        url = urlsplit(rpc_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"not an http(s) JSON-RPC endpoint: {rpc_url}")
        self._https = url.scheme == "https"
        self._host, self._port = url.hostname, url.port or (443 if self._https else 80)
        self._path = url.path or "/"
        self._timeout = timeout
        self._connection: _Connection | None = None
        self._lock = threading.Lock()

    def authorize(self, query: AuthorizationQuery, block_identifier: int | str = "latest") -> Decision:
        """The decision for `query` at `block_identifier` ("latest" or a block number)."""
        return self.authorize_many([query], block_identifier)[0]

    def authorize_many(
        self, queries: Sequence[AuthorizationQuery], block_identifier: int | str = "latest"
    ) -> list[Decision]:
        """The decisions for `queries`, in order, from one JSON-RPC batch request."""
        with self.deciding(queries, block_identifier) as decisions:
            return decisions()

    @contextmanager
    def deciding(
        self, queries: Sequence[AuthorizationQuery], block_identifier: int | str = "latest"
    ) -> Iterator[Callable[[], list[Decision]]]:
        """Send the `authorize` calls for `queries` now; what is yielded waits for the decisions.

        Why split: the node evaluates the calls while the caller waits for other I/O (the
        release path's first database round trip), so the two waits overlap instead of
        adding up. The connection is the block's: an answer not read by its end is
        abandoned with the connection. Fails as `authorize_many` does, on entry when the
        request cannot be sent, else when the decisions are asked for.
        """
        if not queries:
            yield lambda: []
            return
        block = block_param(block_identifier)
        calls = [self._call(i, q, block) for i, q in enumerate(queries)]
        body = json.dumps(calls, separators=(",", ":")).encode()
        with self._lock:
            answered: list[list[Decision]] = []
            try:
                self._send(body)

                def decisions() -> list[Decision]:
                    if not answered:
                        answered.append(self._batch_decisions(self._receive(body), len(queries)))
                    return answered[0]

                yield decisions
            finally:
                if not answered:
                    self._drop()

    def _batch_decisions(self, bodies: Any, count: int) -> list[Decision]:
        if not isinstance(bodies, list) or len(bodies) != count:
            raise ChainUnavailable(f"batched authorize at {self.rpc_url}: expected {count} answers")
        by_id = {body.get("id"): body for body in bodies if isinstance(body, dict)}
        return [self._decision(by_id.get(i)) for i in range(count)]

    def _call(self, request_id: int, query: AuthorizationQuery, block: str) -> dict[str, Any]:
        try:
            data = encode_call(query)
        except ValueError as exc:
            raise ChainUnavailable(f"authorize arguments cannot be encoded: {exc}") from exc
        call = {"to": self.consents, "data": data}
        return {"jsonrpc": "2.0", "id": request_id, "method": "eth_call", "params": [call, block]}

    def _decision(self, body: Any) -> Decision:
        if not isinstance(body, dict) or not isinstance(body.get("result"), str):
            error = body.get("error") if isinstance(body, dict) else body
            raise ChainUnavailable(f"authorize call at {self.rpc_url} failed: {error}")
        return decode_decision(body["result"])

    def _send(self, body: bytes) -> None:
        """Send `body` on the kept-alive connection (the lock held), opening one if needed."""
        try:
            try:
                self._connect().send(body)
            except _STALE_CONNECTION:  # the node closed it since its last use
                self._drop()
                self._connect().send(body)
        except OSError as exc:
            self._drop()
            raise ChainUnavailable(f"chain endpoint {self.rpc_url} unavailable: {exc!r}") from exc

    def _receive(self, body: bytes) -> Any:
        """The JSON answer to `body`, sent last (the lock held since)."""
        try:
            connection = self._connect()
            try:
                status, content = connection.receive()
            except _STALE_CONNECTION:
                # the node closed the kept-alive connection before reading `body`: once more on
                # a fresh one (eth_call changes nothing, so sending it twice is harmless)
                self._drop()
                connection = self._connect()
                connection.send(body)
                status, content = connection.receive()
            if not connection.reusable:
                self._drop()
            if status != 200:
                raise http.client.HTTPException(f"HTTP {status}: {content[:200]!r}")
            return json.loads(content)
        except (OSError, http.client.HTTPException) as exc:
            self._drop()
            raise ChainUnavailable(f"chain endpoint {self.rpc_url} unavailable: {exc!r}") from exc
        except ValueError as exc:  # not JSON
            self._drop()
            raise ChainUnavailable(f"chain endpoint {self.rpc_url} answered no JSON: {exc}") from exc

    def _connect(self) -> _Connection:
        if self._connection is None:
            self._connection = _Connection(
                self._host, self._port, https=self._https, path=self._path, timeout=self._timeout
            )
        return self._connection

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def close(self) -> None:
        with self._lock:
            self._drop()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

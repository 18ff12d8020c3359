"""The authorization check on the release path, without web3's per-call overhead.

`Consents.authorize` is a view: one `eth_call`. Through a web3 contract function each
call pays for ABI lookup, argument validation and the middleware stack (about 3 ms on
the development machine). Here the calldata is the precomputed selector and six static
32-byte words, posted as raw JSON-RPC over one kept-alive `http.client` connection,
and the five static words of the answer are read back directly. `authorize_many` sends
a JSON-RPC batch: many decisions in one HTTP round trip, all at the same block when a
block number is given.

Why not a library here: eth_abi's general encoder and decoder cost about 30 µs per call
each, and httpx about a millisecond per batch of eight (request building, JSON and
response handling); the release path makes one call per release, so both showed up
as a sizeable share of its CPU. Every argument and result is one static word, which
`tests/contracts/test_consents.py` checks against the ABI encoding and the contract.

Any failure to get an answer (transport, HTTP status, JSON-RPC error, malformed result)
raises `ChainUnavailable`: the caller must then release nothing.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

from eth_utils import keccak, to_checksum_address

from ledger.chain.address import checksum_address
from ledger.chain.consents import AuthorizationQuery, Decision, Reason
from ledger.chain.errors import ChainUnavailable

AUTHORIZE_SIGNATURE = "authorize(address,bytes32,uint256,uint256,uint256,uint8)"
SELECTOR = keccak(text=AUTHORIZE_SIGNATURE)[:4]
DEFAULT_TIMEOUT_SECONDS = 2.0
_WORD = 32
_UINT256_MAX = 2**256 - 1
#: errors of a kept-alive connection that the other side closed since its last use
_STALE_CONNECTION = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


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
    )).hex()  # fmt: skip


def decode_decision(result: str) -> Decision:
    """The `Decision` encoded in an `eth_call` result (0x-prefixed hex)."""
    try:
        data = bytes.fromhex(result[2:]) if result.startswith("0x") else b""
        if len(data) != 5 * _WORD:
            raise ValueError(f"expected {5 * _WORD} bytes, got {len(data)}")
        allowed, reason, grant_id, raw, block = (
            int.from_bytes(data[i : i + _WORD], "big") for i in range(0, 5 * _WORD, _WORD)
        )
        if allowed > 1:
            raise ValueError(f"bool word holds {allowed}")
        return Decision(bool(allowed), Reason(reason), grant_id, raw, block)
    except Exception as exc:  # any malformed answer: fail closed
        raise ChainUnavailable(f"malformed authorize result {result[:80]!r}: {exc}") from exc


def block_param(block_identifier: int | str) -> str:
    """A JSON-RPC block parameter: a tag such as "latest", or a number as hex."""
    return hex(block_identifier) if isinstance(block_identifier, int) else block_identifier


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
        self._host, self._port, self._https = url.hostname, url.port, url.scheme == "https"
        self._path = url.path or "/"
        self._timeout = timeout
        self._connection: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()

    def authorize(self, query: AuthorizationQuery, block_identifier: int | str = "latest") -> Decision:
        """The decision for `query` at `block_identifier` ("latest" or a block number)."""
        return self._decision(self._post(self._call(0, query, block_param(block_identifier))))

    def authorize_many(
        self, queries: Sequence[AuthorizationQuery], block_identifier: int | str = "latest"
    ) -> list[Decision]:
        """The decisions for `queries`, in order, from one JSON-RPC batch request."""
        if not queries:
            return []
        block = block_param(block_identifier)
        bodies = self._post([self._call(i, q, block) for i, q in enumerate(queries)])
        if not isinstance(bodies, list) or len(bodies) != len(queries):
            raise ChainUnavailable(f"batched authorize at {self.rpc_url}: expected {len(queries)} answers")
        by_id = {body.get("id"): body for body in bodies if isinstance(body, dict)}
        return [self._decision(by_id.get(i)) for i in range(len(queries))]

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

    def _post(self, payload: Any) -> Any:
        body = json.dumps(payload, separators=(",", ":")).encode()
        with self._lock:
            try:
                try:
                    return self._exchange(body)
                except _STALE_CONNECTION:
                    # the node closed the kept-alive connection since its last use: once more
                    # on a fresh one (eth_call changes nothing, so sending it twice is harmless)
                    self._drop()
                    return self._exchange(body)
            except (OSError, http.client.HTTPException) as exc:
                self._drop()
                raise ChainUnavailable(f"chain endpoint {self.rpc_url} unavailable: {exc!r}") from exc
            except ValueError as exc:  # not JSON
                self._drop()
                raise ChainUnavailable(f"chain endpoint {self.rpc_url} answered no JSON: {exc}") from exc

    def _exchange(self, body: bytes) -> Any:
        if self._connection is None:
            kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._connection = kind(self._host, self._port, timeout=self._timeout)
        self._connection.request("POST", self._path, body, {"Content-Type": "application/json"})
        response = self._connection.getresponse()
        content = response.read()
        if response.status != 200:
            raise http.client.HTTPException(f"HTTP {response.status}: {content[:200]!r}")
        return json.loads(content)

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

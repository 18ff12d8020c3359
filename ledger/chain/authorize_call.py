"""The authorization check on the release path, without web3's per-call overhead.

`Consents.authorize` is a view: one `eth_call`. Through a web3 contract function each
call pays for ABI lookup, argument validation and the middleware stack (about 3 ms on
the development machine); here the calldata is the precomputed selector plus the
`eth_abi` encoding of the six arguments, posted as raw JSON-RPC over a kept-alive
`httpx` connection, and the result is decoded with `eth_abi`. `authorize_many` sends
a JSON-RPC batch: many decisions in one HTTP round trip, all at the same block when a
block number is given.

Any failure to get an answer (transport, HTTP status, JSON-RPC error, malformed result)
raises `ChainUnavailable`: the caller must then release nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self

import httpx
from eth_abi import decode, encode
from eth_utils import keccak, to_checksum_address

from ledger.chain.consents import AuthorizationQuery, Decision
from ledger.chain.errors import ChainUnavailable

AUTHORIZE_SIGNATURE = "authorize(address,bytes32,uint256,uint256,uint256,uint8)"
SELECTOR = keccak(text=AUTHORIZE_SIGNATURE)[:4]
_ARGUMENT_TYPES = ("address", "bytes32", "uint256", "uint256", "uint256", "uint8")
_DECISION_TYPES = ("(bool,uint8,uint256,uint256,uint256)",)
DEFAULT_TIMEOUT_SECONDS = 2.0


def encode_call(query: AuthorizationQuery) -> str:
    """The `authorize` calldata for `query`, 0x-prefixed."""
    return "0x" + (SELECTOR + encode(_ARGUMENT_TYPES, query.args())).hex()


def decode_decision(result: str) -> Decision:
    """The `Decision` encoded in an `eth_call` result (0x-prefixed hex)."""
    try:
        (value,) = decode(_DECISION_TYPES, bytes.fromhex(result[2:]))
        return Decision.from_abi(value)
    except Exception as exc:  # any malformed answer: fail closed
        raise ChainUnavailable(f"malformed authorize result {result[:80]!r}: {exc}") from exc


def block_param(block_identifier: int | str) -> str:
    """A JSON-RPC block parameter: a tag such as "latest", or a number as hex."""
    return hex(block_identifier) if isinstance(block_identifier, int) else block_identifier


class _Requests:
    """JSON-RPC bodies for `authorize` calls to one Consents contract, and their answers."""

    def __init__(self, rpc_url: str, consents: str) -> None:
        self.rpc_url = rpc_url
        self.consents = to_checksum_address(consents)

    def one(self, request_id: int, query: AuthorizationQuery, block: str) -> dict[str, Any]:
        call = {"to": self.consents, "data": encode_call(query)}
        return {"jsonrpc": "2.0", "id": request_id, "method": "eth_call", "params": [call, block]}

    def batch(self, queries: Sequence[AuthorizationQuery], block: str) -> list[dict[str, Any]]:
        return [self.one(i, q, block) for i, q in enumerate(queries)]

    def decision(self, body: Any) -> Decision:
        if not isinstance(body, dict) or "result" not in body:
            error = body.get("error") if isinstance(body, dict) else body
            raise ChainUnavailable(f"authorize call at {self.rpc_url} failed: {error}")
        return decode_decision(body["result"])

    def decisions(self, bodies: Any, count: int) -> list[Decision]:
        if not isinstance(bodies, list) or len(bodies) != count:
            raise ChainUnavailable(f"batched authorize at {self.rpc_url}: expected {count} answers")
        by_id = {body.get("id"): body for body in bodies if isinstance(body, dict)}
        return [self.decision(by_id.get(i)) for i in range(count)]

    def unavailable(self, exc: Exception) -> ChainUnavailable:
        return ChainUnavailable(f"chain endpoint {self.rpc_url} unavailable: {exc}")


class AuthorizeCaller:
    """Authorization calls to the `Consents` contract at `consents` over one kept-alive connection."""

    def __init__(self, rpc_url: str, consents: str, *, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self._requests = _Requests(rpc_url, consents)
        self._http = httpx.Client(timeout=timeout)

    def authorize(self, query: AuthorizationQuery, block_identifier: int | str = "latest") -> Decision:
        """The decision for `query` at `block_identifier` ("latest" or a block number)."""
        return self._requests.decision(
            self._post(self._requests.one(0, query, block_param(block_identifier)))
        )

    def authorize_many(
        self, queries: Sequence[AuthorizationQuery], block_identifier: int | str = "latest"
    ) -> list[Decision]:
        """The decisions for `queries`, in order, from one JSON-RPC batch request."""
        if not queries:
            return []
        payload = self._requests.batch(queries, block_param(block_identifier))
        return self._requests.decisions(self._post(payload), len(queries))

    def _post(self, payload: Any) -> Any:
        try:
            response = self._http.post(self._requests.rpc_url, json=payload)
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise self._requests.unavailable(exc) from exc

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncAuthorizeCaller:
    """`AuthorizeCaller` for asyncio code, over an `httpx.AsyncClient`."""

    def __init__(self, rpc_url: str, consents: str, *, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self._requests = _Requests(rpc_url, consents)
        self._http = httpx.AsyncClient(timeout=timeout)

    async def authorize(self, query: AuthorizationQuery, block_identifier: int | str = "latest") -> Decision:
        """The decision for `query` at `block_identifier` ("latest" or a block number)."""
        payload = self._requests.one(0, query, block_param(block_identifier))
        return self._requests.decision(await self._post(payload))

    async def authorize_many(
        self, queries: Sequence[AuthorizationQuery], block_identifier: int | str = "latest"
    ) -> list[Decision]:
        """The decisions for `queries`, in order, from one JSON-RPC batch request."""
        if not queries:
            return []
        payload = self._requests.batch(queries, block_param(block_identifier))
        return self._requests.decisions(await self._post(payload), len(queries))

    async def _post(self, payload: Any) -> Any:
        try:
            response = await self._http.post(self._requests.rpc_url, json=payload)
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise self._requests.unavailable(exc) from exc

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

"""Bodies read with a size limit, then authenticated like any other request.

The shared `CallerDep` reads the whole body before anything can check its size. Record
ingestion takes bodies of tens of megabytes, so its routes read the stream themselves:
a declared `Content-Length` over the limit is refused before reading, and a body that
grows past it is refused the moment it does (413), never buffered whole. The body read
is then handed to the same signature check (`api.deps.authenticated`) as every request,
so the rules for signers, nonces and membership stay in one place.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.types import Message

from api.deps import Caller, authenticated
from ledger.errors import InvalidInput
from ledger.platform import Platform
from ledger.services.membership import MembershipService

__all__ = ["PayloadTooLarge", "authenticate_body", "read_limited", "too_large"]


class PayloadTooLarge(InvalidInput):
    """The body exceeds what one request may carry (HTTP 413)."""

    code = "payload_too_large"


async def read_limited(request: Request, limit: int, setting: str) -> bytes:
    """The request body, or `PayloadTooLarge` as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            length = int(declared)
        except ValueError:
            raise InvalidInput("Content-Length is not an integer") from None
        if length > limit:
            raise PayloadTooLarge(
                f"request body of {length} bytes exceeds the limit of {limit} bytes ({setting}); split it up"
            )
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes ({setting}); split it up")
    return bytes(body)


async def authenticate_body(request: Request, platform: Platform, body: bytes) -> Caller:
    """Authenticate `request` whose body was already read as `body`."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return await authenticated(Request(request.scope, replay), platform, MembershipService(platform))


def too_large(exc: InvalidInput) -> JSONResponse:
    return JSONResponse({"error": exc.code, "detail": exc.message}, status_code=413)

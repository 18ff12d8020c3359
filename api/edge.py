"""The HTTP edge: every request passes here before any route, and every refusal is recorded here.

An ASGI middleware, so it sees the request before its body is read and the answer before
it leaves:

- **Bodies are bounded before they are read.** Each route has a limit (`BODY_ROUTES`, or
  `LEDGER_EDGE_MAX_BODY_BYTES`); a declared `Content-Length` over it is refused at once
  (413), and the stream is cut the moment it passes it (413), never buffered whole. A
  route that takes large bodies reads at most `LEDGER_EDGE_UNAUTHENTICATED_BODY_BYTES`
  unless the claimed signer in the headers is an active member holding the route's role,
  checked before a byte of the body is read; the signature itself (over the body) is then
  checked by `api.deps.authenticated`.
- **Every refusal is recorded.** Every 4xx answer of every route (401, 403, 404, 409, 413,
  422, 429 …) is written to the MLPS audit records before it leaves, with bounded,
  sanitised fields (`ledger.services.audit_events`). If the record cannot be written, the
  server logs it as critical and answers 503 instead: nothing is refused unrecorded.
- **Floods are throttled.** Refusals are counted per source address and per claimed
  signer in fixed windows; a caller over its limit gets 429 for the rest of the window,
  recorded once per window, so no caller can grow the records without bound.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import services_of
from api.errors import PayloadTooLarge, Throttled, error_response
from ledger.chain.membership import Role, Status
from ledger.errors import LedgerError, NotAuthorized, Unavailable
from ledger.request_auth import HEADER_SIGNER, Unauthenticated
from ledger.services import audit_events
from ledger.settings import Settings
from ledger.wiring import Services

logger = logging.getLogger("ledger.edge")

#: every answer in this range is a refusal and is recorded
REFUSAL_STATUSES = range(400, 500)
#: what is parsed of a refusal's body for its record
_REFUSAL_BODY_PARSED = 8 * 1024


@dataclass(frozen=True)
class BodyRoute:
    """A route with its own body limit (a `Settings` field) and the roles that may send one."""

    setting: str
    roles: tuple[Role, ...] = ()


#: routes whose bodies may exceed the default limit, or must stay below it
BODY_ROUTES: dict[tuple[str, str], BodyRoute] = {
    ("POST", "/records/bulk"): BodyRoute("ingest_max_body_bytes", (Role.PROVIDER,)),
    ("POST", "/records"): BodyRoute("ingest_max_single_bytes", (Role.PROVIDER,)),
    ("POST", "/catalogue/versions"): BodyRoute("ingest_max_single_bytes", (Role.OPERATOR,)),
    ("POST", "/releases"): BodyRoute("release_max_body_bytes"),
    ("POST", "/evaluations"): BodyRoute("release_max_body_bytes"),
    ("POST", "/models/documents"): BodyRoute("ingest_max_single_bytes", (Role.OPERATOR,)),
    ("POST", "/loans/reports"): BodyRoute("ingest_max_single_bytes", (Role.INSTITUTION,)),
    # a month's snapshot carries its rows: every loan decided by then (~120 bytes each)
    ("POST", "/kpis/snapshots"): BodyRoute("ingest_max_body_bytes", (Role.OPERATOR,)),
    ("POST", "/alerts/endpoints"): BodyRoute("release_max_body_bytes", (Role.INSTITUTION,)),
    ("POST", "/financing/publications"): BodyRoute(
        "ingest_max_single_bytes", (Role.DISTRICT_OPERATOR, Role.INSTITUTION)
    ),
}


class _BodyTooLarge(Exception):
    """Raised into the application from `receive` when the body passes its limit."""


class RefusalThrottle:
    """Refusal counts per source and per claimed signer, in fixed windows kept in memory.

    The limits are read from the settings at each use, so a changed setting applies to the
    next request.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._limiter = FixedWindowRateLimiter(MemoryStorage())

    def _limit(self, kind: str) -> RateLimitItemPerSecond:
        amount = (
            self.settings.edge_refusals_per_source
            if kind == "source"
            else self.settings.edge_refusals_per_signer
        )
        return RateLimitItemPerSecond(amount, self.settings.edge_refusal_window_seconds)

    def over(self, keys: dict[str, str]) -> tuple[str, str] | None:
        """The first (kind, key) already over its limit in this window, if any."""
        for kind, key in keys.items():
            if not self._limiter.test(self._limit(kind), kind, key):
                return kind, key
        return None

    def count(self, keys: dict[str, str]) -> None:
        for kind, key in keys.items():
            self._limiter.hit(self._limit(kind), kind, key)

    def first_in_window(self, kind: str, key: str) -> bool:
        """True once per window for (kind, key): the throttled caller's one record."""
        once = RateLimitItemPerSecond(1, self.settings.edge_refusal_window_seconds)
        return self._limiter.hit(once, "recorded", kind, key)

    def retry_after(self, kind: str, key: str) -> int:
        reset = self._limiter.get_window_stats(self._limit(kind), kind, key).reset_time
        return max(1, int(reset - time.time()) + 1)


class Edge:
    """The ASGI middleware described in the module docstring.

    It serves the application's services, built at start-up (`api.deps.services_of`):
    its settings, the membership it checks claimed signers against and the database the
    refusals are recorded in.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._throttle: RefusalThrottle | None = None

    def throttle(self, services: Services) -> RefusalThrottle:
        if self._throttle is None:
            self._throttle = RefusalThrottle(services.platform.settings)
        return self._throttle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await _Exchange(self, services_of(scope["app"]), scope, receive, send).run()


def _keys(scope: Scope, headers: Headers) -> dict[str, str]:
    client = scope.get("client")
    keys = {"source": str(client[0]) if client else "unknown"}
    signer = headers.get(HEADER_SIGNER.lower())
    if signer:
        keys["signer"] = signer.strip().lower()[:64]
    return keys


class _Exchange:
    """One request through the edge: its limit, its answer, and the record of a refusal."""

    def __init__(self, edge: Edge, services: Services, scope: Scope, receive: Receive, send: Send) -> None:
        self.edge = edge
        self.services = services
        self.settings = services.platform.settings
        self.throttle = edge.throttle(services)
        self.scope = scope
        self.receive = receive
        self.send = send
        self.headers = Headers(scope=scope)
        self.keys = _keys(scope, self.headers)
        self.method = str(scope["method"])
        self.limit = self.settings.edge_max_body_bytes
        self.setting = "edge_max_body_bytes"
        self.read = 0
        self.exceeded = False
        self.started = False
        self.held: Message | None = None
        self.body: list[Message] = []

    # -- the request ------------------------------------------------------------------

    async def run(self) -> None:
        throttled = self.throttle.over(self.keys)
        if throttled is not None:
            await self._throttled(*throttled)
            return
        try:
            await self._admit()
        except LedgerError as exc:
            await error_response(exc)(self.scope, self.receive, self._send)
            return
        try:
            await self.app_call()
        except _BodyTooLarge:
            if self.started:
                raise
            await error_response(self._too_large())(self.scope, self.receive, self._send)

    async def app_call(self) -> None:
        await self.edge.app(self.scope, self._receive, self._send)

    async def _admit(self) -> None:
        """Set this request's body limit; refuse a declared length over it before reading."""
        route = BODY_ROUTES.get((self.method, str(self.scope["path"])))
        settings = self.settings
        declared = self._declared_length()
        if route is not None:
            self.limit = int(getattr(settings, route.setting))
            self.setting = route.setting
            unauthenticated = settings.edge_unauthenticated_body_bytes
            if route.roles and self.limit > unauthenticated:
                if declared is not None and declared <= unauthenticated:
                    self.limit = unauthenticated
                    self.setting = "edge_unauthenticated_body_bytes"
                else:
                    await self._check_claimed_signer(route.roles)
        if declared is not None and declared > self.limit:
            raise self._too_large(declared)

    def _declared_length(self) -> int | None:
        declared = self.headers.get("content-length")
        if declared is None:
            return None
        try:
            return int(declared)
        except ValueError:
            raise PayloadTooLarge("Content-Length is not an integer") from None

    async def _check_claimed_signer(self, roles: tuple[Role, ...]) -> None:
        """Before a large body is read: the claimed signer must be an active member in `roles`."""
        claimed = self.headers.get(HEADER_SIGNER.lower())
        if not claimed:
            raise Unauthenticated(f"unsigned request: missing header {HEADER_SIGNER}")
        membership = self.services.membership
        try:
            member = await run_in_threadpool(membership.member, claimed)
        except ValueError:
            raise Unauthenticated(f"header {HEADER_SIGNER} is not an address") from None
        names = " or ".join(r.name.lower() for r in roles)
        if member.role not in roles or member.status != Status.ACTIVE:
            raise NotAuthorized(f"{claimed} is not an active {names}; this route takes a body only from one")

    def _too_large(self, declared: int | None = None) -> PayloadTooLarge:
        size = f"request body of {declared} bytes" if declared is not None else "request body"
        return PayloadTooLarge(
            f"{size} exceeds this route's limit of {self.limit} bytes "
            f"(LEDGER_{self.setting.upper()}); split it up"
        )

    async def _receive(self) -> Message:
        message = await self.receive()
        if message["type"] == "http.request":
            self.read += len(message.get("body", b""))
            if self.read > self.limit:
                self.exceeded = True
                raise _BodyTooLarge
        return message

    # -- the answer -------------------------------------------------------------------

    async def _send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            if self.exceeded:  # the application turned the cut stream into its own error
                self.exceeded = False
                await error_response(self._too_large())(self.scope, self.receive, self._send)
                self.held = {"type": "ignored"}
                return
            if self.held is not None:
                return
            if int(message["status"]) in REFUSAL_STATUSES:
                self.held = message
                return
            self.started = True
            await self.send(message)
            return
        if self.held is None:
            await self.send(message)
            return
        if self.held.get("type") == "ignored":
            return
        self.body.append(message)
        if not message.get("more_body", False):
            await self._answer_refusal()

    async def _answer_refusal(self) -> None:
        assert self.held is not None
        status = int(self.held["status"])
        parsed = b"".join(m.get("body", b"") for m in self.body)[:_REFUSAL_BODY_PARSED]
        recorded = await self._record(status, parsed)
        if status != 429:
            self.throttle.count(self.keys)
        self.started = True
        if not recorded:
            await self._unrecorded()
            return
        await self.send(self.held)
        for message in self.body:
            await self.send(message)

    async def _throttled(self, kind: str, key: str) -> None:
        retry = self.throttle.retry_after(kind, key)
        response = error_response(
            Throttled(f"too many refused requests from this {kind}; retry after {retry} s")
        )
        response.headers["Retry-After"] = str(retry)
        if self.throttle.first_in_window(kind, key):
            await response(self.scope, self.receive, self._send)
            return
        # throttled again in this window: answered, not recorded again
        self.held = {"type": "ignored"}
        await response(self.scope, self.receive, self.send)

    async def _record(self, status: int, body: bytes) -> bool:
        code, message = _error_of(body)
        raw_path = bytes(self.scope.get("raw_path") or str(self.scope["path"]).encode()).decode("latin-1")
        query = bytes(self.scope.get("query_string", b"")).decode("latin-1")
        detail = f"{status} {code}: {message}; source={self.keys['source']}"
        if query:
            detail += f"; query={query}"
        try:
            await run_in_threadpool(
                audit_events.record,
                self.services.platform.db,
                actor=self.headers.get(HEADER_SIGNER.lower()),
                event=f"{self.method} {raw_path}",
                outcome="refused",
                detail=detail,
            )
        except Exception:
            logger.critical(
                "REFUSAL NOT RECORDED: %s %s answered %s could not be written to the audit records",
                self.method,
                audit_events.bounded(raw_path, 256),
                status,
                exc_info=True,
            )
            return False
        return True

    async def _unrecorded(self) -> None:
        exc = Unavailable("the audit records cannot be written; nothing is served until they can")
        self.held = None
        response = error_response(exc)
        await response(self.scope, self.receive, self.send)


def _error_of(body: bytes) -> tuple[str, str]:
    """The error code and detail of a refusal's body, whatever its shape."""
    try:
        parsed: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return "refused", body.decode("utf-8", "replace")
    if not isinstance(parsed, dict):
        return "refused", json.dumps(parsed, ensure_ascii=False)[:_REFUSAL_BODY_PARSED]
    code = parsed.get("error", "refused")
    detail = parsed.get("detail", "")
    if isinstance(detail, str):
        return str(code), detail
    return str(code), json.dumps(detail, ensure_ascii=False, separators=(",", ":"))

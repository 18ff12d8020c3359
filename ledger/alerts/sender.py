"""The alert sender: one leader at a time clears and delivers the outbox, losing nothing.

Properties, and how:

1. One leader: a database lock (`ledger.storage.locks`, as the anchoring worker takes
   it), released by the operating system when its holder dies; a sender that does not
   hold it stands by and retries.
2. Nothing lost: an alert's row stays `queued` until the result of an attempt that got a
   2xx is committed. A sender killed at any point leaves the row queued and the next
   leader sends it again, with the same `webhook-id` and the same body (built once when
   the gate cleared it): a duplicate is only ever a repeat the receiver can recognise.
3. The gate first: each alert is cleared by the `DeliveryGate` once, before its first
   attempt; a withheld alert is never sent and never fed; any gate error means "later".
4. A slow or dead receiver never delays the others: every endpoint has its own lane with
   at most `endpoint_concurrency` requests in flight, and the due-alert query gives each
   institution its own share (`SenderStore.due`), so one endpoint's backlog cannot fill
   the window; each lane has its own HTTP client and connection pool (no shared cap to
   queue behind, and no pool that grows with every endpoint's requests), and every
   attempt is bounded by a timeout.
5. Retries with exponential backoff and jitter over about three days (`SenderPolicy`),
   then the dead-letter state; a 410 disables the endpoint. Whatever a receiver does
   (garbage, hanging, closing the connection) is an outcome, never a crash of the worker.

`credit-ledger up` runs it in a background thread (`start_in_background`);
`credit-ledger alerts run` runs it alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import certifi
import httpx

from ledger.alerts.gate import DeliveryGate
from ledger.alerts.outbox import DEAD, DELIVERED, QUEUED, now_ms
from ledger.alerts.policy import SenderPolicy
from ledger.alerts.signing import signed_headers
from ledger.alerts.store import Due, EndpointView, Result, SenderStore
from ledger.alerts.transport import Outcome, attempt
from ledger.alerts.urls import Environment, Resolver, system_resolver
from ledger.records.crypto import Keyring
from ledger.storage.database import Database
from ledger.storage.locks import AnchorLock, anchor_lock

__all__ = ["LOCK_NAME", "AlertSender", "start_in_background"]

logger = logging.getLogger("ledger.alerts")

T = TypeVar("T")

#: the name of the sender's leadership lock (`ledger.storage.locks.anchor_lock`)
LOCK_NAME = "alert-sender"


@dataclass
class _Lane:
    """One endpoint's share of the sender: its concurrency bound and its own client."""

    slots: asyncio.Semaphore
    client: httpx.AsyncClient


@dataclass
class _Lead:
    """One term as leader: what is in flight, and what waits to be written."""

    results: asyncio.Queue[Result] = field(default_factory=asyncio.Queue)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    in_flight: set[int] = field(default_factory=set)
    #: results written since the last due-alert query; leave `in_flight` only before the next
    #: query, so a query that was running while they were written cannot send them again
    settled: set[int] = field(default_factory=set)
    lanes: dict[str, _Lane] = field(default_factory=dict)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


class AlertSender:
    """Clears and delivers the outbox of `db` through `gate`."""

    def __init__(
        self,
        *,
        db: Database,
        gate: DeliveryGate,
        policy: SenderPolicy | None = None,
        environment: Environment = "development",
        resolver: Resolver = system_resolver,
        lock: AnchorLock | None = None,
        http_transport: httpx.AsyncBaseTransport | None = None,
        keyring: Keyring | None = None,
    ) -> None:
        if keyring is None and environment != "development":
            raise ValueError(
                "webhook secrets are sealed under the records' keyring: pass it outside development"
            )
        self.db = db
        self.gate = gate
        self.policy = policy or SenderPolicy()
        self.environment = environment
        self.resolver = resolver
        self.store = SenderStore(db, keyring)
        self._lock = lock if lock is not None else anchor_lock(db, LOCK_NAME)
        self._http_transport = http_transport
        #: set while this sender leads (tests and `credit-ledger alerts run` report it)
        self.leading = threading.Event()
        # Threads of its own for the database and for name resolution, so that neither
        # waits behind the other (nor behind anything else using the default executor); four
        # for the database, so the dispatcher's reads never wait behind the two writers
        # (clearing and results), which take turns.
        self._db_pool: ThreadPoolExecutor | None = None
        #: one TLS context for every lane's client (loading the CA store costs ~0.1 s each)
        self._tls = ssl.create_default_context(cafile=certifi.where())
        self._dns_pool: ThreadPoolExecutor | None = None

    async def _db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        assert self._db_pool is not None
        return await asyncio.get_running_loop().run_in_executor(
            self._db_pool, functools.partial(fn, *args, **kwargs)
        )

    # -- the loop ----------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Lead (or stand by) until `stop` is set."""
        asyncio.run(self.serve(stop))

    async def serve(self, stop: threading.Event) -> None:
        with (
            ThreadPoolExecutor(4, thread_name_prefix="alert-db") as self._db_pool,
            ThreadPoolExecutor(16, thread_name_prefix="alert-dns") as self._dns_pool,
        ):
            await self._serve(stop)

    async def _serve(self, stop: threading.Event) -> None:
        logger.info("alert sender started")
        try:
            while not stop.is_set():
                held = await self._db(self._lock.acquire)
                if not held:
                    await asyncio.sleep(self.policy.lock_check_seconds)
                    continue
                try:
                    await self._lead(stop)
                except Exception:  # keep the worker alive whatever happens in one term
                    logger.exception("alert sender: the term as leader failed; retrying")
                    await asyncio.sleep(self.policy.idle_poll_seconds)
        finally:
            self.leading.clear()
            await self._db(self._lock.release)
            logger.info("alert sender stopped")

    def _client(self) -> httpx.AsyncClient:
        policy = self.policy
        return httpx.AsyncClient(
            timeout=httpx.Timeout(policy.timeout_seconds, connect=policy.connect_timeout_seconds),
            limits=httpx.Limits(
                max_connections=policy.endpoint_concurrency,
                max_keepalive_connections=policy.endpoint_concurrency,
            ),
            follow_redirects=False,  # a redirect could lead anywhere, private ranges included
            trust_env=False,
            verify=self._tls,
            transport=self._http_transport,
        )

    async def _lead(self, stop: threading.Event) -> None:
        lead = _Lead()
        try:
            self.leading.set()
            logger.info("alert sender: leading")
            background = [
                asyncio.create_task(self._clear_loop(lead, stop)),
                asyncio.create_task(self._write_loop(lead, stop)),
            ]
            try:
                await self._dispatch_loop(lead, stop)
            finally:
                self.leading.clear()
                for task in [*background, *lead.tasks]:
                    task.cancel()
                await asyncio.gather(*background, *lead.tasks, return_exceptions=True)
                with contextlib.suppress(Exception):  # what was settled is written; the rest resends
                    await self._db(self.store.record, _drain(lead.results))
        finally:
            for lane in lead.lanes.values():
                with contextlib.suppress(Exception):
                    await lane.client.aclose()

    async def _dispatch_loop(self, lead: _Lead, stop: threading.Event) -> None:
        policy = self.policy
        checked = time.monotonic()
        while not stop.is_set():
            if time.monotonic() - checked >= policy.lock_check_seconds:
                if not await self._db(self._lock.acquire):
                    logger.warning("alert sender: lost the lock, standing by")
                    return
                checked = time.monotonic()
            lead.in_flight -= lead.settled
            lead.settled.clear()
            now = now_ms()
            endpoints = await self._db(self.store.endpoints, now)
            due = await self._db(self.store.due, now, 2 * policy.endpoint_concurrency)
            started = 0
            for alert in due:
                if alert.seq in lead.in_flight:
                    continue
                lead.in_flight.add(alert.seq)
                endpoint = endpoints.get(alert.institution)
                if endpoint is None:
                    lead.results.put_nowait(
                        Result(alert.seq, DEAD, alert.attempts, now, "no active endpoint (see the pull feed)")
                    )
                    continue
                if endpoint.problem is not None:
                    reason = f"endpoint secret unusable: {endpoint.problem}"[:200]
                    lead.results.put_nowait(Result(alert.seq, DEAD, alert.attempts, now, reason))
                    continue
                lane = lead.lanes.get(endpoint.id)
                if lane is None:
                    lane = lead.lanes[endpoint.id] = _Lane(
                        asyncio.Semaphore(policy.endpoint_concurrency), self._client()
                    )
                task = asyncio.create_task(self._deliver(lead, lane, endpoint, alert))
                lead.tasks.add(task)
                task.add_done_callback(lead.tasks.discard)
                started += 1
            lead.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    lead.wake.wait(), policy.poll_seconds if started or due else policy.idle_poll_seconds
                )

    async def _deliver(self, lead: _Lead, lane: _Lane, endpoint: EndpointView, alert: Due) -> None:
        async with lane.slots:
            try:
                headers = signed_headers(alert.id, alert.payload, endpoint.keys)
                async with asyncio.timeout(self.policy.timeout_seconds + self.policy.resolve_timeout_seconds):
                    outcome = await attempt(
                        lane.client,
                        endpoint.url,
                        headers,
                        alert.payload,
                        environment=self.environment,
                        resolver=self.resolver,
                        executor=self._dns_pool,
                    )
            except TimeoutError:
                outcome = Outcome("failed", None, "timeout: the attempt took too long")
            except Exception as exc:  # never let one attempt take the worker down
                logger.exception("alert %s: attempt failed unexpectedly", alert.id)
                outcome = Outcome("failed", None, f"{exc.__class__.__name__}: {exc}"[:200])
        lead.results.put_nowait(self.result_of(alert, endpoint, outcome))

    def result_of(self, alert: Due, endpoint: EndpointView, outcome: Outcome) -> Result:
        """The row's next state after `outcome`."""
        now = now_ms()
        attempts = alert.attempts + 1
        if outcome.kind == "delivered":
            return Result(alert.seq, DELIVERED, attempts, now, None, delivered_ms=now)
        if outcome.kind == "gone":
            return Result(
                alert.seq,
                DEAD,
                attempts,
                now,
                "endpoint answered 410 Gone: endpoint disabled",
                disable_endpoint=endpoint.id,
            )
        delay = self.policy.retry_delay(attempts)
        if delay is None:
            return Result(alert.seq, DEAD, attempts, now, f"retries spent; last: {outcome.detail}"[:200])
        return Result(alert.seq, QUEUED, attempts, now + int(delay * 1000), outcome.detail[:200])

    async def _write_loop(self, lead: _Lead, stop: threading.Event) -> None:
        failures = 0
        pending: list[Result] = []
        while not stop.is_set():
            if not pending:
                pending.append(await lead.results.get())
            pending.extend(_drain(lead.results))
            try:
                await self._db(self.store.record, pending)
            except Exception:
                failures += 1
                logger.exception("alert sender: could not record %d results; retrying", len(pending))
                await asyncio.sleep(min(30.0, 0.1 * 2 ** min(failures, 9)))
                continue
            failures = 0
            lead.settled.update(result.seq for result in pending)
            pending = []
            lead.wake.set()

    async def _clear_loop(self, lead: _Lead, stop: threading.Event) -> None:
        policy = self.policy
        while not stop.is_set():
            try:
                counts = await self._db(
                    self.store.clear_pending,
                    self.gate,
                    limit=policy.clear_batch,
                    retry_ms=int(policy.gate_retry_seconds * 1000),
                )
            except Exception:
                logger.exception("alert sender: clearing failed; retrying")
                await asyncio.sleep(policy.gate_retry_seconds)
                continue
            if counts.cleared:
                lead.wake.set()
            if counts.cleared + counts.withheld + counts.deferred < policy.clear_batch:
                await asyncio.sleep(policy.poll_seconds)


def _drain(queue: asyncio.Queue[Result]) -> list[Result]:
    out: list[Result] = []
    while True:
        try:
            out.append(queue.get_nowait())
        except asyncio.QueueEmpty:
            return out


def start_in_background(sender: AlertSender) -> tuple[threading.Thread, threading.Event]:
    """Run `sender` in a daemon thread (as `credit-ledger up` does) until the event is set."""
    stop = threading.Event()
    thread = threading.Thread(target=sender.run, args=(stop,), name="alert-sender", daemon=True)
    thread.start()
    return thread, stop

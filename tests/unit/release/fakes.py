"""Stand-ins for what the release service talks to: the chain, the access trail, the records.

No anvil, no database: each fake keeps what it was asked and what it made durable, so a
test can say what was released, in what form, and whether the trail entry of a release
was committed before its caller got the data. `Decision` and `AuthorizationQuery` are
made and read only through `decision` and `query_at` here, so a field added to either
is adapted in one place.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import Future, wait
from contextlib import contextmanager
from datetime import date
from types import SimpleNamespace
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger.chain.consents import AuthorizationQuery, Decision, Reason
from ledger.chain.eip712 import Signed, sign
from ledger.chain.errors import ChainUnavailable
from ledger.domain.catalogue import Catalogue
from ledger.errors import Unavailable
from ledger.logs.store import AppendedEntry
from ledger.records.samples import sample_uscc
from ledger.release.reader import CurrentRecord
from ledger.release.request import DataRequestMessage, request_domain
from ledger.release.service import Release, ReleaseService
from ledger.release.trail import TrailEntry

CHAIN_ID = 31337
CONSENTS = "0x" + "c0" * 20
DOMAIN = request_domain(CHAIN_ID, CONSENTS)
#: the release's own time in every test (a Friday in 2027): requests are signed around it
NOW = 1_800_000_000
BLOCK = 4_242
#: an agreement no decision is registered for: the chain refuses it
UNKNOWN_AGREEMENT = 0


def decision(
    *,
    allowed: bool = True,
    reason: Reason = Reason.ALLOWED,
    grant_id: int = 7,
    raw_categories: int = 0,
    block: int = BLOCK,
    block_timestamp: int = NOW,
) -> Decision:
    """A chain decision; fields `Decision` does not have (yet) are left out."""
    values: dict[str, Any] = {
        "allowed": allowed,
        "reason": reason,
        "grant_id": grant_id,
        "raw_categories": raw_categories,
        "block_number": block,
        "block_timestamp": block_timestamp,
    }
    names = {f.name for f in dataclasses.fields(Decision)}
    return Decision(**{k: v for k, v in values.items() if k in names})


def refused(reason: Reason = Reason.NO_COVERING_GRANT) -> Decision:
    return decision(allowed=False, reason=reason, grant_id=0)


def query_at(query: AuthorizationQuery) -> int | None:
    """The release's own time a query carries, where `AuthorizationQuery` has it."""
    at = getattr(query, "at", None)
    return at if isinstance(at, int) else None


class FakeChain:
    """`AuthorizeCaller.deciding` over a table of decisions by agreement id.

    `held()` makes `deciding` wait on entry until the block ends, so that releases
    submitted meanwhile queue up and are handled as one batch.
    """

    def __init__(self) -> None:
        self.decisions: dict[int, Decision] = {}
        self.queries: list[AuthorizationQuery] = []
        self.fail: Exception | None = None
        #: how many seconds the block a decision rests on is older than the release
        self.lag = 0
        self.closed = False
        self._open = threading.Event()
        self._open.set()
        self.waiting = threading.Event()

    @contextmanager
    def deciding(
        self, queries: Sequence[AuthorizationQuery], block_identifier: int | str = "latest"
    ) -> Iterator[Callable[[], list[Decision]]]:
        self.waiting.set()
        if not self._open.wait(5):
            raise ChainUnavailable("fake chain held too long")
        self.queries.extend(queries)
        if self.fail is not None:
            raise self.fail
        answers = [self._decide(q) for q in queries]
        yield lambda: answers

    def _decide(self, query: AuthorizationQuery) -> Decision:
        found = self.decisions.get(query.agreement_id, refused(Reason.AGREEMENT_UNKNOWN))
        at = query_at(query)
        return found if at is None else dataclasses.replace(found, block_timestamp=at - self.lag)

    @contextmanager
    def held(self) -> Iterator[None]:
        self.waiting.clear()
        self._open.clear()
        try:
            yield
        finally:
            self._open.set()

    def close(self) -> None:
        self.closed = True


@dataclasses.dataclass
class Committed:
    """One committed trail transaction: the nonces it spent and the entries it appended."""

    spent: list[tuple[str, str]]
    entries: list[TrailEntry]


class FakeTransaction:
    def __init__(self, spent_before: set[tuple[str, str]], one_short: Collection[str] = ()) -> None:
        self.session = object()  # handed to the reader, which notes it
        self._spent_before = spent_before
        #: answers ("nonces", "entries") given one short, as a defective store would
        self._one_short = one_short
        self.spent: list[tuple[str, str]] = []
        self.entries: list[TrailEntry] = []

    def spend_nonces(self, keys: Sequence[tuple[str, str]]) -> Callable[[], list[bool]]:
        fresh = []
        for key in keys:
            is_new = key not in self._spent_before and key not in self.spent
            if is_new:
                self.spent.append(key)
            fresh.append(is_new)
        if "nonces" in self._one_short:
            fresh = fresh[:-1]
        return lambda: fresh

    def append(self, entries: Sequence[TrailEntry]) -> list[AppendedEntry]:
        appended = []
        for entry in entries:
            if (entry.signer, entry.nonce) not in self.spent:
                raise ValueError(f"entry of nonce {entry.nonce} appended without spending it here")
            self.entries.append(entry)
            seq = len(self.entries) - 1
            appended.append(AppendedEntry(seq, repr(entry.payload).encode(), leaf_hash(seq)))
        return appended[:-1] if "entries" in self._one_short else appended


def leaf_hash(seq: int) -> bytes:
    """The leaf hash the fake trail gives its entry number `seq`."""
    return hashlib.sha256(b"%d" % seq).digest()


class FakeTrail:
    """`AccessTrail.transaction`: kept only if the block ends without error and the commit succeeds.

    `events` is shared with the test: ("commit", nonce) is appended for each entry a
    commit made durable, so a test can put the moment a caller got its data after it.
    """

    def __init__(self, events: list[tuple[str, str]]) -> None:
        self.events = events
        self.committed: list[Committed] = []
        self.commit_fails: Exception | None = None
        #: what the transactions answer one short (see `FakeTransaction`)
        self.one_short: set[str] = set()
        #: the session of every transaction opened
        self.sessions: list[object] = []
        self.closed = False
        self._spent: set[tuple[str, str]] = set()

    @contextmanager
    def transaction(self) -> Iterator[FakeTransaction]:
        tx = FakeTransaction(self._spent, self.one_short)
        self.sessions.append(tx.session)
        yield tx  # an error in the block propagates: nothing is kept
        if self.commit_fails is not None:
            raise Unavailable(f"access trail append failed, nothing released: {self.commit_fails}")
        self._spent.update(tx.spent)
        self.committed.append(Committed(tx.spent, tx.entries))
        self.events.extend(("commit", entry.nonce) for entry in tx.entries)

    def entry_of(self, signed: Signed[DataRequestMessage]) -> TrailEntry | None:
        """The committed entry of a release, by its request's nonce."""
        nonce = nonce_of(signed)
        for committed in self.committed:
            for entry in committed.entries:
                if (entry.signer, entry.nonce) == (signed.message.institution, nonce):
                    return entry
        return None

    def close(self) -> None:
        self.closed = True


class FakeReader:
    """`RecordReader.current`: the records of any asked subject in any asked category, as one query."""

    def __init__(self, records: Collection[CurrentRecord] = ()) -> None:
        self.records = list(records)
        #: the session each read was made in
        self.sessions: list[object] = []
        self.closed = False

    def current(
        self, session: object, subjects: Collection[str], categories: Collection[str]
    ) -> dict[str, list[CurrentRecord]]:
        self.sessions.append(session)
        found: dict[str, list[CurrentRecord]] = {}
        for r in self.records:
            if r.subject in subjects and r.category in categories:
                found.setdefault(r.subject, []).append(r)
        return found

    def close(self) -> None:
        self.closed = True


class FakeDb:
    """The platform database as the release service uses it: audit events of refusals."""

    def __init__(self) -> None:
        self.audited: list[Any] = []
        #: raised on opening a session: the database is down, or a defect
        self.fail: Exception | None = None

    @contextmanager
    def session(self) -> Iterator[SimpleNamespace]:
        if self.fail is not None:
            raise self.fail
        yield SimpleNamespace(add_all=lambda rows: self.audited.extend(rows))


@dataclasses.dataclass
class World:
    """A release service wired to fakes, and the fakes."""

    service: ReleaseService
    chain: FakeChain
    trail: FakeTrail
    reader: FakeReader
    db: FakeDb
    events: list[tuple[str, str]]

    def _answered(self, nonce: str) -> Callable[[Future[Release]], None]:
        return lambda _: self.events.append(("answered", nonce))

    def release_together(
        self, requests: Sequence[Signed[DataRequestMessage]], *, now: float = NOW
    ) -> list[Future[Release]]:
        """Submit `requests` so that they are handled as one batch; wait for every answer.

        A first request, which the chain refuses, holds the worker in the chain call while
        the others queue; then all of them are taken together.
        """
        with self.chain.held():
            gate = self.service.submit(request(institution=GATE, agreement_id=UNKNOWN_AGREEMENT), now=now)
            assert self.chain.waiting.wait(5), "the worker never reached the chain"
            futures = [self.service.submit(r, now=now) for r in requests]
            for r, future in zip(requests, futures, strict=True):
                future.add_done_callback(self._answered(nonce_of(r)))
        wait([gate, *futures], timeout=5)
        assert all(f.done() for f in futures), "a release was never answered"
        return futures


INSTITUTION = Account.from_key(b"\x11" * 32)
OTHER_INSTITUTION = Account.from_key(b"\x12" * 32)
GATE = Account.from_key(b"\x13" * 32)
_nonces = iter(range(1, 2**62))


def request(
    *,
    institution: LocalAccount = INSTITUTION,
    subject: str = sample_uscc(0),
    categories: int = 1,
    purpose: int = 1,
    agreement_id: int = 1,
    raw: bool = False,
    nonce: bytes | None = None,
    deadline: int = NOW + 120,
) -> Signed[DataRequestMessage]:
    """A data request signed by `institution` (a fresh nonce unless one is given)."""
    message = DataRequestMessage(
        institution.address, subject, categories, purpose, agreement_id, raw,
        nonce if nonce is not None else next(_nonces).to_bytes(32, "big"), deadline,
    )  # fmt: skip
    return sign(institution, DOMAIN, message)


def record(
    subject: str,
    category: str,
    fields: dict[str, Any],
    *,
    record_id: str | None = None,
    version: int = 1,
    repaired: bool = False,
    disputed: bool = False,
    event_date: date = date(2026, 3, 1),
    severity: str | None = None,
) -> CurrentRecord:
    rid = record_id or f"{category}-{subject}-{version}"
    return CurrentRecord(rid, version, subject, category, event_date, severity, disputed, repaired, fields)


def nonce_of(signed: Signed[DataRequestMessage]) -> str:
    """The nonce as the access trail records it."""
    return "data:0x" + signed.message.nonce.hex()


def world(records: Collection[CurrentRecord] = (), catalogue: Catalogue | None = None) -> World:
    events: list[tuple[str, str]] = []
    chain, trail, reader, db = FakeChain(), FakeTrail(events), FakeReader(records), FakeDb()
    service = ReleaseService(
        db,  # type: ignore[arg-type]
        domain=DOMAIN,
        reader=reader,  # type: ignore[arg-type]
        trail=trail,  # type: ignore[arg-type]
        authorizer=chain,  # type: ignore[arg-type]
        catalogue=catalogue,
    )
    return World(service, chain, trail, reader, db, events)

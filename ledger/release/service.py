"""The release path, in the order the promises demand, failing closed at every step.

1. verify the institution's signature and the deadline of its data request;
2. spend the request's nonce, refusing a replay, and ask the chain, in one call, whether
   the release is authorized and at which block B;
3. load the subject's current, releasable records of the categories;
4. desensitize them per the catalogue and the detail level the grant allows;
5. hash the exact response;
6. append the access-trail entry and wait until the transaction is durable;
7. only then return the data with its receipt.

Any error before step 7 means no data leaves: the caller gets the error, and the
refusal is written to the MLPS audit records without any data.

Concurrent releases go through these steps together: one worker thread takes every
request queued so far and verifies each; sends the chain one JSON-RPC batch of their
`authorize` calls (each still answers for itself, with its own block B); while the chain
evaluates them, opens the access trail's transaction, whose first round trip carries the
log's lock, the nonces and the read of all their subjects' records in one statement; then
reads the chain's answers, and only for a release whose nonce was new and which the chain
allowed builds the response and appends the entry. The two waits overlap instead of
adding up; what was read for a refused request is dropped unused. A nonce is spent with
the chain's answer, whatever it is (a refused request is not sent again: it is signed
anew), but not when the chain gives no answer: the transaction is then rolled back.
The read travels in the trail's transaction rather than on its own: one round trip fewer
per batch, and what is released is read under the same lock as its entry is logged.
Nothing is shared between the releases of a batch but the round trips: each has its own
decision, data, hash and entry, and fails alone unless a dependency fails for all. While
a batch is handled the next one queues, so batches grow with the load and the fixed cost
of each round trip is spread over more releases. One worker takes a batch through every
step: a handoff between a checking and a logging worker costs more than their overlap
gains, and two workers for the same step make batches smaller (the README's measured
figures).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from ledger.batching import BatchWorker
from ledger.bounded_cache import BoundedCache
from ledger.chain.authorize_call import AuthorizeCaller
from ledger.chain.consents import AuthorizationQuery, Decision
from ledger.chain.eip712 import Signed
from ledger.chain.membership import uscc_hash
from ledger.domain.business_day import BUSINESS_UTC_OFFSET_MINUTES, business_day
from ledger.domain.catalogue import Catalogue, CatalogueError, newest_catalogue
from ledger.domain.log_names import ACCESS_TRAIL_LOG
from ledger.domain.masking import mask_record
from ledger.domain.publicity import publication_ended
from ledger.errors import InvalidInput, LedgerError, Unavailable
from ledger.logs.canonical_json import canonical_json
from ledger.release.outcome import ChainRefused, Receipt, Released, check_fresh
from ledger.release.reader import CurrentRecord, RecordReader
from ledger.release.request import (
    DEFAULT_MAX_LIFETIME_SECONDS,
    DataRequestMessage,
    check_request_fields,
    release_nonce,
    request_to_json,
    verify_data_request,
)
from ledger.release.trail import AccessTrail, TrailEntry, replayed
from ledger.services import audit_events
from ledger.storage.database import Database

#: most releases checked together; more wait for the next batch
MAX_BATCH = 64
#: released records kept rendered (masked, as canonical JSON); a record version never changes
RENDERED_CACHE_SIZE = 20_000
#: how long a caller waits for its release before it is told the platform is unavailable
RELEASE_TIMEOUT_SECONDS = 30.0
#: the oldest a decision's block may be at the release's time (`LEDGER_MAX_BLOCK_AGE_SECONDS`)
DEFAULT_MAX_BLOCK_AGE_SECONDS = 30


class ReleaseRefused(ChainRefused):
    """The chain refused the release; `reason` is the contract's reason code."""

    code = "release_refused"
    noun = "release"


#: the released data (subject, block B and the records) and its receipt
Release = Released


def response_hash(data: dict[str, Any]) -> bytes:
    """SHA-256 of the RFC 8785 canonical JSON of exactly what is released (as a client checks it)."""
    return hashlib.sha256(canonical_json(data)).digest()


@dataclass
class _Job:
    """One release on its way through a batch."""

    signed: Signed[DataRequestMessage]
    #: the release's own time, as recorded in its trail entry (microseconds, UTC)
    released_at: datetime
    result: Future[Release] = field(default_factory=Future)
    subject: str = ""
    categories: list[str] = field(default_factory=list)
    level: int = 0
    decision: Decision | None = None
    record_count: int = 0
    data_json: bytes = b""
    digest: bytes = b""
    entry: TrailEntry | None = None

    @property
    def now(self) -> float:
        return self.released_at.timestamp()

    @property
    def at(self) -> int:
        """The release's time in whole seconds: the chain judges expiries at it, as the auditor does."""
        return int(self.released_at.timestamp())


#: refused releases of a batch and why: audited at the end of the batch, then answered
Refusals = list[tuple[_Job, LedgerError]]


class ReleaseService:
    """The one path by which an enterprise's data reaches an institution.

    Owns a worker thread and the chain connection; `close` stops them. Usable
    without HTTP: `release` blocks, `release_async` awaits, `submit` returns the future.
    `domain` is the EIP-712 domain data requests are signed under
    (`ledger.release.request.request_domain`).
    """

    def __init__(
        self,
        db: Database,
        *,
        domain: dict[str, Any],
        reader: RecordReader,
        trail: AccessTrail,
        authorizer: AuthorizeCaller,
        catalogue: Catalogue | None = None,
        max_block_age_seconds: int = DEFAULT_MAX_BLOCK_AGE_SECONDS,
        max_lifetime_seconds: int = DEFAULT_MAX_LIFETIME_SECONDS,
        utc_offset_minutes: int = BUSINESS_UTC_OFFSET_MINUTES,
    ) -> None:
        self.db = db
        self.utc_offset_minutes = utc_offset_minutes  # of the business day publicity is judged on
        self.max_block_age_seconds = max_block_age_seconds
        self.max_lifetime_seconds = max_lifetime_seconds
        self.reader = reader
        self.trail = trail
        self.authorizer = authorizer
        # the newest packaged version: each version only adds fields to the one before
        # (same bits, same levels, same masking; tests/unit/test_catalogue_v2.py),
        # so it renders records of every version - a v2 record's `industry` included -
        # at the level any version in force gives
        self.catalogue = catalogue or newest_catalogue()
        self.domain = domain
        # a released record's rendering depends only on its version, its flags and the
        # detail level: masking and encoding it once serves every later release of it
        self._rendered: BoundedCache[tuple[str, int, bool, bool], bytes] = BoundedCache(RENDERED_CACHE_SIZE)
        self._worker: BatchWorker[_Job] = BatchWorker("release", self._batch, self._fail, max_batch=MAX_BATCH)

    def submit(self, signed: Signed[DataRequestMessage], *, now: float | None = None) -> Future[Release]:
        """Queue a release; the future holds the data and receipt, or the refusal (audited)."""
        job = _Job(signed, datetime.fromtimestamp(time.time() if now is None else now, UTC))
        self._worker.put(job)
        return job.result

    def release(
        self,
        signed: Signed[DataRequestMessage],
        *,
        now: float | None = None,
        timeout: float = RELEASE_TIMEOUT_SECONDS,
    ) -> Release:
        """Release what `signed` asks for, or raise; every refusal is audited."""
        try:
            return self.submit(signed, now=now).result(timeout)
        except FutureTimeout:
            raise _timed_out() from None

    async def release_async(
        self, signed: Signed[DataRequestMessage], *, timeout: float = RELEASE_TIMEOUT_SECONDS
    ) -> Release:
        """`release` for an event loop: it waits without holding a thread."""
        try:
            return await asyncio.wait_for(asyncio.wrap_future(self.submit(signed)), timeout)
        except TimeoutError:
            raise _timed_out() from None

    def close(self) -> None:
        self._worker.close()
        self.authorizer.close()
        self.reader.close()
        self.trail.close()

    # -- the batch, step by step -------------------------------------------------------

    def _batch(self, queued: list[_Job]) -> None:
        """Steps 1-7 for a batch, then the refusals audited and answered."""
        # a caller that gave up before its turn (timeout) cancelled its job: skip it; once
        # running, a job can no longer be cancelled, so every answer below can be set
        jobs = [job for job in queued if job.result.set_running_or_notify_cancel()]
        refusals: Refusals = []
        checked = self._settle_failures(jobs, self._check_request, refusals)
        if checked:
            self._decide_build_and_log(checked, refusals)
        self._answer_refusals(refusals)

    def _settle_failures(
        self,
        jobs: list[_Job],
        step: Callable[[_Job], None],
        refusals: Refusals,
    ) -> list[_Job]:
        """Run `step` on each job; a job whose step raised is refused, alone."""
        passed = []
        for job in jobs:
            try:
                step(job)
            except LedgerError as exc:
                self._refuse([job], exc, refusals)
            except Exception as exc:  # a defect must still refuse, never release
                self._refuse([job], Unavailable(f"release failed: {exc!r}"), refusals)
            else:
                passed.append(job)
        return passed

    def _check_request(self, job: _Job) -> None:
        """Step 1 and the request's shape: signature, deadline, ranges, categories, purpose, subject.

        Whatever this refuses fails the one release alone, before it can touch the batch's
        shared transaction.
        """
        request = job.signed.message
        verify_data_request(job.signed, self.domain, now=job.now)
        check_request_fields(request, now=job.now, max_lifetime=self.max_lifetime_seconds)
        job.categories = self._category_names(request.categories)
        self._check_purpose(request.purpose)
        job.subject = request.subject  # canonical, as check_request_fields insists
        job.level = self.catalogue.max_level(job.categories, raw=request.raw)

    def _build(self, job: _Job, found: dict[str, list[CurrentRecord]]) -> None:
        """Steps 3-5: the job's records, desensitized, and the hash of exactly that.

        Repaired records, and dishonesty records past their maximum publicity period,
        are never shared again: they are left out here.
        """
        decision = job.decision
        assert decision is not None  # set by _authorize for every job that reaches here
        raw_categories = decision.raw_categories if job.signed.message.raw else 0
        wanted = set(job.categories)
        today = business_day(job.released_at, self.utc_offset_minutes)
        records = sorted(
            (r for r in found.get(job.subject, ()) if r.category in wanted),
            key=lambda r: (r.category, r.event_date, r.record_id),
        )
        rendered = [
            self._render(record, raw_categories)
            for record in records
            if not (record.repaired or self._expired(record, today))
        ]
        job.record_count = len(rendered)
        job.data_json = released_json(job.subject, decision.block_number, rendered)
        job.digest = hashlib.sha256(job.data_json).digest()  # = response_hash(Release.data)
        job.entry = self._entry(job)

    def _decide_build_and_log(self, jobs: list[_Job], refusals: Refusals) -> None:
        """Steps 2-7 in one access-trail transaction, then each release answered once it committed.

        The chain's calls go out first and are answered while the trail's first round trip
        (lock, nonces, records) is on its way: the two waits overlap. Nothing read is used
        before the chain's decision: a release is built and logged only once allowed.
        """
        alone: Refusals = []  # refusals of single jobs (replay, chain, defect): theirs whatever else happens
        try:
            with (
                self.authorizer.deciding([_query(job) for job in jobs]) as decisions,
                self.trail.transaction() as tx,
            ):
                fresh = tx.spend_nonces([_nonce(job) for job in jobs])
                subjects = {job.subject for job in jobs}
                categories = {c for job in jobs for c in job.categories}
                found = self.reader.current(tx.session, subjects, categories)  # same round trip
                spent, answers = fresh(), decisions()
                self._check_fresh(jobs, answers)  # a stale chain refuses the batch, nonces unspent
                allowed = []
                for job, is_new, decision in zip(jobs, spent, answers, strict=True):
                    if not is_new:
                        alone.append((job, replayed(*_nonce(job))))
                    elif not decision.allowed:
                        alone.append((job, ReleaseRefused(decision.reason, decision.block_number)))
                    else:
                        job.decision = decision
                        allowed.append(job)
                built = self._settle_failures(allowed, lambda job: self._build(job, found), alone)
                appended = tx.append([_built_entry(job) for job in built])
        except Exception as exc:  # nothing of the transaction was kept: nothing is released
            error = exc if isinstance(exc, LedgerError) else Unavailable(f"release failed: {exc!r}")
            settled = {id(job) for job, _ in alone}
            refusals.extend(alone)
            self._refuse([job for job in jobs if id(job) not in settled], error, refusals)
            return
        refusals.extend(alone)
        for job, entry in zip(built, appended, strict=True):
            assert job.decision is not None
            block = job.decision.block_number
            receipt = Receipt(ACCESS_TRAIL_LOG, entry.seq, entry.leaf_hash, block, job.digest)
            job.result.set_result(Release(receipt=receipt, data_json=job.data_json))

    def _check_fresh(self, jobs: list[_Job], decisions: list[Decision]) -> None:
        """Refuse the batch when a decision rests on a block too old for its release's time
        (`check_fresh`). The chain's state is shared by the batch, so the batch is refused:
        raised inside the trail transaction, which then keeps nothing (nonces unspent).
        """
        for job, decision in zip(jobs, decisions, strict=True):
            check_fresh(decision, job.at, self.max_block_age_seconds, nothing="released")

    def _entry(self, job: _Job) -> TrailEntry:
        """The access-trail entry of a release: who, what, why, under which grant, at B."""
        request, decision = job.signed.message, job.decision
        assert decision is not None
        payload = {
            "institution": request.institution,
            "subject": job.subject,
            "categories": str(request.categories),
            "purpose": str(request.purpose),
            "agreement_id": request.agreement_id,
            "grant_id": decision.grant_id,
            "raw_categories": str(decision.raw_categories if request.raw else 0),
            "level": job.level,
            "block": decision.block_number,
            "response_hash": "0x" + job.digest.hex(),
            "released_at": job.released_at.isoformat(),
            "record_count": job.record_count,
            "request": request_to_json(job.signed),
        }
        return TrailEntry(payload, *_nonce(job))

    def _refuse(self, jobs: list[_Job], error: LedgerError, refusals: Refusals) -> None:
        refusals.extend((job, error) for job in jobs)

    def _fail(self, jobs: list[_Job], exc: BaseException) -> None:
        failure = Unavailable(f"release failed, nothing released: {exc!r}")
        for job in jobs:
            if not job.result.done():
                with contextlib.suppress(InvalidStateError):  # cancelled while queued
                    job.result.set_exception(failure)

    def _category_names(self, mask: int) -> list[str]:
        if mask <= 0:
            raise InvalidInput("request.categories: name at least one category")
        try:
            return self.catalogue.categories_in_mask(mask)
        except CatalogueError as exc:
            raise InvalidInput(f"request.categories: {exc.message}") from None

    def _check_purpose(self, mask: int) -> None:
        known = {p.bit for p in self.catalogue.purposes}
        if mask <= 0 or mask & (mask - 1) or mask.bit_length() - 1 not in known:
            raise InvalidInput("request.purpose: exactly one purpose of the catalogue, as a one-bit mask")

    def _render(self, record: CurrentRecord, raw_categories: int) -> bytes:
        """A released record, masked unless its category is granted raw, as canonical JSON."""
        raw = bool(raw_categories >> self.catalogue.category(record.category).bit & 1)
        key = (record.record_id, record.version, raw, record.disputed)
        rendered = self._rendered.get(key)
        if rendered is None:
            rendered = canonical_json({
                "record_id": record.record_id,
                "version": record.version,
                "category": record.category,
                "event_date": record.event_date.isoformat(),
                "severity": record.severity,
                "detail": "raw" if raw else "masked",
                "disputed": record.disputed,  # an objection is open
                "fields": mask_record(record.category, record.fields, raw, catalogue=self.catalogue),
            })  # fmt: skip
            self._rendered.put(key, rendered)
        return rendered

    def _expired(self, record: CurrentRecord, today: date) -> bool:
        """A dishonesty record leaves publication, and sharing, at its maximum publicity period."""
        return publication_ended(self.catalogue, record.category, record.severity, record.event_date, today)

    def _answer_refusals(self, refusals: Refusals) -> None:
        """Write the batch's refusals to the MLPS audit records, then tell each caller."""
        if refusals:
            with contextlib.suppress(LedgerError):  # the database is down: refused all the same
                audit_events.record_all(self.db, [_audit_entry(job.signed.message, e) for job, e in refusals])
        for job, error in refusals:
            job.result.set_exception(error)


def _query(job: _Job) -> AuthorizationQuery:
    """What the chain is asked for a release: the request's terms at its detail level."""
    request = job.signed.message
    return AuthorizationQuery(
        request.institution,
        uscc_hash(job.subject),
        request.categories,
        request.purpose,
        request.agreement_id,
        job.level,
        job.at,
    )


def _built_entry(job: _Job) -> TrailEntry:
    assert job.entry is not None  # `_build` sets it for every job it passes
    return job.entry


def _nonce(job: _Job) -> tuple[str, str]:
    """The (signer, nonce) pair a release spends in the access trail."""
    return job.signed.message.institution, release_nonce(job.signed.message.nonce)


def released_json(subject: str, block: int, records: list[bytes]) -> bytes:
    """The RFC 8785 JSON of `{"subject", "block", "records"}`, given each record's RFC 8785 JSON.

    Why assembled: an RFC 8785 object is its members in key order, each value in its own
    canonical form, so canonical parts joined in that order are the canonical whole;
    encoding the whole again would walk every record each release. (A test holds it
    equal to `canonical_json` of the same object.)
    """
    parts = (canonical_json(block), b",".join(records), canonical_json(subject))
    return b'{"block":%b,"records":[%b],"subject":%b}' % parts


def _audit_entry(m: DataRequestMessage, error: LedgerError) -> tuple[str, str, str, str]:
    detail = (
        f"{error.code}: {error.message}; subject={m.subject} categories={m.categories} "
        f"purpose={m.purpose} agreement={m.agreement_id}"
    )
    return (m.institution, "release", "refused", detail)


def _timed_out() -> Unavailable:
    return Unavailable("the release did not complete in time; no data was returned")

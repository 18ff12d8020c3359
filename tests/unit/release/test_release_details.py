"""The release service's other promises: the trail entry names everything, the decision's
block is fresh, dishonesty records leave sharing with publication, and the blocking and
async ways in answer as the queue does."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest

from ledger.chain.errors import ChainStale
from ledger.errors import Unavailable
from ledger.records.samples import sample_uscc
from ledger.release.request import request_to_json
from ledger.release.service import DEFAULT_MAX_BLOCK_AGE_SECONDS
from tests.unit.release.fakes import BLOCK, NOW, World, decision, record, request, world

ACME = sample_uscc(0)
JUDICIAL = 1 << 3
CASE = {"case_number": "(2026)豫01民初1号", "court": "郑州市中级人民法院"}
# NOW is 2027-01-15: a general judicial record is published, and shared, for 365 days
RECENT = record(
    ACME, "judicial", CASE, record_id="J-recent", event_date=date(2026, 12, 1), severity="general"
)
#: the whole message a caller gets when its release did not complete in time
TIMED_OUT = r"^the release did not complete in time; no data was returned$"
ENDED = record(ACME, "judicial", CASE, record_id="J-ended", event_date=date(2025, 12, 1), severity="general")


@pytest.fixture
def w() -> Iterator[World]:
    made = world([RECENT, ENDED])
    made.chain.decisions[1] = decision(grant_id=3)
    yield made
    made.service.close()


def test_the_trail_entry_names_who_what_why_under_which_grant_when_and_the_request(w: World) -> None:
    asked = request(categories=JUDICIAL, purpose=2, agreement_id=1)
    [future] = w.release_together([asked])
    release = future.result()
    entry = w.trail.entry_of(asked)
    assert entry is not None
    assert dict(entry.payload) == {
        "institution": asked.message.institution,
        "subject": ACME,
        "categories": str(JUDICIAL),
        "purpose": "2",
        "agreement_id": 1,
        "grant_id": 3,
        "raw_categories": "0",
        "level": w.service.catalogue.max_level(["judicial"], raw=False),
        "block": BLOCK,
        "response_hash": "0x" + release.receipt.response_hash.hex(),
        "released_at": "2027-01-15T08:00:00+00:00",
        "record_count": 1,
        "request": request_to_json(asked),
    }
    assert (entry.signer, entry.nonce) == (asked.message.institution, "data:0x" + asked.message.nonce.hex())


def test_a_dishonesty_record_past_its_publicity_period_is_not_shared(w: World) -> None:
    [future] = w.release_together([request(categories=JUDICIAL)])
    assert [r["record_id"] for r in future.result().data["records"]] == ["J-recent"]


def test_a_decision_on_a_block_older_than_the_bound_refuses_the_batch_and_spends_no_nonce(w: World) -> None:
    w.chain.lag = DEFAULT_MAX_BLOCK_AGE_SECONDS + 1
    asked = [request(categories=JUDICIAL), request(categories=JUDICIAL)]
    futures = w.release_together(asked)
    for future in futures:
        with pytest.raises(ChainStale) as stale:
            future.result()
        assert stale.value.message == (
            f"the chain's latest block {BLOCK} is {DEFAULT_MAX_BLOCK_AGE_SECONDS + 1} s old "
            f"(at most {DEFAULT_MAX_BLOCK_AGE_SECONDS} s): nothing released"
        )
    assert not any(c.entries or c.spent for c in w.trail.committed)
    w.chain.lag = DEFAULT_MAX_BLOCK_AGE_SECONDS  # at the bound: fresh enough, and the nonces unspent
    assert all(f.result().data["subject"] == ACME for f in w.release_together(asked))


def test_release_blocks_until_answered_and_release_async_awaits(w: World) -> None:
    assert w.service.release(request(categories=JUDICIAL), now=NOW).data["subject"] == ACME
    live = request(categories=JUDICIAL, deadline=int(time.time()) + 60)  # judged at the real time
    released = asyncio.run(w.service.release_async(live))
    entry = w.trail.entry_of(live)
    assert released.data["subject"] == ACME and entry is not None
    released_at = datetime.fromisoformat(entry.payload["released_at"])
    assert released_at.utcoffset() == timedelta(0) and abs(released_at.timestamp() - time.time()) < 30


def test_a_release_not_answered_in_time_is_unavailable(w: World) -> None:
    with w.chain.held():
        with pytest.raises(Unavailable, match=TIMED_OUT):
            w.service.release(request(categories=JUDICIAL), now=NOW, timeout=0.2)
        live = request(categories=JUDICIAL, deadline=int(time.time()) + 60)
        with pytest.raises(Unavailable, match=TIMED_OUT):
            asyncio.run(w.service.release_async(live, timeout=0.2))

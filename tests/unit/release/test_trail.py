"""The access trail on SQLite: nonces spent once, entries in order with their index, all or nothing.

A release's entry is appended only with its request's nonce spent in the same
transaction; what a transaction did is kept only if it commits, and a failure inside it
is reported by what failed: the trail as `Unavailable` naming it, the chain's
`Unavailable` as the chain's, anything else as raised.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from ledger.chain.errors import ChainUnavailable
from ledger.domain.log_names import ACCESS_LEAF_TYPE, ACCESS_TRAIL_LOG
from ledger.errors import Conflict, Unavailable
from ledger.logs.leaves import decode_leaf
from ledger.logs.models import LogEntry
from ledger.logs.store import AppendedEntry, committed_size
from ledger.merkle.rfc9162 import hash_leaf
from ledger.records.samples import sample_uscc
from ledger.release.models import AccessRelease
from ledger.release.trail import (
    AccessTrail,
    ReplayedDataRequest,
    TrailEntry,
    TrailTransaction,
    replayed,
)
from ledger.storage.database import Database, DatabaseUnavailable
from ledger.storage.models import RequestNonce

BANK, INSURER = "0x" + "b1" * 20, "0x" + "b2" * 20
ACME, OTHER = sample_uscc(0), sample_uscc(1)


def entry(signer: str, nonce: str, subject: str = ACME, at: str = "2027-01-15T08:00:00+00:00") -> TrailEntry:
    payload = {"institution": signer, "subject": subject, "released_at": at, "nonce": nonce}
    return TrailEntry(payload, signer, nonce)


@pytest.fixture
def trail(sqlite_db: Database) -> Iterator[AccessTrail]:
    found = AccessTrail(sqlite_db)
    yield found
    found.close()


def stored(
    db: Database,
) -> tuple[int, list[tuple[int, str, bytes, bytes]], list[tuple[int, str, str, datetime]]]:
    """The trail's committed size, its entries (seq, type, leaf, hash) and its index rows."""
    with db.session() as session:
        size = committed_size(session, ACCESS_TRAIL_LOG)
        entries = [
            (e.seq, e.log_name, bytes(e.leaf), bytes(e.leaf_hash))
            for e in session.scalars(select(LogEntry).order_by(LogEntry.seq))
        ]
        index = [
            (r.seq, r.subject, r.institution, r.released_at)
            for r in session.scalars(select(AccessRelease).order_by(AccessRelease.seq))
        ]
    return size, entries, index


def nonces(db: Database) -> list[tuple[str, str, datetime]]:
    with db.session() as session:
        return [
            (n.signer, n.nonce, n.seen_at)
            for n in session.scalars(select(RequestNonce).order_by(RequestNonce.id))
        ]


def test_entries_land_in_order_with_their_index_rows_once_committed(
    trail: AccessTrail, sqlite_db: Database
) -> None:
    first, second = entry(BANK, "n1"), entry(INSURER, "n2", OTHER, "2027-01-15T09:30:00+00:00")
    with trail.transaction() as tx:
        assert tx.spend_nonces([(BANK, "n1"), (INSURER, "n2")])() == [True, True]
        appended = tx.append([first, second])
        assert stored(sqlite_db)[0] == 0  # nothing visible before the commit
    assert [a.seq for a in appended] == [0, 1]
    size, entries, index = stored(sqlite_db)
    assert size == 2
    assert [(seq, log) for seq, log, _, _ in entries] == [(0, ACCESS_TRAIL_LOG), (1, ACCESS_TRAIL_LOG)]
    for (seq, _, leaf, leaf_hash), made, appended_entry in zip(
        entries, (first, second), appended, strict=True
    ):
        decoded = decode_leaf(leaf)
        assert (decoded.type, decoded.seq, decoded.payload) == (ACCESS_LEAF_TYPE, seq, made.payload)
        assert leaf_hash == hash_leaf(leaf) == appended_entry.leaf_hash and leaf == appended_entry.leaf
    assert [(seq, subject, institution) for seq, subject, institution, _ in index] == [
        (0, ACME, BANK),
        (1, OTHER, INSURER),
    ]
    released = [at if at.tzinfo else at.replace(tzinfo=UTC) for _, _, _, at in index]
    assert released == [datetime(2027, 1, 15, 8, tzinfo=UTC), datetime(2027, 1, 15, 9, 30, tzinfo=UTC)]

    with trail.transaction() as tx:  # the next transaction continues the sequence
        assert tx.spend_nonces([(BANK, "n3")])() == [True]
        assert [a.seq for a in tx.append([entry(BANK, "n3")])] == [2]
    assert stored(sqlite_db)[0] == 3


def test_a_nonce_is_new_once_in_a_batch_and_never_again(trail: AccessTrail, sqlite_db: Database) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    with trail.transaction() as tx:
        assert tx.spend_nonces([(BANK, "n1"), (BANK, "n1"), (INSURER, "n1")])() == [True, False, True]
    with trail.transaction() as tx:
        # spent for good; the same nonce of another signer is another request
        assert tx.spend_nonces([(BANK, "n2"), (INSURER, "n1"), (BANK, "n1")])() == [True, False, False]
        assert tx.spend_nonces([])() == []
    seen = nonces(sqlite_db)
    assert [(signer, nonce) for signer, nonce, _ in seen] == [(BANK, "n1"), (INSURER, "n1"), (BANK, "n2")]
    after = datetime.now(UTC) + timedelta(seconds=1)
    for _, _, at in seen:
        assert before <= (at if at.tzinfo else at.replace(tzinfo=UTC)) <= after


def test_a_nonce_is_stamped_with_the_time_in_utc_whatever_the_local_zone(
    trail: AccessTrail, sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "Asia/Shanghai")  # UTC+8 all year
    time.tzset()
    try:
        before = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=1)
        with trail.transaction() as tx:
            tx.spend_nonces([(BANK, "n1")])()
        after = datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=1)
    finally:
        monkeypatch.undo()
        time.tzset()
    [(_, _, seen_at)] = nonces(sqlite_db)
    assert seen_at.tzinfo is None and before <= seen_at <= after  # SQLite keeps the UTC wall time


class ShortWriter:
    """A log writer that answers one entry short, as a defective store would."""

    def append(self, items: list[tuple[str, object]]) -> list[AppendedEntry]:
        return [AppendedEntry(seq, b"{}", bytes(32)) for seq in range(len(items) - 1)]


def test_a_log_answering_one_short_is_an_error_not_a_missing_index_row(sqlite_db: Database) -> None:
    with sqlite_db.session() as session:
        tx = TrailTransaction(session, ShortWriter())  # type: ignore[arg-type]
        assert tx.spend_nonces([(BANK, "n1"), (BANK, "n2")])() == [True, True]
        with pytest.raises(ValueError, match="longer"):
            tx.append([entry(BANK, "n1"), entry(BANK, "n2")])
        session.rollback()


def test_an_entry_whose_nonce_was_not_spent_here_is_refused(trail: AccessTrail, sqlite_db: Database) -> None:
    with trail.transaction() as tx:
        tx.spend_nonces([(BANK, "n1")])()
    with (
        pytest.raises(ValueError, match=r"^entry of nonce n1 appended without spending it here$"),
        trail.transaction() as tx,
    ):
        tx.append([entry(BANK, "n1")])  # spent, but by an earlier transaction
    with pytest.raises(ValueError, match="entry of nonce n2 appended"), trail.transaction() as tx:
        assert tx.spend_nonces([(BANK, "n2"), (BANK, "n2")])() == [True, False]
        tx.append([entry(BANK, "n2"), entry(INSURER, "n2")])  # the second signer's was never spent
    with pytest.raises(ValueError, match="entry of nonce n1 appended"), trail.transaction() as tx:
        assert tx.spend_nonces([(BANK, "n3"), (BANK, "n1")])() == [True, False]
        tx.append([entry(BANK, "n3"), entry(BANK, "n1")])  # n1 was refused here: not this one's to use
    assert stored(sqlite_db) == (0, [], [])


def test_nothing_of_a_failed_transaction_is_kept(trail: AccessTrail, sqlite_db: Database) -> None:
    with pytest.raises(KeyError), trail.transaction() as tx:
        assert tx.spend_nonces([(BANK, "n1")])() == [True]
        tx.append([entry(BANK, "n1")])
        raise KeyError("a defect after the append")
    assert stored(sqlite_db) == (0, [], []) and nonces(sqlite_db) == []
    with trail.transaction() as tx:  # the nonce was not spent: the request can still be served
        assert tx.spend_nonces([(BANK, "n1")])() == [True]
        assert [a.seq for a in tx.append([entry(BANK, "n1")])] == [0]
    assert stored(sqlite_db)[0] == 1


def test_a_failure_of_the_trail_is_reported_as_the_trail_unavailable(trail: AccessTrail) -> None:
    for cause in (DatabaseUnavailable("disk full"), Conflict("a defect of the log")):
        with pytest.raises(Unavailable) as raised, trail.transaction():
            raise cause
        assert type(raised.value) is Unavailable
        assert raised.value.message == f"access trail append failed, nothing released: {cause.message}"
        assert raised.value.__cause__ is cause


def test_the_chain_unavailable_in_the_block_surfaces_as_the_chains(trail: AccessTrail) -> None:
    cause = ChainUnavailable("node down")
    with pytest.raises(ChainUnavailable) as raised, trail.transaction():
        raise cause
    assert raised.value is cause
    with trail.transaction() as tx:  # the trail is usable after any failure
        assert tx.spend_nonces([(BANK, "n1")])() == [True]


def test_a_replay_is_a_conflict_naming_the_nonce_and_signer() -> None:
    refusal = replayed(BANK, "data:0x01")
    assert isinstance(refusal, ReplayedDataRequest) and isinstance(refusal, Conflict)
    assert refusal.code == "replayed_request"
    assert refusal.message == f"replayed data request: nonce data:0x01 of {BANK} was already used"

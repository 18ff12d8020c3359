"""The access trail: one RFC 9162 log entry per release, durable before data leaves.

Appends are group-committed: the release worker opens one transaction for a whole batch
of releases (`AccessTrail.transaction`), spends their requests' nonces, reads their
records in it, and appends their entries. One commit (one fsync) then serves many
releases, which is what lets the authorized path keep up with a bare read, without
weakening the promise: a release gets its receipt only after the commit that holds its
entry, and a failed commit fails every release in the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from ledger.domain.log_names import ACCESS_LEAF_TYPE, ACCESS_TRAIL_LOG
from ledger.errors import Conflict, LedgerError, Unavailable
from ledger.logs.store import AppendedEntry, LogWriter, open_for_append
from ledger.release.models import AccessRelease
from ledger.storage import driver_sql
from ledger.storage.bulk import bulk_insert
from ledger.storage.database import Database, DatabaseUnavailable
from ledger.storage.models import RequestNonce

_INDEX = cast(Table, AccessRelease.__table__)


class ReplayedDataRequest(Conflict):
    code = "replayed_request"


@dataclass(frozen=True)
class TrailEntry:
    """What one release writes: the entry's payload, and the request nonce it spends."""

    payload: Mapping[str, Any]
    signer: str
    nonce: str
    #: the leaf's type tag: a release, or another result released through the trail
    #: (an evaluation, `ledger.evaluation_release`)
    type: str = ACCESS_LEAF_TYPE


def _insert_nonces(session: Session, keys: Sequence[tuple[str, str]]) -> Callable[[], set[tuple[str, str]]]:
    """Send the batch's nonces in one statement; what is returned gives those that were new.

    The unique constraint decides: a nonce used before (or twice in the batch) is skipped
    by ON CONFLICT DO NOTHING and so missing from what the statement returns. Written as
    driver SQL (`storage.driver_sql`), which PostgreSQL and SQLite both accept: the release
    path runs it for every batch. Its answer is read only when asked for, so statements
    sent meanwhile share its round trip.
    """
    rows = ", ".join(f"(:s{i}, :n{i}, :seen_at)" for i in range(len(keys)))
    sql = (
        f"INSERT INTO request_nonces (signer, nonce, seen_at) VALUES {rows} "
        "ON CONFLICT DO NOTHING RETURNING signer, nonce"
    )
    seen_at = driver_sql.bind(session, RequestNonce.__table__.c.seen_at.type, datetime.now(UTC))
    params: dict[str, Any] = {"seen_at": seen_at}
    for i, (signer, nonce) in enumerate(keys):
        params[f"s{i}"], params[f"n{i}"] = signer, nonce
    returned = driver_sql.query_deferred(session, sql, params)
    return lambda: {(signer, nonce) for signer, nonce in returned()}


def _index_row(seq: int, payload: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "seq": seq,
        "subject": payload["subject"],
        "institution": payload["institution"],
        "released_at": datetime.fromisoformat(payload["released_at"]),
    }


class TrailTransaction:
    """One open access-trail transaction: the log's lock is held until it commits."""

    def __init__(self, session: Session, writer: LogWriter) -> None:
        #: the transaction's session: reads made with it see every earlier batch's commit
        self.session = session
        self._writer = writer
        self._spent: set[tuple[str, str]] = set()

    def spend_nonces(self, keys: Sequence[tuple[str, str]]) -> Callable[[], list[bool]]:
        """Record (signer, nonce) pairs; what is returned says, per pair, whether it was new.

        The statement is sent at once and its answer read when asked for, so a read made
        in between shares its round trip. The same pair twice in one call: only the first
        is new. Only entries whose nonce was new may be appended.
        """
        if not keys:
            return lambda: []
        fresh = _insert_nonces(self.session, keys)

        def which() -> list[bool]:
            new, result = fresh(), []
            for key in keys:
                is_new = key in new
                if is_new:
                    new.discard(key)  # the same nonce twice in one batch: only the first wins
                    self._spent.add(key)
                result.append(is_new)
            return result

        return which

    def append(self, entries: Sequence[TrailEntry]) -> list[AppendedEntry]:
        """Append the entries, in order; each must have spent its nonce in this transaction."""
        for entry in entries:
            if (entry.signer, entry.nonce) not in self._spent:
                raise ValueError(f"entry of nonce {entry.nonce} appended without spending it here")
        appended = self._writer.append([(entry.type, entry.payload) for entry in entries])
        bulk_insert(
            self.session,
            _INDEX,
            [_index_row(e.seq, a.payload) for e, a in zip(appended, entries, strict=True)],
        )
        return appended


class AccessTrail:
    """Durable, group-committed appends to the access-trail log."""

    def __init__(self, db: Database) -> None:
        self._session = db.standing_session()  # appends come batch after batch from one worker

    def close(self) -> None:
        self._session.close()

    @contextmanager
    def transaction(self) -> Iterator[TrailTransaction]:
        """The access trail's lock and a transaction, committed when the block ends.

        Two round trips: BEGIN, the log's lock and the first statements of the block (the
        nonces, the batch's record read) travel together, then the writes and COMMIT. If
        the block or the commit fails, nothing of it is kept; a failure of the trail surfaces
        as `Unavailable` naming it, another dependency's `Unavailable` (the chain's) and
        any other error as raised.
        """
        try:
            with self._session.use() as session, driver_sql.transaction(session):
                yield TrailTransaction(session, open_for_append(session, ACCESS_TRAIL_LOG))
        except LedgerError as exc:
            if isinstance(exc, Unavailable) and not isinstance(exc, DatabaseUnavailable):
                raise  # another dependency of the block failed (the chain): its own error says so
            raise Unavailable(f"access trail append failed, nothing released: {exc.message}") from exc


def replayed(signer: str, nonce: str) -> ReplayedDataRequest:
    return ReplayedDataRequest(f"replayed data request: nonce {nonce} of {signer} was already used")

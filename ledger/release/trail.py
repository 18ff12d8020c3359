"""The access trail: one RFC 9162 log entry per release, durable before data leaves.

Appends are group-committed: the release worker hands over the entries of a whole batch
of releases, which are appended in a single transaction together with each request's
nonce. One commit (one fsync) then serves many releases, which is what lets the
authorized path keep up with a bare read, without weakening the promise: a release
gets its receipt only after the commit that holds its entry, and a failed commit fails
every release in the batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from ledger.errors import Conflict, LedgerError, Unavailable
from ledger.logs.store import AppendedEntry, open_for_append
from ledger.release.models import AccessRelease
from ledger.storage import driver_sql
from ledger.storage.bulk import bulk_insert
from ledger.storage.database import Database
from ledger.storage.models import RequestNonce

ACCESS_TRAIL_LOG = "access-trail"
ACCESS_ENTRY_TYPE = "access"
_INDEX = cast(Table, AccessRelease.__table__)


class ReplayedDataRequest(Conflict):
    code = "replayed_request"


@dataclass(frozen=True)
class TrailEntry:
    """What one release writes: the entry's payload, and the request nonce it spends."""

    payload: Mapping[str, Any]
    signer: str
    nonce: str


def _insert_nonces(session: Session, entries: Sequence[TrailEntry]) -> set[tuple[str, str]]:
    """Record the batch's nonces in one statement; returns those that were new.

    The unique constraint decides: a nonce used before (or twice in the batch) is skipped
    by ON CONFLICT DO NOTHING and so missing from what the statement returns. Written as
    driver SQL (`storage.driver_sql`), which PostgreSQL and SQLite both accept: the release
    path runs it for every batch.
    """
    rows = ", ".join(f"(:s{i}, :n{i}, :seen_at)" for i in range(len(entries)))
    sql = (
        f"INSERT INTO request_nonces (signer, nonce, seen_at) VALUES {rows} "
        "ON CONFLICT DO NOTHING RETURNING signer, nonce"
    )
    seen_at = driver_sql.bind(session, RequestNonce.__table__.c.seen_at.type, datetime.now(UTC))
    params: dict[str, Any] = {"seen_at": seen_at}
    for i, entry in enumerate(entries):
        params[f"s{i}"], params[f"n{i}"] = entry.signer, entry.nonce
    return {(signer, nonce) for signer, nonce in driver_sql.query(session, sql, params)}


def _index_row(seq: int, payload: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "seq": seq,
        "subject": payload["subject"],
        "institution": payload["institution"],
        "released_at": datetime.fromisoformat(payload["released_at"]),
    }


class AccessTrail:
    """Durable, group-committed appends to the access-trail log."""

    def __init__(self, db: Database) -> None:
        self._session = db.standing_session()  # appends come batch after batch from one worker

    def close(self) -> None:
        self._session.close()

    def append(self, entries: Sequence[TrailEntry]) -> list[AppendedEntry | ReplayedDataRequest]:
        """Append the entries and their nonces in one transaction; returns once committed.

        Per entry, where it landed, or `ReplayedDataRequest` if its nonce was used before
        (nothing appended for it). Raises `Unavailable` if the batch could not be made
        durable: then none of it was.
        """
        if not entries:
            return []
        try:
            # two round trips: BEGIN, lock and nonce check; then the writes and COMMIT
            with self._session.use() as session, driver_sql.transaction(session):
                writer = open_for_append(session, ACCESS_TRAIL_LOG)
                fresh = _insert_nonces(session, entries)
                accepted: list[TrailEntry] = []
                for entry in entries:
                    key = (entry.signer, entry.nonce)
                    if key in fresh:
                        accepted.append(entry)
                        fresh.discard(key)  # the same nonce twice in one batch: only the first wins
                appended = writer.append([(ACCESS_ENTRY_TYPE, entry.payload) for entry in accepted])
                bulk_insert(
                    session,
                    _INDEX,
                    [_index_row(e.seq, a.payload) for e, a in zip(appended, accepted, strict=True)],
                )
        except LedgerError as exc:
            raise Unavailable(f"access trail append failed, nothing released: {exc.message}") from exc
        landed = dict(zip(map(id, accepted), appended, strict=True))
        return [
            landed[id(entry)]
            if id(entry) in landed
            else ReplayedDataRequest(
                f"replayed data request: nonce {entry.nonce} of {entry.signer} was already used"
            )
            for entry in entries
        ]

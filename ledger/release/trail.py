"""The access trail: one RFC 9162 log entry per release, durable before data leaves.

Appends are group-committed: concurrent releases hand their entries to one writer
thread (`BatchWorker`), which appends a batch in a single transaction together with
each request's nonce and settles every entry's future once the commit returned. One
commit (one fsync) then serves many releases, which is what lets the authorized path
keep up with a bare read, without weakening the promise: a caller gets its receipt only after the commit that
holds its entry, and a failed commit fails every release in the batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, text
from sqlalchemy.orm import Session

from ledger.batching import BatchWorker
from ledger.errors import Conflict, LedgerError, Unavailable
from ledger.logs.store import AppendedEntry, open_for_append
from ledger.release.models import AccessRelease
from ledger.storage.bulk import bulk_insert
from ledger.storage.database import Database
from ledger.storage.models import RequestNonce

ACCESS_TRAIL_LOG = "access-trail"
ACCESS_ENTRY_TYPE = "access"
#: most entries one transaction takes; beyond it the next batch follows at once
MAX_BATCH = 256
_INDEX = cast(Table, AccessRelease.__table__)


class ReplayedDataRequest(Conflict):
    code = "replayed_request"


@dataclass
class _Pending:
    payload: Mapping[str, Any]
    signer: str
    nonce: str
    result: Future[AppendedEntry]


def _insert_nonces(session: Session, items: list[_Pending]) -> set[tuple[str, str]]:
    """Record the batch's nonces in one statement; returns those that were new.

    The unique constraint decides: a nonce used before (or twice in the batch) is skipped
    by ON CONFLICT DO NOTHING and so missing from what the statement returns. Written as
    SQL text because SQLAlchemy's multi-row INSERT construct, rebuilt for every batch,
    costs several times the round trip; PostgreSQL and SQLite accept the same text.
    """
    rows = ", ".join(f"(:s{i}, :n{i}, :seen_at)" for i in range(len(items)))
    statement = text(
        f"INSERT INTO request_nonces (signer, nonce, seen_at) VALUES {rows} "
        "ON CONFLICT DO NOTHING RETURNING signer, nonce"
    ).bindparams(bindparam("seen_at", type_=RequestNonce.__table__.c.seen_at.type))
    params: dict[str, Any] = {"seen_at": datetime.now(UTC)}
    for i, item in enumerate(items):
        params[f"s{i}"], params[f"n{i}"] = item.signer, item.nonce
    return {(signer, nonce) for signer, nonce in session.connection().execute(statement, params)}


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
        self.db = db
        self._writer: BatchWorker[_Pending] = BatchWorker(
            "access-trail-writer", self._commit, _fail_batch, max_batch=MAX_BATCH
        )

    def submit(self, payload: Mapping[str, Any], *, signer: str, nonce: str) -> Future[AppendedEntry]:
        """Queue one entry and its request nonce; the future settles once both are committed.

        It fails with `ReplayedDataRequest` if the nonce was used before (nothing appended)
        and with `Unavailable` if the entry could not be made durable.
        """
        pending = _Pending(payload, signer, nonce, Future())
        self._writer.put(pending)
        return pending.result

    def close(self) -> None:
        self._writer.close()

    def _commit(self, batch: list[_Pending]) -> None:
        accepted: list[_Pending] = []
        replayed: list[_Pending] = []
        try:
            with self.db.session() as session:
                writer = open_for_append(session, ACCESS_TRAIL_LOG)
                fresh = _insert_nonces(session, batch)
                for item in batch:
                    key = (item.signer, item.nonce)
                    (accepted if key in fresh else replayed).append(item)
                    fresh.discard(key)  # the same nonce twice in one batch: only the first wins
                entries = writer.append([(ACCESS_ENTRY_TYPE, item.payload) for item in accepted])
                bulk_insert(
                    session,
                    _INDEX,
                    [_index_row(e.seq, i.payload) for e, i in zip(entries, accepted, strict=True)],
                )
        except LedgerError as exc:
            _fail_batch(batch, Unavailable(f"access trail append failed, nothing released: {exc.message}"))
            return
        for item, entry in zip(accepted, entries, strict=True):
            item.result.set_result(entry)
        for item in replayed:
            item.result.set_exception(
                ReplayedDataRequest(
                    f"replayed data request: nonce {item.nonce} of {item.signer} was already used"
                )
            )


def _fail_batch(batch: list[_Pending], exc: BaseException) -> None:
    """Fail every entry of the batch: none of them is durable, so none may be released."""
    failure = exc if isinstance(exc, Unavailable) else Unavailable(f"access trail append failed: {exc!r}")
    for item in batch:
        if not item.result.done():
            item.result.set_exception(failure)

"""The access trail: one RFC 9162 log entry per release, durable before data leaves.

Appends are group-committed: concurrent releases hand their entries to one writer
thread, which appends a batch in a single transaction together with each request's
nonce and wakes every waiter once the commit returned. One commit (one fsync) then
serves many releases, which is what lets the authorized path keep up with a bare read,
without weakening the promise: a caller gets its receipt only after the commit that
holds its entry, and a failed commit fails every release in the batch.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ledger.errors import Conflict, LedgerError, Unavailable
from ledger.logs.store import AppendedEntry, open_for_append
from ledger.release.models import AccessRelease
from ledger.storage.database import Database
from ledger.storage.models import RequestNonce

ACCESS_TRAIL_LOG = "access-trail"
ACCESS_ENTRY_TYPE = "access"
#: most entries one transaction takes; beyond it the next batch follows at once
MAX_BATCH = 256


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
    by ON CONFLICT DO NOTHING and so missing from what the statement returns.
    """
    now = datetime.now(UTC)
    rows = [{"signer": i.signer, "nonce": i.nonce, "seen_at": now} for i in items]
    dialect = session.connection().dialect.name
    insert_into: Any = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    statement = (
        insert_into(RequestNonce).values(rows).on_conflict_do_nothing()
        .returning(RequestNonce.signer, RequestNonce.nonce)
    )  # fmt: skip
    return {(signer, nonce) for signer, nonce in session.execute(statement)}


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
        self._queue: queue.Queue[_Pending | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def append(
        self, payload: Mapping[str, Any], *, signer: str, nonce: str, timeout: float = 30.0
    ) -> AppendedEntry:
        """Append one entry and its request nonce; returns once both are committed.

        Raises `ReplayedDataRequest` if the nonce was used before (nothing appended) and
        `Unavailable` if the entry could not be made durable.
        """
        pending = _Pending(payload, signer, nonce, Future())
        self._ensure_writer()
        self._queue.put(pending)
        try:
            return pending.result.result(timeout=timeout)
        except TimeoutError:
            raise Unavailable(
                "the access trail did not confirm the entry in time; nothing released"
            ) from None

    def close(self) -> None:
        with self._lock:
            if self._thread is not None:
                self._queue.put(None)
                self._thread.join(timeout=10)
                self._thread = None

    def _ensure_writer(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="access-trail-writer", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(item)
            self._commit(batch)

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
                if entries:
                    session.execute(
                        insert(AccessRelease),
                        [_index_row(e.seq, i.payload) for e, i in zip(entries, accepted, strict=True)],
                    )
        except LedgerError as exc:
            failure = Unavailable(f"access trail append failed, nothing released: {exc.message}")
            for item in batch:
                item.result.set_exception(failure)
            return
        except Exception as exc:  # anything else: fail closed all the same
            for item in batch:
                item.result.set_exception(Unavailable(f"access trail append failed: {exc!r}"))
            return
        for item, entry in zip(accepted, entries, strict=True):
            item.result.set_result(entry)
        for item in replayed:
            item.result.set_exception(
                ReplayedDataRequest(
                    f"replayed data request: nonce {item.nonce} of {item.signer} was already used"
                )
            )

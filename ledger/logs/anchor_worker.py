"""The anchoring worker: checkpoints named logs on chain by size or by time.

For each log it anchors the committed size once `max_entries` entries are pending or
the oldest pending one has waited `max_delay_seconds`, whichever comes first, sending
the RFC 9162 consistency proof from the size anchored before. Properties, and how:

1. One worker at a time per log: a database lock (`ledger.storage.locks`), released by
   the OS when its holder dies. A worker that loses it stands by.
2. Nothing lost on a chain or database outage: entries stay in the table; the worker
   retries with exponential backoff (with jitter) and anchors everything pending then.
3. No double anchoring after a crash: on start (and after any failure) it reconciles
   with `Checkpoints.latest` first, so it proves from what the chain holds, not from
   what it remembers; re-sending an anchored (size, root) is a no-op in the contract.
   Checkpoints anchored but not yet recorded in the database (a crash between the
   receipt and the insert) are recovered from the contract's events.
4. Fail closed on a fork: if the chain's root for an anchored size is not the root of
   the stored tiles, or an entry about to be anchored is not the leaf its tile holds,
   the worker refuses to anchor that log and says so loudly. Roots and proofs are read
   from the tiles (`ledger.logs.tiles`): O(log n) reads, nothing held in memory.
5. A chain that comes back behind (lost blocks): the checkpoints recorded here above
   the size the chain holds name transactions the chain lacks; they are forgotten (no
   proof is served against them) and the worker anchors again from the chain's size,
   with a consistency proof from there. Each pass compares the chain's size with the
   one it anchored, so this happens even when nothing new is pending.

`credit-ledger up` runs it in a background thread (`start_in_background`);
`credit-ledger anchor run` runs it alone.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import delete

from ledger.chain.checkpoints import CheckpointsContract, log_id
from ledger.chain.errors import ContractRevert
from ledger.errors import LedgerError, Unavailable
from ledger.logs.leaves import check_log_name
from ledger.logs.models import LogCheckpoint
from ledger.logs.proofs import AnchoredCheckpoint, latest_checkpoint, record_checkpoint
from ledger.logs.store import committed_size, leaf_hashes
from ledger.logs.tiles import TILE_WIDTH, TileMissing
from ledger.logs.tree import TreeCache, default_cache
from ledger.merkle.rfc9162 import EMPTY_ROOT
from ledger.storage.database import Database
from ledger.storage.locks import AnchorLock, anchor_lock

if TYPE_CHECKING:
    from ledger.settings import Settings

__all__ = ["AnchorPolicy", "AnchorResult", "AnchorWorker", "LogForked", "start_in_background"]

logger = logging.getLogger("ledger.anchor")

#: entries checked against their tiles per read before anchoring (256 tiles of level 0)
_CHECK_CHUNK = 65_536


class LogForked(LedgerError):
    """The chain and the stored log disagree about anchored history; anchoring stops."""

    code = "log_forked"


@dataclass(frozen=True)
class AnchorPolicy:
    max_entries: int = 10_000
    max_delay_seconds: float = 10.0
    poll_seconds: float = 0.5
    backoff_initial_seconds: float = 0.5
    backoff_max_seconds: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> AnchorPolicy:
        return cls(
            max_entries=settings.anchor_max_entries,
            max_delay_seconds=settings.anchor_max_delay_seconds,
            poll_seconds=settings.anchor_poll_seconds,
        )


@dataclass(frozen=True)
class AnchorResult:
    """A checkpoint this worker anchored."""

    log: str
    previous_size: int
    size: int
    root: bytes
    transaction_hash: bytes
    block_number: int
    gas_used: int


@dataclass
class _LogState:
    anchored_size: int = 0
    anchored_root: bytes = EMPTY_ROOT
    reconciled: bool = False
    holding: bool = False
    pending_since: float | None = None
    failures: int = 0
    retry_at: float = 0.0
    fatal: str | None = None


class AnchorWorker:
    """Anchors `logs` of database `db` through the `checkpoints` contract."""

    def __init__(
        self,
        *,
        db: Database,
        checkpoints: CheckpointsContract,
        logs: Sequence[str],
        policy: AnchorPolicy | None = None,
        from_block: int = 0,
        cache: TreeCache | None = None,
        locks: Mapping[str, AnchorLock] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.checkpoints = checkpoints
        self.logs = [check_log_name(n) for n in logs]
        self.policy = policy or AnchorPolicy()
        self.from_block = from_block
        self.cache = cache or default_cache()
        self._locks = dict(locks) if locks is not None else {n: anchor_lock(db, n) for n in self.logs}
        self._clock = clock
        self._state = {n: _LogState() for n in self.logs}

    # -- the loop ----------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Anchor until `stop` is set; never gives up on a failure, only waits longer."""
        logger.info("anchoring worker started for %s", ", ".join(self.logs))
        try:
            while not stop.is_set():
                try:
                    self.tick()
                except Exception:  # keep the worker alive whatever happens in one pass
                    logger.exception("anchoring pass failed")
                stop.wait(self._next_wait())
        finally:
            self.close()
            logger.info("anchoring worker stopped")

    def close(self) -> None:
        for lock in self._locks.values():
            lock.release()
        for state in self._state.values():
            state.holding = False
            state.reconciled = False

    def _next_wait(self) -> float:
        """Poll at the policy's pace; logs in backoff are skipped by `tick` until due."""
        return self.policy.poll_seconds

    def tick(self) -> list[AnchorResult]:
        """One pass over the logs: reconcile where needed and anchor what policy says."""
        results: list[AnchorResult] = []
        for name in self.logs:
            state = self._state[name]
            now = self._clock()
            if now < state.retry_at:
                continue
            if not self._hold(name, state):
                continue
            try:
                result = self._step(name, state, now)
            except LogForked as exc:
                self._failed(name, state, exc, fatal=True)
                continue
            except (Unavailable, ContractRevert) as exc:
                self._failed(name, state, exc)
                continue
            except Exception as exc:
                logger.exception("log %s: unexpected failure", name)
                self._failed(name, state, exc)
                continue
            state.failures = 0
            state.fatal = None
            if result is not None:
                results.append(result)
        return results

    def anchor_now(self, name: str, size: int | None = None) -> AnchorResult | None:
        """Anchor log `name` up to `size` (default: all committed entries) now, ignoring
        the size/time policy; None if there is nothing new. Used by tools and benchmarks."""
        state = self._state[name]
        if not self._hold(name, state):
            raise Unavailable(f"another worker holds the anchoring lock of log {name}")
        self._recheck(name, state)
        if size is None:
            with self.db.session() as session:
                size = committed_size(session, name)
        if size <= state.anchored_size:
            return None
        return self._anchor(name, state, size)

    def anchored(self, name: str) -> tuple[int, bytes]:
        """The (size, root) this worker last saw anchored for `name`."""
        state = self._state[name]
        return state.anchored_size, state.anchored_root

    # -- steps -------------------------------------------------------------------------

    def _hold(self, name: str, state: _LogState) -> bool:
        if self._locks[name].acquire():
            if not state.holding:
                logger.info("log %s: holding the anchoring lock", name)
                state.holding = True
                state.reconciled = False  # someone else may have anchored meanwhile
            return True
        if state.holding:
            logger.warning("log %s: lost the anchoring lock, standing by", name)
        state.holding = False
        state.reconciled = False
        return False

    def _failed(self, name: str, state: _LogState, exc: Exception, *, fatal: bool = False) -> None:
        state.reconciled = False
        state.failures += 1
        delay = min(
            self.policy.backoff_max_seconds,
            self.policy.backoff_initial_seconds * 2 ** min(state.failures - 1, 16),
        )
        if fatal:
            state.fatal = str(exc)
            delay = self.policy.backoff_max_seconds
            logger.error("log %s: NOT ANCHORING: %s", name, exc)
        else:
            logger.warning("log %s: %s; retrying in %.1f s", name, exc, delay)
        state.retry_at = self._clock() + delay * random.uniform(0.8, 1.2)

    def _step(self, name: str, state: _LogState, now: float) -> AnchorResult | None:
        self._recheck(name, state)
        with self.db.session() as session:
            committed = committed_size(session, name)
        pending = committed - state.anchored_size
        if pending < 0:
            raise LogForked(f"log {name}: {committed} entries stored but {state.anchored_size} anchored")
        if pending == 0:
            state.pending_since = None
            return None
        if state.pending_since is None:
            state.pending_since = now
        due = pending >= self.policy.max_entries or now - state.pending_since >= self.policy.max_delay_seconds
        return self._anchor(name, state, committed) if due else None

    def _recheck(self, name: str, state: _LogState) -> None:
        """Reconcile unless the chain still holds the size this worker anchored last.

        One call per pass: a chain that lost our anchors (or another worker's anchor)
        is noticed even when nothing new is pending.
        """
        if state.reconciled and self.checkpoints.latest(log_id(name)).size != state.anchored_size:
            state.reconciled = False
        if not state.reconciled:
            self._reconcile(name, state)

    def _anchor(self, name: str, state: _LogState, size: int) -> AnchorResult | None:
        self._check_pending(name, state.anchored_size, size)
        tree = self.cache.tree(self.db, name, size, cached=False)
        try:
            root = tree.root(size)
            proof = tree.consistency_proof(state.anchored_size, size)
        except TileMissing as exc:
            raise LogForked(f"log {name}: {exc}") from exc
        lid = log_id(name)
        try:
            receipt = self.checkpoints.submit(lid, size, root, proof)
        except ContractRevert as exc:
            if exc.error_name == "CheckpointsConflictingRoot":
                raise LogForked(
                    f"log {name}: the chain holds another root for size {size}: {exc.message}"
                ) from exc
            raise  # most likely someone anchored meanwhile: reconcile and retry
        events = [e for e in self.checkpoints.events_in(receipt) if e.log_id == lid and e.size == size]
        if not events:  # already anchored at this size by someone else: learn it from the chain
            state.reconciled = False
            return None
        tx_hash, block = bytes(receipt["transactionHash"]), int(receipt["blockNumber"])
        with self.db.session() as session:
            record_checkpoint(session, name, size, root, tx_hash, block)
        result = AnchorResult(name, state.anchored_size, size, root, tx_hash, block, int(receipt["gasUsed"]))
        state.anchored_size, state.anchored_root = size, root
        state.pending_since = None
        logger.info("log %s: anchored %d -> %d in block %d", name, result.previous_size, size, block)
        return result

    def _check_pending(self, name: str, start: int, stop: int) -> None:
        """Refuse to anchor entries whose leaf hashes are not the tiles' (O(stop - start), in chunks).

        The tiles are what gets anchored; an entry rewritten after its append would no
        longer be provable, so it is caught here, before the chain vouches for it."""
        reader = self.cache.reader(self.db)
        for lo in range(start, stop, _CHECK_CHUNK):
            hi = min(stop, lo + _CHECK_CHUNK)
            with self.db.session() as session:
                hashes = leaf_hashes(session, name, lo, hi)
            first, last = lo // TILE_WIDTH, (hi - 1) // TILE_WIDTH
            tiles = reader.fetch(name, {(0, i) for i in range(first, last + 1)}, cached=False)
            for seq, digest in enumerate(hashes, lo):
                index, offset = divmod(seq, TILE_WIDTH)
                if tiles.get((0, index), b"")[offset * 32 : offset * 32 + 32] != digest:
                    raise LogForked(
                        f"log {name}: stored entry {seq} does not match the leaf hash in its tile"
                    )

    def _reconcile(self, name: str, state: _LogState) -> None:
        """Make the worker's and the database's view of log `name` match the chain."""
        lid = log_id(name)
        on_chain = self.checkpoints.latest(lid)
        with self.db.session() as session:
            recorded = latest_checkpoint(session, name)
            committed = committed_size(session, name)
        if on_chain.size == 0:
            if recorded is not None:
                self._forget_lost(name, recorded.size, 0)
            state.anchored_size, state.anchored_root = 0, EMPTY_ROOT
            state.reconciled = True
            return
        if committed < on_chain.size:
            raise LogForked(
                f"log {name}: the chain anchors {on_chain.size} entries, the database holds {committed}"
            )
        tree = self.cache.tree(self.db, name, on_chain.size, cached=False)
        try:
            stored_root = tree.root(on_chain.size)
        except TileMissing as exc:
            raise LogForked(f"log {name}: {exc}") from exc
        if stored_root != on_chain.root:
            raise LogForked(
                f"log {name}: anchored root {on_chain.root.hex()} at size {on_chain.size} is not the root "
                f"{stored_root.hex()} of the stored tiles"
            )
        if recorded is not None and recorded.size > on_chain.size:
            self._forget_lost(name, recorded.size, on_chain.size)
            recorded = self._recorded(name)
        if recorded is None or recorded.size < on_chain.size or recorded.transaction_hash is None:
            self._recover_checkpoints(
                name, on_chain.size, on_chain.root, 0 if recorded is None else recorded.size
            )
        state.anchored_size, state.anchored_root = on_chain.size, on_chain.root
        state.reconciled = True

    def _recorded(self, name: str) -> AnchoredCheckpoint | None:
        with self.db.session() as session:
            return latest_checkpoint(session, name)

    def _forget_lost(self, name: str, recorded: int, held: int) -> None:
        """Forget checkpoints above the size the chain holds: their transactions are gone."""
        with self.db.session() as session:
            session.execute(
                delete(LogCheckpoint).where(LogCheckpoint.log_name == name, LogCheckpoint.size > held)
            )
        logger.error(
            "log %s: checkpoint %d is recorded but the chain holds %d (the chain lost blocks): "
            "forgot the lost checkpoints, anchoring again from %d",
            name,
            recorded,
            held,
            held,
        )

    def _recover_checkpoints(self, name: str, size: int, root: bytes, known: int) -> None:
        """Record checkpoints found on chain but missing here (crash between receipt and insert)."""
        events = self.checkpoints.history(log_id(name), from_block=self.from_block)
        tree = self.cache.tree(self.db, name, size, cached=False)
        found = False
        with self.db.session() as session:
            for event in events:
                if event.size < known or event.size > size:
                    continue
                if tree.root(event.size) != event.root:
                    raise LogForked(f"log {name}: chain event anchors a foreign root at size {event.size}")
                record_checkpoint(
                    session, name, event.size, event.root, event.transaction_hash, event.block_number
                )
                found = found or event.size == size
            if not found:
                record_checkpoint(session, name, size, root, None, None)
        logger.info("log %s: recovered checkpoints up to %d from the chain", name, size)


def start_in_background(worker: AnchorWorker) -> tuple[threading.Thread, threading.Event]:
    """Run `worker` in a daemon thread (as `credit-ledger up` does) until the event is set."""
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), name="anchor-worker", daemon=True)
    thread.start()
    return thread, stop

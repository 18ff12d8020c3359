"""Detecting a chain that came back behind, refusing releases meanwhile, and repairing it.

A node restarted from an older state, a reset devnet or a re-organised head can hand
the platform a chain that lacks blocks it already relied on: acknowledged acts (a
revocation!) and the blocks its releases were decided at. Deciding on such a chain
would honour what was revoked, so:

- **Detection.** The platform keeps a watermark, the highest block (number and hash) it
  relied on (`ledger.chain.journal`). The chain is *behind* when its head is below the
  watermark or its block at that height has another hash. A release decided at a block
  below the watermark is refused at once, with no extra round trip (`check`); the
  divergent case, a chain that re-grew past the watermark with other blocks, is found by
  the watch's poll (`poll`, every `LEDGER_CHAIN_WATCH_POLL_SECONDS`). The watch also
  refuses releases while it has not verified the chain recently (a node that was
  unreachable is verified again before anything is released on it).
- **Fail closed.** While the chain is behind, releases are refused with `ChainBehind`
  (HTTP 503) naming the watermark and the chain's head.
- **Reconciliation.** The relayer's nonce is re-read from the chain; every relayed call
  in the blocks the chain lost is sent again from its stored calldata, in the order it
  was first relayed (a member's act carries its own signature, nonce and deadline, so
  the contract accepts it again exactly when it would have then); one the contract now
  refuses (its deadline passed, its nonce was used) is marked lost, logged, and listed
  for operators (`credit-ledger chain status`). Anchors are left to the anchoring
  worker, which re-proves from what the chain holds. The watermark is then reset to
  the chain's head and releases resume.

Only one process reconciles at a time (a database lock, as the anchoring worker's);
the others keep refusing until their own poll finds the chain agreeing with the
watermark the reconciler set.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import delete

from ledger.chain.authorize_call import AuthorizeCaller
from ledger.chain.client import ChainClient
from ledger.chain.consents import Decision
from ledger.chain.errors import ChainUnavailable, ContractRevert
from ledger.chain.journal import ActJournal, Watermark
from ledger.errors import LedgerError, Unavailable
from ledger.logs.models import LogCheckpoint
from ledger.storage.locks import AnchorLock, anchor_lock

__all__ = ["ChainBehind", "ChainWatch", "WatchedAuthorizer"]

logger = logging.getLogger("ledger.chain.watch")

#: how many of the latest blocks holding relayed calls are compared to find where the
#: chain and the journal part (each costs one block read; the lost tail is short)
ANCESTOR_SEARCH_BLOCKS = 4096


class ChainBehind(Unavailable):
    """The chain lacks blocks the platform relied on; nothing is released until repaired."""

    code = "chain_behind"


class ChainWatch:
    """The watermark check of one process, and the reconciliation it triggers."""

    def __init__(
        self,
        chain: ChainClient,
        journal: ActJournal,
        *,
        poll_seconds: float = 0.25,
        skip_contracts: Sequence[str] = (),
        lock: AnchorLock | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.chain = chain
        self.journal = journal
        self.poll_seconds = poll_seconds
        #: contracts whose lost calls are redone by their owner, not re-sent (Checkpoints)
        self.skip_contracts = {c.lower() for c in skip_contracts}
        self._lock = lock or anchor_lock(journal.db, "chain-reconcile")
        self._clock = clock
        self._mark: Watermark | None = None
        self._behind: str | None = None  # detected: the chain lacks blocks relied on
        self._unverified = "the chain has not been verified yet"  # why, when not verified recently
        self._verified_at = float("-inf")
        self._decided = -1
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    # -- the release path's gate -----------------------------------------------------------

    @property
    def stale_after(self) -> float:
        """A verification older than this does not vouch for the chain."""
        return max(2.0, 8 * self.poll_seconds)

    def check(self, decision_block: int) -> None:
        """Refuse (`ChainBehind`) unless a decision at `decision_block` may be relied on.

        In memory only: the hot path pays no round trip. Remembers the block, which
        the next poll writes into the watermark.
        """
        mark = self._mark
        if self._behind is None and mark is not None and decision_block < mark.number:
            self._behind = (
                f"the chain answered at block {decision_block}, below block {mark.number} "
                "the platform already relied on"
            )
        self.require_current()
        if decision_block > self._decided:
            self._decided = decision_block

    def require_current(self) -> None:
        """Refuse (`ChainBehind`) while the chain is behind or was not verified recently."""
        self.refuse_if_behind()
        age = self._clock() - self._verified_at
        if age > self.stale_after:
            reason = self._unverified if age == float("inf") else f"{self._unverified} ({age:.1f} s ago)"
            raise ChainBehind(f"the chain is not verified: {reason}; refused until it is")

    def refuse_if_behind(self) -> None:
        """Refuse (`ChainBehind`) while the chain is known to lack blocks relied on.

        The gate of relayed acts: a member's new act relayed onto such a chain could take
        the nonce a lost act of theirs needs to be re-submitted.
        """
        behind = self._behind
        if behind is not None:
            raise ChainBehind(f"chain behind: {behind}; refused until it is reconciled")

    @property
    def behind(self) -> str | None:
        """Why releases are refused now, or None."""
        return self._behind

    # -- the poll --------------------------------------------------------------------------

    def poll(self) -> None:
        """Verify the chain against the watermark once; reconcile if it came back behind."""
        try:
            mark = self.journal.watermark()
            if mark is not None and self._diverged(mark):
                self._behind = self._describe(mark)
                logger.error("%s; reconciling", self._behind)
                if not self.reconcile():
                    return
                mark = self.journal.watermark()
            decided = self._decided
            if decided >= 0 and (mark is None or decided > mark.number):
                found = self.chain.block_at(decided)
                if found is not None:
                    self.journal.raise_watermark(Watermark(*found))
                    mark = self.journal.watermark()
            self._mark = mark
            self._verified_at = self._clock()
            if self._behind is not None:
                logger.info("chain verified against the watermark; releases resume")
            self._behind = None
        except LedgerError as exc:
            # Unreachable chain or database: vouch for nothing until verified again.
            self._verified_at = float("-inf")
            self._unverified = f"the chain could not be verified: {exc.message}"

    def _diverged(self, mark: Watermark) -> bool:
        found = self.chain.block_at(mark.number)
        return found is None or found[1] != mark.hash

    def _describe(self, mark: Watermark) -> str:
        head = self.chain.block_number()
        if head < mark.number:
            return f"the chain's head is block {head}, below block {mark.number} the platform relied on"
        return f"block {mark.number} on chain is not the block the platform relied on (another hash)"

    # -- reconciliation --------------------------------------------------------------------

    def reconcile(self) -> bool:
        """Re-submit what the chain lost; True once done here or by another process."""
        if not self._lock.acquire():
            return False  # another process reconciles; our next poll sees its result
        try:
            self.chain.reset_nonce()
            kept = self._common_block()
            lost = [
                c for c in self.journal.live_calls(kept + 1) if not self._still_on_chain(c.transaction_hash)
            ]
            for call in lost:
                if call.contract.lower() in self.skip_contracts:
                    self._forget_checkpoint(bytes(call.transaction_hash))
                    self.journal.superseded(
                        call.id, "anchor lost by the chain; re-anchored by the anchoring worker"
                    )
                    continue
                try:
                    receipt = self.chain.resend(call.contract, bytes(call.calldata))
                except ContractRevert as exc:
                    self.journal.lost(call.id, f"{call.function}: refused when re-submitted: {exc.message}")
                    continue
                self.journal.resubmitted(call.id, receipt)
                logger.warning(
                    "re-submitted %s (relayed call %d) lost by the chain: now in block %d",
                    call.function,
                    call.id,
                    int(receipt["blockNumber"]),
                )
            head = self.chain.block_at("latest")
            if head is None:
                raise ChainUnavailable("the chain has no latest block")
            self.journal.reset_watermark(Watermark(*head))
            self._decided = -1
            logger.warning(
                "chain reconciled: %d relayed calls were lost; watermark now block %d", len(lost), head[0]
            )
            return True
        finally:
            self._lock.release()

    def _forget_checkpoint(self, transaction_hash: bytes) -> None:
        """No proof may name a lost anchor: its checkpoint is forgotten until re-anchored."""
        with self.journal.db.session() as session:
            session.execute(delete(LogCheckpoint).where(LogCheckpoint.transaction_hash == transaction_hash))

    def _common_block(self) -> int:
        """The highest block holding relayed calls that the chain still has unchanged (-1: none)."""
        for mark in self.journal.latest_live_blocks(ANCESTOR_SEARCH_BLOCKS):
            found = self.chain.block_at(mark.number)
            if found is not None and found[1] == mark.hash:
                return mark.number
        return -1

    def _still_on_chain(self, transaction_hash: bytes) -> bool:
        """Whether the chain holds the transaction (a re-sent act can land with the same hash)."""
        from web3.exceptions import TransactionNotFound

        try:
            receipt = self.chain.guard(lambda: self.chain.w3.eth.get_transaction_receipt(transaction_hash))  # type: ignore[arg-type]
        except TransactionNotFound:
            return False
        found = self.chain.block_at(int(receipt["blockNumber"]))
        return found is not None and found[1] == bytes(receipt["blockHash"]) and int(receipt["status"]) == 1

    # -- the background thread -------------------------------------------------------------

    def start(self) -> None:
        """Poll in a daemon thread until `stop` (the first poll runs before returning)."""
        if self._thread is not None:
            return
        self.poll()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="chain-watch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.poll()
            except Exception:  # keep watching whatever happens in one poll
                logger.exception("chain watch poll failed")
                self._verified_at = float("-inf")
                self._unverified = "the chain watch failed; see the log"

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._lock.release()


class WatchedAuthorizer(AuthorizeCaller):
    """The release path's authorizer, with every decision's block checked by the watch."""

    def __init__(self, rpc_url: str, consents: str, watch: ChainWatch, **options: Any) -> None:
        super().__init__(rpc_url, consents, **options)
        self.watch = watch

    @contextmanager
    def deciding(self, *args: Any, **kwargs: Any) -> Iterator[Callable[[], list[Decision]]]:
        with super().deciding(*args, **kwargs) as decisions:

            def checked() -> list[Decision]:
                found = decisions()
                if found:
                    self.watch.check(max(d.block_number for d in found))
                return found

            yield checked

    def close(self) -> None:
        super().close()
        self.watch.stop()

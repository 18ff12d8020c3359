"""Step 4.7: the contract's own answer at block B, on a sample, against the local replay.

The local replay is only as good as its re-statement of the rules, so the contract is
asked the same questions at the same blocks — through `eth_call` at block B, batched
per block (`AuthorizeCaller.authorize_many`) — for a seeded random sample and for every
entry the replay refused. A disagreement is a finding: the auditor cannot vouch for a
decision the two evaluations do not share.

A node need not keep old states (anvil keeps only recent ones after a restart; full
nodes prune): a call it cannot answer leaves the entry "not checked on chain", with the
node's reason, rather than producing a finding. The report lists which entries were
checked both ways.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from eth_utils import to_checksum_address

from ledger.audit.findings import Finding, Step
from ledger.audit.leaves import ACCESS_TRAIL_LOG
from ledger.audit.progress import NO_PROGRESS, Progress
from ledger.audit.rules import Reason
from ledger.audit.verify_access import Replayed
from ledger.chain.consents import AuthorizationQuery, Decision
from ledger.errors import LedgerError

__all__ = ["Authorizer", "OnChainCheck", "choose_sample", "confirm_on_chain"]

_BATCH = 200
_MAX_REFUSED = 1_000


class Authorizer(Protocol):
    """What `ledger.chain.authorize_call.AuthorizeCaller` offers."""

    def authorize_many(
        self, queries: Sequence[AuthorizationQuery], block_identifier: int | str = "latest"
    ) -> list[Decision]: ...


@dataclass(frozen=True)
class OnChainCheck:
    index: int
    block: int
    agrees: bool | None  # None: not checked on chain
    reason: str | None = None  # why not checked, or how the contract decided


def choose_sample(indices: Iterable[int], refused: Iterable[int], size: int | None, seed: int) -> list[int]:
    """A seeded random sample of `size` entries (all when None) plus the refused ones."""
    pool = sorted(indices)
    everything = size is None or size >= len(pool)
    chosen = set(pool) if everything else set(random.Random(seed).sample(pool, size or 0))
    chosen.update(sorted(refused)[:_MAX_REFUSED])
    return sorted(chosen)


def _not_available(exc: LedgerError) -> str:
    text = exc.message
    lowered = text.lower()
    if any(
        k in lowered for k in ("out of range", "outofrange", "historical state", "missing trie", "pruned")
    ):
        return "the node no longer keeps the state of this block"
    return text[:200]


def _as_call(replayed: Replayed) -> AuthorizationQuery:
    q = replayed.query
    return AuthorizationQuery(
        to_checksum_address(q.requester), q.uscc_hash, q.categories, q.purpose, q.agreement_id, q.level, q.at
    )


def confirm_on_chain(
    authorizer: Authorizer,
    replayed: Mapping[int, Replayed],
    indices: Sequence[int],
    findings: list[Finding],
    *,
    progress: Progress = NO_PROGRESS,
) -> list[OnChainCheck]:
    """Ask the contract about entries `indices` at their blocks and compare with the replay."""
    by_block: dict[int, list[int]] = defaultdict(list)
    checks: list[OnChainCheck] = []
    for index in indices:
        r = replayed[index]
        if r.query.level > 255:
            checks.append(OnChainCheck(index, r.block, None, "level is not a uint8: no call can carry it"))
        else:
            by_block[r.block].append(index)
    with progress.task("confirming on chain (eth_call)", len(indices)) as task:
        for block in sorted(by_block):
            group = by_block[block]
            for start in range(0, len(group), _BATCH):
                batch = group[start : start + _BATCH]
                try:
                    decisions = authorizer.authorize_many([_as_call(replayed[i]) for i in batch], block)
                except LedgerError as exc:
                    why = _not_available(exc)
                    checks.extend(OnChainCheck(i, block, None, why) for i in batch)
                    task.advance(len(batch))
                    continue
                for index, decision in zip(batch, decisions, strict=True):
                    checks.append(_compare(index, block, replayed[index], decision, findings))
                task.advance(len(batch))
    checks.sort(key=lambda c: c.index)
    return checks


def _compare(
    index: int, block: int, replayed: Replayed, decision: Decision, findings: list[Finding]
) -> OnChainCheck:
    local = replayed.decision
    chain = (decision.allowed, int(decision.reason), decision.grant_id, decision.raw_categories)
    mine = (local.allowed, int(local.reason), local.grant_id, local.raw_categories)
    shown = f"{Reason(int(decision.reason)).name} grant {decision.grant_id} raw {decision.raw_categories}"
    if chain != mine:
        findings.append(
            Finding(
                Step.ONCHAIN,
                ACCESS_TRAIL_LOG,
                index,
                f"the contract decides differently at block {block} than the local replay",
                f"{local.reason.name} grant {local.grant_id} raw {local.raw_categories}",
                shown,
            )
        )
        return OnChainCheck(index, block, False, shown)
    return OnChainCheck(index, block, True, shown)

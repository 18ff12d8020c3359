"""Step 4.7 with a fake contract: agreement, disagreement, and states the node no longer keeps."""

from __future__ import annotations

from collections.abc import Sequence

from ledger.audit.findings import Finding, Step
from ledger.audit.onchain import choose_sample, confirm_on_chain
from ledger.audit.rules import LocalDecision, Query, Reason
from ledger.audit.verify_access import Replayed
from ledger.chain.consents import AuthorizationQuery, Decision
from ledger.chain.consents import Reason as ChainReason
from ledger.chain.errors import ChainUnavailable

REQUESTER = "0x" + "ab" * 20


class FakeContract:
    """Answers like the local replay, except at `disagree_at`; refuses blocks below `pruned_below`."""

    def __init__(self, disagree_at: int = -1, pruned_below: int = 0) -> None:
        self.disagree_at = disagree_at
        self.pruned_below = pruned_below
        self.calls: list[tuple[int, int]] = []

    def authorize_many(
        self, queries: Sequence[AuthorizationQuery], block_identifier: int | str = "latest"
    ) -> list[Decision]:
        assert isinstance(block_identifier, int)
        self.calls.append((block_identifier, len(queries)))
        if block_identifier < self.pruned_below:
            error = "{'code': -32602, 'message': 'BlockOutOfRangeError: block height is 9'}"
            raise ChainUnavailable(f"authorize call failed: {error}")
        reason = (
            ChainReason.NO_COVERING_GRANT if block_identifier == self.disagree_at else ChainReason.ALLOWED
        )
        grant = 0 if reason else 7
        decision = Decision(reason == ChainReason.ALLOWED, reason, grant, 0, block_identifier, 0)
        return [decision for _ in queries]


def _replayed(n: int) -> dict[int, Replayed]:
    query = Query(REQUESTER, b"\x01" * 32, 64, 1, 1, 2)
    return {i: Replayed(query, 10 + i % 5, LocalDecision(True, Reason.ALLOWED, 7, 0)) for i in range(n)}


def test_agreeing_entries_are_checked_both_ways_in_one_batch_per_block() -> None:
    contract = FakeContract()
    findings: list[Finding] = []
    checks = confirm_on_chain(contract, _replayed(20), list(range(20)), findings)
    assert findings == [] and all(c.agrees for c in checks)
    assert sorted(contract.calls) == [(b, 4) for b in range(10, 15)]


def test_a_disagreement_is_a_finding_and_pruned_states_are_not_checked() -> None:
    findings: list[Finding] = []
    checks = confirm_on_chain(
        FakeContract(disagree_at=12, pruned_below=11), _replayed(10), list(range(10)), findings
    )
    assert {f.index for f in findings} == {2, 7} and {f.step for f in findings} == {Step.ONCHAIN}
    not_checked = [c for c in checks if c.agrees is None]
    assert {c.index for c in not_checked} == {0, 5}
    assert {c.reason for c in not_checked} == {"the node no longer keeps the state of this block"}


def test_the_sample_is_seeded_and_always_holds_the_refused_entries() -> None:
    first = choose_sample(range(1000), [999, 3], 10, seed=1)
    assert first == choose_sample(range(1000), [999, 3], 10, seed=1)
    assert {3, 999} <= set(first) and len(first) <= 12
    assert choose_sample(range(5), [], None, seed=0) == [0, 1, 2, 3, 4]
    assert choose_sample(range(5), [4], 0, seed=0) == [4]

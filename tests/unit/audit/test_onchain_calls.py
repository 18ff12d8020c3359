"""Step 4.7 in detail: what the contract is asked, in which batches, and how each answer is judged."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from eth_utils import to_checksum_address

from ledger.audit.findings import Finding, Step
from ledger.audit.onchain import OnChainCheck, choose_sample, confirm_on_chain
from ledger.audit.rules import LocalDecision, Query, Reason
from ledger.audit.verify_access import Replayed
from ledger.chain.consents import AuthorizationQuery, Decision
from ledger.chain.consents import Reason as ChainReason
from ledger.chain.errors import ChainUnavailable
from tests.unit.audit.fakes import RecordingProgress

REQUESTER = "0x" + "ab" * 20
ALLOWED = LocalDecision(True, Reason.ALLOWED, 7, 64)


class Contract:
    """Answers every query with `decision`, or raises `error`; records each call."""

    def __init__(self, decision: Decision | None = None, error: str | None = None) -> None:
        self.decision = decision or Decision(True, ChainReason.ALLOWED, 7, 64, 0, 0)
        self.error = error
        self.calls: list[tuple[int | str, list[AuthorizationQuery]]] = []

    def authorize_many(
        self, queries: Sequence[AuthorizationQuery], block_identifier: int | str = "latest"
    ) -> list[Decision]:
        self.calls.append((block_identifier, list(queries)))
        if self.error is not None:
            raise ChainUnavailable(self.error)
        return [self.decision for _ in queries]


def replayed(index: int, block: int = 10, level: int = 2, decision: LocalDecision = ALLOWED) -> Replayed:
    return Replayed(
        Query(REQUESTER, bytes([index % 256]) * 32, 64, 1, 3, level, 1_000 + index), block, decision
    )


def test_the_contract_is_asked_the_replayed_query_with_the_checksummed_requester() -> None:
    contract = Contract()
    checks = confirm_on_chain(contract, {4: replayed(4, block=12)}, [4], [])
    assert contract.calls == [
        (12, [AuthorizationQuery(to_checksum_address(REQUESTER), b"\x04" * 32, 64, 1, 3, 2, 1_004)])
    ]
    assert checks == [OnChainCheck(4, 12, True, "ALLOWED grant 7 raw 64")]


def test_calls_are_grouped_by_block_in_batches_of_two_hundred_and_checks_sorted_by_entry() -> None:
    contract = Contract()
    entries = {i: replayed(i, block=20 if i % 2 else 10) for i in range(500)}
    progress = RecordingProgress()
    checks = confirm_on_chain(contract, entries, list(reversed(range(500))), [], progress=progress)
    assert [(block, len(q)) for block, q in contract.calls] == [(10, 200), (10, 50), (20, 200), (20, 50)]
    assert [c.index for c in checks] == list(range(500))
    assert progress.tasks == [("confirming on chain (eth_call)", 500)]
    assert progress.advanced == {"confirming on chain (eth_call)": 500}


def test_a_level_no_uint8_can_carry_is_not_checked_on_chain() -> None:
    contract = Contract()
    entries = {0: replayed(0, level=256), 1: replayed(1, level=255)}
    checks = confirm_on_chain(contract, entries, [0, 1], [])
    assert checks == [
        OnChainCheck(0, 10, None, "level is not a uint8: no call can carry it"),
        OnChainCheck(1, 10, True, "ALLOWED grant 7 raw 64"),
    ]
    assert [len(q) for _, q in contract.calls] == [1]


@pytest.mark.parametrize(
    "message",
    [
        "BlockOutOfRangeError: block height is 9",
        "header not found: OutOfRange",
        "Historical State not available",
        "missing trie node abc",
        "state PRUNED",
        "requested block is out of range",
    ],
)
def test_a_state_the_node_no_longer_keeps_leaves_the_entry_unchecked(message: str) -> None:
    findings: list[Finding] = []
    progress = RecordingProgress()
    checks = confirm_on_chain(
        Contract(error=message), {0: replayed(0), 1: replayed(1)}, [0, 1], findings, progress=progress
    )
    assert findings == []
    assert checks == [
        OnChainCheck(i, 10, None, "the node no longer keeps the state of this block") for i in (0, 1)
    ]
    assert progress.advanced == {"confirming on chain (eth_call)": 2}


def test_a_batch_the_node_cannot_answer_leaves_the_other_batches_of_its_block_checked() -> None:
    class FirstCallFails(Contract):
        def authorize_many(
            self, queries: Sequence[AuthorizationQuery], block_identifier: int | str = "latest"
        ) -> list[Decision]:
            self.error = "pruned" if not self.calls else None
            return super().authorize_many(queries, block_identifier)

    entries = {i: replayed(i) for i in range(450)}
    checks = confirm_on_chain(FirstCallFails(), entries, list(range(450)), [])
    assert [c.agrees for c in checks] == [None] * 200 + [True] * 250


def test_a_contract_answering_fewer_decisions_than_asked_stops_the_audit() -> None:
    class Short(Contract):
        def authorize_many(
            self, queries: Sequence[AuthorizationQuery], block_identifier: int | str = "latest"
        ) -> list[Decision]:
            return super().authorize_many(queries, block_identifier)[:-1]

    with pytest.raises(ValueError):
        confirm_on_chain(Short(), {0: replayed(0), 1: replayed(1)}, [0, 1], [])


def test_another_failure_is_kept_as_the_reason_cut_to_two_hundred_characters() -> None:
    checks = confirm_on_chain(Contract(error="boom " + "x" * 300), {0: replayed(0)}, [0], [])
    assert checks == [OnChainCheck(0, 10, None, ("boom " + "x" * 300)[:200])]


@pytest.mark.parametrize(
    "decision",
    [
        Decision(False, ChainReason.ALLOWED, 7, 64, 0, 0),
        Decision(True, ChainReason.SUBJECT_UNKNOWN, 7, 64, 0, 0),
        Decision(True, ChainReason.ALLOWED, 8, 64, 0, 0),
        Decision(True, ChainReason.ALLOWED, 7, 0, 0, 0),
    ],
)
def test_any_difference_from_the_local_replay_is_a_finding(decision: Decision) -> None:
    findings: list[Finding] = []
    checks = confirm_on_chain(Contract(decision), {3: replayed(3, block=11)}, [3], findings)
    shown = f"{ChainReason(decision.reason).name} grant {decision.grant_id} raw {decision.raw_categories}"
    assert checks == [OnChainCheck(3, 11, False, shown)]
    assert findings == [
        Finding(
            Step.ONCHAIN,
            "access-trail",
            3,
            "the contract decides differently at block 11 than the local replay",
            "ALLOWED grant 7 raw 64",
            shown,
        )
    ]


def test_a_refusal_both_sides_agree_on_is_checked_both_ways() -> None:
    refused = LocalDecision(False, Reason.NO_COVERING_GRANT, 0, 0)
    contract = Contract(Decision(False, ChainReason.NO_COVERING_GRANT, 0, 0, 0, 0))
    findings: list[Finding] = []
    checks = confirm_on_chain(contract, {0: replayed(0, decision=refused)}, [0], findings)
    assert findings == [] and checks == [OnChainCheck(0, 10, True, "NO_COVERING_GRANT grant 0 raw 0")]


def test_the_sample_takes_all_when_asked_for_as_many_or_more() -> None:
    assert choose_sample([3, 1, 2], [], 3, seed=0) == [1, 2, 3]
    assert choose_sample([3, 1, 2], [], 10, seed=0) == [1, 2, 3]
    assert len(choose_sample(range(10), [], 2, seed=0)) == 2
    assert choose_sample(range(100), [], 5, seed=1) != choose_sample(range(100), [], 5, seed=2)
    assert choose_sample(range(100), [], 5, seed=1) == sorted(
        __import__("random").Random(1).sample(range(100), 5)
    )


def test_at_most_a_thousand_refused_entries_are_added_the_first_ones() -> None:
    refused = list(reversed(range(5_000, 6_500)))
    sample = choose_sample(range(10), refused, 0, seed=0)
    assert sample == list(range(5_000, 6_000))

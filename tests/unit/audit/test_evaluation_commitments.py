"""Step 6.2 for credit commitments, with fakes: the subject's commitments replayed from the
contracts' events up to block B (key rotations followed, breaches as of B, dated the business
day of their block), an entry's commitments held to them, and an evaluation whose model reads
the commitment indicators recomputed from the commitments it names.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from typing import Any

from eth_utils import keccak

from ledger.audit.evaluation_commitments import CommitmentReplay, check_commitments
from ledger.audit.events import ChainEvent
from ledger.audit.findings import Finding, Step
from ledger.chain.agreements import CommitmentKind
from ledger.chain.commitment_events import OnChainCommitment
from ledger.evaluation.facts import COMMITMENT
from ledger.evaluation.portrait import PortraitEvaluator
from ledger.evaluation.schema import default_indicators
from ledger.evaluation_release.conduct import commitment_fact, commitment_json
from tests.unit.audit.test_evaluations import (
    AS_OF,
    BLOCK,
    SUBJECT,
    Registry,
    audit,
    platform_entry,
)
from tests.unit.evaluation.conftest import model_dict

USCC = keccak(SUBJECT.encode())
OTHER = keccak(b"91410100100000009X")
OLD, NEW, STRANGER, BANK = "0x" + "a1" * 20, "0x" + "b2" * 20, "0x" + "c3" * 20, "0x" + "d4" * 20
#: 2025-06-29 17:00 UTC: already 2025-06-30 in China Standard Time
LATE_EVENING = int(datetime(2025, 6, 29, 17, 0, tzinfo=UTC).timestamp())
TIMES = {3: LATE_EVENING, 6: LATE_EVENING + 60, 7: LATE_EVENING + 70, 9: LATE_EVENING + 90}


def event(name: str, block: int, index: int = 0, **args: Any) -> ChainEvent:
    return ChainEvent("x", name, block, index, bytes([block]) * 32, args)


EVENTS = (
    event("EnterpriseRegistered", 1, account=OLD, usccHash=USCC),
    event("EnterpriseRegistered", 1, 1, account=STRANGER, usccHash=OTHER),
    event("CommitmentMade", 3, id=1, member=OLD, kind=1),
    event("CommitmentMade", 3, 1, id=2, member=BANK, kind=0),  # an institution's usage commitment
    event("EnterpriseKeyRotated", 5, usccHash=USCC, oldAccount=OLD, newAccount=NEW),
    event("CommitmentMade", 6, id=3, member=NEW, kind=2),
    event("CommitmentMade", 7, id=4, member=STRANGER, kind=1),  # another enterprise's
    event("CommitmentBreached", 8, id=1, operator=BANK),
    event("CommitmentMade", 9, id=5, member=NEW, kind=1),
    event("CommitmentBreached", 25, id=3, operator=BANK),  # after B
)


def expected(
    commitment_id: int, member: str, block: int, kind: str, breached_block: int | None
) -> dict[str, Any]:
    return {
        "id": commitment_id, "kind": kind, "member": member, "tx": "0x" + (bytes([block]) * 32).hex(),
        "block": block, "made_at": TIMES[block], "made_on": "2025-06-30",
        "breached": breached_block is not None, "breached_block": breached_block,
    }  # fmt: skip


def test_the_replay_follows_key_rotations_and_breaches_as_of_the_block() -> None:
    replay = CommitmentReplay(EVENTS)
    assert replay.blocks() == {3, 6, 7, 9}
    at_b = replay.at(SUBJECT, BLOCK, TIMES.get)
    assert at_b == {
        1: expected(1, OLD, 3, "enterprise_truthfulness", 8),  # the rotated-away key's, breached at 8
        3: expected(3, NEW, 6, "repair_applicant", None),  # breached only after B
        5: expected(5, NEW, 9, "enterprise_truthfulness", None),
    }
    assert replay.at(SUBJECT, 7, TIMES.get).keys() == {1, 3}  # as of block 7: id 1 not breached yet
    assert replay.at(SUBJECT, 7, TIMES.get)[1]["breached"] is False
    assert replay.at(SUBJECT, 2, TIMES.get) == {}
    assert replay.at(SUBJECT, 30, TIMES.get)[3]["breached_block"] == 25


def test_the_platform_names_a_commitment_as_the_auditor_replays_it() -> None:
    """The two sides state the rule each in its own code; the same commitment comes out alike."""
    on_chain = OnChainCommitment(1, CommitmentKind.ENTERPRISE_TRUTHFULNESS, OLD, 3, bytes([3]) * 32,
                                 LATE_EVENING, 8)  # fmt: skip
    assert dict(commitment_json(on_chain, 480)) == CommitmentReplay(EVENTS).at(SUBJECT, BLOCK, TIMES.get)[1]
    fact = commitment_fact(on_chain, 480)
    assert (fact.record_id, fact.category, fact.event_date) == ("commitment-1", COMMITMENT, date(2025, 6, 30))
    assert dict(fact.fields) == {"kind": "enterprise_truthfulness", "breached": True}
    assert commitment_fact(on_chain, 0).event_date == date(2025, 6, 29)  # the day is the calendar's


def named(payload: dict[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    check_commitments(4, payload, CommitmentReplay(EVENTS), TIMES.get, findings)
    return findings


def test_an_entry_names_exactly_the_commitments_at_b_or_each_difference_is_found() -> None:
    at_b = CommitmentReplay(EVENTS).at(SUBJECT, BLOCK, TIMES.get)
    clean = {"block": BLOCK, "subject": SUBJECT, "commitments": list(at_b.values())}
    assert named(clean) == []
    dropped = copy.deepcopy(clean)
    del dropped["commitments"][1]
    (found,) = named(dropped)
    assert (found.step, found.index, found.what, found.got) == (
        Step.EVALUATION_INPUTS, 4, f"credit commitment 3 of the subject on chain by block {BLOCK} left out",
        "not named",
    )  # fmt: skip
    whitewashed = copy.deepcopy(clean)
    whitewashed["commitments"][0] |= {"breached": False, "breached_block": None}
    (found,) = named(whitewashed)
    assert found.what.startswith("credit commitment 1 is not as the chain's events give it")
    assert "breached at block 8" in str(found.expected) and str(found.got).endswith("kept")
    foreign = copy.deepcopy(clean)
    foreign["commitments"].append(expected(4, STRANGER, 7, "enterprise_truthfulness", None))
    (found,) = named(foreign)
    assert found.what == f"credit commitment 4 is not one the subject's accounts made by block {BLOCK}"
    redated = copy.deepcopy(clean)
    redated["commitments"][2]["made_on"] = "2019-01-01"  # out of every window: counts for nothing
    assert [f.what.split(" is ")[0] for f in named(redated)] == ["credit commitment 5"]
    unnamed = {"block": BLOCK, "subject": SUBJECT}  # an entry without the member names none
    assert len(named(unnamed)) == 3


def commitments_model() -> dict[str, Any]:
    """The test model with the two commitment indicators: a breach costs 30 points, two kept earn 10."""
    model = model_dict()
    model["indicators"] += [
        {"id": "commitments_kept", "name_zh": "履行中的信用承诺", "name_en": "Credit commitments kept",
         "unit": "commitments", "risk": "decreases", "actionable": True, "splits": [1.5], "points": [0, 10],
         "missing_points": 0, "training_shares": [0.8, 0.2], "missing_share": 0.0},
        {"id": "commitments_breached", "name_zh": "违背的信用承诺", "name_en": "Credit commitments breached",
         "unit": "commitments", "risk": "increases", "actionable": True, "splits": [0.5], "points": [30, 0],
         "missing_points": 30, "training_shares": [0.9, 0.1], "missing_share": 0.0},
    ]  # fmt: skip
    return model


def test_an_evaluation_reading_commitments_is_recomputed_and_scored_as_the_model_says() -> None:
    model = commitments_model()
    replay = CommitmentReplay(EVENTS)
    commitments = [
        OnChainCommitment(i, CommitmentKind(k), m, b, bytes([b]) * 32, TIMES[b], breach)
        for i, k, m, b, breach in ((1, 1, OLD, 3, 8), (3, 2, NEW, 6, None), (5, 1, NEW, 9, None))
    ]
    none = platform_entry(model=model)
    payload = platform_entry(model=model, commitments=commitments)
    portrait = PortraitEvaluator(default_indicators()).evaluate(
        [commitment_fact(c, 480) for c in commitments], date.fromisoformat(AS_OF)
    )
    assert (portrait.values["commitments_kept"], portrait.values["commitments_breached"]) == (2, 1)
    assert payload["score"] == none["score"] - 30 + 10  # one breach: -30; two kept: +10
    chain = {"commitments": replay, "timestamp": TIMES.get}
    findings, result = audit([(4, payload)], models=[model], registry=Registry(model), **chain)
    assert findings == [] and result.recomputed == 1
    whitewashed = copy.deepcopy(payload)
    whitewashed["commitments"][0] |= {"breached": False, "breached_block": None}
    findings, result = audit([(4, whitewashed)], models=[model], registry=Registry(model), **chain)
    # 6.2 names the commitment; 6.3 recomputes the entry's own (whitewashed) reading: 30 points more
    assert [f.step for f in findings] == [Step.EVALUATION_INPUTS, *[Step.EVALUATION_RESULT] * 2]
    assert findings[1].expected == f"{payload['score'] + 30} {findings[1].expected.split()[1]}"
    assert result.recomputed == 0
    dropped = copy.deepcopy(payload)
    del dropped["commitments"][2]
    findings, result = audit([(4, dropped)], models=[model], registry=Registry(model), **chain)
    assert [f.step for f in findings] == [Step.EVALUATION_INPUTS, *[Step.EVALUATION_RESULT] * 2]
    assert "left out" in findings[0].what and result.recomputed == 0
    # an auditor without the chain's replay still reads the commitments the entry names
    findings, result = audit([(4, payload)], models=[model], registry=Registry(model))
    assert findings == [] and result.recomputed == 1

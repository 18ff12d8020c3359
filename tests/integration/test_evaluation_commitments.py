"""Credit commitments as conduct facts of an evaluation, end to end (real anvil, SQLite and
PostgreSQL): read from the chain at the evaluation's block B across a key rotation, named in
the trail entry, scored as the published model says, seen by the enterprise itself, and
re-derived by the auditor from the contracts' events, which catches a commitment dropped
from the entry and a breached one reported as kept.

SYNTHETIC model and enterprise, as in `test_evaluation.py`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from ledger.audit.evaluations import apply_model
from ledger.audit.findings import Step
from ledger.chain.agreements import CommitmentKind, CommitMessage, MarkBreachedMessage
from ledger.chain.commitment_events import CommitmentEvents
from ledger.evaluation.scoring import Scorer
from ledger.services import audit_events
from tests.integration.audit.conftest import export_of, verifier_for
from tests.integration.test_evaluation import Evaluations, cohort, ev, trained, world
from tests.integration.test_evaluation_audit import ACCESS_TRAIL, step6, tampered
from tests.integration.test_release import refused, trail_size

__all__ = ["cohort", "ev", "trained", "world"]  # fixtures shared with the evaluation tests

KEPT, BREACHED = "commitments_kept", "commitments_breached"


def commit(ev: Evaluations, account: LocalAccount, letter: str) -> tuple[int, int]:
    """A truthfulness commitment signed by `account`: its id and block."""
    made = ev.w.sdk(account).act(
        CommitMessage, kind=CommitmentKind.ENTERPRISE_TRUTHFULNESS, document_hash=keccak(text=letter)
    )
    return int(made["created_id"]), int(made["block"])


def breach(ev: Evaluations, commitment: int) -> int:
    marked = ev.w.sdk(ev.w.operators[0]).act(
        MarkBreachedMessage, commitment_id=commitment, evidence_hash=keccak(text="虚假申报")
    )
    return int(marked["block"])


def score_of(ev: Evaluations, values: Mapping[str, Any]) -> int:
    """The score the published model document gives `values` (the README's rule)."""
    score, _ = apply_model(json.loads(ev.trained.document.canonical()), values)
    return score


def test_commitments_are_read_at_block_b_across_a_key_rotation_and_scored(ev: Evaluations) -> None:
    version = ev.active()
    ev.grant()
    before = ev.evaluate(version)
    values = before["data"]["portrait"]["values"]
    assert (values[KEPT], values[BREACHED]) == (0, 0)
    assert ev.entry(before["receipt"]["index"])["commitments"] == []

    old = ev.enterprise
    first, first_block = commit(ev, old, "真实性承诺 1")
    new: LocalAccount = Account.create()
    ev.w.sdk(old).rotate_key(ev.subject, new.address)
    ev.enterprise = new
    second, second_block = commit(ev, new, "真实性承诺 2")
    kept = ev.evaluate(version)
    assert kept["data"]["portrait"]["values"][KEPT] == 2  # the rotated-away key's commitment counts
    breached_block = breach(ev, first)
    after = ev.evaluate(version)

    entry = ev.entry(after["receipt"]["index"])
    named = {c["id"]: c for c in entry["commitments"]}
    assert sorted(named) == [first, second]
    assert (named[first]["member"], named[second]["member"]) == (old.address.lower(), new.address.lower())
    assert (named[first]["block"], named[second]["block"]) == (first_block, second_block)
    assert (named[first]["breached"], named[first]["breached_block"]) == (True, breached_block)
    assert (named[second]["breached"], named[second]["breached_block"]) == (False, None)
    assert all(c["tx"].startswith("0x") and len(c["tx"]) == 66 for c in named.values())
    # the earlier entry says what the chain said at its block: both kept
    earlier = ev.entry(kept["receipt"]["index"])["commitments"]
    assert [c["breached"] for c in earlier] == [False, False]

    data = after["data"]
    values_after = data["portrait"]["values"]
    assert (values_after[KEPT], values_after[BREACHED]) == (1, 1)
    # nothing else moved: the score moved by what the model gives the two indicators
    assert {k: v for k, v in values_after.items() if k not in (KEPT, BREACHED)} == {
        k: v for k, v in values.items() if k not in (KEPT, BREACHED)
    }
    for answer in (before["data"], kept["data"], data):
        assert answer["score"] == score_of(ev, answer["portrait"]["values"])
    expected = Scorer(ev.trained.document).score(values_after)
    assert (data["score"], data["grade"]) == (expected.score, expected.grade)
    assert data["score"] - before["data"]["score"] == score_of(ev, values_after) - score_of(ev, values)

    # the enterprise's own evaluation reads the same commitments
    own = ev.w.sdk(new).self_evaluation(ev.subject)
    assert (own["portrait"]["values"][KEPT], own["portrait"]["values"][BREACHED]) == (1, 1)
    assert own["score"] == data["score"]


def test_the_auditor_replays_the_commitments_and_catches_a_dropped_or_whitewashed_one(
    ev: Evaluations,
) -> None:
    version = ev.active()
    ev.grant()
    first, _ = commit(ev, ev.enterprise, "真实性承诺 1")
    second, _ = commit(ev, ev.enterprise, "真实性承诺 2")
    breach(ev, first)
    index = ev.evaluate(version)["receipt"]["index"]
    breach(ev, second)  # after B: the entry rightly names it kept
    export = export_of(ev.w.platform, openings=True)
    report = verifier_for(ev.w.platform).verify(export)
    assert report.findings == [], [str(f) for f in report.findings]
    assert report.to_json()["evaluations"] == {"run": True, "checked": 1, "recomputed": 1}

    def drop(p: dict[str, Any]) -> None:
        p["commitments"] = [c for c in p["commitments"] if c["id"] != second]

    found = step6(ev, tampered(export, index, drop))
    assert all(f.index == index for f in found)
    # 6.2 names the commitment left out; 6.3 finds the answer recomputed from the entry no longer
    # the one logged (and the score too, when the model gives the kept count points)
    assert [f.step for f in found][:2] == [Step.EVALUATION_INPUTS, Step.EVALUATION_RESULT]
    assert {f.step for f in found[1:]} == {Step.EVALUATION_RESULT}
    assert found[0].what.startswith(f"credit commitment {second} of the subject on chain by block")
    assert found[0].what.endswith("left out") and found[0].got == "not named"
    assert "does not hash" in found[-1].what

    def whitewash(p: dict[str, Any]) -> None:
        for c in p["commitments"]:
            if c["id"] == first:
                c["breached"], c["breached_block"] = False, None

    found = step6(ev, tampered(export, index, whitewash))
    assert (Step.EVALUATION_INPUTS, index) in [(f.step, f.index) for f in found]
    wrong = next(f for f in found if f.step is Step.EVALUATION_INPUTS)
    assert f"credit commitment {first} is not as the chain's events give it" in wrong.what
    assert "breached at block" in str(wrong.expected) and str(wrong.got).endswith("kept")
    assert any(f.step is Step.EVALUATION_RESULT for f in found)  # and its answer no longer hashes

    entries = [e for e in export.entries[ACCESS_TRAIL] if e.seq == index]
    assert len(json.loads(entries[0].leaf)["commitments"]) == 2


def test_an_unreachable_chain_for_the_commitments_refuses_the_evaluation_and_logs_nothing(
    ev: Evaluations,
) -> None:
    version = ev.active()
    ev.grant()
    commit(ev, ev.enterprise, "真实性承诺")
    service = ev.w.sdk(ev.w.bank).http.app.state.services.evaluation  # type: ignore[attr-defined]
    working = service.commitments
    service.commitments = CommitmentEvents(
        "http://127.0.0.1:9", membership=working.membership, agreements=working.agreements,
        from_block=working.from_block,
    )  # fmt: skip
    try:
        error = refused(lambda: ev.evaluate(version))
    finally:
        service.commitments.close()
        service.commitments = working
    assert error.status == 503 and error.body["error"] == "chain_unavailable"
    assert trail_size(ev.w.platform) == 0
    refusal = audit_events.recent(ev.w.platform.db, 1)[0]
    assert (refusal.event, refusal.outcome) == ("evaluation", "refused")
    answer = ev.evaluate(version)  # the chain back: evaluated, the commitment named
    assert [c["breached"] for c in ev.entry(answer["receipt"]["index"])["commitments"]] == [False]

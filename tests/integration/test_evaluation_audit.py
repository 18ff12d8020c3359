"""The auditor recomputes every logged evaluation (step 6) from an operator's export with
openings and the chain, and catches each tampering with the right finding: a changed score,
a swapped model version, a dropped input record. It authorizes each evaluation as it does a
release (step 4): an evaluation dated to a block where its institution had no grant, or only
a revoked one, and a nonce spent by a release and again by an evaluation are caught.

Real anvil, SQLite and PostgreSQL; the evaluations are made through the API as in
`test_evaluation.py` (SYNTHETIC model and enterprise).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from datetime import date
from typing import Any

import rfc8785
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.audit.api_source import ApiExportSource
from ledger.audit.errors import AuditError
from ledger.audit.export import AuditExport, ExportedEntry
from ledger.audit.findings import Finding, Step
from ledger.chain.checkpoints import CheckpointsContract
from ledger.chain.consents import RevokeMessage
from ledger.chain.membership import Role
from ledger.chain.model_registry import ApproveModelProposalMessage, ProposeModelMessage
from ledger.domain.log_names import CREDIT_RECORDS_LOG
from ledger.logs.anchor_worker import AnchorPolicy, AnchorWorker
from tests.integration.audit.conftest import export_of, verifier_for
from tests.integration.audit.trail import key
from tests.integration.conftest import Onboarding
from tests.integration.test_evaluation import TODAY, Evaluations, cohort, ev, submission, trained, world
from tests.integration.test_release import CREDIT

__all__ = ["cohort", "ev", "trained", "world"]  # fixtures shared with the evaluation tests

ACCESS_TRAIL = "access-trail"


def evaluated(ev: Evaluations) -> tuple[AuditExport, int, int]:
    """Two model versions active, one evaluation with the first: the export, its index, the second."""
    first = ev.active()
    ev.grant()
    # a second version: the same scorecard under another name, with its own card
    document = json.loads(ev.trained.document.canonical()) | {"model_version": "audit-drill"}
    model_hash = hashlib.sha256(rfc8785.dumps(document)).digest()
    card = json.loads(ev.trained.card.canonical()) | {"model_sha256": model_hash.hex()}
    stored = ev.w.sdk(ev.w.operators[0]).store_model_documents(document, card)
    proposal = int(
        ev.w.sdk(ev.w.operators[0]).act(
            ProposeModelMessage,
            model_hash=bytes.fromhex(stored["model_hash"][2:]),
            card_hash=bytes.fromhex(stored["card_hash"][2:]),
            indicator_version=int(stored["indicator_version"]),
            input_categories=int(stored["input_categories"]),
        )["created_id"]
    )
    ev.w.sdk(ev.w.operators[1]).act(ApproveModelProposalMessage, id=proposal)
    second = ev.version_of(proposal)
    index = ev.evaluate(first)["receipt"]["index"]  # both versions active at its block B
    return export_of(ev.w.platform, openings=True), index, second


def tampered(export: AuditExport, index: int, change: Callable[[dict[str, Any]], None]) -> AuditExport:
    entries = []
    for e in export.entries[ACCESS_TRAIL]:
        if e.seq == index:
            leaf = json.loads(e.leaf)
            change(leaf)  # the payload is the leaf besides its type and seq
            e = ExportedEntry(e.log, e.seq, rfc8785.dumps(leaf))
        entries.append(e)
    return dataclasses.replace(export, entries={**export.entries, ACCESS_TRAIL: entries})


def step6(ev: Evaluations, export: AuditExport) -> list[Finding]:
    report = verifier_for(ev.w.platform).verify(export)
    return [f for f in report.findings if f.step.value.startswith("6.")]


def test_the_auditor_recomputes_each_evaluation_and_catches_each_tampering(ev: Evaluations) -> None:
    export, index, second = evaluated(ev)
    assert any(json.loads(e.leaf)["type"] == "evaluation" for e in export.entries[ACCESS_TRAIL])
    assert len(export.evaluation_models) == 2
    clean = verifier_for(ev.w.platform).verify(export)
    assert clean.findings == [], [str(f) for f in clean.findings]
    assert clean.to_json()["evaluations"] == {"run": True, "checked": 1, "recomputed": 1}

    def score(p: dict[str, Any]) -> None:
        p["score"] = int(p["score"]) + 7

    found = step6(ev, tampered(export, index, score))
    assert [(f.step, f.index) for f in found] == [(Step.EVALUATION_RESULT, index)]
    assert "score and grade differ" in found[0].what

    def swap(p: dict[str, Any]) -> None:
        p["model_version"] = second

    found = step6(ev, tampered(export, index, swap))
    assert (Step.EVALUATION_MODEL, index) in [(f.step, f.index) for f in found]
    assert any("another model" in f.what for f in found)

    # Every dropped input is caught, whether or not its absence changes the recomputed answer:
    # the inputs must be the subject's whole releasable set at the record-log size named (6.2).
    (entry,) = [e for e in export.entries[ACCESS_TRAIL] if e.seq == index]
    inputs = json.loads(entry.leaf)["inputs"]
    assert len(inputs) > 1
    for dropped in range(len(inputs)):

        def drop(p: dict[str, Any], i: int = dropped) -> None:
            p["inputs"] = p["inputs"][:i] + p["inputs"][i + 1 :]

        found = step6(ev, tampered(export, index, drop))
        assert all(f.index == index for f in found)
        left_out = [f for f in found if f.step is Step.EVALUATION_INPUTS]
        name = f"{inputs[dropped]['record_id']} v{inputs[dropped]['version']}"
        assert [(f.what.split(":")[0], f.expected) for f in left_out] == [("input left out", name)], [
            str(f) for f in found
        ]

    def forge(p: dict[str, Any]) -> None:
        p["request"]["purpose"] = str(int(p["request"]["purpose"]) << 1)
        p["purpose"] = p["request"]["purpose"]

    found = step6(ev, tampered(export, index, forge))
    assert [(f.step, f.index) for f in found] == [(Step.EVALUATION_REQUEST, index)]
    assert "not signed by its institution" in found[0].what

    without_openings = export_of(ev.w.platform)
    found = step6(ev, without_openings)
    assert found and all(f.step is Step.EVALUATION_INPUTS for f in found)


def old_tax_record(ev: Evaluations, years: int = 6) -> dict[str, Any]:
    """One more tax record of the subject, dated before every tax indicator's window: read as an
    input, it changes no indicator (tax windows are 36 months at most)."""
    tax = next(r for r in ev.records if r.category == "tax")
    body = submission(tax, ev.subject)
    return body | {
        "event_date": date(TODAY.year - years, 1, 15).isoformat(),
        "source_ref": f"EVAL-OLD-{years}",
    }


def anchor_records(ev: Evaluations) -> int:
    """Anchor the credit-record log now; its anchored size."""
    platform = ev.w.platform
    worker = AnchorWorker(
        db=platform.db,
        checkpoints=CheckpointsContract(platform.chain, platform.deployment.addresses.checkpoints),
        logs=[CREDIT_RECORDS_LOG],
        policy=AnchorPolicy(),
        from_block=platform.deployment.block,
    )
    try:
        worker.anchor_now(CREDIT_RECORDS_LOG)
        return worker.anchored(CREDIT_RECORDS_LOG)[0]
    finally:
        worker.close()


def test_the_inputs_are_the_subject_s_whole_releasable_set_at_the_size_read(ev: Evaluations) -> None:
    """6.2: the inputs are held to the subject's releasable records among the first n entries of
    the record log, with dispute flags from the objection leaves there, and n is bounded below by
    what was anchored and by what an earlier evaluation read, and above by the log."""
    version = ev.active()
    ev.grant()
    (old,) = ev.w.sdk(ev.w.provider).submit_records([old_tax_record(ev)])["receipts"]
    first = ev.evaluate(version)["receipt"]["index"]
    objected = ev.entry(first)["inputs"][0]["record_id"]
    objection = ev.w.sdk(ev.enterprise).object_to(objected, "the amount is wrong")
    anchored = anchor_records(ev)
    second = ev.evaluate(version)["receipt"]["index"]
    ev.w.sdk(ev.enterprise).withdraw_objection(objection["id"])
    # another objection, upheld by the provider: a conduct fact the portrait counts
    other = ev.entry(first)["inputs"][1]["record_id"]
    upheld = ev.w.sdk(ev.enterprise).object_to(other, "not ours")
    ev.w.sdk(ev.w.provider).decide_objection(upheld["id"], "upheld", "checked: the record stands")
    (late,) = ev.w.sdk(ev.w.provider).submit_records([old_tax_record(ev, 7)])["receipts"]
    answer = ev.evaluate(version)
    third = answer["receipt"]["index"]
    entries = {i: ev.entry(i) for i in (first, second, third)}
    sizes = [entries[i]["record_log_size"] for i in (first, second, third)]
    assert sizes[0] < anchored <= sizes[1] < sizes[2], (sizes, anchored)
    flags = {i: {x["record_id"]: x["disputed"] for x in entries[i]["inputs"]} for i in entries}
    assert (flags[first][objected], flags[second][objected], flags[third][objected]) == (False, True, False)
    assert late["record_id"] in flags[third] and late["record_id"] not in flags[second]
    facts = {i: {f["id"]: f["status"] for f in entries[i]["facts"]} for i in entries}
    assert facts[first] == {}
    assert facts[second] == {objection["id"]: "open"}
    assert facts[third] == {objection["id"]: "withdrawn", upheld["id"]: "upheld"}
    # the upheld objection counts: its filing day and the evaluation's as_of are both the
    # platform's business day (UTC+8), so a fact filed today is counted today, at any hour
    portrait = answer["data"]["portrait"]
    filed_on = next(f["filed_on"] for f in entries[third]["facts"] if f["id"] == upheld["id"])
    assert filed_on == portrait["as_of"] and portrait["values"]["objections_upheld"] == 1, portrait

    export = export_of(ev.w.platform, openings=True)
    clean = verifier_for(ev.w.platform).verify(export)
    assert clean.findings == [], [str(f) for f in clean.findings]

    def inputs_found(index: int, change: Callable[[dict[str, Any]], None]) -> list[Finding]:
        found = step6(ev, tampered(export, index, change))
        assert all(f.index == index for f in found), [str(f) for f in found]
        return [f for f in found if f.step is Step.EVALUATION_INPUTS]

    # an input whose absence changes nothing: only 6.2 sees it, deterministically
    def drop_old(p: dict[str, Any]) -> None:
        p["inputs"] = [x for x in p["inputs"] if x["record_id"] != old["record_id"]]

    found = step6(ev, tampered(export, first, drop_old))
    assert [(f.step, f.what.split(":")[0]) for f in found] == [(Step.EVALUATION_INPUTS, "input left out")]

    # a stale size, below what an earlier evaluation read or below what was anchored by B
    def earlier(p: dict[str, Any]) -> None:
        p["record_log_size"] = sizes[1] - 1

    found = inputs_found(third, earlier)
    assert any("below the one an earlier evaluation read" in f.what for f in found), [str(f) for f in found]

    def below_anchor(p: dict[str, Any]) -> None:
        p["record_log_size"] = sizes[0]

    found = inputs_found(second, below_anchor)
    assert any("below the size anchored on chain" in f.what for f in found), [str(f) for f in found]

    def beyond(p: dict[str, Any]) -> None:
        p["record_log_size"] = 10**6

    assert any("beyond the record log exported" in f.what for f in inputs_found(third, beyond))

    def unnamed(p: dict[str, Any]) -> None:
        del p["record_log_size"]

    assert any("names no record-log size" in f.what for f in inputs_found(first, unnamed))

    # the dispute flag is the objection's state at n
    def undisputed(p: dict[str, Any]) -> None:
        for x in p["inputs"]:
            if x["record_id"] == objected:
                x["disputed"] = False

    found = inputs_found(second, undisputed)
    assert [f.what.split(" carries")[0] for f in found] == [f"input record {objected} v1"], [
        str(f) for f in found
    ]

    # a conduct fact left out: seen at 6.2, and at 6.3 since it counted (its absence changes the answer)
    def unfacted(p: dict[str, Any]) -> None:
        p["facts"] = [f for f in p["facts"] if f["id"] != upheld["id"]]

    found = step6(ev, tampered(export, third, unfacted))
    assert [f.got for f in found if f.step is Step.EVALUATION_INPUTS] == ["none"], [str(f) for f in found]
    assert any("response hash" in f.what for f in found if f.step is Step.EVALUATION_RESULT)

    # a record appended after n is not an input at n
    def added(p: dict[str, Any]) -> None:
        p["inputs"] = [*p["inputs"], {"record_id": late["record_id"], "version": 1, "disputed": False}]

    found = inputs_found(second, added)
    assert any(f"input record {late['record_id']} v1 is not a releasable" in f.what for f in found)


def step4(ev: Evaluations, export: AuditExport) -> list[Finding]:
    report = verifier_for(ev.w.platform).verify(export)
    return [f for f in report.findings if f.step.value.startswith("4.")]


def test_each_evaluation_is_authorized_as_a_release_is(ev: Evaluations) -> None:
    version = ev.active()
    w3 = ev.w.platform.chain.w3
    before_grant = int(w3.eth.block_number)  # the model active, no grant yet
    grant = ev.grant()
    released = ev.w.sdk(ev.w.bank).release(ev.subject, ev.inputs, CREDIT, ev.agreement)
    index = ev.evaluate(version)["receipt"]["index"]
    ev.w.sdk(ev.enterprise).act(RevokeMessage, grant_id=grant)
    after_revocation = int(w3.eth.block_number)
    export = export_of(ev.w.platform, openings=True)
    leaves = {e.seq: json.loads(e.leaf) for e in export.entries[ACCESS_TRAIL]}
    release_index = released["receipt"]["index"]
    assert leaves[release_index]["type"] == "access" and leaves[index]["type"] == "evaluation"

    clean = verifier_for(ev.w.platform).verify(export)
    assert clean.findings == [], [str(f) for f in clean.findings]
    assert clean.to_json()["access"]["evaluations_well_formed"] == 1

    for block in (before_grant, after_revocation):

        def redate(p: dict[str, Any], b: int = block) -> None:
            p["block"] = b

        found = step4(ev, tampered(export, index, redate))
        assert [(f.step, f.index, f.got) for f in found if f.step is Step.AUTHORIZATION] == [
            (Step.AUTHORIZATION, index, "NO_COVERING_GRANT")
        ], [str(f) for f in found]
        assert "evaluation not authorized" in next(f.what for f in found if f.step is Step.AUTHORIZATION)

    def reuse(p: dict[str, Any]) -> None:
        p["request"]["nonce"] = leaves[release_index]["request"]["nonce"]

    found = step4(ev, tampered(export, index, reuse))
    assert [(f.step, f.index) for f in found] == [(Step.NONCE, index)], [str(f) for f in found]
    assert f"entry {release_index}" in found[0].what

    def other_subject(p: dict[str, Any]) -> None:
        last = p["subject"][-1]
        p["subject"] = p["subject"][:-1] + ("1" if last == "0" else "0")  # not what was asked

    found = step4(ev, tampered(export, index, other_subject))
    assert (Step.REQUEST_MATCH, index) in [(f.step, f.index) for f in found]


def test_through_the_api_the_auditor_gets_the_model_documents(ev: Evaluations) -> None:
    export, _, second = evaluated(ev)
    platform = ev.w.platform
    # a document stored but never proposed on chain: the operator's export holds it, the
    # auditors' API does not serve it
    unproposed = json.loads(ev.trained.document.canonical()) | {"model_version": "never-proposed"}
    card = json.loads(ev.trained.card.canonical()) | {
        "model_sha256": hashlib.sha256(rfc8785.dumps(unproposed)).hexdigest()
    }
    ev.w.sdk(ev.w.operators[0]).store_model_documents(unproposed, card)
    auditor = Onboarding(platform, ev.w.operators).admit(key("auditor"), Role.AUDITOR, name="auditor")
    with TestClient(create_app(platform)) as client:
        source = ApiExportSource(http=client, auditor=auditor, deployment=platform.deployment)
        through_api = source.read()
        served = source._get("/audit/models")["models"]
        bank = ApiExportSource(http=client, auditor=ev.w.bank, deployment=platform.deployment)
        try:
            bank.read()
            raise AssertionError("an institution read the auditors' pages")
        except AuditError as exc:
            assert "403" in exc.message
    assert through_api.evaluation_models == export.evaluation_models
    assert len(through_api.evaluation_models) == 2
    assert [m.document["model_version"] for m in export_of(platform).evaluation_models][-1] == (
        "never-proposed"
    )
    assert [m["versions"] for m in served] == [
        [{"version": second - 1, "status": "active"}],
        [{"version": second, "status": "active"}],
    ]
    # the API serves no openings, so 6.2 is all that stays unchecked: 6.1 finds its models
    found = step6(ev, through_api)
    assert found and all(f.step is Step.EVALUATION_INPUTS for f in found), [str(f) for f in found]

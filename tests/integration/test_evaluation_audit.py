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
from typing import Any

import rfc8785
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.audit.api_source import ApiExportSource
from ledger.audit.errors import AuditError
from ledger.audit.export import AuditExport, ExportedEntry
from ledger.audit.findings import Finding, Step
from ledger.chain.consents import RevokeMessage
from ledger.chain.membership import Role
from ledger.chain.model_registry import ApproveModelProposalMessage, ProposeModelMessage
from tests.integration.audit.conftest import export_of, verifier_for
from tests.integration.audit.trail import key
from tests.integration.conftest import Onboarding
from tests.integration.test_evaluation import Evaluations, cohort, ev, trained, world
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

    # A dropped input is caught where it changes the recomputed answer. Which input that is
    # depends on the generated records, so each is dropped in turn. (An input whose absence
    # changes nothing is not caught yet: the auditor does not check that the inputs are the
    # subject's whole releasable set at that log size; issue 17 names this as open.)
    caught = []
    (entry,) = [e for e in export.entries[ACCESS_TRAIL] if e.seq == index]
    for dropped in range(len(json.loads(entry.leaf)["inputs"])):

        def drop(p: dict[str, Any], i: int = dropped) -> None:
            p["inputs"] = p["inputs"][:i] + p["inputs"][i + 1 :]

        found = step6(ev, tampered(export, index, drop))
        assert all(f.step is Step.EVALUATION_RESULT and f.index == index for f in found)
        if found:
            assert any("response hash" in f.what for f in found)
            caught.append(dropped)
    assert caught, "no dropped input was caught"

    def forge(p: dict[str, Any]) -> None:
        p["request"]["purpose"] = str(int(p["request"]["purpose"]) << 1)
        p["purpose"] = p["request"]["purpose"]

    found = step6(ev, tampered(export, index, forge))
    assert [(f.step, f.index) for f in found] == [(Step.EVALUATION_REQUEST, index)]
    assert "not signed by its institution" in found[0].what

    without_openings = export_of(ev.w.platform)
    found = step6(ev, without_openings)
    assert found and all(f.step is Step.EVALUATION_INPUTS for f in found)


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
    export, _, _ = evaluated(ev)
    platform = ev.w.platform
    auditor = Onboarding(platform, ev.w.operators).admit(key("auditor"), Role.AUDITOR, name="auditor")
    with TestClient(create_app(platform)) as client:
        through_api = ApiExportSource(http=client, auditor=auditor, deployment=platform.deployment).read()
        bank = ApiExportSource(http=client, auditor=ev.w.bank, deployment=platform.deployment)
        try:
            bank.read()
            raise AssertionError("an institution read the auditors' pages")
        except AuditError as exc:
            assert "403" in exc.message
    assert through_api.evaluation_models == export.evaluation_models
    assert len(through_api.evaluation_models) == 2
    # the API serves no openings, so 6.2 is all that stays unchecked: 6.1 finds its models
    found = step6(ev, through_api)
    assert found and all(f.step is Step.EVALUATION_INPUTS for f in found), [str(f) for f in found]

"""How a finding and an audit error read: the step, the place, expected and got, the refusal."""

from __future__ import annotations

import pytest

from ledger.audit.errors import AuditError, ChainReadError, ExportFormatError
from ledger.audit.findings import Finding, Step

TITLES = {
    "1": "deployment",
    "2.1": "checkpoint history",
    "2.2": "latest checkpoint",
    "3.1": "sequence numbers",
    "3.2": "leaf encoding",
    "3.3": "anchored roots",
    "3.4": "consistency proofs",
    "3.5": "completeness",
    "4.1": "access payload",
    "4.2": "request matches release",
    "4.3": "request signature",
    "4.4": "request nonce",
    "4.5": "block and deadline",
    "4.6": "authorization replay",
    "4.7": "on-chain confirmation",
    "4.8": "sensitivity level",
    "5.1": "record version",
    "5.2": "record completeness",
    "5.3": "record opening",
    "6.1": "evaluation model approved at B",
    "6.2": "evaluation inputs opened",
    "6.3": "evaluation recomputed",
    "6.4": "evaluation request signed",
}


def test_every_step_has_its_documented_number_and_title() -> None:
    assert {s.value: s.title for s in Step} == TITLES


def test_a_finding_as_json_names_step_check_place_and_values() -> None:
    f = Finding(Step.NONCE, "access-trail", 4, "nonce reused", "a fresh nonce", "0x00")
    assert f.to_json() == {
        "step": "4.4",
        "check": "request nonce",
        "log": "access-trail",
        "index": 4,
        "what": "nonce reused",
        "expected": "a fresh nonce",
        "got": "0x00",
    }


@pytest.mark.parametrize(
    "finding, text",
    [
        (Finding(Step.DEPLOYMENT, None, None, "no code"), "step 1 deployment: no code"),
        (Finding(Step.COMPLETENESS, "log", None, "short"), "step 3.5 completeness log: short"),
        (Finding(Step.SEQUENCE, "log", 0, "gap"), "step 3.1 sequence numbers log[0]: gap"),
        (
            Finding(Step.LEVEL, "log", 2, "x", "3", None),
            "step 4.8 sensitivity level log[2]: x (expected 3, got None)",
        ),
        (
            Finding(Step.LEVEL, "log", 2, "x", None, "4"),
            "step 4.8 sensitivity level log[2]: x (expected None, got 4)",
        ),
    ],
)
def test_a_finding_reads_as_one_line(finding: Finding, text: str) -> None:
    assert str(finding) == text


def test_an_audit_error_says_the_audit_was_not_carried_out() -> None:
    error = ChainReadError("node down")
    assert isinstance(error, AuditError)
    assert error.present() == "audit not carried out: node down"
    assert (AuditError("x").code, error.code) == ("audit_error", "audit_chain_read")


def test_an_export_format_error_names_its_line_when_it_has_one() -> None:
    with_line = ExportFormatError("bad", line=7)
    assert (with_line.message, with_line.line, with_line.code) == ("line 7: bad", 7, "audit_export_format")
    without = ExportFormatError("bad")
    assert (without.message, without.line) == ("bad", None)
    assert with_line.present() == "audit not carried out: line 7: bad"

"""The HTML report is drawn from the JSON one, escapes every value, and shows the verdict."""

from __future__ import annotations

from typing import Any

from ledger.audit.findings import Finding, Step
from ledger.audit.html import render_html


def _report(findings: list[Finding]) -> dict[str, Any]:
    return {
        "verdict": "findings" if findings else "clean",
        "generated_at": "2025-01-01T00:00:00+00:00",
        "chain": {
            "chain_id": 31337,
            "head": 99,
            "deployment_block": 1,
            "contracts": {"Consents": "0x" + "11" * 20},
        },
        "export": {"exported_at": "2025-01-01T00:00:00+00:00"},
        "logs": [
            {
                "name": "access-trail",
                "served": 3,
                "anchored_size": 2,
                "unanchored": 1,
                "checkpoints": [
                    {
                        "previous_size": 0,
                        "size": 2,
                        "root": "0x" + "aa" * 32,
                        "block": 5,
                        "transaction": "0x" + "bb" * 32,
                        "rebuilt": True,
                        "consistent": True,
                    }
                ],
            }
        ],
        "access": {
            "entries": 3,
            "well_formed": 3,
            "not_authorized": 0,
            "per_institution_purpose": [
                {
                    "institution": "0x" + "cc" * 20,
                    "purpose": "1",
                    "purpose_name": "credit_assessment",
                    "releases": 3,
                }
            ],
        },
        "replay": {
            "replayed_locally": 3,
            "checked_both_ways": 2,
            "checked_both_ways_entries": [0, 2],
            "disagreements": [],
            "not_checked_on_chain": 1,
            "not_checked_on_chain_reasons": {"the node no longer keeps the state of this block": 1},
            "not_checked_on_chain_entries": [],
            "local_only": 0,
        },
        "records": {"leaves": 0, "stored_versions": 0, "openings_checked": 0, "checked": True},
        "refusals": {
            "count": 1,
            "by_event": {"release": 1},
            "items": [
                {
                    "at": "t",
                    "actor": None,
                    "event": "release",
                    "outcome": "refused",
                    "detail": "<script>x</script>",
                }
            ],
        },
        "findings_by_step": {f"{f.step.value} {f.step.title}": 1 for f in findings},
        "findings": [f.to_json() for f in findings],
    }


def test_a_clean_report_says_so_and_escapes_values() -> None:
    html = render_html(_report([]))
    assert "CLEAN — no finding" in html and "credit_assessment" in html
    assert "<script>x</script>" not in html and "&lt;script&gt;" in html
    assert "Entries checked both ways: 0, 2" in html


def test_findings_are_listed_with_step_place_expected_and_got() -> None:
    finding = Finding(
        Step.AUTHORIZATION, "access-trail", 7, "release not authorized", "ALLOWED", "NO_COVERING_GRANT"
    )
    html = render_html(_report([finding]))
    assert "1 FINDING(S)" in html
    for text in (
        "4.6",
        "authorization replay",
        "access-trail",
        "release not authorized",
        "NO_COVERING_GRANT",
    ):
        assert text in html
    assert str(finding) == (
        "step 4.6 authorization replay access-trail[7]: release not authorized "
        "(expected ALLOWED, got NO_COVERING_GRANT)"
    )

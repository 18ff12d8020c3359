"""Step 4 over alert leaves: an alert pushed to a watching institution is held as the masked
release of a derived result it is - authorized at block B for the watch's purpose and
agreement, at the catalogue's masked level, nothing raw - from the leaf bytes through
`examine` to `check_access`. It carries no signed request (the watch's request created it),
so no nonce, signature or deadline is asked of it; every finding about it says "alert"."""

from __future__ import annotations

from typing import Any

import rfc8785
from eth_utils import to_checksum_address

from ledger.audit.examine import Examined, examine
from ledger.audit.findings import Step
from tests.unit.audit.test_access_findings import GRANT, INSTITUTION, LEVEL, PURPOSE, SUBJECT, TAX, B
from tests.unit.audit.test_evaluation_authorization import BEFORE_GRANT, audit, evaluation_leaf, steps


def alert_payload(seq: int) -> dict[str, Any]:
    """A clean alert leaf's object at B, as `ledger.alerts.authorize` writes it."""
    return {
        "type": "alert",
        "seq": seq,
        "kind": "alert",
        "alert_id": f"alert-{seq}",
        "institution": to_checksum_address(INSTITUTION),
        "subject": SUBJECT,
        "categories": str(TAX),
        "purpose": str(PURPOSE),
        "agreement_id": 1,
        "grant_id": GRANT,
        "raw_categories": "0",
        "level": LEVEL,
        "block": B,
        "released_at": "1970-01-01T00:16:40+00:00",  # RELEASED_AT
        "watch_id": "w1",
        "event": "grade_drop",
        "rule_id": "r1",
        "rules_version": 1,
        "severity": "high",
        "response_hash": "0x" + "44" * 32,
    }


def alert_leaf(seq: int, **changes: Any) -> bytes:
    return rfc8785.dumps(alert_payload(seq) | changes)


def examined(*leaves: bytes) -> list[Examined]:
    return examine(bytes(32), list(enumerate(leaves)))


def test_a_clean_alert_is_replayed_as_an_allowed_masked_release_and_counted_as_an_alert() -> None:
    (x,) = examined(alert_leaf(0))
    assert x.entry is not None and x.signer is None  # no signature of its own
    findings, result = audit([x])
    assert findings == []
    assert [e.index for e in result.alerts] == [0]
    assert result.entries == [] and result.evaluations == []  # not a release, not an evaluation
    assert result.per_institution_purpose == {}  # the releases' count by institution and purpose
    assert result.unauthorized == [] and result.levels_checked == 1
    assert result.replayed[0].decision.allowed


def test_each_authorization_finding_about_an_alert_names_it_an_alert() -> None:
    """No grant at B, or another grant than the one covering it: found at 4.6 as the alert's."""
    cases = [
        ({"block": BEFORE_GRANT}, f"alert not authorized at block {BEFORE_GRANT}: NO_COVERING_GRANT",
         "ALLOWED", "NO_COVERING_GRANT"),
        ({"grant_id": GRANT + 1}, f"alert names another grant than the one covering it at block {B}",
         str(GRANT), str(GRANT + 1)),
    ]  # fmt: skip
    for changes, what, expected, got in cases:
        findings, result = audit(examined(alert_leaf(0, **changes)))
        assert [(f.step, f.index, f.what, f.expected, f.got) for f in findings] == [
            (Step.AUTHORIZATION, 0, what, expected, got)
        ]
        assert result.unauthorized == [0]


def test_alerts_answer_no_request_so_no_nonce_or_deadline_is_asked_of_them() -> None:
    """Two alerts (no nonce each) are no replay of each other; an alert pushed long after
    any request's deadline stands; only a release's or evaluation's request is matched."""
    findings, result = audit(examined(alert_leaf(0), alert_leaf(1), evaluation_leaf(2)))
    assert findings == []
    assert [e.index for e in result.alerts] == [0, 1] and [e.index for e in result.evaluations] == [2]
    findings, _ = audit(examined(evaluation_leaf(0, request_deadline=999), alert_leaf(1)))
    assert steps(findings) == [(Step.BLOCK, 0, "1000")]  # the evaluation authorized after its deadline
    # block 30 is stamped 10 s after the alert's own time (the node's clock ahead): an alert
    # has no deadline to be past, and a block younger than the release is not stale
    findings, _ = audit(examined(alert_leaf(0, block=30)))
    assert findings == []


def test_an_alert_releasing_anything_raw_or_missing_a_field_is_named_in_step_4_1() -> None:
    findings, result = audit(examined(alert_leaf(0, raw_categories=str(TAX))))
    assert [(f.step, f.what, f.expected, f.got) for f in findings] == [
        (Step.ACCESS_PAYLOAD, "field raw_categories", "0: an alert releases nothing raw", repr(str(TAX)))
    ]
    assert result.alerts == []
    for field in ("alert_id", "event", "grant_id", "response_hash"):
        payload = {k: v for k, v in alert_payload(0).items() if k != field}
        findings, _ = audit(examined(rfc8785.dumps(payload)))
        assert [(f.step, f.what) for f in findings] == [(Step.ACCESS_PAYLOAD, f"field {field}")], field
    findings, _ = audit(examined(alert_leaf(0, response_hash="0x" + "AB" * 32)))
    assert [(f.what, f.expected) for f in findings] == [
        ("field response_hash", "0x + a 32-byte SHA-256 in lower-case hex")
    ]


def test_an_alert_institution_not_in_eip55_form_is_named_in_step_4_1() -> None:
    """The trail keeps one spelling of each address, as the releases' and evaluations' do."""
    lower = to_checksum_address(INSTITUTION).lower()
    assert lower != to_checksum_address(INSTITUTION)  # the spelling differs, not just the case rule
    findings, result = audit(examined(alert_leaf(0, institution=lower)))
    assert [(f.step, f.what, f.expected, f.got) for f in findings] == [
        (Step.ACCESS_PAYLOAD, "field institution", "an EIP-55 checksummed address", repr(lower))
    ]
    assert result.alerts == []

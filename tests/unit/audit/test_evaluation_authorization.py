"""Step 4 over evaluation leaves: each evaluation is authorized as the release of a derived
result it is - its institution, subject, purpose and agreement, the model's input
categories at the masked level, block B, deadline and nonce - by the same checks as a
release, from the leaf bytes through `examine` to `check_access`."""

from __future__ import annotations

from typing import Any

import rfc8785
from eth_utils import keccak, to_checksum_address

from ledger.audit.catalogue import content_hash
from ledger.audit.chain import ChainSnapshot
from ledger.audit.events import ChainEvent
from ledger.audit.examine import Examined, examine
from ledger.audit.findings import Finding, Step
from ledger.audit.verify_access import AccessResult, check_access
from tests.unit.audit import world
from tests.unit.audit.test_access_findings import (
    DOCUMENT,
    ENTERPRISE,
    EVENTS,
    GRANT,
    INSTITUTION,
    LEVEL,
    OTHER,
    PURPOSE,
    RELEASED_AT,
    SUBJECT,
    TAX,
    B,
    entry,
    event,
)

BEFORE_GRANT = 6  # the agreement in force, the enterprise's grant not yet given (block 7)
REVOKED_AT = 15


def evaluation_leaf(seq: int, **changes: Any) -> bytes:
    """A clean evaluation leaf at B, as the platform writes it, with `changes` to its payload
    (`request_*` to its signed request)."""
    request = {
        "institution": INSTITUTION,
        "subject": SUBJECT,
        "model_version": 1,
        "purpose": str(PURPOSE),
        "agreement_id": 1,
        "nonce": "0x" + bytes([seq]).hex() * 32,
        "deadline": 2_000,
        "signature": "0x" + "11" * 65,
    }
    request |= {k.removeprefix("request_"): v for k, v in changes.items() if k.startswith("request_")}
    payload: dict[str, Any] = {
        "type": "evaluation",
        "seq": seq,
        "kind": "evaluation",
        "institution": to_checksum_address(INSTITUTION),  # EIP-55, as the platform writes it
        "subject": SUBJECT,
        "model_version": 1,
        "model_hash": "0x" + "22" * 32,
        "card_hash": "0x" + "33" * 32,
        "indicator_version": 1,
        "categories": str(TAX),
        "purpose": str(PURPOSE),
        "agreement_id": 1,
        "grant_id": GRANT,
        "level": LEVEL,
        "block": B,
        "as_of": "1970-01-01",
        "inputs": [{"record_id": "r1", "version": 1, "disputed": False}],
        "status": "scored",
        "score": 600,
        "grade": "B",
        "response_hash": "0x" + "44" * 32,
        "released_at": "1970-01-01T00:16:40+00:00",  # RELEASED_AT
        "request": request,
    }
    payload |= {k: v for k, v in changes.items() if not k.startswith("request_")}
    return rfc8785.dumps(payload)


def examined(*leaves: bytes) -> list[Examined]:
    return examine(bytes(32), list(enumerate(leaves)))


def audit(items: list[Examined], extra: tuple[ChainEvent, ...] = ()) -> tuple[list[Finding], AccessResult]:
    snapshot = ChainSnapshot(
        chain_id=31337,
        head=40,
        deployment_block=1,
        addresses={},
        missing_code=(),
        checkpoints={},
        latest={},
        events=tuple(sorted(EVENTS + extra, key=lambda e: e.block)),
        timestamps={BEFORE_GRANT: RELEASED_AT - 5, B: RELEASED_AT, 30: RELEASED_AT + 10},
    )
    findings: list[Finding] = []
    result = check_access(items, snapshot, findings, catalogues={content_hash(DOCUMENT): DOCUMENT})
    return findings, result


def steps(findings: list[Finding]) -> list[tuple[Step, int | None, str | None]]:
    return [(f.step, f.index, f.got) for f in findings]


def test_a_clean_evaluation_is_replayed_as_an_allowed_masked_release_of_the_models_inputs() -> None:
    (x,) = examined(evaluation_leaf(0))
    assert x.entry is not None and x.signer is None  # its signature is step 6.4's
    assert (x.entry.categories, x.entry.raw_categories, x.entry.request.raw) == (TAX, 0, False)
    assert x.entry.at == RELEASED_AT and x.entry.record_count == 1
    findings, result = audit([x])
    assert findings == []
    assert result.entries == [] and [e.index for e in result.evaluations] == [0]
    assert result.levels_checked == 1 and result.unauthorized == []
    replayed = result.replayed[0]
    assert (replayed.block, replayed.decision.grant_id, replayed.decision.raw_categories) == (B, GRANT, TAX)
    assert replayed.query == replayed.query.__class__(
        INSTITUTION, keccak(SUBJECT.encode()), TAX, PURPOSE, 1, LEVEL or 0, RELEASED_AT
    )


def test_an_evaluation_at_a_block_without_a_grant_is_unauthorized() -> None:
    findings, result = audit(examined(evaluation_leaf(0, block=BEFORE_GRANT)))
    assert steps(findings) == [(Step.AUTHORIZATION, 0, "NO_COVERING_GRANT")]
    assert findings[0].what == f"evaluation not authorized at block {BEFORE_GRANT}: NO_COVERING_GRANT"
    assert result.unauthorized == [0]


def test_an_evaluation_after_its_grant_was_revoked_is_unauthorized() -> None:
    revoked = (event(REVOKED_AT, "ConsentRevoked", grantId=GRANT),)
    findings, result = audit(examined(evaluation_leaf(0)), revoked)
    assert steps(findings) == [(Step.AUTHORIZATION, 0, "NO_COVERING_GRANT")]
    assert result.unauthorized == [0]
    # the same evaluation before the revocation's block stands
    findings, _ = audit(examined(evaluation_leaf(0)), (event(30, "ConsentRevoked", grantId=GRANT),))
    assert findings == []


def test_an_evaluation_by_an_institution_outside_the_agreement_is_unauthorized() -> None:
    leaf = evaluation_leaf(0, institution=to_checksum_address(OTHER), request_institution=OTHER)
    findings, _ = audit(examined(leaf))
    assert steps(findings) == [(Step.AUTHORIZATION, 0, "AGREEMENT_NOT_OWNED")]


def test_a_nonce_spent_by_a_release_and_again_by_an_evaluation_is_a_replay() -> None:
    nonce = bytes([7]) * 32
    release = entry(0, request_nonce=nonce)
    (evaluation,) = examine(bytes(32), [(1, evaluation_leaf(1, request_nonce="0x" + nonce.hex()))])
    findings, _ = audit([release, evaluation])
    assert steps(findings) == [(Step.NONCE, 1, "0x" + nonce.hex())]
    assert "already used by entry 0" in findings[0].what
    # and the other way round: an evaluation's nonce replayed by a later release
    (evaluation,) = examine(bytes(32), [(0, evaluation_leaf(0, request_nonce="0x" + nonce.hex()))])
    findings, _ = audit([evaluation, entry(1, request_nonce=nonce)])
    assert steps(findings) == [(Step.NONCE, 1, "0x" + nonce.hex())]


def test_each_request_field_fault_of_an_evaluation_is_found() -> None:
    cases: list[tuple[dict[str, Any], Step]] = [
        ({"request_purpose": str(PURPOSE << 1)}, Step.REQUEST_MATCH),  # released purpose not asked
        ({"request_agreement_id": 2}, Step.REQUEST_MATCH),
        ({"request_subject": "91410105100079190H"}, Step.REQUEST_MATCH),
        ({"request_institution": OTHER}, Step.REQUEST_MATCH),
        ({"subject": "9141010010000000", "request_subject": "9141010010000000"}, Step.REQUEST_MATCH),
        ({"request_deadline": RELEASED_AT - 1}, Step.BLOCK),  # authorized after the deadline
        ({"block": 41}, Step.BLOCK),  # not a block of the deployment
        ({"released_at": "1970-01-01T00:17:40+00:00"}, Step.BLOCK),  # B 60 s older than it
        ({"level": (LEVEL or 0) + 1}, Step.LEVEL),  # not the catalogue's masked level
        ({"grant_id": GRANT + 1}, Step.AUTHORIZATION),
    ]
    for changes, step in cases:
        findings, _ = audit(examined(evaluation_leaf(0, **changes)))
        assert step in [f.step for f in findings], (changes, [str(f) for f in findings])
        assert all(f.index == 0 for f in findings)


def test_a_malformed_evaluation_payload_is_named_in_step_4_1() -> None:
    findings, result = audit(examined(evaluation_leaf(0, categories=TAX)))  # a number, not a string
    assert steps(findings) == [(Step.ACCESS_PAYLOAD, 0, repr(TAX))]
    assert findings[0].what == "field categories"
    assert result.evaluations == []
    findings, _ = audit(examined(evaluation_leaf(0, request_nonce="0x12")))
    assert [(f.step, f.what) for f in findings] == [(Step.ACCESS_PAYLOAD, "field request.nonce")]


def test_an_evaluation_entry_names_its_institution_in_eip55_form_as_a_release_does() -> None:
    lower = INSTITUTION.lower()
    assert to_checksum_address(lower) != lower  # the check below would not bite otherwise
    findings, result = audit(examined(evaluation_leaf(0, institution=lower)))
    assert [(f.step, f.what, f.expected, f.got) for f in findings] == [
        (Step.ACCESS_PAYLOAD, "field institution", "an EIP-55 checksummed address", repr(lower))
    ]
    assert result.evaluations == []


def test_the_enterprise_itself_is_no_institution_to_evaluate_for() -> None:
    leaf = evaluation_leaf(0, institution=to_checksum_address(ENTERPRISE), request_institution=ENTERPRISE)
    findings, _ = audit(examined(leaf))
    assert steps(findings) == [(Step.AUTHORIZATION, 0, "REQUESTER_NOT_ACTIVE_INSTITUTION")]


def test_an_evaluation_naming_another_grant_is_named_an_evaluation_and_a_release_a_release() -> None:
    findings, result = audit(examined(evaluation_leaf(0, grant_id=GRANT + 1)))
    assert [(f.step, f.index, f.what, f.expected, f.got) for f in findings] == [
        (
            Step.AUTHORIZATION,
            0,
            f"evaluation names another grant than the one covering it at block {B}",
            str(GRANT),
            str(GRANT + 1),
        )
    ]
    assert result.unauthorized == [0]
    # a release beside it, with the same fault, is named a release
    release = entry(1, grant_id=GRANT + 1)
    (evaluation,) = examined(evaluation_leaf(0))
    findings, _ = audit([evaluation, release])
    assert [(f.index, f.what) for f in findings] == [
        (1, f"release names another grant than the one covering it at block {B}")
    ]


def test_an_evaluation_leaf_is_examined_at_its_index_and_the_leaves_after_it_too() -> None:
    release = world.access_leaves()[0]
    out = examine(bytes(32), [(5, evaluation_leaf(5)), (6, release), (7, evaluation_leaf(7))])
    assert [(x.seq, x.leaf.type if x.leaf else None) for x in out] == [
        (5, "evaluation"),
        (6, "access"),
        (7, "evaluation"),
    ]
    assert [x.entry.index if x.entry else None for x in out] == [5, 6, 7]
    assert (out[0].signer, out[2].signer) == (None, None)  # an evaluation's signature is step 6.4's
    assert out[1].signer is not None

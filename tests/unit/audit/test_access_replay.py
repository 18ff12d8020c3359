"""Step 4 beyond single faults: addresses compared without regard to case, the replay in block order
with each block's own events, raw categories released without being asked for, and the counts."""

from __future__ import annotations

import dataclasses
import os

from eth_utils import keccak

from ledger.audit.catalogue import content_hash
from ledger.audit.chain import ChainSnapshot
from ledger.audit.findings import Finding, Step
from ledger.audit.verify_access import DEFAULT_MAX_BLOCK_AGE_SECONDS, check_access
from tests.unit.audit.fakes import RecordingProgress
from tests.unit.audit.test_access_findings import (
    DOCUMENT,
    EVENTS,
    GRANT,
    INSTITUTION,
    LOG,
    SUBJECT,
    TAX,
    B,
    audit,
    entry,
    event,
)


def snapshot(events: tuple[object, ...] = EVENTS, timestamps: dict[int, int] | None = None) -> ChainSnapshot:
    return ChainSnapshot(
        chain_id=31337,
        head=40,
        deployment_block=1,
        addresses={},
        missing_code=(),
        checkpoints={},
        latest={},
        events=events,  # type: ignore[arg-type]
        timestamps=timestamps or {B: 1_000, 30: 1_000},
    )


def test_addresses_are_compared_and_replayed_without_regard_to_case() -> None:
    upper = "0x" + INSTITUTION[2:].upper()
    findings, result = audit([entry(0, institution=upper), entry(1, request_institution=upper)])
    assert findings == []
    assert result.replayed[0].query.requester == INSTITUTION  # type: ignore[attr-defined]


def test_raw_categories_released_to_a_request_for_masked_data_are_a_finding() -> None:
    findings, result = audit([entry(0, raw_categories=TAX)])
    assert findings == [
        Finding(
            Step.AUTHORIZATION,
            LOG,
            0,
            "released raw (unmasked) categories differ from what the grant and request allow",
            "0",
            str(TAX),
        )
    ]
    assert result.unauthorized == [0]  # type: ignore[attr-defined]


def test_events_take_effect_in_their_block_and_entries_are_replayed_in_block_order() -> None:
    revoked_at_30 = (*EVENTS, event(30, "ConsentRevoked", grantId=GRANT))
    examined = [entry(0, block=30), entry(1, block=B)]
    findings: list[Finding] = []
    result = check_access(examined, snapshot(revoked_at_30), findings)
    assert [(f.index, f.got) for f in findings] == [(0, "NO_COVERING_GRANT")]
    assert result.replayed[1].decision.allowed and not result.replayed[0].decision.allowed
    revoked_after = (*EVENTS, event(B + 1, "ConsentRevoked", grantId=GRANT))
    assert check_access([entry(0)], snapshot(revoked_after), []).unauthorized == []


def test_the_catalogue_in_force_at_the_block_sets_the_level() -> None:
    other = {**DOCUMENT, "version": 99}
    republished = (
        *EVENTS,
        event(B, "CataloguePublished", publicCategories=0, contentHash=content_hash(other)),
    )
    result = check_access(
        [entry(0)], snapshot(republished), [], catalogues={content_hash(DOCUMENT): DOCUMENT}
    )
    assert (result.levels_checked, result.levels_unchecked) == (0, 1)


def test_progress_follows_the_replay_entry_by_entry() -> None:
    examined = [entry(i % 200, request_nonce=i.to_bytes(32, "big")) for i in range(2_048)]
    for i, x in enumerate(examined):
        assert x.entry is not None
        examined[i] = dataclasses.replace(x, seq=i, entry=dataclasses.replace(x.entry, index=i))
    progress = RecordingProgress()
    result = check_access(examined, snapshot(), [], progress=progress)
    assert progress.tasks == [("replaying authorization", 2_048)]
    assert progress.advanced == {"replaying authorization": 2_048}
    assert len(result.entries) == 2_048 and len(result.replayed) == 2_048
    assert result.per_institution_purpose == {(INSTITUTION, 1): 2_048}
    assert result.replay_seconds > 0


def test_the_default_bound_on_a_blocks_age_is_thirty_seconds() -> None:
    assert DEFAULT_MAX_BLOCK_AGE_SECONDS == 30
    at_the_bound: list[Finding] = []
    check_access([entry(0, at=1_030)], snapshot(), at_the_bound)
    past_it: list[Finding] = []
    check_access([entry(0, at=1_031)], snapshot(), past_it)
    assert at_the_bound == [] and [f.step for f in past_it] == [Step.BLOCK]


def test_expiries_are_judged_at_the_release_time_when_it_is_later_than_the_block() -> None:
    short = (
        *EVENTS,
        event(7, "ConsentRevoked", grantId=GRANT),
        event(
            8,
            "ConsentGranted",
            grantId=6,
            agreementId=0,
            categories=TAX,
            purposes=1,
            rawCategories=0,
            expiresAt=1_005,
            usccHash=keccak(SUBJECT.encode()),
            institution=INSTITUTION,
        ),
    )
    findings: list[Finding] = []
    check_access([entry(0, grant_id=6, at=1_010)], snapshot(short), findings)  # block time 1_000
    assert [(f.step, f.got) for f in findings] == [(Step.AUTHORIZATION, "NO_COVERING_GRANT")]
    assert check_access([entry(0, grant_id=6, at=1_005)], snapshot(short), []).unauthorized == []


def test_a_subject_is_replayed_under_the_keccak_of_its_utf8_bytes() -> None:
    subject = "9141" + os.urandom(7).hex()[:14].upper()  # new to this process: not cached yet
    registered = (
        *EVENTS,
        event(5, "EnterpriseRegistered", account="0x" + "12" * 20, usccHash=keccak(subject.encode())),
    )
    findings: list[Finding] = []
    result = check_access(
        [entry(0, subject=subject, request_subject=subject)], snapshot(registered), findings
    )
    assert result.replayed[0].query.uscc_hash == keccak(subject.encode("utf-8"))
    assert result.replayed[0].decision.reason.name != "SUBJECT_UNKNOWN"
    assert {f.step for f in findings} <= {Step.REQUEST_MATCH, Step.AUTHORIZATION}

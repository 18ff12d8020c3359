"""Step 4.5 of the audit: block B is a block of the deployment, and not past the request's deadline."""

from __future__ import annotations

from ledger.audit.chain import ChainSnapshot
from ledger.audit.examine import Examined
from ledger.audit.findings import Finding, Step
from ledger.audit.leaves import AccessEntry, DecodedLeaf, SignedRequest
from ledger.audit.verify_access import check_access

INSTITUTION = "0x" + "ab" * 20
SUBJECT = "91410100100000008U"
DEPLOYED, HEAD = 10, 40


def entry(index: int, block: int, deadline: int, at: int = 1_000) -> Examined:
    """A release at block `block` at the release time `at` (unix seconds)."""
    request = SignedRequest(INSTITUTION, SUBJECT, 1, 1, 1, False, index.to_bytes(32, "big"), deadline, b"")
    e = AccessEntry(
        index=index,
        institution=INSTITUTION,
        subject=SUBJECT,
        categories=1,
        purpose=1,
        agreement_id=1,
        grant_id=0,
        raw_categories=0,
        level=1,
        block=block,
        response_hash=bytes(32),
        released_at="",
        at=at,
        record_count=0,
        request=request,
    )
    leaf = DecodedLeaf("access", index, {})
    return Examined(index, leaf, None, entry=e, signer=bytes.fromhex(INSTITUTION[2:]))


def snapshot(timestamps: dict[int, int]) -> ChainSnapshot:
    return ChainSnapshot(
        chain_id=31337,
        head=HEAD,
        deployment_block=DEPLOYED,
        addresses={},
        missing_code=(),
        checkpoints={},
        latest={},
        events=(),
        timestamps=timestamps,
    )


def block_findings(findings: list[Finding]) -> dict[int | None, str]:
    return {f.index: f.what for f in findings if f.step is Step.BLOCK}


def test_a_release_authorized_in_a_block_after_the_deadline_is_a_finding() -> None:
    examined = [
        entry(0, block=20, deadline=1_000, at=1_000),  # block time 1_000: at the deadline, on time
        entry(1, block=21, deadline=1_011, at=1_012),  # block time 1_012: one second late
        entry(2, block=22, deadline=5_000, at=1_024),  # on time
    ]
    findings: list[Finding] = []
    result = check_access(examined, snapshot({20: 1_000, 21: 1_012, 22: 1_024}), findings)
    assert block_findings(findings) == {1: "authorized in block 21 after the request's deadline"}
    [late] = [f for f in findings if f.step is Step.BLOCK]
    assert late == Finding(
        Step.BLOCK,
        "access-trail",
        1,
        "authorized in block 21 after the request's deadline",
        "block time <= 1011",
        "1012",
    )
    assert set(result.replayed) == {0, 1, 2}  # a late release is still replayed


def test_a_block_outside_the_deployment_or_of_unknown_time_is_a_finding_and_not_replayed() -> None:
    examined = [
        entry(0, block=DEPLOYED - 1, deadline=10**9),
        entry(1, block=HEAD + 1, deadline=10**9),
        entry(2, block=30, deadline=10**9),  # no timestamp known
        entry(3, block=DEPLOYED, deadline=10**9),
        entry(4, block=HEAD, deadline=10**9),
    ]
    findings: list[Finding] = []
    result = check_access(examined, snapshot({DEPLOYED: 1_000, HEAD: 1_000}), findings)
    outside = "authorization block is not a block of this deployment"
    assert [f for f in findings if f.step is Step.BLOCK] == [
        Finding(Step.BLOCK, "access-trail", 0, outside, f"{DEPLOYED}..{HEAD}", str(DEPLOYED - 1)),
        Finding(Step.BLOCK, "access-trail", 1, outside, f"{DEPLOYED}..{HEAD}", str(HEAD + 1)),
        Finding(Step.BLOCK, "access-trail", 2, "timestamp of block 30 unknown"),
    ]
    assert set(result.replayed) == {3, 4}


def test_a_block_older_than_the_bound_at_the_release_time_is_a_finding_and_still_replayed() -> None:
    examined = [
        entry(0, block=20, deadline=10**9, at=1_030),  # 30 s old: at the bound
        entry(1, block=20, deadline=10**9, at=1_031),  # 31 s old
        entry(2, block=20, deadline=10**9, at=1_400),
    ]
    findings: list[Finding] = []
    result = check_access(examined, snapshot({20: 1_000}), findings, max_block_age=30)
    assert [f for f in findings if f.step is Step.BLOCK] == [
        Finding(
            Step.BLOCK,
            "access-trail",
            1,
            "decided at block 20, 31 s older than the release",
            "block time >= 1001",
            "1000",
        ),
        Finding(
            Step.BLOCK,
            "access-trail",
            2,
            "decided at block 20, 400 s older than the release",
            "block time >= 1370",
            "1000",
        ),
    ]
    assert set(result.replayed) == {0, 1, 2}

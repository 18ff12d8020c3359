"""Step 4 of the audit over hand-made trail entries: each fault yields its exact finding.

An event-sourced world in which one institution has an active agreement and a grant of
the enterprise (raw for tax); entries of the access trail then each carry one fault
(another institution, another subject, a bad or foreign signature, a reused nonce,
another grant, other raw categories, no authorization, another level, a bit of no
category, a malformed payload), and the auditor must report exactly that, where it is.
"""

from __future__ import annotations

import dataclasses

from eth_utils import keccak

from ledger.audit.catalogue import content_hash, release_level
from ledger.audit.chain import ChainSnapshot
from ledger.audit.events import ChainEvent
from ledger.audit.examine import Examined
from ledger.audit.findings import Finding, Step
from ledger.audit.leaves import AccessEntry, DecodedLeaf, SignedRequest
from ledger.audit.subject import subject_problem
from ledger.audit.verify_access import check_access
from ledger.domain.catalogue import default_catalogue

LOG = "access-trail"
INSTITUTION = "0x" + "ab" * 20
OTHER = "0x" + "cd" * 20
ENTERPRISE = "0x" + "ef" * 20
SUBJECT, OTHER_SUBJECT = "91410100100000008U", "91410105100079190H"
TAX = 1 << 6
PURPOSE = 1
GRANT = 5
B = 20
#: the release's own time: the block's (timestamp 1_000), so the block is fresh
RELEASED_AT = 1_000
DOCUMENT = default_catalogue().model_dump(mode="json")
LEVEL = release_level(DOCUMENT, TAX, False)
RAW_LEVEL = release_level(DOCUMENT, TAX, True)


def event(block: int, name: str, **args: object) -> ChainEvent:
    return ChainEvent("", name, block, 0, b"", args)


EVENTS = (
    event(5, "MemberAdmitted", account=INSTITUTION, role=3),
    event(5, "MemberAdmitted", account=OTHER, role=3),
    event(5, "EnterpriseRegistered", account=ENTERPRISE, usccHash=keccak(SUBJECT.encode())),
    event(5, "CataloguePublished", publicCategories=0, contentHash=content_hash(DOCUMENT)),
    event(
        6,
        "AgreementProposed",
        id=1,
        institution=INSTITUTION,
        maxLevel=5,
        validFrom=0,
        validUntil=10**10,
        commitmentId=1,
        categories=TAX | 1,
        purposes=PURPOSE,
    ),
    event(6, "AgreementCountersigned", id=1),
    event(
        7,
        "ConsentGranted",
        grantId=GRANT,
        agreementId=0,
        categories=TAX,
        purposes=PURPOSE,
        rawCategories=TAX,
        expiresAt=10**10,
        usccHash=keccak(SUBJECT.encode()),
        institution=INSTITUTION,
    ),
)


_OWN = b"own"  # the signer is the institution the request names


def entry(index: int, *, signer: bytes | str | None = _OWN, **changes: object) -> Examined:
    """A clean release at B, with `changes` to the entry (`request_*` to its signed request)."""
    asked = {k.removeprefix("request_"): v for k, v in changes.items() if k.startswith("request_")}
    request = SignedRequest(INSTITUTION, SUBJECT, TAX, PURPOSE, 1, False, bytes([index]) * 32, 2_000, b"")
    request = dataclasses.replace(request, **asked)  # type: ignore[arg-type]
    e = AccessEntry(
        index=index,
        institution=INSTITUTION,
        subject=SUBJECT,
        categories=TAX,
        purpose=PURPOSE,
        agreement_id=1,
        grant_id=GRANT,
        raw_categories=0,
        level=LEVEL or 0,
        block=B,
        response_hash=bytes(32),
        released_at="",
        at=RELEASED_AT,
        record_count=1,
        request=request,
    )
    e = dataclasses.replace(e, **{k: v for k, v in changes.items() if not k.startswith("request_")})  # type: ignore[arg-type]
    return Examined(
        index,
        DecodedLeaf("access", index, {}),
        None,
        entry=e,
        signer=bytes.fromhex(e.request.institution[2:]) if signer == _OWN else signer,
    )


def audit(examined: list[Examined], *, catalogues: bool = True) -> tuple[list[Finding], object]:
    snapshot = ChainSnapshot(
        chain_id=31337,
        head=40,
        deployment_block=1,
        addresses={},
        missing_code=(),
        checkpoints={},
        latest={},
        events=EVENTS,
        timestamps={B: 1_000},
    )
    findings: list[Finding] = []
    result = check_access(
        examined, snapshot, findings, catalogues={content_hash(DOCUMENT): DOCUMENT} if catalogues else None
    )
    return findings, result


def test_a_clean_release_has_no_finding_and_is_replayed_as_allowed() -> None:
    findings, result = audit([entry(0), entry(1, request_raw=True, raw_categories=TAX, level=RAW_LEVEL)])
    assert findings == []
    assert result.unauthorized == [] and result.levels_checked == 2  # type: ignore[attr-defined]
    assert result.per_institution_purpose == {(INSTITUTION, PURPOSE): 2}  # type: ignore[attr-defined]
    replayed = result.replayed[1]  # type: ignore[attr-defined]
    assert (replayed.block, replayed.decision.grant_id, replayed.decision.raw_categories) == (B, GRANT, TAX)
    assert replayed.query.uscc_hash == keccak(SUBJECT.encode()) and replayed.query.requester == INSTITUTION


def test_each_fault_is_found_where_it_is() -> None:
    other_signer = bytes.fromhex(OTHER[2:])
    malformed = Examined(12, DecodedLeaf("access", 12, {}), None, payload_problem=("subject", "a USCC", "x"))
    examined = [
        entry(0),
        entry(1, request_institution=OTHER),
        entry(2, request_subject=OTHER_SUBJECT),
        entry(3, signer="bad signature"),
        entry(4, signer=other_signer),
        entry(5, request_nonce=bytes([0]) * 32),
        entry(6, grant_id=GRANT - 1),
        entry(7, request_raw=True, level=RAW_LEVEL),
        entry(8, agreement_id=2, request_agreement_id=2),
        entry(9, level=(LEVEL or 0) + 1),
        entry(10, categories=TAX | 1 << 40, request_categories=TAX | 1 << 40),
        entry(11, institution=OTHER, request_institution=OTHER),
        entry(13, signer=None),  # no signer recovered in examination: nothing to compare
        entry(14, subject=SUBJECT.lower(), request_subject=SUBJECT.lower()),
    ]
    examined.insert(0, malformed)  # an entry that failed to parse does not end the checks
    findings, result = audit(examined)
    expected = [
        Finding(Step.ACCESS_PAYLOAD, LOG, 12, "field subject", "a USCC", "x"),
        Finding(Step.REQUEST_MATCH, LOG, 1, "request is by another institution", INSTITUTION, OTHER),
        Finding(
            Step.REQUEST_MATCH, LOG, 2, "released subject differs from the request", OTHER_SUBJECT, SUBJECT
        ),
        Finding(Step.SIGNATURE, LOG, 3, "request signature invalid: bad signature"),
        Finding(
            Step.SIGNATURE, LOG, 4, "request is not signed by the institution it names", INSTITUTION, OTHER
        ),
        Finding(
            Step.NONCE,
            LOG,
            5,
            "request nonce already used by entry 0: a replayed request",
            "a fresh nonce",
            "0x" + "00" * 32,
        ),
        Finding(
            Step.AUTHORIZATION,
            LOG,
            6,
            f"release names another grant than the one covering it at block {B}",
            str(GRANT),
            str(GRANT - 1),
        ),
        Finding(
            Step.AUTHORIZATION,
            LOG,
            7,
            "released raw (unmasked) categories differ from what the grant and request allow",
            str(TAX),
            "0",
        ),
        Finding(
            Step.AUTHORIZATION,
            LOG,
            8,
            f"release not authorized at block {B}: AGREEMENT_UNKNOWN",
            "ALLOWED",
            "AGREEMENT_UNKNOWN",
        ),
        Finding(
            Step.LEVEL,
            LOG,
            9,
            f"authorization asked at another sensitivity level than the catalogue's at block {B}",
            str(LEVEL),
            str((LEVEL or 0) + 1),
        ),
        Finding(
            Step.LEVEL,
            LOG,
            10,
            "categories name a bit the catalogue in force does not",
            None,
            str(TAX | 1 << 40),
        ),
        Finding(
            Step.AUTHORIZATION,
            LOG,
            10,
            f"release not authorized at block {B}: CATEGORY_OUT_OF_SCOPE",
            "ALLOWED",
            "CATEGORY_OUT_OF_SCOPE",
        ),
        Finding(
            Step.AUTHORIZATION,
            LOG,
            11,
            f"release not authorized at block {B}: AGREEMENT_NOT_OWNED",
            "ALLOWED",
            "AGREEMENT_NOT_OWNED",
        ),
    ]
    problem = subject_problem(SUBJECT.lower())
    assert problem is not None
    expected += [
        Finding(
            Step.REQUEST_MATCH,
            LOG,
            14,
            f"request subject is not a canonical 统一社会信用代码: {problem}",
            "18 characters of the USCC alphabet with a valid check character",
            SUBJECT.lower(),
        ),
        Finding(
            Step.AUTHORIZATION,
            LOG,
            14,
            f"release not authorized at block {B}: SUBJECT_UNKNOWN",
            "ALLOWED",
            "SUBJECT_UNKNOWN",
        ),
    ]
    key = lambda f: (f.step.value, f.index, f.what)  # noqa: E731
    assert sorted(findings, key=key) == sorted(expected, key=key)
    assert sorted(result.unauthorized) == [6, 7, 8, 10, 11, 14]  # type: ignore[attr-defined]
    assert result.per_institution_purpose == {(INSTITUTION, PURPOSE): 13, (OTHER, PURPOSE): 1}  # type: ignore[attr-defined]


def test_without_the_catalogue_in_force_levels_are_counted_unchecked() -> None:
    findings, result = audit([entry(0), entry(1, level=(LEVEL or 0) + 1)], catalogues=False)
    assert findings == []
    assert (result.levels_checked, result.levels_unchecked) == (0, 2)  # type: ignore[attr-defined]

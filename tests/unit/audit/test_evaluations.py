"""Step 6 with fakes: each logged evaluation recomputed from the export's openings and the
model read at block B, and each kind of damage found at its own sub-step with what was
expected and what was there.

The entry under audit is made as the platform makes it (`ledger.evaluation_release`): the
institution's EIP-712 evaluation request, the portrait of the opened records, the answer's
score, reasons and hash; the model's on-chain terms come from a fake `model(version)` read.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, cast

import pytest
import rfc8785
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak

from ledger.audit.evaluation_inputs import RecordLog
from ledger.audit.evaluations import (
    ACTIVE,
    ChainModel,
    apply_model,
    check_evaluations,
    evaluation_entries,
    evaluation_separator,
    model_reader,
)
from ledger.audit.export import (
    AuditExport,
    CatalogueDocument,
    EvaluationModelDocument,
    ExportedEntry,
    Opening,
    StoredVersion,
)
from ledger.audit.findings import Finding, Step
from ledger.audit.result import OfflineResult
from ledger.audit.verifier import Verifier
from ledger.audit.verify_access import AccessResult
from ledger.audit.verify_logs import LogResult
from ledger.audit.verify_records import RecordsResult
from ledger.chain.commitment_events import OnChainCommitment
from ledger.chain.eip712 import sign
from ledger.evaluation.facts import OBJECTION, REPAIR
from ledger.evaluation.indicators import parse_indicators
from ledger.evaluation.model import parse_model
from ledger.evaluation.portrait import PortraitEvaluator
from ledger.evaluation.records import PlainRecord
from ledger.evaluation.schema import default_indicators
from ledger.evaluation.scoring import Scorer
from ledger.evaluation_release.conduct import commitment_fact, commitment_json, fact_json
from ledger.evaluation_release.request import (
    EvaluationRequestMessage,
    evaluation_domain,
    evaluation_request_to_json,
)
from ledger.evaluation_release.service import evaluation_result, portrait_json
from ledger.logs.leaves import encode_leaf
from ledger.release.request import domain_separator
from tests.unit.audit import world
from tests.unit.evaluation.conftest import model_dict

CHAIN_ID = 31337
REGISTRY = "0x" + "6f" * 20
BANK = Account.from_key(b"\x11" * 32)
OTHER_KEY = Account.from_key(b"\x22" * 32)
SUBJECT = "91410100100000008U"
AS_OF = "2025-06-30"
BLOCK = 20
VERSION = 1
#: registration, administrative_penalty and tax in the packaged catalogue (`world.DOCUMENT`)
INPUT_CATEGORIES = 1 << 0 | 1 << 2 | 1 << 6
CARD_HASH = b"\xcc" * 32
INDICATORS = default_indicators()
SEPARATOR = evaluation_separator(CHAIN_ID, REGISTRY)


def model_hash(document: dict[str, Any]) -> bytes:
    return hashlib.sha256(rfc8785.dumps(document)).digest()


def documents(category: str, when: str, *, subject: str = SUBJECT, **fields: Any) -> dict[str, Any]:
    return {"subject": subject, "category": category, "event_date": when, "fields": fields, "severity": None}


#: a registration, two tax years and a penalty: enough for a score under the test model
RECORDS: dict[str, dict[str, Any]] = {
    "r-reg": documents("registration", "2020-03-15", established_on="2020-03-15", status="in_business",
                       registered_capital="1000000"),
    "r-tax1": documents("tax", "2024-04-30", tax_year=2023, credit_grade="B"),
    "r-tax2": documents("tax", "2025-04-30", tax_year=2024, credit_grade="A"),
    "r-pen": documents("administrative_penalty", "2025-01-10", amount="5000"),
}  # fmt: skip


def record_log(versions: Sequence[StoredVersion]) -> RecordLog:
    """The credit-record log holding `versions` at their `log_seq`, the packaged catalogue in force."""
    leaves = [
        rfc8785.dumps(
            {"type": "credit-record", "seq": v.log_seq, "record_id": v.record_id, "version": v.version,
             "commitment": "0x" + v.commitment.hex()}
        )
        for v in sorted(versions, key=lambda v: v.log_seq)
    ]  # fmt: skip
    return RecordLog(leaves, (), versions, lambda block: world.DOCUMENT)


def stored(records: dict[str, dict[str, Any]], *, version: int = 1) -> list[StoredVersion]:
    return [
        StoredVersion(rid, version, n, b"\x00" * 32, b"\x00" * 32, Opening(b"\x01" * 32, doc))
        for n, (rid, doc) in enumerate(records.items())
    ]


def platform_entry(
    records: dict[str, dict[str, Any]] = RECORDS,
    *,
    model: dict[str, Any] | None = None,
    signer: Any = BANK,
    disputed: Sequence[str] = (),
    facts: Sequence[PlainRecord] = (),
    indicators: Any = INDICATORS,
    commitments: Sequence[OnChainCommitment] = (),
) -> dict[str, Any]:
    """The evaluation payload the platform logs for `records` under `model` (the leaf less
    its type and seq), with the answer it hashes; `facts` are the conduct facts read with
    them (`ledger.evaluation_release.conduct`), named in the entry as the platform names them;
    `commitments` the subject's credit commitments on chain at B, likewise."""
    model = model or model_dict()
    document = parse_model(rfc8785.dumps(model))
    views = [
        PlainRecord(rid, doc["category"], date.fromisoformat(doc["event_date"]), doc["fields"], 1,
                    doc["severity"], rid in disputed)
        for rid, doc in records.items()
    ]  # fmt: skip
    committed = [commitment_fact(c, 480) for c in commitments]
    portrait = PortraitEvaluator(indicators).evaluate([*views, *facts, *committed], date.fromisoformat(AS_OF))
    answer = {
        "kind": "evaluation",
        "subject": SUBJECT,
        "block": BLOCK,
        "model": {
            "version": VERSION,
            "model_hash": "0x" + model_hash(model).hex(),
            "model_id": document.model_id,
            "model_version": document.model_version,
            "indicator_version": indicators.version,
            "synthetic": document.synthetic,
        },
        "portrait": portrait_json(portrait),
        **evaluation_result(cast(Any, None), Scorer(document), portrait),
    }
    # the bank's request, signed by `signer` (the bank itself unless a test forges it)
    message = EvaluationRequestMessage(BANK.address, SUBJECT, VERSION, 1, 3, b"\x5a" * 32, 2_000_000_000)
    request = evaluation_request_to_json(sign(signer, evaluation_domain(CHAIN_ID, REGISTRY), message))
    return {
        "kind": "evaluation",
        "institution": BANK.address,
        "subject": SUBJECT,
        "model_version": VERSION,
        "model_hash": "0x" + model_hash(model).hex(),
        "card_hash": "0x" + CARD_HASH.hex(),
        "indicator_version": indicators.version,
        "categories": str(INPUT_CATEGORIES),
        "purpose": "1",
        "agreement_id": 3,
        "grant_id": 5,
        "level": 2,
        "block": BLOCK,
        "as_of": AS_OF,
        "record_log_size": len(records),
        "inputs": [
            {"record_id": r, "version": v, "disputed": r in disputed}
            for r, v in portrait.inputs
            if r in records
        ],
        "facts": [dict(fact_json(f)) for f in facts],
        "commitments": [dict(commitment_json(c, 480)) for c in commitments],
        "status": answer["status"],
        "score": answer.get("score"),
        "grade": answer.get("grade"),
        "response_hash": "0x" + hashlib.sha256(rfc8785.dumps(answer)).hexdigest(),
        "released_at": "2025-06-30T08:00:00+00:00",
        "request": request,
    }


class Registry:
    """`model(version)` at a block, as the chain answers it; records what was asked."""

    def __init__(self, model: dict[str, Any] | None = None, **changes: Any) -> None:
        terms = {
            "model_hash": model_hash(model or model_dict()),
            "card_hash": CARD_HASH,
            "indicator_version": INDICATORS.version,
            "input_categories": INPUT_CATEGORIES,
            "status": ACTIVE,
        }
        self.model: ChainModel | None = ChainModel(**(terms | changes))
        self.asked: list[tuple[int, int]] = []

    def __call__(self, version: int, block: int) -> ChainModel | None:
        self.asked.append((version, block))
        return self.model


def audit(
    entries: Sequence[tuple[int, dict[str, Any]]],
    *,
    records: Sequence[StoredVersion] | None = None,
    models: Sequence[dict[str, Any]] | None = None,
    registry: Callable[[int, int], ChainModel | None] | None = None,
    indicators: Any = INDICATORS,
    **chain: Any,
) -> tuple[list[Finding], Any]:
    """Step 6 over `entries`; `chain` may give the commitment replay and block timestamps."""
    findings: list[Finding] = []
    versions = stored(RECORDS) if records is None else records
    result = check_evaluations(
        entries,
        versions,
        [EvaluationModelDocument(m, {}) for m in ([model_dict()] if models is None else models)],
        registry or Registry(),
        findings,
        separator=SEPARATOR,
        record_log=record_log(versions),
        indicators=indicators,
        **chain,
    )
    return findings, result


#: what the completeness check of 6.2 (`ledger.audit.evaluation_inputs`, tested on its own in
#: `test_evaluation_inputs.py`) says of an entry whose inputs a test changed
_COMPLETENESS = ("is not a releasable record", "input left out", "record-log size", "in the record log",
                 "another dispute flag", "conduct fact")  # fmt: skip


def besides_completeness(findings: list[Finding]) -> list[Finding]:
    return [
        f
        for f in findings
        if not (f.step is Step.EVALUATION_INPUTS and any(c in f.what for c in _COMPLETENESS))
    ]


def seen(findings: list[Finding]) -> list[tuple[Step, int | None, str, str | None, str | None]]:
    for f in findings:
        assert f.log == "access-trail"
    return [(f.step, f.index, f.what, f.expected, f.got) for f in besides_completeness(findings)]


@pytest.fixture(scope="module")
def clean() -> dict[str, Any]:
    return platform_entry()


def entry(clean: dict[str, Any], **changes: Any) -> dict[str, Any]:
    payload = copy.deepcopy(clean)
    for key, value in changes.items():
        if key.startswith("request_"):
            payload["request"][key.removeprefix("request_")] = value
        else:
            payload[key] = value
    return payload


# -- the clean case --------------------------------------------------------------------------


def test_an_evaluation_made_as_the_platform_makes_it_is_recomputed_without_finding(
    clean: dict[str, Any],
) -> None:
    assert clean["status"] == "scored" and len(clean["inputs"]) == 4  # the test's own premise
    registry = Registry()
    findings, result = audit([(7, clean), (9, clean)], registry=registry)
    assert findings == []
    assert (result.checked, result.recomputed, result.indices) == (2, 2, [7, 9])
    assert registry.asked == [(VERSION, BLOCK), (VERSION, BLOCK)]


def test_an_evaluation_short_of_data_is_recomputed_as_insufficient() -> None:
    few = {k: RECORDS[k] for k in ("r-reg", "r-pen")}
    payload = platform_entry(few)
    assert payload["status"] == "insufficient_data" and payload["score"] is None
    findings, result = audit([(0, payload)], records=stored(few))
    assert findings == [] and result.recomputed == 1
    # the same inputs logged as scored: the platform must not have scored them
    findings, result = audit([(0, payload | {"status": "scored"})], records=stored(few))
    assert seen(findings) == [
        (
            Step.EVALUATION_RESULT,
            0,
            "the inputs are insufficient, yet the entry is scored",
            "insufficient_data",
            "scored",
        )
    ]
    assert result.recomputed == 1  # the answer's hash still agrees: the status alone was changed


def test_the_packaged_indicator_file_is_read_unless_another_is_given(clean: dict[str, Any]) -> None:
    findings: list[Finding] = []
    models = [EvaluationModelDocument(model_dict(), {})]
    log = record_log(stored(RECORDS))
    result = check_evaluations(
        [(0, clean)], stored(RECORDS), models, Registry(), findings, separator=SEPARATOR, record_log=log
    )
    assert findings == [] and result.recomputed == 1
    # an auditor given another indicator file finds the model reads another one
    other = parse_indicators(INDICATORS.model_dump(mode="json") | {"version": 2})
    check_evaluations(
        [(0, clean)],
        stored(RECORDS),
        models,
        Registry(),
        findings,
        separator=SEPARATOR,
        record_log=record_log(stored(RECORDS)),
        indicators=other,
    )
    expected = f"v2 {other.content_hash().hex()}"
    assert [(f.what, f.expected) for f in findings] == [("the model reads another indicator file", expected)]


def test_no_evaluation_no_work() -> None:
    findings, result = audit([])
    assert findings == [] and (result.checked, result.recomputed, result.indices) == (0, 0, [])


# -- 6.4 the signed request ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("institution", OTHER_KEY.address),
        ("subject", "91350200776049653A"),
        ("model_version", 2),
        ("purpose", "2"),
        ("agreement_id", 4),
    ],
)
def test_a_signed_request_naming_another_field_than_the_entry_is_found(
    clean: dict[str, Any], field: str, value: Any
) -> None:
    findings, _ = audit([(3, entry(clean, **{f"request_{field}": value}))])
    what = f"the signed request's {field} is not the entry's"
    assert seen(findings)[0] == (Step.EVALUATION_REQUEST, 3, what, str(clean[field]), str(value))
    # the changed field is signed over too: the institution's signature no longer recovers
    assert [f.step for f in findings[1:]] == [Step.EVALUATION_REQUEST]
    assert findings[1].what == "the evaluation request is not signed by its institution"


def test_a_request_field_left_out_is_found_as_not_the_entrys(clean: dict[str, Any]) -> None:
    payload = entry(clean)
    del payload["request"]["agreement_id"]
    findings, _ = audit([(3, payload)])
    assert seen(findings)[:2] == [
        (Step.EVALUATION_REQUEST, 3, "the signed request's agreement_id is not the entry's", "3", None),
        (
            Step.EVALUATION_REQUEST,
            3,
            "the evaluation request's signature is refused: 'agreement_id'",
            None,
            None,
        ),
    ]


def test_a_request_signed_by_another_key_is_not_the_institutions(clean: dict[str, Any]) -> None:
    payload = platform_entry(signer=OTHER_KEY)
    findings, result = audit([(2, payload)])
    assert seen(findings) == [
        (
            Step.EVALUATION_REQUEST,
            2,
            "the evaluation request is not signed by its institution",
            BANK.address.lower(),
            OTHER_KEY.address.lower(),
        )
    ]
    assert result.recomputed == 1  # the answer itself is right


def test_a_request_under_another_deployments_domain_is_not_the_institutions(clean: dict[str, Any]) -> None:
    findings: list[Finding] = []
    for separator in (
        evaluation_separator(CHAIN_ID + 1, REGISTRY),
        evaluation_separator(CHAIN_ID, "0x" + "6e" * 20),
    ):
        findings.clear()
        check_evaluations(
            [(0, clean)],
            stored(RECORDS),
            [EvaluationModelDocument(model_dict(), {})],
            Registry(),
            findings,
            separator=separator,
            record_log=record_log(stored(RECORDS)),
            indicators=INDICATORS,
        )
        assert [f.what for f in findings] == ["the evaluation request is not signed by its institution"]


def test_the_separator_is_the_evaluation_domains() -> None:
    assert domain_separator(evaluation_domain(CHAIN_ID, REGISTRY)) == SEPARATOR


@pytest.mark.parametrize(
    ("signature", "refused"),
    [
        ("0x" + "00" * 65, "the evaluation request's signature is refused: "),
        ("0x12", "the evaluation request's signature is refused: "),
        ("zz", "the evaluation request's signature is refused: "),
    ],
)
def test_a_malformed_signature_is_refused_with_its_reason(
    clean: dict[str, Any], signature: str, refused: str
) -> None:
    findings, result = audit([(1, entry(clean, request_signature=signature))])
    assert len(findings) == 1 and findings[0].step is Step.EVALUATION_REQUEST and findings[0].index == 1
    assert findings[0].what.startswith(refused) and len(findings[0].what) > len(refused)
    assert (findings[0].expected, findings[0].got) == (None, None)
    assert result.recomputed == 1


# -- 6.1 the model ---------------------------------------------------------------------------


def test_a_model_version_that_does_not_exist_at_b_is_found(clean: dict[str, Any]) -> None:
    registry = Registry()
    registry.model = None
    findings, result = audit([(4, entry(clean, model_version=3, request_model_version=3))], registry=registry)
    assert seen(findings)[-1] == (
        Step.EVALUATION_MODEL,
        4,
        f"model version 3 does not exist at block {BLOCK}",
        None,
        None,
    )
    assert registry.asked == [(3, BLOCK)] and result.recomputed == 0


def test_a_model_not_active_at_b_is_found(clean: dict[str, Any]) -> None:
    findings, result = audit([(4, clean)], registry=Registry(status=ACTIVE + 1))
    assert seen(findings) == [
        (
            Step.EVALUATION_MODEL,
            4,
            f"model version {VERSION} is not active at block {BLOCK}",
            "active",
            "status 3",
        )
    ]
    assert result.recomputed == 1


def test_an_entry_naming_another_model_card_or_inputs_than_the_chain_is_found(clean: dict[str, Any]) -> None:
    other = "0x" + "ee" * 32
    findings, _ = audit([(4, entry(clean, model_hash=other))])
    assert seen(findings) == [
        (
            Step.EVALUATION_MODEL,
            4,
            f"the entry names another model than version {VERSION} at block {BLOCK}",
            clean["model_hash"],
            other,
        )
    ]
    findings, _ = audit([(4, entry(clean, card_hash=other))])
    assert seen(findings) == [
        (
            Step.EVALUATION_MODEL,
            4,
            f"the entry names another card than version {VERSION}",
            clean["card_hash"],
            other,
        )
    ]
    findings, _ = audit([(4, entry(clean, categories="3"))])
    assert seen(findings) == [
        (
            Step.EVALUATION_MODEL,
            4,
            "the entry's categories are not the model's inputs",
            str(INPUT_CATEGORIES),
            "3",
        )
    ]


def test_a_model_whose_document_the_export_lacks_is_found(clean: dict[str, Any]) -> None:
    findings, result = audit([(4, clean)], models=[model_dict() | {"model_version": "t2"}])
    assert seen(findings) == [
        (Step.EVALUATION_MODEL, 4, f"the export holds no model document {clean['model_hash']}", None, None)
    ]
    assert result.recomputed == 0
    # the document found by the hash the chain holds, whatever other documents the export has
    findings, _ = audit([(4, clean)], models=[model_dict() | {"model_version": "t2"}, model_dict()])
    assert findings == []


def test_a_model_reading_another_indicator_file_is_found() -> None:
    model = model_dict()
    model["indicator_file"] = {"version": 1, "sha256": "ab" * 32}
    payload = platform_entry(model=model)
    findings, result = audit([(4, payload)], models=[model], registry=Registry(model))
    mine = f"v{INDICATORS.version} {INDICATORS.content_hash().hex()}"
    assert seen(findings) == [
        (Step.EVALUATION_MODEL, 4, "the model reads another indicator file", mine, f"v1 {'ab' * 32}")
    ]
    assert result.recomputed == 0
    model["indicator_file"] = {"version": 2, "sha256": INDICATORS.content_hash().hex()}
    findings, _ = audit([(4, platform_entry(model=model))], models=[model], registry=Registry(model))
    assert [f.what for f in findings] == ["the model reads another indicator file"]


# -- 6.2 the inputs --------------------------------------------------------------------------


def test_each_input_without_an_opening_is_found_by_name(clean: dict[str, Any]) -> None:
    records = [v for v in stored(RECORDS) if v.record_id not in ("r-reg", "r-tax1")]
    records.append(StoredVersion("r-tax1", 1, 9, b"\x00" * 32, b"\x00" * 32, None))  # stored, not opened
    findings, result = audit([(5, clean)], records=records)
    assert seen(findings) == [
        (Step.EVALUATION_INPUTS, 5, "input record r-reg v1 has no opening in the export", None, None),
        (Step.EVALUATION_INPUTS, 5, "input record r-tax1 v1 has no opening in the export", None, None),
    ]
    assert result.recomputed == 0
    # another version of it opened is not the one named
    records = [v for v in stored(RECORDS) if v.record_id != "r-tax1"] + stored(
        {"r-tax1": RECORDS["r-tax1"]}, version=2
    )
    findings, _ = audit([(5, clean)], records=records)
    assert [f.what for f in besides_completeness(findings)] == [
        "input record r-tax1 v1 has no opening in the export"
    ]


def test_an_entry_with_an_input_not_opened_is_not_counted_recomputed(clean: dict[str, Any]) -> None:
    """Even where the record log given for 6.2 shows the entry's inputs complete, an input the
    export's openings lack leaves the entry not recomputed (and its result unchecked)."""
    findings: list[Finding] = []
    opened = [v for v in stored(RECORDS) if v.record_id != "r-reg"]
    result = check_evaluations(
        [(5, clean)],
        opened,
        [EvaluationModelDocument(model_dict(), {})],
        Registry(),
        findings,
        separator=SEPARATOR,
        record_log=record_log(stored(RECORDS)),
        indicators=INDICATORS,
    )
    assert [(f.step, f.what) for f in findings] == [
        (Step.EVALUATION_INPUTS, "input record r-reg v1 has no opening in the export")
    ]
    assert (result.checked, result.recomputed) == (1, 0)


def test_an_input_about_another_enterprise_is_found(clean: dict[str, Any]) -> None:
    records = dict(RECORDS)
    records["r-pen"] = records["r-pen"] | {"subject": "91350200776049653A"}
    findings, _ = audit([(5, clean)], records=stored(records))
    assert seen(findings) == [
        (
            Step.EVALUATION_INPUTS,
            5,
            "input record r-pen is about another enterprise",
            SUBJECT,
            "91350200776049653A",
        )
    ]


def test_a_disputed_input_is_read_as_disputed(clean: dict[str, Any]) -> None:
    payload = platform_entry(disputed=["r-tax2"])
    assert payload["response_hash"] != clean["response_hash"]  # the portrait names its disputed values
    findings, _ = audit([(5, payload)])
    # recomputed as logged; that no objection in the record log disputes it is 6.2's finding
    assert seen(findings) == []
    assert [f.what for f in findings] == [
        "input record r-tax2 v1 carries another dispute flag than its objections gave at record-log size 4"
    ]
    # the entry's flag is what the auditor reads: the same inputs logged undisputed differ
    payload["inputs"] = clean["inputs"]
    findings, _ = audit([(5, payload)])
    assert [f.what for f in besides_completeness(findings)] == [
        "the recomputed answer does not hash to the entry's response hash"
    ]


#: conduct facts about the inputs: an objection decided against the enterprise (the penalty
#: upheld), one that corrected a tax year, and a credit-repair application pending for the penalty
CONDUCT = (
    PlainRecord("obj-7", OBJECTION, date(2024, 9, 2), {"status": "upheld", "record_id": "r-pen"}),
    PlainRecord("obj-8", OBJECTION, date(2025, 2, 3), {"status": "corrected", "record_id": "r-tax1"}),
    PlainRecord("rep-9", REPAIR, date(2025, 3, 4),
                {"status": "pending", "record_id": "r-pen", "category": "administrative_penalty"}),
)  # fmt: skip


def _fact(
    fact: PlainRecord, *, kind: str | None = None, when: date | None = None, **fields: Any
) -> PlainRecord:
    return dataclasses.replace(
        fact,
        category=kind or fact.category,
        event_date=when or fact.event_date,
        fields=dict(fact.fields) | fields,
    )


def test_an_evaluation_with_conduct_facts_is_recomputed_and_each_damaged_fact_found(
    clean: dict[str, Any],
) -> None:
    payload = platform_entry(facts=CONDUCT)
    assert payload["response_hash"] != clean["response_hash"]  # the test's premise: the facts are read
    assert [f["id"] for f in payload["facts"]] == ["obj-7", "obj-8", "rep-9"]
    findings, _ = audit([(4, payload)])
    assert seen(findings) == []  # each fact read as the platform read it, named once
    # each fact of the entry changed as a forger would, the auditor reads the entry's facts and
    # finds the answer the platform would have given for them, not the one logged
    upheld, corrected, pending = CONDUCT
    for damaged in (
        (_fact(upheld, status="withdrawn"), corrected, pending),  # its outcome
        (_fact(upheld, when=date(2021, 1, 4)), corrected, pending),  # filed outside the window
        (upheld, _fact(corrected, status="upheld"), pending),
        (upheld, corrected, _fact(pending, status="approved")),
        (upheld, corrected),  # left out
        # another kind: a repair application pending for the penalty, not an objection upheld
        (_fact(upheld, kind=REPAIR, status="pending", category="administrative_penalty"), corrected, pending),
    ):
        facts = tuple(damaged)
        forged = entry(payload, facts=[dict(fact_json(f)) for f in facts])
        findings, result = audit([(4, forged)])
        other = platform_entry(facts=facts)
        assert other["response_hash"] != payload["response_hash"]
        assert seen(findings)[-1] == (
            Step.EVALUATION_RESULT,
            4,
            "the recomputed answer does not hash to the entry's response hash",
            other["response_hash"],
            payload["response_hash"],
        ), damaged
        assert result.recomputed == 0


def test_a_fact_is_named_by_its_own_id_and_read_once(clean: dict[str, Any]) -> None:
    payload = platform_entry(facts=CONDUCT)
    renamed = copy.deepcopy(payload)
    renamed["facts"][0]["id"] = "obj-70"  # another case: the portrait names the case read
    findings, _ = audit([(4, renamed)])
    assert seen(findings) == []  # that no such case is in the record log is 6.2's finding
    assert any("conduct fact obj-70" in f.what for f in findings)
    # a fact named twice is read twice: the portrait reads what the entry names
    twice = entry(payload, facts=[*payload["facts"], payload["facts"][0]])
    findings, _ = audit([(4, twice)])
    assert seen(findings)[-1][2] == "the recomputed answer does not hash to the entry's response hash"
    # a fact of a kind the evaluation does not read is named but not read
    odd = copy.deepcopy(payload)
    odd["facts"][1]["kind"] = "commendation"
    findings, _ = audit([(4, odd)])
    assert [f.what for f in besides_completeness(findings)] == [
        "the portrait does not read exactly the inputs named",
        "the recomputed answer does not hash to the entry's response hash",
    ]


def test_an_entry_naming_no_facts_is_read_as_one_without_any(clean: dict[str, Any]) -> None:
    """An entry without a "facts" member is recomputed as one naming none, as the completeness
    check of 6.2 reads it (not refused as one that cannot be recomputed)."""
    payload = entry(clean)
    del payload["facts"]
    findings, result = audit([(4, payload)])
    assert findings == [] and result.recomputed == 1


def test_a_repair_application_is_read_with_the_category_of_its_record() -> None:
    """The entry names a repair application's record, not its category: the auditor takes the
    category from the record read, as the platform did, for an indicator file that reads it."""
    data = INDICATORS.model_dump(mode="json")
    (pending_repairs,) = [i for i in data["indicators"] if i["id"] == "repairs_pending"]
    pending_repairs["fields"] = ["status", "category"]
    pending_repairs["formula"]["where"].append({"field": "category", "one_of": ["administrative_penalty"]})
    indicators = parse_indicators(data)
    model = model_dict() | {
        "indicator_file": {"version": indicators.version, "sha256": indicators.content_hash().hex()}
    }
    upheld, corrected, pending = CONDUCT
    payload = platform_entry(model=model, facts=CONDUCT, indicators=indicators)
    registry = Registry(model)
    findings, _ = audit([(4, payload)], models=[model], registry=registry, indicators=indicators)
    assert seen(findings) == []
    # the same application named for the tax year: not a pending repair of a penalty
    on_tax = (upheld, corrected, _fact(pending, record_id="r-tax1", category="tax"))
    other = platform_entry(model=model, facts=on_tax, indicators=indicators)
    assert other["response_hash"] != payload["response_hash"]  # the premise: the category is read
    forged = copy.deepcopy(payload)
    forged["facts"][2]["record_id"] = "r-tax1"
    findings, _ = audit([(4, forged)], models=[model], registry=registry, indicators=indicators)
    assert seen(findings)[-1] == (
        Step.EVALUATION_RESULT,
        4,
        "the recomputed answer does not hash to the entry's response hash",
        other["response_hash"],
        payload["response_hash"],
    )


# -- 6.3 the result --------------------------------------------------------------------------


def test_a_changed_score_or_grade_is_found_with_both(clean: dict[str, Any]) -> None:
    findings, result = audit([(6, entry(clean, score=clean["score"] + 7))])
    assert seen(findings) == [
        (
            Step.EVALUATION_RESULT,
            6,
            "recomputed score and grade differ from the entry's",
            f"{clean['score']} {clean['grade']}",
            f"{clean['score'] + 7} {clean['grade']}",
        )
    ]
    assert result.recomputed == 1  # the answer hashed is still the one recomputed
    findings, _ = audit([(6, entry(clean, grade="E"))])
    assert [(f.expected, f.got) for f in findings] == [
        (f"{clean['score']} {clean['grade']}", f"{clean['score']} E")
    ]


def test_an_answer_that_does_not_hash_to_the_entrys_hash_is_found(clean: dict[str, Any]) -> None:
    other = "0x" + "ab" * 32
    findings, result = audit([(6, entry(clean, response_hash=other))])
    digest = clean["response_hash"]
    assert seen(findings) == [
        (
            Step.EVALUATION_RESULT,
            6,
            "the recomputed answer does not hash to the entry's response hash",
            digest,
            other,
        )
    ]
    assert result.recomputed == 0


def test_a_dropped_input_changes_the_answer(clean: dict[str, Any]) -> None:
    # without its second tax year the enterprise's operations are short of data
    payload = entry(clean, inputs=[i for i in clean["inputs"] if i["record_id"] != "r-tax2"])
    findings, result = audit([(6, payload)])
    assert [(f.step, f.what) for f in findings] == [
        (
            Step.EVALUATION_INPUTS,
            "input left out: record r-tax2 v1 of the subject was releasable at record-log size 4",
        ),
        (Step.EVALUATION_RESULT, "the inputs are insufficient, yet the entry is scored"),
        (Step.EVALUATION_RESULT, "the recomputed answer does not hash to the entry's response hash"),
    ]
    assert result.recomputed == 0


def test_an_input_the_portrait_does_not_read_is_found(clean: dict[str, Any]) -> None:
    records = dict(RECORDS) | {"r-x": documents("not_a_category", "2025-01-01")}
    payload = entry(clean, inputs=[*clean["inputs"], {"record_id": "r-x", "version": 1, "disputed": False}])
    findings, _ = audit([(6, payload)], records=stored(records))
    named = sorted([("r-pen", 1), ("r-reg", 1), ("r-tax1", 1), ("r-tax2", 1), ("r-x", 1)])
    read = [r for r in named if r[0] != "r-x"]
    assert seen(findings) == [
        (
            Step.EVALUATION_RESULT,
            6,
            "the portrait does not read exactly the inputs named",
            str(named),
            str(read),
        )
    ]


def test_an_entry_that_cannot_be_recomputed_is_found_not_raised(clean: dict[str, Any]) -> None:
    payload = entry(clean)
    del payload["as_of"]
    findings, result = audit([(8, payload), (9, clean)])
    assert seen(findings) == [
        (Step.EVALUATION_RESULT, 8, "evaluation entry cannot be recomputed: KeyError('as_of')", None, None)
    ]
    assert (result.checked, result.recomputed, result.indices) == (2, 1, [8, 9])
    findings, _ = audit([(8, entry(clean, block="B"))])
    assert [f.what for f in besides_completeness(findings)] == [
        "evaluation entry cannot be recomputed: ValueError(\"invalid literal for int() with base 10: 'B'\")"
    ]


def test_each_finding_names_its_own_entry(clean: dict[str, Any]) -> None:
    findings, _ = audit([(1, clean), (2, entry(clean, score=1)), (3, clean), (4, entry(clean, score=2))])
    assert [f.index for f in findings] == [2, 4]


def test_the_answer_gives_the_four_reasons_furthest_short_of_five(clean: dict[str, Any]) -> None:
    model = model_dict()
    for indicator in ("registration_age_months", "registered_capital", "tax_paid"):
        model["indicators"].append(
            model["indicators"][2]
            | {"id": indicator, "splits": [10**9], "points": [0, 35], "training_shares": [0.5, 0.5]}
        )
    payload = platform_entry(model=model)
    scorer = Scorer(parse_model(rfc8785.dumps(model)))
    values = (
        PortraitEvaluator(INDICATORS)
        .evaluate(
            [
                PlainRecord(r, d["category"], date.fromisoformat(d["event_date"]), d["fields"])
                for r, d in RECORDS.items()
            ],
            date.fromisoformat(AS_OF),
        )
        .values
    )
    assert len(scorer.reasons(scorer.score(values), 6)) == 5  # five indicators short of their best
    findings, result = audit([(6, payload)], models=[model], registry=Registry(model))
    assert findings == [] and result.recomputed == 1


# -- the model applied, the entries found, the chain read ------------------------------------


def test_the_model_is_applied_bin_by_bin_with_the_split_in_the_upper_bin() -> None:
    model = model_dict()
    # tax grade < 1.5 -> 10, [1.5, 3.5) -> 30, >= 3.5 -> 50; penalties < 0.5 -> 40, [0.5, 2.5) -> 25,
    # >= 2.5 -> 5; patents < 0.5 -> 20, else 35; missing 20 each; A >= 120, B >= 100, C >= 80, D >= 60
    assert apply_model(model, {"tax_credit_grade": 3.5, "penalties": 0, "patents": 0.5}) == (125, "A")
    assert apply_model(model, {"tax_credit_grade": 1.5, "penalties": 0.5, "patents": 0}) == (75, "D")
    assert apply_model(model, {"tax_credit_grade": None, "penalties": 2.5}) == (45, "E")
    assert apply_model(model, {"tax_credit_grade": 3.5, "penalties": 0.4, "patents": None}) == (110, "B")
    assert apply_model(model, {"tax_credit_grade": 1.4, "penalties": 0.4, "patents": 0.5}) == (85, "C")
    assert apply_model(model, {"tax_credit_grade": 3.49, "penalties": 2.4, "patents": 0.4}) == (75, "D")
    # a score exactly at a cut-off takes that grade: 80 is C, 60 (every value missing) is D
    assert apply_model(model, {"penalties": 0}) == (80, "C")
    assert apply_model(model, {}) == (60, "D")


def test_evaluation_entries_are_the_evaluation_leaves_only() -> None:
    leaves = [
        (0, encode_leaf("access", 0, {"a": 1})),
        (1, encode_leaf("evaluation", 1, {"score": 5})),
        (2, b"not json"),
        (5, encode_leaf("evaluation", 5, {"score": 6})),
    ]
    assert evaluation_entries(leaves) == [(1, {"score": 5}), (5, {"score": 6})]


def _rpc(answer: Any) -> tuple[Callable[[str, Sequence[Any]], Any], list[tuple[str, Sequence[Any]]]]:
    asked: list[tuple[str, Sequence[Any]]] = []

    def call(method: str, params: Sequence[Any]) -> Any:
        asked.append((method, params))
        if isinstance(answer, Exception):
            raise answer
        return answer

    return call, asked


def test_the_model_is_read_by_eth_call_of_model_version_at_b() -> None:
    words = encode(
        ["bytes32", "bytes32", "uint256", "uint256", "uint8"], [b"\x0a" * 32, b"\x0b" * 32, 7, 11, 2]
    )
    call, asked = _rpc("0x" + words.hex())
    read = model_reader(call, REGISTRY)
    assert read(300, 0x1F) == ChainModel(b"\x0a" * 32, b"\x0b" * 32, 7, 11, 2)
    selector = keccak(text="model(uint256)")[:4]
    assert asked == [
        (
            "eth_call",
            [{"to": REGISTRY, "data": "0x" + selector.hex() + (300).to_bytes(32, "big").hex()}, "0x1f"],
        )
    ]
    # the bare hex form is read too
    call, _ = _rpc(words.hex())
    assert model_reader(call, REGISTRY)(1, 1) == ChainModel(b"\x0a" * 32, b"\x0b" * 32, 7, 11, 2)


def test_a_model_read_that_reverts_or_answers_short_is_no_model() -> None:
    call, _ = _rpc(RuntimeError("execution reverted: NonexistentModelVersion"))
    assert model_reader(call, REGISTRY)(1, 1) is None
    words = encode(
        ["bytes32", "bytes32", "uint256", "uint256", "uint8"], [b"\x0a" * 32, b"\x0b" * 32, 7, 11, 2]
    )
    call, _ = _rpc("0x" + words[:159].hex())
    assert model_reader(call, REGISTRY)(1, 1) is None
    call, _ = _rpc("0x")
    assert model_reader(call, REGISTRY)(1, 1) is None


def credit_records(versions: Sequence[StoredVersion] | None = None) -> dict[str, LogResult]:
    """Steps 1-3's result for the credit-record log: its size, up to which step 6.2 reads it."""
    size = len(record_log(stored(RECORDS) if versions is None else versions).leaves)
    return {"credit-records": LogResult("credit-records", size, size, 0, size, [])}


def record_entries() -> list[ExportedEntry]:
    """The credit-record log's entries, as the export serves them to step 6.2."""
    leaves = record_log(stored(RECORDS)).leaves
    return [ExportedEntry("credit-records", i, leaf) for i, leaf in enumerate(leaves)]


class ModelRpc:
    """The node's JSON-RPC as the verifier's chain reader holds it: `model(version)` answered
    with the terms `Registry` would give, every call recorded."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, Any]] = []

    def call(self, method: str, params: Sequence[Any]) -> Any:
        self.asked.append((method, params))
        terms = Registry().model
        assert terms is not None
        words = encode(
            ["bytes32", "bytes32", "uint256", "uint256", "uint8"],
            [
                terms.model_hash,
                terms.card_hash,
                terms.indicator_version,
                terms.input_categories,
                terms.status,
            ],
        )
        return "0x" + words.hex()


def test_the_verifier_recomputes_each_evaluation_of_the_trail_reading_the_model_at_b(
    clean: dict[str, Any],
) -> None:
    chain = world.FakeChain()
    rpc = ModelRpc()
    chain.rpc = rpc  # type: ignore[assignment]
    verifier = Verifier(chain=chain, authorizer=None, deployment=world.DEPLOYMENT)
    leaves = [
        *world.access_leaves(),
        encode_leaf("evaluation", 3, clean),
        encode_leaf("evaluation", 4, entry(clean, score=1)),
    ]
    export = AuditExport(
        entries={
            "access-trail": [ExportedEntry("access-trail", i, leaf) for i, leaf in enumerate(leaves)],
            "credit-records": record_entries(),
        },
        records=stored(RECORDS),
        catalogues=[CatalogueDocument(1, world.DOCUMENT)],
        evaluation_models=[EvaluationModelDocument(model_dict(), {})],
    )
    result = OfflineResult(world.snapshot(), [], credit_records(), AccessResult(), RecordsResult())
    started = time.perf_counter()
    checked = verifier.recompute_evaluations(export, result)
    elapsed = time.perf_counter() - started
    assert (checked.checked, checked.recomputed, checked.indices) == (2, 2, [3, 4])
    assert [(f.step, f.index, f.what) for f in result.findings] == [
        (Step.EVALUATION_RESULT, 4, "recomputed score and grade differ from the entry's")
    ]
    assert list(result.seconds) == ["evaluations"] and 0 <= result.seconds["evaluations"] <= elapsed
    data = "0x" + (keccak(text="model(uint256)")[:4] + (VERSION).to_bytes(32, "big")).hex()
    call = ("eth_call", [{"to": world.DEPLOYMENT.addresses.model_registry, "data": data}, hex(BLOCK)])
    assert rpc.asked == [call, call]
    # under another deployment's chain id the requests are no longer the institution's
    other = dataclasses.replace(world.DEPLOYMENT, chain_id=CHAIN_ID + 1)
    result = OfflineResult(world.snapshot(), [], credit_records(), AccessResult(), RecordsResult())
    Verifier(chain=chain, authorizer=None, deployment=other).recompute_evaluations(export, result)
    assert [f.what for f in result.findings if f.step is Step.EVALUATION_REQUEST] == [
        "the evaluation request is not signed by its institution"
    ] * 2


def test_an_export_without_an_access_trail_has_no_evaluation_to_recompute() -> None:
    chain = world.FakeChain()  # its node answers no model read: none may be asked
    verifier = Verifier(chain=chain, authorizer=None, deployment=world.DEPLOYMENT)
    result = OfflineResult(world.snapshot(), [], credit_records([]), AccessResult(), RecordsResult())
    checked = verifier.recompute_evaluations(AuditExport(), result)
    assert (checked.checked, checked.indices, result.findings) == (0, [], [])


def test_the_verifier_holds_each_evaluation_to_the_catalogue_and_record_log_anchored_by_b(
    clean: dict[str, Any],
) -> None:
    """6.2 as the verifier wires it: the catalogue in force at B is the last one published at
    or before B; the record-log size an evaluation read is held to the log's checkpoints
    anchored by B, and a chain that anchored none holds it to nothing."""
    chain = world.FakeChain()
    chain.rpc = ModelRpc()  # type: ignore[assignment]
    verifier = Verifier(chain=chain, authorizer=None, deployment=world.DEPLOYMENT)
    leaves = [*world.access_leaves(), encode_leaf("evaluation", 3, clean)]
    export = AuditExport(
        entries={
            "access-trail": [ExportedEntry("access-trail", i, leaf) for i, leaf in enumerate(leaves)],
            "credit-records": record_entries(),
        },
        records=stored(RECORDS),
        catalogues=[CatalogueDocument(1, world.DOCUMENT)],
        evaluation_models=[EvaluationModelDocument(model_dict(), {})],
    )

    def audited(**changes: Any) -> list[tuple[Step, str, str | None, str | None]]:
        result = OfflineResult(
            world.snapshot(**changes), [], credit_records(), AccessResult(), RecordsResult()
        )
        verifier.recompute_evaluations(export, result)
        return [(f.step, f.what, f.expected, f.got) for f in result.findings]

    def published_at(block: int) -> tuple[Any, ...]:
        return tuple(
            dataclasses.replace(e, block=block) if e.name == "CataloguePublished" else e for e in world.EVENTS
        )

    assert audited() == []
    assert audited(events=published_at(BLOCK)) == []  # published in block B itself: in force at B
    no_catalogue = "the inputs cannot be shown complete: the export holds no catalogue document in force"
    no_catalogue += f" at block {BLOCK}"
    assert [what for _, what, _, _ in audited(events=published_at(BLOCK + 1))] == [no_catalogue]
    # the record log anchored at 5 entries by block B, when the entry read 4 of them
    records = world.snapshot().checkpoints["credit-records"]
    anchored = (*records, dataclasses.replace(records[-1], previous_size=2, size=5, block=BLOCK))
    checkpoints = world.snapshot().checkpoints | {"credit-records": anchored}
    assert audited(checkpoints=checkpoints) == [
        (
            Step.EVALUATION_INPUTS,
            f"the record-log size read is below the size anchored on chain by block {BLOCK}",
            "at least 5",
            "4",
        )
    ]
    later = (*records, dataclasses.replace(records[-1], previous_size=2, size=5, block=BLOCK + 1))
    assert audited(checkpoints=world.snapshot().checkpoints | {"credit-records": later}) == []
    # a chain on which the record log has no checkpoint yet anchors no size
    access_only = {"access-trail": world.snapshot().checkpoints["access-trail"]}
    assert audited(checkpoints=access_only) == []

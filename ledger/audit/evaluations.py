"""Step 6: every logged evaluation recomputed, independently of the platform's evaluation path.

For each `evaluation` leaf of the access trail, from the export and the chain alone:

6.1 the model version the entry names was active in the `ModelRegistry` at block B with
    the model and card hashes the entry names (an `eth_call` of `model(version)` at B), and
    the export holds the model document hashing to that (SHA-256 of its RFC 8785 form);
6.2 every input record version the entry names is in the export with its opening (an
    operator's `--openings` export; the opening is checked against its commitment in 5.3),
    and the inputs are exactly the subject's releasable records of the model's categories
    among the first `record_log_size` entries of the credit-record log, that size not
    stale (`ledger.audit.evaluation_inputs`): a dropped input is caught even when its
    absence changes nothing recomputed; and the credit commitments named are exactly the
    subject's on chain as of B, kept or breached there, replayed from the contracts'
    events (`ledger.audit.evaluation_commitments`);
6.4 (checked first) the signed request names exactly the entry's institution, subject, model
    version, purpose and agreement, and is the institution's signature under the domain of
    the chain and the ModelRegistry (EIP-712 re-declared here from the documentation);
6.3 the answer recomputed from those openings - the portrait under the indicator file the
    model names (picked by its SHA-256 among the shipped versions the auditor loads itself,
    `IndicatorFiles.packaged()`: a v1 model recomputes under v1, a v2 model under v2), the
    score by this module's own application of the published model (the README's stand-alone
    rule: bin i is [splits[i-1], splits[i]), missing values take
    `missing_points`, the score is the sum), the grade by its cut-offs - has the entry's
    score and grade, and, assembled in the answer's form, hashes to the entry's
    `response_hash`; the portrait reads exactly the inputs the entry names.

The portrait and the reason texts come from `ledger.evaluation`, the published pure
interpreter of the indicator file and the scorecard (no storage, chain or HTTP; an
import-linter contract keeps it so); the score and grade are applied here on their own,
so a changed score, a swapped model or a dropped input each shows as its own finding.
The completeness of the inputs (6.2) is re-derived from the record log's leaves as
documented, not from anything the evaluation path wrote besides its entry.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import rfc8785
from eth_abi import decode, encode
from eth_utils import keccak

from ledger.audit.evaluation_commitments import CommitmentReplay, check_commitments, commitment_views
from ledger.audit.evaluation_inputs import RecordLog, check_complete
from ledger.audit.export import EvaluationModelDocument, StoredVersion
from ledger.audit.findings import Finding, Step
from ledger.audit.leaves import ACCESS_TRAIL_LOG, EVALUATION_LEAF_TYPE, LeafProblem, decode_leaf
from ledger.audit.request_sig import DOMAIN_TYPE, SignatureProblem, recover_signer
from ledger.errors import LedgerError
from ledger.evaluation.facts import COMMITMENT, RECORD_LINK, REPAIR
from ledger.evaluation.indicator_files import IndicatorFiles
from ledger.evaluation.indicators import IndicatorFile
from ledger.evaluation.model import ModelDocument, parse_model
from ledger.evaluation.portrait import PortraitEvaluator
from ledger.evaluation.records import PlainRecord
from ledger.evaluation.scoring import Scorer

__all__ = [
    "ChainModel",
    "EvaluationsResult",
    "ModelAt",
    "RecordLog",
    "apply_model",
    "check_evaluations",
    "evaluation_entries",
    "evaluation_separator",
    "model_reader",
]

ACTIVE = 2  # IModelRegistry.Status.Active
_MODEL_SELECTOR = keccak(text="model(uint256)")[:4]


@dataclass(frozen=True, slots=True)
class ChainModel:
    model_hash: bytes
    card_hash: bytes
    indicator_version: int
    input_categories: int
    status: int


#: (version, block) -> the model version at that block, None when it was never proposed
ModelAt = Callable[[int, int], ChainModel | None]


def model_reader(call: Callable[[str, Sequence[Any]], Any], registry: str) -> ModelAt:
    """`model(version)` of the `ModelRegistry` at `registry`, read by `eth_call` at a block."""

    def read(version: int, block: int) -> ChainModel | None:
        data = "0x" + (_MODEL_SELECTOR + encode(["uint256"], [version])).hex()
        try:
            result = call("eth_call", [{"to": registry, "data": data}, hex(block)])
        except Exception:  # a revert (NonexistentModelVersion) answers as an error
            return None
        raw = bytes.fromhex(str(result).removeprefix("0x"))
        if len(raw) < 160:
            return None
        model_hash, card_hash, indicators, inputs, status = decode(
            ["bytes32", "bytes32", "uint256", "uint256", "uint8"], raw
        )
        return ChainModel(bytes(model_hash), bytes(card_hash), int(indicators), int(inputs), int(status))

    return read


EVALUATION_REQUEST_TYPE = (
    "EvaluationRequest(address institution,string subject,uint256 modelVersion,uint256 purpose,"
    "uint256 agreementId,bytes32 nonce,uint256 deadline)"
)


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def evaluation_separator(chain_id: int, registry: str) -> bytes:
    """The EIP-712 domain separator of evaluation requests: the chain and the ModelRegistry."""
    return keccak(
        keccak(text=DOMAIN_TYPE)
        + keccak(text="credit-ledger EvaluationRequest")
        + keccak(text="1")
        + _word(chain_id)
        + bytes(12)
        + bytes.fromhex(registry[2:])
    )


def _request_signer(separator: bytes, request: Mapping[str, Any]) -> str:
    """The address (0x, lower case) that signed the evaluation request in its wire form."""
    struct = keccak(
        keccak(text=EVALUATION_REQUEST_TYPE)
        + bytes(12)
        + bytes.fromhex(str(request["institution"])[2:])
        + keccak(text=str(request["subject"]))
        + _word(int(request["model_version"]))
        + _word(int(request["purpose"]))
        + _word(int(request["agreement_id"]))
        + bytes.fromhex(str(request["nonce"])[2:])
        + _word(int(request["deadline"]))
    )
    digest = keccak(b"\x19\x01" + separator + struct)
    return "0x" + recover_signer(digest, bytes.fromhex(str(request["signature"])[2:])).hex()


def _check_request(payload: Mapping[str, Any], separator: bytes, finding: Callable[..., None]) -> None:
    request = payload["request"]
    for name, named in (("institution", payload["institution"]), ("subject", payload["subject"]),
                         ("model_version", payload["model_version"]), ("purpose", payload["purpose"]),
                         ("agreement_id", payload["agreement_id"])):  # fmt: skip
        if str(request.get(name)) != str(named):
            finding(Step.EVALUATION_REQUEST, f"the signed request's {name} is not the entry's", named,
                    request.get(name))  # fmt: skip
    try:
        signer = _request_signer(separator, request)
    except (SignatureProblem, KeyError, TypeError, ValueError) as exc:
        finding(Step.EVALUATION_REQUEST, f"the evaluation request's signature is refused: {exc}")
        return
    if signer != str(payload["institution"]).lower():
        finding(Step.EVALUATION_REQUEST, "the evaluation request is not signed by its institution",
                str(payload["institution"]).lower(), signer)  # fmt: skip


def apply_model(model: Mapping[str, Any], values: Mapping[str, float | None]) -> tuple[int, str]:
    """Score and grade of `values` under a published scorecard document, as the README states it."""
    total = 0
    for indicator in model["indicators"]:
        value = values.get(indicator["id"])
        if value is None:
            total += indicator["missing_points"]
        else:
            total += indicator["points"][bisect.bisect_right(indicator["splits"], value)]
    grade = next(g["grade"] for g in model["grades"] if g["min_score"] is None or total >= g["min_score"])
    return total, grade


@dataclass
class EvaluationsResult:
    checked: int = 0
    recomputed: int = 0
    indices: list[int] = field(default_factory=list)


def evaluation_entries(leaves: Iterable[tuple[int, bytes]]) -> list[tuple[int, Mapping[str, Any]]]:
    """The (index, payload) of every evaluation leaf among the access trail's (index, leaf)."""
    found: list[tuple[int, Mapping[str, Any]]] = []
    for seq, leaf in leaves:
        try:
            decoded = decode_leaf(leaf)
        except LeafProblem:
            continue  # reported by step 3.2
        if decoded.type == EVALUATION_LEAF_TYPE:
            found.append((seq, decoded.payload))
    return found


def _sha256_canonical(document: Mapping[str, Any]) -> bytes:
    return hashlib.sha256(rfc8785.dumps(dict(document))).digest()


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


def check_evaluations(
    entries: Sequence[tuple[int, Mapping[str, Any]]],
    records: Sequence[StoredVersion],
    models: Sequence[EvaluationModelDocument],
    model_at: ModelAt,
    findings: list[Finding],
    *,
    separator: bytes,
    record_log: RecordLog,
    indicators: IndicatorFile | Iterable[IndicatorFile] | None = None,
    commitments: CommitmentReplay | None = None,
    timestamp: Callable[[int], int | None] = lambda block: None,
) -> EvaluationsResult:
    """Steps 6.1-6.4 for each (trail index, evaluation payload); `separator` is the EIP-712
    domain separator of evaluation requests (`evaluation_separator`); `record_log` the
    credit-record log, against which each entry's inputs are held to the subject's whole
    releasable set at the record-log size it names (`ledger.audit.evaluation_inputs`).
    `indicators`: the indicator files to recompute with (default: every shipped version,
    loaded here); each model's document names the one it reads by hash. `commitments`: the
    chain's commitment events, against which the commitments each entry names are held when
    an indicator file reads them, dated by `timestamp(block)`."""
    if indicators is None:
        indicators = IndicatorFiles.packaged()
    elif isinstance(indicators, IndicatorFile):
        indicators = (indicators,)
    portraits = {f.content_hash().hex(): PortraitEvaluator(f) for f in indicators}
    read = {c for p in portraits.values() for c in p.indicators.categories()}
    documents = {_sha256_canonical(m.document): m.document for m in models}
    opened = {(v.record_id, v.version): v for v in records if v.opening is not None}
    result = EvaluationsResult()
    complete = check_complete(entries, record_log, read, findings)
    if COMMITMENT not in read:
        commitments = None
    for index, payload in entries:
        result.checked += 1
        result.indices.append(index)

        def finding(step: Step, what: str, expected: Any = None, got: Any = None, i: int = index) -> None:
            findings.append(
                Finding(step, ACCESS_TRAIL_LOG, i, what, None if expected is None else str(expected),
                        None if got is None else str(got))
            )  # fmt: skip

        try:
            _check_request(payload, separator, finding)
            committed = commitments is None or check_commitments(
                index, payload, commitments, timestamp, findings
            )
            recomputed = _check_one(payload, documents, opened, model_at, portraits, finding)
            if recomputed and committed and index in complete:
                result.recomputed += 1
        except (KeyError, TypeError, ValueError, LedgerError) as exc:
            finding(Step.EVALUATION_RESULT, f"evaluation entry cannot be recomputed: {exc!r}")
    return result


def _check_one(
    payload: Mapping[str, Any],
    documents: Mapping[bytes, Mapping[str, Any]],
    opened: Mapping[tuple[str, int], StoredVersion],
    model_at: ModelAt,
    portraits: Mapping[str, PortraitEvaluator],
    finding: Callable[..., None],
) -> bool:
    version, block = int(payload["model_version"]), int(payload["block"])
    model_hash = bytes.fromhex(str(payload["model_hash"]).removeprefix("0x"))
    on_chain = model_at(version, block)
    # 6.1 the model
    if on_chain is None:
        finding(Step.EVALUATION_MODEL, f"model version {version} does not exist at block {block}")
        return False
    if on_chain.status != ACTIVE:
        finding(Step.EVALUATION_MODEL, f"model version {version} is not active at block {block}",
                "active", f"status {on_chain.status}")  # fmt: skip
    if on_chain.model_hash != model_hash:
        what = f"the entry names another model than version {version} at block {block}"
        finding(Step.EVALUATION_MODEL, what, _hex(on_chain.model_hash), _hex(model_hash))
    if _hex(on_chain.card_hash) != payload.get("card_hash"):
        finding(Step.EVALUATION_MODEL, f"the entry names another card than version {version}",
                _hex(on_chain.card_hash), payload.get("card_hash"))  # fmt: skip
    if str(on_chain.input_categories) != payload.get("categories"):
        finding(Step.EVALUATION_MODEL, "the entry's categories are not the model's inputs",
                str(on_chain.input_categories), payload.get("categories"))  # fmt: skip
    document = documents.get(on_chain.model_hash)
    if document is None:
        finding(Step.EVALUATION_MODEL, f"the export holds no model document {_hex(on_chain.model_hash)}")
        return False
    model: ModelDocument = parse_model(rfc8785.dumps(dict(document)))
    ref = model.indicator_file
    evaluator = portraits.get(ref.sha256)
    if evaluator is None or evaluator.indicators.version != ref.version:
        held = ", ".join(f"v{p.indicators.version} {h}" for h, p in portraits.items())
        finding(Step.EVALUATION_MODEL, "the model reads another indicator file",
                held, f"v{ref.version} {ref.sha256}")  # fmt: skip
        return False
    # 6.2 the inputs
    inputs = [(str(i["record_id"]), int(i["version"]), bool(i["disputed"])) for i in payload["inputs"]]
    views: list[PlainRecord] = []
    for record_id, record_version, disputed in inputs:
        stored = opened.get((record_id, record_version))
        if stored is None or stored.opening is None:
            finding(
                Step.EVALUATION_INPUTS,
                f"input record {record_id} v{record_version} has no opening in the export",
            )
            continue
        doc = stored.opening.document
        views.append(
            PlainRecord(
                record_id, str(doc["category"]), date.fromisoformat(str(doc["event_date"])),
                dict(doc["fields"]), record_version, doc.get("severity"), disputed,
            )
        )  # fmt: skip
        if doc.get("subject") != payload["subject"]:
            finding(Step.EVALUATION_INPUTS, f"input record {record_id} is about another enterprise",
                    payload["subject"], doc.get("subject"))  # fmt: skip
    if len(views) != len(inputs):
        return False
    # the conduct facts named (held to the record log's state at n in 6.2), as the core reads them
    category = {v.record_id: v.category for v in views}
    facts = list(payload.get("facts", []))
    for f in facts:
        fields: dict[str, Any] = {"status": str(f["status"]), RECORD_LINK: str(f["record_id"])}
        if f["kind"] == REPAIR:
            fields["category"] = category.get(str(f["record_id"]))
        views.append(
            PlainRecord(str(f["id"]), str(f["kind"]), date.fromisoformat(str(f["filed_on"])), fields)
        )
    # the credit commitments named (held to the chain's events at B in 6.2)
    committed = commitment_views(payload)
    for input_id, kind, made_on, breached in committed:
        fields = {"kind": kind, "breached": breached}
        views.append(PlainRecord(input_id, COMMITMENT, date.fromisoformat(made_on), fields))
    # 6.3 the result
    as_of = date.fromisoformat(str(payload["as_of"]))
    portrait = evaluator.evaluate(views, as_of)
    named = sorted(
        [(r, v) for r, v, _ in inputs] + [(str(f["id"]), 1) for f in facts] + [(c[0], 1) for c in committed]
    )
    if list(portrait.inputs) != named:
        finding(Step.EVALUATION_RESULT, "the portrait does not read exactly the inputs named",
                named, list(portrait.inputs))  # fmt: skip
    answer: dict[str, Any] = {
        "kind": EVALUATION_LEAF_TYPE,
        "subject": payload["subject"],
        "block": block,
        "model": {
            "version": version,
            "model_hash": _hex(on_chain.model_hash),
            "model_id": model.model_id,
            "model_version": model.model_version,
            "indicator_version": on_chain.indicator_version,
            "synthetic": model.synthetic,
        },
        "portrait": {
            "indicator_version": portrait.indicator_version,
            "as_of": portrait.as_of.isoformat(),
            "values": dict(portrait.values),
            "disputed": list(portrait.disputed),
        },
    }
    if portrait.sufficient:
        score, grade = apply_model(document, portrait.values)
        if (score, grade) != (payload.get("score"), payload.get("grade")):
            finding(Step.EVALUATION_RESULT, "recomputed score and grade differ from the entry's",
                    f"{score} {grade}", f"{payload.get('score')} {payload.get('grade')}")  # fmt: skip
        scorer = Scorer(model)
        scored = scorer.score(portrait.values)
        answer |= {
            "status": "scored",
            "score": score,
            "grade": grade,
            "probability": round(scored.probability, 6),
            "probability_band": list(scored.band),
            "reasons": [r.to_json() for r in scorer.reasons(scored, 4)],
        }
    else:
        if payload.get("status") != "insufficient_data":
            finding(Step.EVALUATION_RESULT, "the inputs are insufficient, yet the entry is scored",
                    "insufficient_data", payload.get("status"))  # fmt: skip
        answer |= {"status": "insufficient_data", "missing_dimensions": list(portrait.insufficient)}
    digest = _hex(hashlib.sha256(rfc8785.dumps(answer)).digest())
    if digest != payload.get("response_hash"):
        finding(Step.EVALUATION_RESULT, "the recomputed answer does not hash to the entry's response hash",
                digest, payload.get("response_hash"))  # fmt: skip
        return False
    return True

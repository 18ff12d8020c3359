"""Request and response bodies of the enterprise self-service routes, and their OpenAPI examples.

Response models are made from the services' view dataclasses (`api.view_models`): a route
returns the view, the model says how it is written; ORM rows never reach the API.
`rule_responses` documents the refusals a route may answer with, one example per rule.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from api.errors import STATUS_BY_CLASS
from api.schemas import Address, Bytes32, PositiveUint
from api.view_models import DecimalText, Hex, ViewModel, view_of
from ledger.domain.publicity import PublicityWindow
from ledger.errors import LedgerError
from ledger.selfservice.calendar import CalendarEntry
from ledger.selfservice.consents import ActiveAgreement, ChainView, GrantView, InstitutionView
from ledger.selfservice.declarations import DeclarationReceipt
from ledger.selfservice.notices import NoticeItem
from ledger.selfservice.objections import ObjectionView, Outcome
from ledger.selfservice.repairs import RepairOutcome, RepairView
from ledger.selfservice.selfquery import ObjectionSummary, RepairSummary, SelfRecord, SelfVersion
from ledger.selfservice.workdays import DayKind

USCC_EXAMPLE = "91410100MA44TL7G2F"
RECORD_EXAMPLE = "5b0c8f9e-2d7a-4b8e-9a53-0c1f7e2d4a61"
OBJECTION_EXAMPLE = "7f3e2a10-94c1-4d8b-8f0e-2b6c5d4e3f21"
APPLICATION_EXAMPLE = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
ADDRESS_EXAMPLE = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955"
HASH_EXAMPLE = "0x" + "3f" * 32

#: a 256-bit mask written as decimal text, with an example
Mask = Annotated[DecimalText, Field(examples=["69"])]
Purposes = Annotated[DecimalText, Field(examples=["1"])]
#: a 32-byte hash written as 0x + hex, with an example
Hash = Annotated[Hex, Field(examples=[HASH_EXAMPLE])]


# -- errors ----------------------------------------------------------------------------------------


def _status(cls: type[LedgerError]) -> int:
    for base, status in STATUS_BY_CLASS:
        if issubclass(cls, base):
            return status
    return 500


def rule_responses(*errors: type[LedgerError], **more: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses naming each rule a route may refuse with (`error` is the rule's code).

    `more` adds plain descriptions by status, e.g. `_422="malformed body"`.
    """
    out: dict[int | str, dict[str, Any]] = {}
    for cls in errors:
        status = _status(cls)
        entry = out.setdefault(
            status, {"description": "refused: `error` names the rule", "content": {"application/json": {}}}
        )
        examples = entry["content"]["application/json"].setdefault("examples", {})
        doc = (cls.__doc__ or "").strip().splitlines()
        examples[cls.code] = {
            "summary": doc[0] if doc else cls.code,
            "value": {"error": cls.code, "detail": getattr(cls, "example", cls.code)},
        }
    for key, description in more.items():
        status = int(key.lstrip("_"))
        entry = out.setdefault(status, {"description": description})
        if entry["description"].startswith("refused"):
            entry["description"] = f"{description}; or refused: `error` names the rule"
    out.setdefault(401, {"description": "unsigned, forged, stale or wrong-signer request"})
    return out


# -- consents --------------------------------------------------------------------------------------


@view_of(ChainView)
class ChainAt(ViewModel):
    pass


@view_of(ActiveAgreement, wire={"categories": Mask, "purposes": Purposes, "document_hash": Hash})
class AgreementOut(ViewModel):
    pass


@view_of(InstitutionView, nested={ActiveAgreement: AgreementOut}, wire={"name_hash": Hash})
class InstitutionOut(ViewModel):
    pass


class InstitutionsOut(ViewModel):
    at: ChainAt
    institutions: list[InstitutionOut]


@view_of(
    GrantView,
    wire={
        "categories": Annotated[DecimalText, Field(examples=["64"])],
        "purposes": Purposes,
        "raw_categories": Annotated[DecimalText, Field(examples=["0"])],
        "status": Annotated[str, Field(examples=["live"])],
    },
)
class GrantOut(ViewModel):
    pass


class GrantsOut(ViewModel):
    at: ChainAt
    grants: list[GrantOut]


# -- self-query ------------------------------------------------------------------------------------


@view_of(SelfVersion)
class VersionOut(ViewModel):
    pass


@view_of(PublicityWindow)
class PublicityOut(ViewModel):
    pass


@view_of(RepairSummary)
class RepairStateOut(ViewModel):
    pass


@view_of(ObjectionSummary)
class ObjectionSummaryOut(ViewModel):
    pass


@view_of(
    SelfRecord,
    nested={
        RepairSummary: RepairStateOut,
        PublicityWindow: PublicityOut,
        ObjectionSummary: ObjectionSummaryOut,
        SelfVersion: VersionOut,
    },
    examples=[
        {
            "record_id": RECORD_EXAMPLE,
            "category": "administrative_penalty",
            "self_declared": False,
            "disputed": False,
            "repair": {
                "status": "repaired",
                "application_id": APPLICATION_EXAMPLE,
                "decided_at": None,
            },
            "publicity": {
                "starts": "2026-01-10",
                "minimum_until": "2026-04-10",
                "maximum_until": "2027-01-10",
            },
            "published": False,
            "objections": [],
            "versions": [
                {
                    "version": 1,
                    "provider": "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
                    "source_ref": "郑市监罚〔2026〕12号",
                    "catalogue_version": 1,
                    "event_date": "2026-01-10",
                    "severity": "general",
                    "fields": {"decision_number": "郑市监罚〔2026〕12号", "amount": 20000},
                    "created_at": "2026-01-11T02:00:00Z",
                    "log_index": 17,
                    "leaf_hash": HASH_EXAMPLE,
                    "proof": None,
                    "self_declared_commitment": None,
                }
            ],
        }
    ],
)
class SelfRecordOut(ViewModel):
    pass


# -- self-declared information ---------------------------------------------------------------------


class DeclarationBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "subject": USCC_EXAMPLE,
                    "source_ref": "SD-2026-001",
                    "fields": {
                        "declaration_type": "contract_performance",
                        "title": "郑州地铁5号线设备供货合同履约完毕",
                        "description": "合同金额1200万元，按期交付，验收合格",
                        "declared_on": "2026-03-02",
                    },
                    "commitment_id": 12,
                }
            ]
        },
    )

    subject: str = Field(description="the enterprise's own USCC", examples=[USCC_EXAMPLE])
    source_ref: str = Field(
        min_length=1, max_length=200, description="the enterprise's own reference: idempotency key"
    )
    fields: dict[str, Any] = Field(
        description="fields of catalogue category `self_declared` (declaration_type: qualification, "
        "contract_performance, social_good, honour or other; title; declared_on …); "
        "`credit_commitment_signed` is set by the platform after checking the commitment"
    )
    commitment_id: PositiveUint = Field(
        description="the enterprise's EnterpriseTruthfulness commitment on chain"
    )
    event_date: date | None = Field(default=None, description="default: declared_on, else today")
    corrects: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="the version this declaration replaces"
    )


@view_of(DeclarationReceipt)
class DeclarationOut(ViewModel):
    pass


# -- objections ------------------------------------------------------------------------------------


class ObjectionBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "record_id": RECORD_EXAMPLE,
                    "reasons": "罚款已于2026年2月1日缴清，且处罚决定已被复议撤销（见附件）",
                    "evidence": [HASH_EXAMPLE],
                }
            ]
        },
    )

    record_id: str = Field(min_length=1, max_length=36, examples=[RECORD_EXAMPLE])
    reasons: str = Field(min_length=1, max_length=4000, description="why the record is wrong")
    evidence: list[Bytes32] = Field(
        default_factory=list, max_length=50, description="SHA-256 (or SM3) hashes of the attachments"
    )


class CorrectionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: dict[str, Any] = Field(
        description="changes merged over the objected version's values; null removes a field",
        examples=[{"amount": 5000}],
    )
    event_date: date | None = None
    severity: str | None = Field(default=None, examples=["minor"])


class ObjectionDecisionBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "outcome": "corrected",
                    "reasons": "罚款金额录入有误，以决定书为准",
                    "correction": {"fields": {"amount": 5000}},
                },
                {"outcome": "upheld", "reasons": "复议决定维持原处罚，记录无误"},
            ]
        },
    )

    outcome: Outcome = Field(description="corrected (with `correction`) or upheld")
    reasons: str = Field(min_length=1, max_length=4000)
    correction: CorrectionBody | None = None


@view_of(
    ObjectionView,
    examples=[
        {
            "id": OBJECTION_EXAMPLE,
            "record_id": RECORD_EXAMPLE,
            "record_version": 1,
            "subject": USCC_EXAMPLE,
            "enterprise": ADDRESS_EXAMPLE,
            "provider": "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
            "reasons": "罚款已缴清",
            "evidence": [HASH_EXAMPLE],
            "status": "open",
            "filed_at": "2026-03-02T02:00:00Z",
            "filed_on": "2026-03-02",
            "forward_by": "2026-03-04",
            "due_on": "2026-03-09",
            "outer_due_on": "2026-03-22",
            "overdue": False,
            "forwarded_at": None,
            "escalated_at": None,
            "decided_by": None,
            "decided_at": None,
            "decision_reasons": None,
            "corrected_version": None,
            "log_index": 18,
            "decision_log_index": None,
        }
    ],
)
class ObjectionOut(ViewModel):
    pass


# -- repair ----------------------------------------------------------------------------------------


class RepairBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "record_id": RECORD_EXAMPLE,
                    "proofs": [HASH_EXAMPLE],
                    "commitment_id": 13,
                    "statement": "罚款已缴清，整改已完成并经复查合格",
                }
            ]
        },
    )

    record_id: str = Field(min_length=1, max_length=36)
    proofs: list[Bytes32] = Field(
        min_length=1, max_length=50, description="hashes of the proof of fulfilment (payment receipts …)"
    )
    commitment_id: PositiveUint = Field(description="the enterprise's RepairApplicant commitment on chain")
    statement: str | None = Field(default=None, max_length=4000)


class RepairDecisionBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"outcome": "approved", "reasons": "已履行法定义务，公示期满最短期限"}]
        },
    )

    outcome: RepairOutcome
    reasons: str = Field(min_length=1, max_length=4000)


@view_of(
    RepairView,
    examples=[
        {
            "id": APPLICATION_EXAMPLE,
            "record_id": RECORD_EXAMPLE,
            "record_version": 1,
            "subject": USCC_EXAMPLE,
            "enterprise": ADDRESS_EXAMPLE,
            "category": "administrative_penalty",
            "severity": "general",
            "commitment_id": 13,
            "proofs": [HASH_EXAMPLE],
            "statement": None,
            "status": "pending",
            "filed_at": "2026-04-13T02:00:00Z",
            "filed_on": "2026-04-13",
            "due_on": "2026-04-16",
            "overdue": False,
            "escalated_at": None,
            "decided_by": None,
            "decided_at": None,
            "decision_reasons": None,
            "log_index": 21,
            "decision_log_index": None,
        }
    ],
)
class RepairOut(ViewModel):
    pass


# -- calendar and notices --------------------------------------------------------------------------


class CalendarDayBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"kind": "holiday", "name": "劳动节"}]}
    )

    kind: DayKind = Field(description="holiday (a weekday off) or workday (a weekend day worked, 调休)")
    name: str = Field(min_length=1, max_length=100)


@view_of(CalendarEntry, wire={"set_by": Address})
class CalendarDayOut(ViewModel):
    pass


@view_of(
    NoticeItem,
    examples=[
        {
            "id": f"record:{RECORD_EXAMPLE}:1",
            "kind": "dishonesty_record",
            "at": "2026-01-11T02:00:00Z",
            "record_id": RECORD_EXAMPLE,
            "ref": None,
            "message": "general administrative_penalty information dated 2026-01-10 … is recorded",
        },
        {
            "id": "notice:4",
            "kind": "objection_corrected",
            "at": "2026-03-05T06:00:00Z",
            "record_id": RECORD_EXAMPLE,
            "ref": OBJECTION_EXAMPLE,
            "message": "your objection … is decided: the record is corrected as version 2",
        },
    ],
)
class NoticeOut(ViewModel):
    pass

"""Request and response bodies of the enterprise self-service routes, and their OpenAPI examples.

Service results (dataclasses) are converted here; ORM rows never reach the API.
`rule_responses` documents the refusals a route may answer with, one example per rule.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.errors import STATUS_BY_CLASS
from api.schemas import Address, Bytes32
from ledger.errors import LedgerError
from ledger.selfservice.consents import ActiveAgreement, ChainView, GrantView, InstitutionView
from ledger.selfservice.declarations import DeclarationReceipt
from ledger.selfservice.notices import NoticeItem
from ledger.selfservice.objections import ObjectionStatus, ObjectionView, Outcome
from ledger.selfservice.repairs import RepairOutcome, RepairStatus, RepairView
from ledger.selfservice.selfquery import SelfRecord
from ledger.selfservice.workdays import DayKind

USCC_EXAMPLE = "91410100MA44TL7G2F"
RECORD_EXAMPLE = "5b0c8f9e-2d7a-4b8e-9a53-0c1f7e2d4a61"
OBJECTION_EXAMPLE = "7f3e2a10-94c1-4d8b-8f0e-2b6c5d4e3f21"
APPLICATION_EXAMPLE = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
ADDRESS_EXAMPLE = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955"
HASH_EXAMPLE = "0x" + "3f" * 32


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


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


class ChainAt(BaseModel):
    block: int = Field(description="block B the listing was read at", examples=[1284])
    timestamp: int = Field(description="its timestamp: statuses are as of then", examples=[1772409600])

    @classmethod
    def of(cls, v: ChainView) -> ChainAt:
        return cls(block=v.block, timestamp=v.timestamp)


class AgreementOut(BaseModel):
    id: int = Field(examples=[3])
    categories: str = Field(description="bit mask, decimal", examples=["69"])
    category_names: list[str] = Field(examples=[["registration", "administrative_penalty", "tax"]])
    purposes: str = Field(examples=["1"])
    purpose_names: list[str] = Field(examples=[["credit_assessment"]])
    max_level: int = Field(examples=[3])
    valid_from: int
    valid_until: int
    document_hash: str = Field(examples=[HASH_EXAMPLE])
    commitment_id: int
    commitment_breached: bool = Field(description="a breached usage commitment refuses every release")

    @classmethod
    def of(cls, a: ActiveAgreement) -> AgreementOut:
        return cls(
            id=a.id,
            categories=str(a.categories),
            category_names=a.category_names,
            purposes=str(a.purposes),
            purpose_names=a.purpose_names,
            max_level=a.max_level,
            valid_from=a.valid_from,
            valid_until=a.valid_until,
            document_hash=_hex(a.document_hash),
            commitment_id=a.commitment_id,
            commitment_breached=a.commitment_breached,
        )


class InstitutionOut(BaseModel):
    account: str = Field(examples=["0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"])
    kind: str = Field(examples=["bank"])
    name_hash: str = Field(description="keccak256 of the registered name", examples=[HASH_EXAMPLE])
    since_block: int
    agreements: list[AgreementOut] = Field(description="its agreements active at block B")

    @classmethod
    def of(cls, i: InstitutionView) -> InstitutionOut:
        return cls(
            account=i.account,
            kind=i.kind,
            name_hash=_hex(i.name_hash),
            since_block=i.since_block,
            agreements=[AgreementOut.of(a) for a in i.agreements],
        )


class InstitutionsOut(BaseModel):
    at: ChainAt
    institutions: list[InstitutionOut]


class GrantOut(BaseModel):
    id: int = Field(examples=[7])
    institution: str = Field(examples=["0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"])
    agreement_id: int = Field(description="0: any active agreement of the institution", examples=[0])
    categories: str = Field(examples=["64"])
    category_names: list[str] = Field(examples=[["tax"]])
    purposes: str = Field(examples=["1"])
    purpose_names: list[str] = Field(examples=[["credit_assessment"]])
    raw_categories: str = Field(description="categories released unmasked", examples=["0"])
    expires_at: int = Field(examples=[1775001600])
    status: str = Field(description="live, revoked or expired, at block B", examples=["live"])

    @classmethod
    def of(cls, g: GrantView) -> GrantOut:
        return cls(
            id=g.id,
            institution=g.institution,
            agreement_id=g.agreement_id,
            categories=str(g.categories),
            category_names=g.category_names,
            purposes=str(g.purposes),
            purpose_names=g.purpose_names,
            raw_categories=str(g.raw_categories),
            expires_at=g.expires_at,
            status=g.status.value,
        )


class GrantsOut(BaseModel):
    at: ChainAt
    grants: list[GrantOut]


# -- self-query ------------------------------------------------------------------------------------


class VersionOut(BaseModel):
    version: int = Field(examples=[1])
    provider: str = Field(description="who submitted it (the enterprise itself when self-declared)")
    source_ref: str = Field(examples=["郑市监罚〔2026〕12号"])
    catalogue_version: int = Field(examples=[1])
    event_date: date
    severity: str | None = Field(examples=["general"])
    fields: dict[str, Any] = Field(description="every value, unmasked: the enterprise's own data")
    created_at: datetime
    log_index: int = Field(description="the version's leaf in the credit-record log")
    leaf_hash: str
    proof: dict[str, Any] | None = Field(
        description="inclusion proof to an anchored checkpoint; null until then"
    )
    self_declared_commitment: int | None = Field(
        description="the truthfulness commitment, when self-declared"
    )


class PublicityOut(BaseModel):
    starts: date
    minimum_until: date = Field(description="repair may be applied for from this day (minor: at once)")
    maximum_until: date = Field(description="last day of publication; it ends automatically after it")


class RepairStateOut(BaseModel):
    status: str = Field(description="none, pending, repaired or rejected", examples=["repaired"])
    application_id: str | None = Field(examples=[APPLICATION_EXAMPLE])
    decided_at: datetime | None


class ObjectionSummaryOut(BaseModel):
    id: str
    status: str
    record_version: int
    filed_on: date
    due_on: date


class SelfRecordOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
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
            ]
        }
    )

    record_id: str
    category: str
    self_declared: bool
    disputed: bool = Field(description="an objection is open: releases carry the flag")
    repair: RepairStateOut
    publicity: PublicityOut | None = Field(description="dishonesty records only")
    published: bool = Field(description="shown and shared: not repaired and not past its maximum period")
    objections: list[ObjectionSummaryOut]
    versions: list[VersionOut] = Field(description="every version, oldest first")

    @classmethod
    def of(cls, r: SelfRecord) -> SelfRecordOut:
        w = r.publicity
        return cls(
            record_id=r.record_id,
            category=r.category,
            self_declared=r.self_declared,
            disputed=r.disputed,
            repair=RepairStateOut(
                status=r.repair.status, application_id=r.repair.application_id, decided_at=r.repair.decided_at
            ),
            publicity=None
            if w is None
            else PublicityOut(starts=w.starts, minimum_until=w.minimum_until, maximum_until=w.maximum_until),
            published=r.published,
            objections=[
                ObjectionSummaryOut(
                    id=o.id,
                    status=o.status,
                    record_version=o.record_version,
                    filed_on=o.filed_on,
                    due_on=o.due_on,
                )
                for o in r.objections
            ],
            versions=[
                VersionOut(
                    version=v.version,
                    provider=v.provider,
                    source_ref=v.source_ref,
                    catalogue_version=v.catalogue_version,
                    event_date=v.event_date,
                    severity=v.severity,
                    fields=v.fields,
                    created_at=v.created_at,
                    log_index=v.log_index,
                    leaf_hash=_hex(v.leaf_hash),
                    proof=v.proof,
                    self_declared_commitment=v.self_declared_commitment,
                )
                for v in r.versions
            ],
        )


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
    commitment_id: int = Field(
        ge=1, lt=2**256, description="the enterprise's EnterpriseTruthfulness commitment on chain"
    )
    event_date: date | None = Field(default=None, description="default: declared_on, else today")
    corrects: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="the version this declaration replaces"
    )


class DeclarationOut(BaseModel):
    record_id: str = Field(examples=[RECORD_EXAMPLE])
    version: int = Field(examples=[1])
    log_index: int = Field(description="the record's leaf")
    leaf_hash: str
    declaration_log_index: int = Field(description="the self-declaration leaf binding it to the commitment")
    commitment_id: int
    status: str = Field(description="created, or existing (the same declaration again)", examples=["created"])

    @classmethod
    def of(cls, r: DeclarationReceipt) -> DeclarationOut:
        return cls(
            record_id=r.record_id,
            version=r.version,
            log_index=r.log_index,
            leaf_hash=_hex(r.leaf_hash),
            declaration_log_index=r.declaration_log_index,
            commitment_id=r.commitment_id,
            status=r.status,
        )


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


class ObjectionOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
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
            ]
        }
    )

    id: str
    record_id: str
    record_version: int = Field(description="the version objected to")
    subject: str
    enterprise: str = Field(description="the account that filed it")
    provider: str = Field(description="the record's provider")
    reasons: str
    evidence: list[str]
    status: ObjectionStatus
    filed_at: datetime
    filed_on: date
    forward_by: date = Field(description="the platform forwards to the provider by this day")
    due_on: date = Field(description="deadline of the current stage (working days), within the outer bound")
    outer_due_on: date = Field(description="filing + objection_outer_bound_days calendar days")
    overdue: bool
    forwarded_at: datetime | None
    escalated_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    decision_reasons: str | None
    corrected_version: int | None
    log_index: int = Field(description="the filing's leaf in the credit-record log")
    decision_log_index: int | None

    @classmethod
    def of(cls, o: ObjectionView) -> ObjectionOut:
        return cls(**o.__dict__)


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
    commitment_id: int = Field(
        ge=1, lt=2**256, description="the enterprise's RepairApplicant commitment on chain"
    )
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


class RepairOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
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
            ]
        }
    )

    id: str
    record_id: str
    record_version: int
    subject: str
    enterprise: str
    category: str
    severity: str
    commitment_id: int
    proofs: list[str]
    statement: str | None
    status: RepairStatus
    filed_at: datetime
    filed_on: date
    due_on: date = Field(description="an operator decides by this day (working days)")
    overdue: bool
    escalated_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    decision_reasons: str | None
    log_index: int
    decision_log_index: int | None

    @classmethod
    def of(cls, r: RepairView) -> RepairOut:
        return cls(**r.__dict__)


# -- calendar and notices --------------------------------------------------------------------------


class CalendarDayBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"kind": "holiday", "name": "劳动节"}]}
    )

    kind: DayKind = Field(description="holiday (a weekday off) or workday (a weekend day worked, 调休)")
    name: str = Field(min_length=1, max_length=100)


class CalendarDayOut(BaseModel):
    day: date = Field(examples=["2026-05-01"])
    kind: DayKind
    name: str = Field(examples=["劳动节"])
    set_by: Address
    set_at: datetime


class NoticeOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
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
            ]
        }
    )

    id: str
    kind: str = Field(
        description="dishonesty_record, dishonesty_record_corrected, objection_filed, objection_forwarded, "
        "objection_escalated, objection_corrected, objection_upheld, objection_withdrawn, repair_filed, "
        "repair_escalated, repair_approved, repair_rejected"
    )
    at: datetime
    record_id: str
    ref: str | None = Field(description="the objection or repair application concerned")
    message: str

    @classmethod
    def of(cls, n: NoticeItem) -> NoticeOut:
        return cls(id=n.id, kind=n.kind, at=n.at, record_id=n.record_id, ref=n.ref, message=n.message)

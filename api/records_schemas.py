"""Request and response bodies of the record, catalogue and log routes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from api.schemas import Address, SignedAct, Uint
from ledger.domain.catalogue import FieldError
from ledger.logs.proofs import AnchoredCheckpoint
from ledger.records.catalogues import PublishedCatalogue
from ledger.records.ingest import IngestReport, Receipt, Rejection
from ledger.records.service import OpenedRecord, RecordVersion


def _hex(data: bytes | None) -> str | None:
    return None if data is None else "0x" + data.hex()


class Problem(BaseModel):
    field: str
    rule: str
    message: str

    @classmethod
    def of(cls, e: FieldError) -> Problem:
        return cls(field=e.field, rule=e.rule, message=e.message)


class ReceiptOut(BaseModel):
    line: int = Field(description="line of the request body (1 for a single record)")
    source_ref: str
    record_id: str
    version: int
    log_index: int = Field(description="index of the record's leaf in the credit-record log")
    leaf_hash: str
    status: str = Field(description="created, existing (stored before) or duplicate (earlier line)")
    warnings: list[Problem] = []

    @classmethod
    def of(cls, r: Receipt) -> ReceiptOut:
        return cls(
            line=r.line,
            source_ref=r.source_ref,
            record_id=r.record_id,
            version=r.version,
            log_index=r.log_index,
            leaf_hash="0x" + r.leaf_hash.hex(),
            status=r.status,
            warnings=[Problem.of(w) for w in r.warnings],
        )


class RejectionOut(BaseModel):
    line: int
    source_ref: str | None
    errors: list[Problem]

    @classmethod
    def of(cls, r: Rejection) -> RejectionOut:
        return cls(line=r.line, source_ref=r.source_ref, errors=[Problem.of(e) for e in r.errors])


class IngestReportOut(BaseModel):
    mode: str
    catalogue_version: int
    created: int
    existing: int
    rejected_count: int
    receipts: list[ReceiptOut]
    rejected: list[RejectionOut]


def report_json(report: IngestReport) -> dict[str, Any]:
    """The report as plain JSON, built without model validation (10,000 receipts a request)."""

    def problems(errors: tuple[FieldError, ...]) -> list[dict[str, str]]:
        return [{"field": e.field, "rule": e.rule, "message": e.message} for e in errors]

    return {
        "mode": report.mode.value,
        "catalogue_version": report.catalogue_version,
        "created": report.created,
        "existing": report.existing,
        "rejected_count": len(report.rejected),
        "receipts": [
            {
                "line": r.line,
                "source_ref": r.source_ref,
                "record_id": r.record_id,
                "version": r.version,
                "log_index": r.log_index,
                "leaf_hash": "0x" + r.leaf_hash.hex(),
                "status": r.status,
                "warnings": problems(r.warnings),
            }
            for r in report.receipts
        ],
        "rejected": [
            {"line": r.line, "source_ref": r.source_ref, "errors": problems(r.errors)}
            for r in report.rejected
        ],
    }


class RecordVersionOut(BaseModel):
    record_id: str
    version: int
    provider: str
    source_ref: str
    category: str
    subject: str
    catalogue_version: int
    log_index: int
    leaf_hash: str
    created_at: str

    @classmethod
    def of(cls, v: RecordVersion) -> RecordVersionOut:
        return cls(
            record_id=v.record_id,
            version=v.version,
            provider=v.provider,
            source_ref=v.source_ref,
            category=v.category,
            subject=v.subject,
            catalogue_version=v.catalogue_version,
            log_index=v.log_index,
            leaf_hash="0x" + v.leaf_hash.hex(),
            created_at=v.created_at.isoformat(),
        )


class RecordOut(RecordVersionOut):
    event_date: str
    severity: str | None
    fields: dict[str, Any]
    warnings: list[Problem]
    commitment: str
    opening: dict[str, str] = Field(
        description="salt (base64) and canonical record: recompute the commitment"
    )

    @classmethod
    def opened(cls, r: OpenedRecord) -> RecordOut:
        from ledger.records.verify import opening

        return cls(
            **RecordVersionOut.of(r.version).model_dump(),
            event_date=r.event_date.isoformat(),
            severity=r.severity,
            fields=r.fields,
            warnings=[Problem.of(w) for w in r.warnings],
            commitment="0x" + r.commitment.hex(),
            opening=opening(r.salt, r.canonical),
        )


class CatalogueOut(BaseModel):
    version: int
    content_hash: str
    public_categories: str = Field(description="bit mask, hex")
    transaction: str | None
    block: int | None
    catalogue: dict[str, Any]

    @classmethod
    def of(cls, p: PublishedCatalogue) -> CatalogueOut:
        return cls(
            version=p.version,
            content_hash="0x" + p.content_hash.hex(),
            public_categories=hex(p.public_categories),
            transaction=_hex(p.transaction_hash),
            block=p.block_number,
            catalogue=p.catalogue.model_dump(mode="json"),
        )


class PublishCatalogueBody(SignedAct):
    catalogue: dict[str, Any] = Field(description="the catalogue document (validated like the packaged file)")
    content_hash: str = Field(description="SHA-256 of the RFC 8785 JSON of the validated catalogue, hex")
    public_categories: Uint = Field(description="mask of the public-disclosure categories")
    operator: Address


class SigningInfo(BaseModel):
    nonce: int
    domain: dict[str, Any]


class CheckpointOut(BaseModel):
    size: int
    root: str
    transaction: str | None
    block: int | None
    anchored_at: str

    @classmethod
    def of(cls, c: AnchoredCheckpoint) -> CheckpointOut:
        return cls(
            size=c.size,
            root="0x" + c.root.hex(),
            transaction=_hex(c.transaction_hash),
            block=c.block_number,
            anchored_at=c.anchored_at.isoformat(),
        )


class LogOut(BaseModel):
    name: str
    log_id: str
    size: int
    latest_checkpoint: CheckpointOut | None


class ConsistencyOut(BaseModel):
    first: int
    second: int
    first_root: str
    second_root: str
    proof: list[str]

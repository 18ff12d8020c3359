"""Request and response bodies of the record, catalogue and log routes.

Receipts, rejections and record versions are written as the ledger's views are
(`api.view_models`); `report_json` writes a whole ingestion report by hand, without model
validation, for the 10,000 receipts a request may carry (a unit test holds it to the
models).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from api.schemas import Address, SignedAct, Uint
from api.view_models import IsoText, ViewModel, view_of
from ledger.domain.catalogue import FieldError
from ledger.logs.proofs import AnchoredCheckpoint
from ledger.records.catalogues import PublishedCatalogue
from ledger.records.ingest import IngestReport, Receipt, Rejection
from ledger.records.service import OpenedRecord, RecordVersion


def _hex(data: bytes | None) -> str | None:
    return None if data is None else "0x" + data.hex()


@view_of(FieldError)
class Problem(ViewModel):
    pass


@view_of(Receipt, wire={"warnings": list[Problem]})
class ReceiptOut(ViewModel):
    pass


@view_of(Rejection, wire={"errors": list[Problem]})
class RejectionOut(ViewModel):
    pass


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


@view_of(RecordVersion, wire={"created_at": IsoText})
class RecordVersionOut(ViewModel):
    pass


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

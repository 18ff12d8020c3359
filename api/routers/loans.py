"""Loan reporting (institutions) and the KPIs of 四(四) (members; the snapshot export: operators).

`POST /loans/reports` takes one signed, idempotent report (a decision or a repayment
status); its refusals are named (`ledger.financing.loans`) and recorded. `GET /kpis`
answers the indicators as JSON or CSV; `GET /kpis/export` the canonical export of a
month's snapshot, which `credit-ledger kpi snapshot` hashes and anchors on chain.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import Field

from api.deps import CallerDep, InstitutionBody, KpisDep, LoansDep, OperatorBody, SnapshotsDep, require_role
from api.routers.financing import DocumentOut
from api.schemas import Bytes32, Signature, Strict, Uint, to_bytes
from api.view_models import ViewModel, view_of
from ledger.chain.membership import Role
from ledger.errors import InvalidInput
from ledger.financing.kpi_snapshot import export_document, report_csv
from ledger.financing.kpis import EXACT_FIGURES_ROLES, KpiFilter
from ledger.financing.loans import ReportReceipt
from ledger.financing.service import PublishSignature

router = APIRouter(tags=["financing"])


@view_of(ReportReceipt)
class ReportReceiptOut(ViewModel):
    pass


_REPORT_EXAMPLE = {
    "idempotency_key": "2026-11-30-000123",
    "loan_ref": "ZZB-2026-000123",
    "kind": "decision",
    "subject": "91410100MA44TL7G2F",
    "agreement_id": 1,
    "outcome": "approved",
    "amount": "1000000.00",
    "annual_rate": "3.85",
    "term_months": 12,
    "applied_on": "2026-11-20",
    "decided_on": "2026-11-27",
    "guarantee": "credit",
    "first_loan": True,
    "industry": "C",
}


@router.post(
    "/loans/reports",
    response_model=ReportReceiptOut,
    summary="Report a loan decision or a repayment status (institution; signed, idempotent)",
    description=(
        "A decision (approved or declined; amount in yuan and annual rate in percent as decimal strings; "
        "term; application and decision dates; credit or secured; first loan; industry) or a repayment "
        "status (as_of, days_overdue) of a loan reference. The same idempotency key with the same "
        "content answers the first answer again (`replayed`); a new key for a decided loan is a "
        "correction (a new version)."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}, "example": _REPORT_EXAMPLE}},
        }
    },
    responses={
        403: {"description": "agreement_not_active, no_application, or not an institution"},
        409: {"description": "idempotency_key_reused, loan_subject_changed, loan_not_approved"},
        422: {"description": "invalid_loan_report: each problem with field and rule"},
        503: {"description": "chain or database unavailable: nothing stored"},
    },
)
async def report_loan(signed: InstitutionBody, loans: LoansDep) -> ReportReceipt:
    return await run_in_threadpool(loans.report, signed.caller.address, signed.body)


@router.get(
    "/loans/{loan_ref}/versions",
    summary="Every accepted version of one of the calling institution's loans",
    responses={404: {"description": "no such loan reported by the caller"}},
)
def loan_versions(
    loan_ref: Annotated[str, Path(pattern=r"^[A-Za-z0-9._:\-]{1,80}$")], caller: CallerDep, loans: LoansDep
) -> list[dict[str, Any]]:
    require_role(caller, Role.INSTITUTION)
    return loans.versions(caller.address, loan_ref)


_INDUSTRY = "GB/T 4754-2017 section A-T: records and enterprises by their registration's, loans by the loan's"


@router.get(
    "/kpis",
    summary="The indicators of 四(四): records, onboarded SMEs, loans; by district, industry and month",
    description=(
        "Operators and auditors get the exact figures; every other member gets cells resting on fewer than "
        "LEDGER_KPI_MIN_CELL_ENTERPRISES enterprises suppressed (null, `suppressed: true`), with the "
        "smallest "
        "other row of their breakdown (`disclosure` states the rule)."
    ),
    responses={
        200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with format=csv"},
        422: {"description": "invalid_kpi_filter"},
    },
)
def kpis(
    caller: CallerDep,
    service: KpisDep,
    month: Annotated[str | None, Query(description="YYYY-MM: that month's flows, stocks at its end")] = None,
    district: Annotated[str | None, Query(description="GB/T 2260 six-digit code")] = None,
    industry: Annotated[
        str | None,
        Query(description="GB/T 4754-2017 section A-T (enterprises: registered; loans: the loan's)"),
    ] = None,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Any:
    report = service.report_for(caller.member.role, KpiFilter(month, district, industry))
    if format == "csv":
        return Response(report_csv(report), media_type="text/csv; charset=utf-8")
    return report


@router.get(
    "/kpis/export",
    summary="The canonical export of a month's KPI snapshot (operators, auditors), to hash and anchor",
    responses={
        403: {"description": "not an operator or auditor"},
        422: {"description": "invalid_kpi_filter"},
    },
)
def kpi_export(
    caller: CallerDep,
    service: KpisDep,
    month: Annotated[str, Query(description="YYYY-MM")],
) -> Response:
    require_role(caller, *EXACT_FIGURES_ROLES)  # its rows are one per loan
    document = export_document(service, month)
    return Response(document, media_type="application/json")


class SnapshotBody(Strict):
    document: dict[str, Any] = Field(description="the KpiSnapshotDocument: key (the month), version, body")
    content_hash: Bytes32 = Field(description="SHA-256 of the document's RFC 8785 form, as signed")
    nonce: Uint
    deadline: Uint
    signature: Signature


#: the body is read raw (bounded by the edge), so its schema is declared here; `GET /signing`
#: maps it to the signed `Publish` act (kind fixed: kpi_snapshot)
_SNAPSHOT_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": SnapshotBody.model_json_schema()}},
    }
}


@router.post(
    "/kpis/snapshots",
    response_model=DocumentOut,
    status_code=201,
    summary="Publish a month's KPI snapshot (operators): checked, anchored on chain, stored",
    description=(
        "The body names a `KpiSnapshotDocument` (key: the month; body: the export of `GET /kpis/export`) and "
        "the operator's signed `Publish` act over its hash. The figures must recompute from the export's "
        "own rows, or nothing is anchored."
    ),
    responses={
        403: {"description": "not an operator, or the act is not the caller's"},
        409: {"description": "version_conflict: that version is published with other content"},
        413: {"description": "body over LEDGER_INGEST_MAX_BODY_BYTES"},
        422: {"description": "kpi_snapshot_mismatch or document_mismatch, named"},
    },
    openapi_extra=_SNAPSHOT_BODY,
)
def publish_snapshot(signed: OperatorBody, snapshots: SnapshotsDep) -> DocumentOut:
    try:
        body = SnapshotBody.model_validate_json(signed.body)
    except ValueError as exc:
        raise InvalidInput(f"body: {exc}") from None
    signature = PublishSignature(
        to_bytes(body.content_hash), body.nonce, body.deadline, to_bytes(body.signature)
    )
    return DocumentOut.of(snapshots.publish(signed.caller.address, body.document, signature))


@router.get(
    "/kpis/snapshots/{month}",
    response_model=DocumentOut,
    summary="A published KPI snapshot (operators, auditors): the document as anchored and its anchor",
    description=(
        "The document's `body` is the export: the figures and the rows they recompute from, one per loan "
        "(pseudonymised). Only the roles that publish and check snapshots read it; other members read the "
        "figures, small cells suppressed, at GET /kpis."
    ),
    responses={
        403: {"description": "not an operator or auditor"},
        404: {"description": "no snapshot of that month (or version)"},
    },
)
def kpi_snapshot(
    month: Annotated[str, Path(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")],
    caller: CallerDep,
    snapshots: SnapshotsDep,
    version: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> DocumentOut:
    require_role(caller, *EXACT_FIGURES_ROLES)
    return DocumentOut.of(snapshots.version(month, version))

"""Credit records: providers ingest (single and bulk NDJSON); proofs and read-back.

Bodies are bounded by the edge (`api.edge`: a per-route limit, 413 beyond it, and no
more than a small cap read before the signer is known to be a provider) and then
authenticated like every request. Ingestion itself runs in a worker thread: it is
CPU-bound validation and sealing followed by one database transaction.

This router also mounts the catalogue and log routes (`api.routers.catalogue`,
`api.routers.logs`), so the application includes one router for the whole issue.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from api.deps import CallerDep, PlatformDep, ProviderBody, RecordsDep, require_role
from api.errors import InvalidRecord, SourceRefConflict
from api.records_schemas import IngestReportOut, ReceiptOut, RecordOut, RecordVersionOut, report_json
from api.routers import catalogue, logs
from api.schemas import PositionPath, VersionPath
from ledger.chain.membership import Role
from ledger.records.ingest import RecordsConflict, RecordsRejected
from ledger.records.submission import Mode, Submission, iter_ndjson, parse_submission_bytes
from ledger.records.verify import opening

router = APIRouter(tags=["records"])
router.include_router(catalogue.router)
router.include_router(logs.router)

_REPORT_DOC: dict[int | str, dict[str, Any]] = {
    200: {"model": IngestReportOut, "description": "stored; rejected records (accept_valid) are listed"},
    409: {"description": "all_or_nothing: a source reference is taken by other content; nothing stored"},
    413: {"description": "body or record count over the limit"},
    422: {
        "description": "all_or_nothing: records rejected (listed with line, field and rule); nothing stored"
    },
}


@router.post(
    "/records/bulk",
    summary="Submit many records as NDJSON (provider)",
    responses=_REPORT_DOC,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-ndjson": {"schema": {"type": "string", "description": "one record a line"}}
            },
        }
    },
)
async def ingest_bulk(
    signed: ProviderBody,
    platform: PlatformDep,
    records: RecordsDep,
    mode: Annotated[Mode, Query(description="all_or_nothing, or accept_valid to store the valid ones")] = (
        Mode.ALL_OR_NOTHING
    ),
) -> Response:
    """One record per line (see `POST /records` for a record's shape), up to
    `LEDGER_INGEST_MAX_RECORDS` records and `LEDGER_INGEST_MAX_BODY_BYTES` bytes."""
    items = iter_ndjson(signed.body, platform.settings.ingest_max_records)
    report = await run_in_threadpool(records.ingest, signed.caller.address, items, mode)
    return JSONResponse(report_json(report))


@router.post(
    "/records",
    summary="Submit one record (provider)",
    response_model=ReceiptOut,
    status_code=201,
    responses={
        200: {"model": ReceiptOut, "description": "the same record was stored before: its receipt"},
        409: {"description": "the source reference holds other content"},
        413: {"description": "body over LEDGER_INGEST_MAX_SINGLE_BYTES"},
        422: {"description": "invalid record: every error with field and rule"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": Submission.model_json_schema()}},
        }
    },
)
async def ingest_one(signed: ProviderBody, records: RecordsDep) -> Response:
    """A record: `category`, `subject` (USCC), `event_date`, `source_ref`, `fields`,
    `severity` for dishonesty categories, and `corrects` (the version it replaces) for a
    correction. Idempotent by source reference."""
    try:
        report = await run_in_threadpool(
            records.ingest,
            signed.caller.address,
            [(1, parse_submission_bytes(signed.body))],
            Mode.ALL_OR_NOTHING,
        )
    except RecordsConflict as exc:
        raise SourceRefConflict(exc.report.rejected[0].errors[0].message) from None
    except RecordsRejected as exc:
        errors = exc.report.rejected[0].errors
        problems = [{"field": e.field, "rule": e.rule, "message": e.message} for e in errors]
        raise InvalidRecord(problems) from None
    receipt = report.receipts[0]
    status = 201 if receipt.status == "created" else 200
    return JSONResponse(ReceiptOut.of(receipt).model_dump(), status_code=status)


def _may_see(caller: CallerDep, provider: str) -> None:
    if caller.address != provider:
        require_role(caller, Role.OPERATOR, Role.AUDITOR)


@router.get(
    "/records/by-source-ref",
    response_model=list[RecordVersionOut],
    summary="The caller's record versions under a source reference (provider)",
    responses={404: {"description": "the caller has no record under that source reference"}},
)
def by_source_ref(ref: str, caller: CallerDep, records: RecordsDep) -> list[RecordVersionOut]:
    require_role(caller, Role.PROVIDER)
    return [RecordVersionOut.of(v) for v in records.by_source_ref(caller.address, ref)]


@router.get(
    "/records/{record_id}",
    response_model=list[RecordVersionOut],
    summary="Versions of a record, no field values (its provider, operators, auditors)",
)
def record_versions(record_id: str, caller: CallerDep, records: RecordsDep) -> list[RecordVersionOut]:
    versions = records.versions(record_id)
    _may_see(caller, versions[0].provider)
    return [RecordVersionOut.of(v) for v in versions]


@router.get(
    "/records/{record_id}/versions/{version}",
    response_model=RecordOut,
    summary="One record version in full, with the opening of its commitment (its provider)",
)
def open_record(record_id: str, version: VersionPath, caller: CallerDep, records: RecordsDep) -> RecordOut:
    return RecordOut.opened(records.open(caller.address, record_id, version))


_PROOF_DOC: dict[int | str, dict[str, Any]] = {
    409: {"description": "not anchored yet: retry after the next checkpoint"}
}
WithOpening = Annotated[bool, Query(description="add salt and canonical record (the provider only)")]


@router.get(
    "/records/{record_id}/versions/{version}/proof",
    summary="Leaf, inclusion proof to the latest anchored checkpoint, and its transaction",
    responses=_PROOF_DOC,
)
def record_proof(
    record_id: str,
    version: VersionPath,
    caller: CallerDep,
    records: RecordsDep,
    with_opening: WithOpening = False,
) -> dict[str, Any]:
    """A self-contained bundle: `credit-ledger records verify-proof` checks it against the chain."""
    bundle = records.proof_bundle(record_id, version)
    if with_opening:
        opened = records.open(caller.address, record_id, version)
        bundle["opening"] = opening(opened.salt, opened.canonical)
    return bundle


@router.get(
    "/records/by-log-index/{index}/proof",
    summary="The same proof bundle, found by the record's credit-record log index (its receipt's)",
    responses=_PROOF_DOC,
)
def record_proof_at(
    index: PositionPath, caller: CallerDep, records: RecordsDep, with_opening: WithOpening = False
) -> dict[str, Any]:
    """For whoever holds a receipt's `log_index` but not the record's id; allowed to the same
    callers as the proof by id, the bundle naming the record and version it proves."""
    found = records.at_log_index(index)
    return record_proof(found.record_id, found.version, caller, records, with_opening)

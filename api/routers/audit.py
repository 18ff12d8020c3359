"""For auditors: page through the logs' entries, the stored record versions and the refusals.

This is the export (`ledger.audit.export`) served page by page to an auditor member, so
`credit-ledger audit verify --api` can check the trail without a file from the
operator. Items have exactly the shape of the export's lines. Nothing here serves
credit data: leaves carry commitments and who-asked-for-what, record versions carry
commitments and leaf hashes; record openings are never served.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import CallerDep, PlatformDep, require_role
from api.schemas import INT64_MAX
from ledger.audit.export import (
    EXPORT_FORMAT,
    catalogue_line,
    evaluation_model_line,
    record_line,
    refusal_line,
)
from ledger.audit_export import (
    catalogue_documents,
    entries_page,
    export_header,
    governed_models,
    records_page,
    refusals_page,
)
from ledger.chain.membership import Role
from ledger.services import audit_events

router = APIRouter(prefix="/audit", tags=["audit"])

MAX_PAGE = 5_000
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="items per page")]
Cursor = Annotated[int, Query(ge=0, le=INT64_MAX, description="`next` of the previous page; 0 for the first")]


class ExportHeaderOut(BaseModel):
    format: str = EXPORT_FORMAT
    chain_id: int
    contracts: dict[str, str]
    deployment_block: int
    exported_at: str
    logs: dict[str, int] = Field(description="entries of each log held by the platform now")
    records: bool
    openings: bool


class EntryOut(BaseModel):
    log: str
    seq: int
    leaf: str = Field(description="base64 of the leaf's exact bytes")


class EntriesPage(BaseModel):
    entries: list[EntryOut]
    next: int | None = Field(description="`start` of the next page; null after the last entry")


class RecordsPage(BaseModel):
    records: list[dict[str, Any]] = Field(description="export record lines: {record: {...}}")
    next: int | None


class CataloguesOut(BaseModel):
    catalogues: list[dict[str, Any]] = Field(
        description="export catalogue lines: {catalogue: {version, document}}"
    )


class ModelVersionOut(BaseModel):
    version: int
    status: str = Field(description="on chain now: proposed, active or retired")


class GovernedModelOut(BaseModel):
    evaluation_model: dict[str, Any] = Field(description="{document, card}, as an export line holds them")
    versions: list[ModelVersionOut] = Field(description="the ModelRegistry versions naming this document")


class ModelsOut(BaseModel):
    models: list[GovernedModelOut] = Field(
        description="the model documents proposed on chain (an export's evaluation-model lines, with "
        "their versions); documents stored but never proposed are not served"
    )


class MlpsRecordsSize(BaseModel):
    records: int = Field(description="rows in the MLPS audit records")
    refusals: int = Field(description="of which refusals")
    stored_chars: int = Field(description="characters stored in their fields (each field is capped)")
    oldest: datetime | None
    newest: datetime | None
    retention_days: int = Field(description="records younger than this are never deleted (>= 183)")


class RefusalsPage(BaseModel):
    refusals: list[dict[str, Any]] = Field(description="export refusal lines: {audit_event: {...}}")
    next: int | None


@router.get("/header", response_model=ExportHeaderOut, summary="What the export holds now (auditors)")
def header(caller: CallerDep, platform: PlatformDep) -> ExportHeaderOut:
    require_role(caller, Role.AUDITOR)
    h = export_header(platform.db, platform.deployment)
    return ExportHeaderOut(
        chain_id=h.chain_id,
        contracts=h.contracts,
        deployment_block=h.deployment_block,
        exported_at=h.exported_at,
        logs=h.logs,
        records=h.records,
        openings=False,
    )


@router.get(
    "/logs/{name}/entries", response_model=EntriesPage, summary="A page of a log's entries (auditors)"
)
def entries(
    name: str, caller: CallerDep, platform: PlatformDep, start: Cursor = 0, limit: Limit = 1_000
) -> EntriesPage:
    require_role(caller, Role.AUDITOR)
    page = entries_page(platform.db, name, start, limit)
    return EntriesPage(
        entries=[
            EntryOut(log=name, seq=seq, leaf=base64.b64encode(leaf).decode("ascii")) for seq, leaf in page
        ],
        next=page[-1][0] + 1 if len(page) == limit else None,
    )


@router.get("/records", response_model=RecordsPage, summary="A page of stored record versions (auditors)")
def records(caller: CallerDep, platform: PlatformDep, after: Cursor = 0, limit: Limit = 1_000) -> RecordsPage:
    require_role(caller, Role.AUDITOR)
    versions, cursor = records_page(platform.db, after, limit)
    return RecordsPage(records=[json.loads(record_line(v)) for v in versions], next=cursor)


@router.get(
    "/refusals", response_model=RefusalsPage, summary="A page of refusals from the audit records (auditors)"
)
def refusals(
    caller: CallerDep, platform: PlatformDep, after: Cursor = 0, limit: Limit = 1_000
) -> RefusalsPage:
    require_role(caller, Role.AUDITOR)
    items, cursor = refusals_page(platform.db, after, limit)
    return RefusalsPage(refusals=[json.loads(refusal_line(r)) for r in items], next=cursor)


@router.get(
    "/catalogues", response_model=CataloguesOut, summary="Every catalogue version's document (auditors)"
)
def catalogues(caller: CallerDep, platform: PlatformDep) -> CataloguesOut:
    require_role(caller, Role.AUDITOR)
    return CataloguesOut(catalogues=[json.loads(catalogue_line(c)) for c in catalogue_documents(platform.db)])


@router.get(
    "/models",
    response_model=ModelsOut,
    summary="The scorecard model documents proposed on chain, with their cards and versions (auditors)",
)
def models(caller: CallerDep, platform: PlatformDep) -> ModelsOut:
    """The model documents evaluations may be made with (governance documents whose hashes
    the ModelRegistry names; no credit data), for recomputing evaluations (step 6), each
    with its versions' on-chain status. A document stored but never proposed is not served."""
    require_role(caller, Role.AUDITOR)
    governed = governed_models(platform.db, platform.contracts.model_registry)
    return ModelsOut(
        models=[
            GovernedModelOut(
                evaluation_model=json.loads(evaluation_model_line(g.model))["evaluation_model"],
                versions=[ModelVersionOut(version=v, status=s) for v, s in g.versions],
            )
            for g in governed
        ]
    )


@router.get(
    "/mlps-records/size",
    response_model=MlpsRecordsSize,
    summary="How much the MLPS audit records hold, and how long they are kept (auditors, operators)",
)
def mlps_records_size(caller: CallerDep, platform: PlatformDep) -> MlpsRecordsSize:
    require_role(caller, Role.AUDITOR, Role.OPERATOR)
    size = audit_events.size(platform.db)
    return MlpsRecordsSize(
        records=size.records,
        refusals=size.refusals,
        stored_chars=size.stored_chars,
        oldest=size.oldest,
        newest=size.newest,
        retention_days=platform.settings.audit_retention_days,
    )

"""Enterprise self-service: consent listings, free self-query, self-declared information, notices.

This router mounts the objection, repair and calendar routers too, so the application
includes one router for the whole issue. Routes only parse, call `ledger.selfservice`
and convert; every refusal is a `LedgerError` whose `error` code names the rule.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from api.deps import CallerDep
from api.routers import selfservice_calendar, selfservice_objections, selfservice_repairs
from api.routers.selfservice_deps import SelfServiceDep, Subject
from api.routers.selfservice_schemas import (
    RECORD_EXAMPLE,
    DeclarationBody,
    DeclarationOut,
    GrantsOut,
    InstitutionsOut,
    NoticeOut,
    SelfRecordOut,
    rule_responses,
)
from ledger.errors import InvalidInput
from ledger.selfservice import errors as rules
from ledger.selfservice.declarations import DeclarationReceipt
from ledger.selfservice.notices import NoticeItem
from ledger.selfservice.selfquery import SelfRecord

router = APIRouter(tags=["self-service"])


# -- consents --------------------------------------------------------------------------------------


@router.get(
    "/consents/institutions",
    response_model=InstitutionsOut,
    tags=["consents"],
    summary="Institutions an enterprise may consent to, with their active agreements",
    description=(
        "Every active institution with the agreements active at block B (categories, purposes, maximum "
        "sensitivity, validity, document hash, and whether its usage commitment was breached). Read from "
        "the chain at one block. Grant with `POST /acts/Grant`, revoke with `POST /acts/Revoke` (effective "
        "from the next block: the institution's next request is refused)."
    ),
    responses=rule_responses(),
)
def institutions(caller: CallerDep, service: SelfServiceDep) -> dict[str, Any]:
    del caller  # any member
    view, found = service.consents.institutions()
    return {"at": view, "institutions": found}


@router.get(
    "/consents/grants",
    response_model=GrantsOut,
    tags=["consents"],
    summary="The enterprise's consent grants with their status (live, revoked, expired)",
    description=(
        "An enterprise sees its own grants (`subject` optional); operators and auditors name the "
        "enterprise's USCC. Statuses hold at block B."
    ),
    responses=rule_responses(_403="another enterprise's grants, or not an enterprise, operator or auditor"),
)
def grants(caller: CallerDep, service: SelfServiceDep, subject: str | None = None) -> dict[str, Any]:
    if subject is None:
        view, found = service.consents.grants(caller.address, caller.member)
    else:
        view, found = service.consents.grants_of_subject(caller.address, caller.member, subject)
    return {"at": view, "grants": found}


# -- free self-query -------------------------------------------------------------------------------


@router.get(
    "/self/records",
    response_model=list[SelfRecordOut],
    summary="Free self-query: every record held about the enterprise, in full",
    description=(
        "Every record about the calling enterprise (naming its USCC), unmasked, with every version "
        "(provider, source reference, catalogue version, values, log index, inclusion proof once "
        "anchored), dispute and repair status and publicity window. Free of charge; written to the audit "
        "records; not a release (who else read the data: `GET /accesses?subject=`)."
    ),
    responses=rule_responses(rules.NotTheSubject),
)
def self_records(
    caller: CallerDep,
    service: SelfServiceDep,
    subject: Subject,
    category: Annotated[str | None, Query(examples=["administrative_penalty"])] = None,
    with_proofs: Annotated[bool, Query(description="inclusion proofs (one per version)")] = True,
) -> list[SelfRecord]:
    return service.records.records(
        caller.address, caller.member, subject, category=category, with_proofs=with_proofs
    )


@router.get(
    "/self/records/{record_id}",
    response_model=SelfRecordOut,
    summary="Free self-query of one record: its history, dispute and repair status, proofs",
    responses=rule_responses(rules.NotTheSubject, rules.UnknownRecord),
)
def self_record(
    record_id: Annotated[str, Path(examples=[RECORD_EXAMPLE])],
    caller: CallerDep,
    service: SelfServiceDep,
    subject: Subject,
) -> SelfRecord:
    found = service.records.records(caller.address, caller.member, subject, record_id=record_id)
    return found[0]


# -- self-declared information ---------------------------------------------------------------------


@router.post(
    "/self/declarations",
    response_model=DeclarationOut,
    status_code=201,
    summary="Declare information about the enterprise (自愿申报) under a truthfulness commitment",
    description=(
        "Qualifications, contract performance, social good … as a record of catalogue category "
        "`self_declared` whose provider is the enterprise itself. `commitment_id` names an "
        "`EnterpriseTruthfulness` commitment the enterprise signed (`POST /acts/Commit`, kind 1); it is "
        "checked on chain (exists, the caller's, that kind, not breached). The record and a "
        "`self-declaration` leaf binding it to the commitment enter the credit-record log. Idempotent by "
        "`source_ref` (200 with the stored receipt)."
    ),
    responses=rule_responses(
        rules.NotTheSubject,
        rules.CommitmentUnknown,
        rules.CommitmentNotYours,
        rules.CommitmentWrongKind,
        rules.CommitmentBreached,
        rules.DeclarationInvalid,
        _200="the same declaration was stored before: its receipt",
        _409="the source reference holds another declaration",
    ),
)
def declare(
    body: DeclarationBody, caller: CallerDep, service: SelfServiceDep, response: Response
) -> DeclarationReceipt:
    receipt = service.declarations.declare(
        caller.address,
        caller.member,
        subject=body.subject,
        source_ref=body.source_ref,
        fields=body.fields,
        commitment_id=body.commitment_id,
        event_date=body.event_date,
        corrects=body.corrects,
    )
    if receipt.status != "created":
        response.status_code = 200
    return receipt


# -- notices ---------------------------------------------------------------------------------------


@router.get(
    "/notices",
    response_model=list[NoticeOut],
    tags=["notices"],
    summary="The enterprise's notification feed",
    description=(
        "Dishonesty information recorded about the enterprise (from the moment it is stored, so before any "
        "release of it, 征信业管理条例 Art. 15), and every state change of its objections and repair "
        "applications, oldest first. Poll with `since` (the `at` of the last notice seen)."
    ),
    responses=rule_responses(rules.NotTheSubject),
)
def notices(
    caller: CallerDep,
    service: SelfServiceDep,
    subject: Subject,
    since: Annotated[datetime | None, Query(description="only notices after this instant")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[NoticeItem]:
    if since is not None and since.tzinfo is None:
        raise InvalidInput("since: give a time zone (e.g. 2026-03-02T10:00:00+08:00)")
    return service.notices.feed(caller.address, caller.member, subject, since=since, limit=limit)


router.include_router(selfservice_objections.router)
router.include_router(selfservice_repairs.router)
router.include_router(selfservice_calendar.router)

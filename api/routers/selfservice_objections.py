"""Objections (异议申诉): filed by the enterprise, decided by the record's provider or an operator.

The listing, the escalation and one objection are the routes every kind of case answers
(`selfservice_cases`); filing, forwarding, deciding and withdrawing are written here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import CallerDep
from api.routers.selfservice_cases import add_case_routes
from api.routers.selfservice_deps import SelfServiceDep
from api.routers.selfservice_schemas import (
    OBJECTION_EXAMPLE,
    ObjectionBody,
    ObjectionDecisionBody,
    ObjectionOut,
    rule_responses,
)
from ledger.selfservice import errors as rules
from ledger.selfservice.objections import OBJECTIONS, Correction, ObjectionView

router = APIRouter(prefix="/objections", tags=["objections"])

ObjectionId = Annotated[str, Path(description="the objection's id", examples=[OBJECTION_EXAMPLE])]


@router.post(
    "",
    response_model=ObjectionOut,
    status_code=201,
    summary="Object to a record about the enterprise; it is flagged disputed at once",
    description=(
        "By the enterprise the record is about, with reasons and the hashes of its evidence. From this "
        'moment every release of the record carries `"disputed": true`. The platform decides within '
        "`LEDGER_OBJECTION_PLATFORM_WORKING_DAYS` working days or forwards to the provider within "
        "`LEDGER_OBJECTION_FORWARD_WORKING_DAYS`; never later than `LEDGER_OBJECTION_OUTER_BOUND_DAYS` "
        "calendar days (上海市社会信用条例 Art. 36; 征信业管理条例 Art. 25). The filing is a leaf of the "
        "credit-record log and a notice in the enterprise's feed."
    ),
    responses=rule_responses(
        rules.NotTheSubject,
        rules.UnknownRecord,
        rules.ObjectionAlreadyOpen,
        rules.OwnDeclaration,
        _422="malformed body (reasons, evidence hashes)",
    ),
)
def file_objection(body: ObjectionBody, caller: CallerDep, service: SelfServiceDep) -> ObjectionView:
    return service.objections.file(
        caller.address, caller.member, record_id=body.record_id, reasons=body.reasons, evidence=body.evidence
    )


add_case_routes(router, OBJECTIONS, ObjectionOut, lambda service: service.objections, OBJECTION_EXAMPLE)


@router.post(
    "/{objection_id}/forwarding",
    response_model=ObjectionOut,
    summary="Forward an objection to the record's provider (operator)",
    description="When the platform cannot correct the record itself: the provider decides within "
    "`LEDGER_OBJECTION_PROVIDER_WORKING_DAYS` working days, never past the outer bound.",
    responses=rule_responses(
        rules.NotTheDecider, rules.UnknownObjection, rules.ObjectionAlreadyForwarded, rules.AlreadyDecided
    ),
)
def forward_objection(objection_id: ObjectionId, caller: CallerDep, service: SelfServiceDep) -> ObjectionView:
    return service.objections.forward(caller.address, caller.member, objection_id)


@router.post(
    "/{objection_id}/decision",
    response_model=ObjectionOut,
    summary="Decide an objection: corrected (as the record's next version) or upheld (provider or operator)",
    description=(
        "By the record's provider or an operator. `corrected` ingests the correction (changes merged over "
        "the objected version) as the record's next version through the records ingestion, under the "
        "record's provider; `upheld` keeps the record, with reasons. The decision is a leaf of the "
        "credit-record log; the dispute flag is lifted. Refused once the record has another version than "
        "the one objected to (`record_superseded`)."
    ),
    responses=rule_responses(
        rules.NotTheDecider,
        rules.UnknownObjection,
        rules.AlreadyDecided,
        rules.RecordSuperseded,
        rules.CorrectionInvalid,
    ),
)
def decide_objection(
    objection_id: ObjectionId, body: ObjectionDecisionBody, caller: CallerDep, service: SelfServiceDep
) -> ObjectionView:
    given = body.correction
    correction = None if given is None else Correction(given.fields, given.event_date, given.severity)
    return service.objections.decide(
        caller.address,
        caller.member,
        objection_id,
        outcome=body.outcome,
        reasons=body.reasons,
        correction=correction,
    )


@router.post(
    "/{objection_id}/withdrawal",
    response_model=ObjectionOut,
    summary="Withdraw an objection (its enterprise); the record is no longer disputed",
    responses=rule_responses(rules.NotTheSubject, rules.UnknownObjection, rules.AlreadyDecided),
)
def withdraw_objection(
    objection_id: ObjectionId, caller: CallerDep, service: SelfServiceDep
) -> ObjectionView:
    return service.objections.withdraw(caller.address, caller.member, objection_id)

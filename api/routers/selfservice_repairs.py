"""Credit repair (信用修复): applied for by the enterprise, decided by an operator.

The listing, the escalation and one application are the routes every kind of case answers
(`selfservice_cases`); applying and deciding are written here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import CallerDep
from api.routers.selfservice_cases import add_case_routes
from api.routers.selfservice_deps import SelfServiceDep
from api.routers.selfservice_schemas import (
    APPLICATION_EXAMPLE,
    RepairBody,
    RepairDecisionBody,
    RepairOut,
    rule_responses,
)
from ledger.selfservice import errors as rules
from ledger.selfservice.repairs import REPAIRS, RepairView

router = APIRouter(prefix="/repairs", tags=["credit repair"])

ApplicationId = Annotated[
    str, Path(description="the repair application's id", examples=[APPLICATION_EXAMPLE])
]


@router.post(
    "",
    response_model=RepairOut,
    status_code=201,
    summary="Apply for the credit repair of a dishonesty record about the enterprise",
    description=(
        "With the hashes of the proof of fulfilment and a `RepairApplicant` commitment the enterprise "
        "signed (`POST /acts/Commit`, kind 2), checked on chain. Accepted only for dishonesty records, "
        "once the minimum publicity period has passed (minor records at once) and while the record is "
        "still published (NDRC Order 36; 国办发〔2025〕22号). An operator decides within "
        "`LEDGER_REPAIR_DECISION_WORKING_DAYS` working days."
    ),
    responses=rule_responses(
        rules.NotTheSubject,
        rules.UnknownRecord,
        rules.NotDishonesty,
        rules.MinimumPeriodNotPassed,
        rules.PublicationEnded,
        rules.AlreadyRepaired,
        rules.RepairAlreadyPending,
        rules.CommitmentUnknown,
        rules.CommitmentNotYours,
        rules.CommitmentWrongKind,
        rules.CommitmentBreached,
    ),
)
def apply_for_repair(body: RepairBody, caller: CallerDep, service: SelfServiceDep) -> RepairView:
    return service.repairs.apply(
        caller.address,
        caller.member,
        record_id=body.record_id,
        proofs=body.proofs,
        commitment_id=body.commitment_id,
        statement=body.statement,
    )


add_case_routes(router, REPAIRS, RepairOut, lambda service: service.repairs, APPLICATION_EXAMPLE)


@router.post(
    "/{application_id}/decision",
    response_model=RepairOut,
    summary="Approve or reject a repair application (operator); approval stops publication and sharing",
    description=(
        "Approved: from this moment no release returns the record and it is no longer published; the "
        "enterprise's own view shows it repaired (上海市社会信用条例 Art. 38: within 3 working days; "
        "here at once). The decision is a leaf of the credit-record log and a notice."
    ),
    responses=rule_responses(
        rules.NotTheDecider, rules.UnknownApplication, rules.AlreadyDecided, rules.RecordSuperseded
    ),
)
def decide_repair(
    application_id: ApplicationId, body: RepairDecisionBody, caller: CallerDep, service: SelfServiceDep
) -> RepairView:
    return service.repairs.decide(
        caller.address, caller.member, application_id, outcome=body.outcome, reasons=body.reasons
    )

"""Credit evaluation: model documents stored (operators), evaluations as releases (institutions).

`POST /models/documents` keeps a model document with its card before its version is
proposed on chain (`POST /acts/ProposeModel`). `POST /evaluations` takes an institution's
signed evaluation request, which is its own authentication, and answers score, grade,
probability band, four reasons and the portrait - or the dimensions missing - with a
receipt of the access-trail entry logged before the answer.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, BeforeValidator, Field

from api.deps import CallerDep, EvaluationDep, OperatorBody, require_role
from api.schemas import INT64_MAX, Address, Bytes32, PositiveUint, Signature, Uint
from api.view_models import DecimalText, ViewModel, view_of
from ledger.chain.membership import Role
from ledger.chain.model_registry import ModelProposal, ModelVersion
from ledger.errors import InvalidInput
from ledger.evaluation_release.request import evaluation_request_from_json
from ledger.evaluation_release.service import EvaluationReceipt
from ledger.evaluation_release.views import ModelDocumentsReceipt, SelfEvaluation

router = APIRouter(tags=["evaluation"])


class ModelDocumentsBody(BaseModel):
    model: dict[str, Any] = Field(description="the scorecard model document (credit-ledger/scorecard)")
    card: dict[str, Any] = Field(description="its model card, naming the document's SHA-256")


@view_of(ModelDocumentsReceipt, wire={"input_categories": DecimalText})
class ModelDocumentsOut(ViewModel):
    pass


@router.post(
    "/models/documents",
    response_model=ModelDocumentsOut,
    summary="Store a model document and its card before proposing its version (operators)",
    responses={422: {"description": "malformed document or card, the field named"}},
)
def store_model_documents(signed_body: OperatorBody, service: EvaluationDep) -> ModelDocumentsOut:
    try:
        body = ModelDocumentsBody.model_validate_json(signed_body.body)
    except ValueError as exc:
        raise InvalidInput(f"body: {exc}") from None
    stored = service.store_documents(
        signed_body.caller.address, json.dumps(body.model), json.dumps(body.card)
    )
    return ModelDocumentsOut.of(stored)


def _enum_name(value: Any) -> Any:
    return value.name.lower() if isinstance(value, Enum) else value


#: an on-chain enum (status, action) as its lower-case name
EnumName = Annotated[str, BeforeValidator(_enum_name)]


@view_of(ModelVersion, wire={"input_categories": DecimalText, "status": EnumName})
class ModelVersionOnChain(ViewModel):
    """A model version as the ModelRegistry holds it: hashes, indicator file version, the input
    categories as a decimal bit mask, and its status (proposed, active or retired)."""


class ModelVersionOut(ModelVersionOnChain):
    """A model version as the ModelRegistry holds it, its input categories also by name."""

    input_category_names: list[str] = Field(description="the input categories by catalogue name")


@view_of(ModelProposal, wire={"action": EnumName})
class ModelProposalOut(ViewModel):
    """A proposal to activate or retire a model version, and how far its approval went."""


@router.get("/models/versions/{version}", response_model=ModelVersionOut, summary="A model version on chain")
def model_version(
    version: Annotated[int, Path(ge=1, le=INT64_MAX)], _caller: CallerDep, service: EvaluationDep
) -> ModelVersionOut:
    found = service.model_version(version)
    return ModelVersionOut(
        **ModelVersionOnChain.of(found).model_dump(),
        input_category_names=service.catalogue.names_in_mask(found.input_categories),
    )


@router.get(
    "/models/proposals/{proposal}", response_model=ModelProposalOut, summary="A model proposal on chain"
)
def model_proposal(
    proposal: Annotated[int, Path(ge=1, le=INT64_MAX)], _caller: CallerDep, service: EvaluationDep
) -> ModelProposal:
    return service.models.proposal(proposal)


class MonitoringOut(BaseModel):
    model: dict[str, Any] = Field(description="the model version and its document's identity")
    status: str = Field(description="the version's status on chain now")
    as_of: str
    warning_psi: float = Field(description="a PSI above this is a warning (0.25)")
    model_version: str
    population: int = Field(description="enterprises with a sufficient portrait today")
    score: dict[str, Any] = Field(description="PSI of the score: name, psi, level, bins")
    indicators: list[dict[str, Any]] = Field(description="PSI of each model indicator")
    grades: dict[str, float] = Field(description="share of today's population per grade")
    warnings: list[str] = Field(description="one line per PSI past 0.25: the model may no longer fit")


@router.get(
    "/models/versions/{version}/monitoring",
    response_model=MonitoringOut,
    summary="Population stability of a model version today, with its warnings (operators)",
    description=(
        "PSI of the score and of each indicator between the model's training population (its card) "
        "and today's enterprises (each portrait read as an evaluation reads it), the grades today, and "
        "a warning for each PSI past 0.25. Aggregates only; written to the audit records."
    ),
    responses={403: {"description": "not an operator"}, 404: {"description": "unknown model version"}},
)
def model_monitoring(
    version: Annotated[int, Path(ge=1, le=INT64_MAX)], caller: CallerDep, service: EvaluationDep
) -> dict[str, Any]:
    require_role(caller, Role.OPERATOR)
    return service.monitoring(caller.address, version)


@view_of(EvaluationReceipt)
class EvaluationReceiptOut(ViewModel):
    """Where the evaluation's access-trail entry landed, block B, and the hash of `data`."""


class EvaluationRequestBody(BaseModel):
    institution: Address
    subject: str = Field(examples=["91410100MA44TL7G2F"], description="the enterprise's 统一社会信用代码")
    model_version: PositiveUint = Field(description="an active version of the ModelRegistry")
    purpose: Uint = Field(description="one purpose bit")
    agreement_id: PositiveUint
    nonce: Bytes32
    deadline: Uint = Field(description="unix seconds")
    signature: Signature


class EvaluationOut(BaseModel):
    data: dict[str, Any] = Field(
        description="status (scored or insufficient_data), score, grade, probability band, reasons, portrait"
    )
    receipt: EvaluationReceiptOut


@router.post(
    "/evaluations",
    response_model=EvaluationOut,
    summary="Evaluate an enterprise with an approved model (institution's signed request)",
    responses={
        401: {"description": "signature not the institution's, or deadline passed"},
        403: {"description": "the chain refused (reason code named), or the model version is not active"},
        404: {"description": "unknown model version"},
        409: {"description": "replayed nonce"},
        503: {"description": "chain, database or access trail unavailable: nothing evaluated"},
    },
)
async def evaluate(body: EvaluationRequestBody, service: EvaluationDep) -> Response:
    result = await run_in_threadpool(service.evaluate, evaluation_request_from_json(dict(body)))
    receipt = EvaluationReceiptOut.of(result.receipt)
    content = b'{"data":' + result.data_json + b',"receipt":' + receipt.model_dump_json().encode() + b"}"
    return Response(content, media_type="application/json")


@view_of(SelfEvaluation)
class SelfEvaluationOut(ViewModel):
    pass


@router.get(
    "/self/evaluation",
    summary="The enterprise's own evaluation, free: score, grade, reasons, portrait, guidance",
    description=(
        "The calling enterprise (naming its USCC) sees its own evaluation with the latest active model "
        "(or `model_version`): score, grade, probability band, reasons in zh and en, the portrait, and "
        "what would raise the grade (which indicators, by how much). Computed from its records as a "
        "release would read them. Free of charge; not a release; written to the audit records."
    ),
    response_model=SelfEvaluationOut,
    response_model_exclude_none=True,  # an insufficient answer has no score, grade …: absent, not null
    responses={403: {"description": "not the enterprise itself"}, 404: {"description": "no active model"}},
)
def self_evaluation(
    caller: CallerDep,
    service: EvaluationDep,
    subject: Annotated[str, Query(description="the enterprise's own USCC", examples=["91410100MA44TL7G2F"])],
    model_version: Annotated[int | None, Query(ge=1, le=INT64_MAX)] = None,
) -> SelfEvaluationOut:
    own = service.self_evaluation(caller.address, caller.member, subject, model_version=model_version)
    return SelfEvaluationOut.of(own)

"""The one table from ledger errors to HTTP status codes, and the one error body.

Domain code raises `LedgerError` subclasses and never thinks about HTTP; contract
refusals arrive as `ContractRevert` named after the Solidity custom error. Every error
answer of the API, whatever raised it (a service, request validation, a path that does
not exist, the edge's limits), has the body `ErrorBody`: `error` (a code), `detail`
(a sentence, or a list of problems with field and rule) and any named extras.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.records_schemas import report_json
from ledger.chain.errors import ContractRevert
from ledger.errors import Conflict, InvalidInput, LedgerError, NotAuthorized, NotFound, Unavailable
from ledger.records.ingest import RecordsConflict, RecordsRejected
from ledger.records.submission import TooManyRecords
from ledger.request_auth import Unauthenticated


class PayloadTooLarge(InvalidInput):
    """The body exceeds what one request to its route may carry (HTTP 413)."""

    code = "payload_too_large"


class Throttled(LedgerError):
    """The caller caused too many refusals in the current window (HTTP 429)."""

    code = "too_many_refusals"


class SourceRefConflict(Conflict):
    """`POST /records`: the source reference holds other content (HTTP 409)."""

    code = "source_ref_conflict"


class InvalidRecord(InvalidInput):
    """`POST /records`: the record is invalid; every problem with field and rule (HTTP 422)."""

    code = "invalid_record"

    def __init__(self, problems: list[dict[str, str]]) -> None:
        summary = "; ".join(f"{p['field']}: {p['rule']}" for p in problems)
        super().__init__(f"invalid record: {summary}")
        self.body_extra = {"errors": problems}


class InvalidRequest(InvalidInput):
    """Path, query, header or body values that fail their schema: each problem (HTTP 422)."""

    def __init__(self, errors: Any) -> None:
        problems = problems_of(errors)
        super().__init__("; ".join(f"{p['field']}: {p['rule']}" for p in problems))
        self.body_extra = {"detail": problems}


class FrameworkRefusal(LedgerError):
    """An HTTP error of the framework itself (unknown path, wrong method …), with its own status."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = _HTTP_CODES.get(status, "http_error")


class Problem(BaseModel):
    field: str
    rule: str
    message: str


class ErrorBody(BaseModel):
    """The body of every error answer (4xx and 503)."""

    model_config = ConfigDict(extra="allow")

    error: str = Field(description="a code naming the refusal, e.g. unauthenticated, invalid_input")
    detail: str | list[Problem] = Field(description="what was wrong, or each problem with field and rule")


STATUS_BY_CLASS: list[tuple[type[LedgerError], int]] = [
    (PayloadTooLarge, 413),
    (TooManyRecords, 413),
    (Throttled, 429),
    (Unauthenticated, 401),
    (NotAuthorized, 403),
    (NotFound, 404),
    (Conflict, 409),
    (InvalidInput, 422),
    (Unavailable, 503),
]

#: contract refusals that mean "you may not" rather than "this contradicts the state"
FORBIDDEN_REVERTS = {
    "InvalidSigner",
    "NotActiveMember",
    "CheckpointsUnauthorizedSubmitter",
    "UnauthorizedTerminator",
    "CommitmentNotOwned",
    "NotEnterpriseAccount",
    "NotDocumentOwner",
}
#: refusals naming something that does not exist (UnknownProposal, NonexistentGrant …)
NOT_FOUND_PREFIXES = ("Unknown", "Nonexistent")
#: refusals caused by the content of the request itself
UNPROCESSABLE_REVERTS = {
    "SignatureExpired",
    "InvalidQuorum",
    "InvalidRole",
    "InvalidAccount",
    "InvalidInstitutionKind",
    "InvalidUsccHash",
    "InvalidProposalLifetime",
    "EmptyModelHash",
    "NoModelInputs",
    "InvalidPublicationKind",
    "EmptyPublication",
    "InvalidValidity",
}


def status_for(exc: LedgerError) -> int:
    if isinstance(exc, FrameworkRefusal):
        return exc.status
    if isinstance(exc, ContractRevert):
        if exc.error_name in FORBIDDEN_REVERTS:
            return 403
        if exc.error_name.startswith(NOT_FOUND_PREFIXES):
            return 404
        if exc.error_name in UNPROCESSABLE_REVERTS:
            return 422
        return 409
    for cls, status in STATUS_BY_CLASS:
        if isinstance(exc, cls):
            return status
    return 500


def _body(exc: LedgerError) -> dict[str, Any]:
    body: dict[str, Any] = {"error": exc.code, "detail": exc.message}
    if isinstance(exc, ContractRevert):
        body["contract_error"] = exc.error_name
    if isinstance(exc, (RecordsRejected, RecordsConflict)):
        body.update(report_json(exc.report))
    extra = getattr(exc, "body_extra", None)
    if isinstance(extra, dict):
        body.update(extra)
    return body


def error_response(exc: LedgerError) -> JSONResponse:
    """The answer to `exc`: its status from the table, the project's error body."""
    return JSONResponse(_body(exc), status_code=status_for(exc))


def problems_of(errors: Any, *, drop: tuple[str, ...] = ("body",)) -> list[dict[str, str]]:
    """Pydantic validation errors as the error body's problems (field, rule, message)."""
    return [
        {
            "field": ".".join(str(p) for p in err["loc"] if p not in drop),
            "rule": err["type"],
            "message": err["msg"],
        }
        for err in errors
    ]


#: codes of HTTP errors raised by the framework itself (unknown path, wrong method …)
_HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 415: "unsupported_media_type"}


def install(app: FastAPI) -> None:
    @app.exception_handler(LedgerError)
    async def _ledger_error(_request: Request, exc: LedgerError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(InvalidRequest(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = error_response(FrameworkRefusal(exc.status_code, str(exc.detail)))
        response.headers.update(exc.headers or {})
        return response

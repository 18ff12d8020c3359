"""The one table from ledger errors to HTTP status codes.

Domain code raises `LedgerError` subclasses and never thinks about HTTP; contract
refusals arrive as `ContractRevert` named after the Solidity custom error.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from ledger.chain.errors import ContractRevert
from ledger.errors import Conflict, InvalidInput, LedgerError, NotAuthorized, NotFound, Unavailable
from ledger.request_auth import Unauthenticated

STATUS_BY_CLASS: list[tuple[type[LedgerError], int]] = [
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
}


def status_for(exc: LedgerError) -> int:
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


def _body(exc: LedgerError) -> dict[str, object]:
    body: dict[str, object] = {"error": exc.code, "detail": exc.message}
    if isinstance(exc, ContractRevert):
        body["contract_error"] = exc.error_name
    return body


def install(app: FastAPI) -> None:
    @app.exception_handler(LedgerError)
    async def _ledger_error(_request: Request, exc: LedgerError) -> JSONResponse:
        return JSONResponse(_body(exc), status_code=status_for(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {
                "field": ".".join(str(p) for p in err["loc"] if p != "body"),
                "rule": err["type"],
                "message": err["msg"],
            }
            for err in exc.errors()
        ]
        return JSONResponse({"error": "invalid_input", "detail": problems}, status_code=422)

"""The catalogue: the version in force, any published version, and publishing (operator)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from api.deps import CallerDep, CataloguesDep, OperatorBody
from api.errors import InvalidRequest
from api.records_schemas import CatalogueOut, PublishCatalogueBody, SigningInfo
from api.schemas import VersionPath, parse_address, to_bytes
from ledger.chain.catalogue_registry import PublishCatalogueMessage
from ledger.chain.eip712 import Signed
from ledger.errors import InvalidInput

router = APIRouter(prefix="/catalogue", tags=["catalogue"])


@router.get("", response_model=CatalogueOut, summary="The catalogue version in force on chain")
def current(_caller: CallerDep, catalogues: CataloguesDep) -> CatalogueOut:
    return CatalogueOut.of(catalogues.current())


@router.get("/versions/{version}", response_model=CatalogueOut, summary="A published catalogue version")
def version(version: VersionPath, _caller: CallerDep, catalogues: CataloguesDep) -> CatalogueOut:
    return CatalogueOut.of(catalogues.get(version))


@router.get(
    "/signing/{address}", response_model=SigningInfo, summary="Nonce and EIP-712 domain to sign a publication"
)
def signing(address: str, _caller: CallerDep, catalogues: CataloguesDep) -> SigningInfo:
    try:
        account = parse_address(address)
    except ValueError as exc:
        raise InvalidInput(f"address: {exc}") from None
    registry = catalogues.registry
    return SigningInfo(nonce=registry.nonce(account), domain=registry.domain)


@router.post(
    "/versions",
    response_model=CatalogueOut,
    status_code=201,
    summary="Publish a new catalogue version (operator)",
    responses={413: {"description": "body over LEDGER_INGEST_MAX_SINGLE_BYTES"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": PublishCatalogueBody.model_json_schema()}},
        }
    },
)
async def publish(signed_body: OperatorBody, catalogues: CataloguesDep) -> Response:
    """The operator signs `PublishCatalogue(version, contentHash, publicCategories, operator,
    nonce, deadline)`; the platform validates the document against it and against every
    earlier version (bits are never reused), stores it and relays the act on chain.

    The body is bounded by the edge (`api.edge`) and parsed by pydantic's JSON parser
    (bounded nesting), like record bodies."""
    try:
        body = PublishCatalogueBody.model_validate_json(signed_body.body)
    except ValidationError as exc:
        raise InvalidRequest(exc.errors()) from None
    version_field = body.catalogue.get("version")
    if not isinstance(version_field, int) or isinstance(version_field, bool):
        raise InvalidInput("catalogue.version: an integer is required")
    content_hash = to_bytes(body.content_hash)
    if len(content_hash) != 32:
        raise InvalidInput("content_hash: must be 32 bytes")
    message = PublishCatalogueMessage(
        version_field, content_hash, body.public_categories, body.operator, body.nonce, body.deadline
    )
    signed = Signed(message, to_bytes(body.signature))
    published = await run_in_threadpool(
        catalogues.publish, signed_body.caller.address, body.catalogue, signed
    )
    return JSONResponse(CatalogueOut.of(published).model_dump(), status_code=201)

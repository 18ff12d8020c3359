"""The release endpoint: an institution's signed data request in, desensitized data and a receipt out.

The signed data request is its own authentication (signature, nonce, deadline), so the
endpoint needs no request-signature headers; everything else is the release service's.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from api.deps import AccessesDep, CallerDep, ReleaseDep
from api.schemas import INT64_MAX, Address, Bytes32, PositionPath, PositiveUint, Signature, Uint
from api.view_models import ViewModel, view_of
from ledger.release.accesses import MAX_PAGE as ACCESS_PAGE
from ledger.release.accesses import EntryNames
from ledger.release.request import request_from_json

router = APIRouter(tags=["release"])


class DataRequestBody(BaseModel):
    institution: Address
    subject: str = Field(examples=["91410100MA44TL7G2F"], description="the enterprise's 统一社会信用代码")
    categories: Uint = Field(description="bit mask of catalogue categories")
    purpose: Uint = Field(description="one purpose bit")
    agreement_id: PositiveUint
    raw: bool = Field(description="unmasked values where the enterprise's grant allows them")
    nonce: Bytes32
    deadline: Uint = Field(description="unix seconds")
    signature: Signature


class ReceiptOut(BaseModel):
    log: str
    index: int = Field(description="the entry's position in the access trail")
    leaf_hash: str
    block: int = Field(description="block B at which the chain authorized the release")
    response_hash: str = Field(description="SHA-256 of the RFC 8785 canonical JSON of `data`")


class ReleaseOut(BaseModel):
    data: dict[str, Any]
    receipt: ReceiptOut


@router.post(
    "/releases",
    response_model=ReleaseOut,
    summary="Release an enterprise's data as the chain allows (institution's signed request)",
    responses={
        401: {"description": "signature not the institution's, or deadline passed"},
        403: {"description": "the chain refused: the reason code names the failed rule"},
        409: {"description": "replayed nonce"},
        503: {"description": "chain, database or access trail unavailable: nothing released"},
    },
)
async def release(body: DataRequestBody, service: ReleaseDep) -> Response:
    # async: the release service batches concurrent releases on its own threads, so the
    # endpoint only waits, without taking a thread of the pool per request
    result = await service.release_async(request_from_json(dict(body)))
    r = result.receipt
    receipt = ReceiptOut(
        log=r.log,
        index=r.index,
        leaf_hash="0x" + r.leaf_hash.hex(),
        block=r.block,
        response_hash="0x" + r.response_hash.hex(),
    )
    # `data` goes out as the very bytes the response hash covers (RFC 8785 JSON), not
    # re-encoded: a client can hash what it received, and nothing is encoded twice
    content = b'{"data":' + result.data_json + b',"receipt":' + receipt.model_dump_json().encode() + b"}"
    return Response(content, media_type="application/json")


@router.get(
    "/releases/{index}/proof",
    summary="Inclusion proof of a release's access-trail entry",
    description="For its institution, its subject enterprise, operators and auditors.",
    responses={409: {"description": "not anchored yet"}},
)
def release_proof(index: PositionPath, caller: CallerDep, accesses_service: AccessesDep) -> dict[str, Any]:
    return accesses_service.proof(caller.member, index)


@view_of(EntryNames)
class AccessNamesOut(ViewModel):
    """An access-trail entry's masks in words."""


class AccessOut(BaseModel):
    index: int
    entry: dict[str, Any] = Field(
        description="the access-trail entry: who, subject, categories, purpose, block B …"
    )
    proof: dict[str, Any] | None = Field(
        description="inclusion proof to an anchored checkpoint; null until anchored"
    )
    names: AccessNamesOut = Field(
        description="the entry's category, purpose and raw-category masks as catalogue names, for "
        "people to read; the entry keeps the masks, as logged and hashed"
    )


@router.get(
    "/accesses",
    response_model=list[AccessOut],
    summary="Who read my data: access-trail entries visible to the caller",
    description=(
        "An enterprise names its own USCC and sees every release of its data; an institution sees "
        "its own releases only; operators and auditors see all. Page with `after` (last index seen)."
    ),
)
def accesses(
    caller: CallerDep,
    accesses_service: AccessesDep,
    subject: str | None = None,
    after: Annotated[int, Query(ge=-1, le=INT64_MAX, description="last index seen; -1 for the first")] = -1,
    limit: Annotated[int, Query(ge=1, le=ACCESS_PAGE)] = 100,
) -> list[AccessOut]:
    found = accesses_service.visible_to(caller.member, subject=subject, after=after, limit=limit)
    return [
        AccessOut(index=a.index, entry=a.entry, proof=a.proof, names=AccessNamesOut.of(a.names))
        for a in found
    ]

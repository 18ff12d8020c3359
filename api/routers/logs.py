"""The Merkle logs: size and latest anchored checkpoint, consistency proofs, entry proofs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import BundlesDep, CallerDep, require_role
from api.records_schemas import CheckpointOut, ConsistencyOut, LogOut
from api.schemas import INT64_MAX, PositionPath
from ledger.chain.checkpoints import log_id
from ledger.chain.membership import Role

router = APIRouter(prefix="/logs", tags=["logs"])


@router.get("/{name}", response_model=LogOut, summary="A log's size and latest anchored checkpoint")
def log_info(name: str, _caller: CallerDep, bundles: BundlesDep) -> LogOut:
    proofs = bundles.proofs
    checkpoint = proofs.latest_checkpoint(name)
    return LogOut(
        name=name,
        log_id="0x" + log_id(name).hex(),
        size=proofs.size(name),
        latest_checkpoint=None if checkpoint is None else CheckpointOut.of(checkpoint),
    )


@router.get(
    "/{name}/consistency",
    response_model=ConsistencyOut,
    summary="RFC 9162 consistency proof between two sizes",
)
def consistency(
    name: str,
    first: Annotated[int, Query(ge=0, le=INT64_MAX)],
    second: Annotated[int, Query(ge=0, le=INT64_MAX)],
    _caller: CallerDep,
    bundles: BundlesDep,
) -> ConsistencyOut:
    first_root, second_root, proof = bundles.proofs.consistency(name, first, second)
    return ConsistencyOut(
        first=first,
        second=second,
        first_root="0x" + first_root.hex(),
        second_root="0x" + second_root.hex(),
        proof=["0x" + h.hex() for h in proof],
    )


@router.get(
    "/{name}/entries/{index}/proof",
    summary="An entry's leaf and inclusion proof to the latest anchored checkpoint (operators, auditors)",
    responses={409: {"description": "not anchored yet"}},
)
def entry_proof(name: str, index: PositionPath, caller: CallerDep, bundles: BundlesDep) -> dict[str, Any]:
    require_role(caller, Role.OPERATOR, Role.AUDITOR)
    return bundles.inclusion(name, index)

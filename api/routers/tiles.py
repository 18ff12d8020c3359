"""The logs as C2SP tlog-tiles, read-only: tiles, entry bundles and the anchored checkpoint.

Paths per log, under `/logs/{name}/`: `checkpoint`, `tile/<L>/<N>[.p/<W>]` and
`tile/entries/<N>[.p/<W>]` (`ledger.logs.tlog`). Tiles and the checkpoint are hashes
the chain already anchors (record leaves are salted commitments), so they are public: a
witness or a generic tiles client follows the log without a member's key. Entry
bundles are the leaves themselves (who asked for which subject's data, in the access
trail), so they keep the rule of `GET /audit/logs/{name}/entries`: auditors only.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Response

from api.deps import CallerDep, TlogDep, require_role
from ledger.chain.membership import Role
from ledger.logs.tlog import MAX_LEVEL, parse_tile

router = APIRouter(prefix="/logs", tags=["tiles"])

_BYTES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/octet-stream": {}}, "description": "the tile's bytes"}
}
_NOTE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/plain": {}}, "description": "the checkpoint note body"}
}
TilePath = Path(description="<N>[.p/<W>]: N in zero-padded groups of three digits (x001/234), W 1..255")


def _immutable(width_full: bool) -> dict[str, str]:
    # a full tile never changes; a partial one is replaced by a wider one as the log grows
    return {"Cache-Control": "public, max-age=31536000, immutable" if width_full else "no-cache"}


@router.get(
    "/{name}/checkpoint",
    response_class=Response,
    responses=_NOTE,
    summary="The latest checkpoint anchored on chain, as a C2SP tlog-checkpoint note body (public)",
)
def checkpoint(name: str, tlog: TlogDep) -> Response:
    return Response(
        tlog.checkpoint(name), media_type="text/plain; charset=utf-8", headers={"Cache-Control": "no-cache"}
    )


@router.get(
    "/{name}/tile/entries/{path:path}",
    response_class=Response,
    responses=_BYTES,
    summary="An entry bundle of 256 leaves, or the first W (auditors)",
)
def entry_bundle(name: str, caller: CallerDep, tlog: TlogDep, path: str = TilePath) -> Response:
    require_role(caller, Role.AUDITOR)
    request = parse_tile(path)
    body = tlog.entries(name, request)
    return Response(body, media_type="application/octet-stream", headers=_immutable(request.width == 256))


@router.get(
    "/{name}/tile/{level}/{path:path}",
    response_class=Response,
    responses=_BYTES,
    summary="A tile of 256 hashes at level L, or the first W of a partial one (public)",
)
def tile(
    name: str,
    tlog: TlogDep,
    level: int = Path(ge=0, le=MAX_LEVEL, description="tile level: hashes of nodes at height 8·L"),
    path: str = TilePath,
) -> Response:
    request = parse_tile(path)
    body = tlog.tile(name, level, request)
    return Response(body, media_type="application/octet-stream", headers=_immutable(request.width == 256))

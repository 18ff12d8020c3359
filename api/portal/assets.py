"""The portal's files, all served by the platform itself: no CDN, no font or script from elsewhere.

Vendored files come from the pinned npm package in `web/` (`npm ci --prefix web`, run by
`scripts/bootstrap`); the portal's own script and style live in `static/`. Only the files
named here are served, each with its media type.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter
from fastapi import Path as PathParam
from fastapi.responses import FileResponse

from ledger.errors import NotFound
from ledger.paths import WEB_MODULES

STATIC = Path(__file__).resolve().parent / "static"

#: the vendored files served under /portal/assets/ → where they are in web/node_modules
VENDORED: dict[str, Path] = {
    "htmx.min.js": WEB_MODULES / "htmx.org" / "dist" / "htmx.min.js",
    "ethers.umd.min.js": WEB_MODULES / "ethers" / "dist" / "ethers.umd.min.js",
    "axe.min.js": WEB_MODULES / "axe-core" / "axe.min.js",
    "swagger-ui-bundle.js": WEB_MODULES / "swagger-ui-dist" / "swagger-ui-bundle.js",
    "swagger-ui.css": WEB_MODULES / "swagger-ui-dist" / "swagger-ui.css",
    "swagger-favicon.png": WEB_MODULES / "swagger-ui-dist" / "favicon-32x32.png",
}
#: the portal's own files: every file of static/ (a role's pages add their script there)
OWN: dict[str, Path] = {p.name: p for p in sorted(STATIC.iterdir()) if p.suffix in (".js", ".css")}
FILES: dict[str, Path] = {**VENDORED, **OWN}
#: the portal's own scripts every page loads after portal.js (each registers its form hooks)
PAGE_SCRIPTS = [name for name in OWN if name.endswith(".js") and name != "portal.js"]

MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
}


def asset_url(name: str) -> str:
    if name not in FILES:
        raise KeyError(name)
    return f"/portal/assets/{name}"


router = APIRouter(include_in_schema=False)


@router.get("/portal/assets/{name}")
def asset(name: Annotated[str, PathParam(max_length=64)]) -> FileResponse:
    path = FILES.get(name)
    if path is None or not path.is_file():
        raise NotFound(f"no portal asset {name!r}" + ("" if path is None else " (run scripts/bootstrap)"))
    return FileResponse(
        path, media_type=MEDIA_TYPES[path.suffix], headers={"Cache-Control": "public, max-age=3600"}
    )

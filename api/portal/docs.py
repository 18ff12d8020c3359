"""`/docs`: Swagger UI from the platform's own files (swagger-ui-dist, pinned in `web/`).

FastAPI's default page loads Swagger UI from a CDN, which these machines cannot reach:
a blank page. ReDoc is not served (it would be a second copy of the same reference).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from api.portal.assets import asset_url

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="credit-ledger API",
        swagger_js_url=asset_url("swagger-ui-bundle.js"),
        swagger_css_url=asset_url("swagger-ui.css"),
        swagger_favicon_url=asset_url("swagger-favicon.png"),
        swagger_ui_parameters={"validatorUrl": None},
    )

"""The FastAPI application: routers over the services of one `Platform`.

The services are built once, at start-up (`ledger.wiring.Services`), put on the app
(`app.state.services`) and closed at shutdown; routes reach them through the typed
dependencies of `api.deps`, and the edge through `api.deps.services_of`.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import errors, openapi, portal
from api.edge import Edge
from api.routers import (
    acts,
    alerts,
    evaluations,
    financing,
    health,
    loans,
    members,
    releases,
    signing,
    tiles,
    watches,
)
from api.routers import audit as audit_router
from api.routers import records as records_router
from api.routers import selfservice as selfservice_router
from ledger import __version__
from ledger.platform import Platform
from ledger.wiring import Services

#: py_ecc (imported by the web3 stack) raises the interpreter's recursion limit to 100,000
#: at import; the C JSON parser then recurses into a deeply nested body until the C stack
#: overflows and the worker dies with a segfault. At this limit it fails cleanly (400).
RECURSION_LIMIT = 3000


def create_app(platform: Platform) -> FastAPI:
    sys.setrecursionlimit(RECURSION_LIMIT)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = Services.build(platform)
        app.state.services = services
        try:
            yield
        finally:
            services.close()

    app = FastAPI(
        lifespan=lifespan,
        docs_url=None,  # served by the portal from local files (api/portal/docs.py)
        redoc_url=None,
        title="credit-ledger",
        version=__version__,
        description=openapi.DESCRIPTION,
    )
    errors.install(app)
    app.add_middleware(Edge)
    openapi.install(app)
    app.include_router(releases.router)  # first: the hot path is matched before the others
    app.include_router(health.router)
    app.include_router(members.router)
    app.include_router(signing.router)
    app.include_router(acts.router)
    app.include_router(records_router.router)
    app.include_router(audit_router.router)
    app.include_router(selfservice_router.router)
    app.include_router(evaluations.router)
    app.include_router(watches.router)
    app.include_router(loans.router)
    app.include_router(alerts.router)
    app.include_router(financing.router)
    app.include_router(tiles.router)
    portal.install(app)
    return app

"""Readiness of the platform's two dependencies, for operators and load balancers."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import PlatformDep
from api.schemas import ChainHealth, DatabaseHealth, Health
from ledger.chain.deploy import verify_deployment
from ledger.errors import LedgerError

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="Chain and database readiness")
def healthz(platform: PlatformDep, response: Response) -> Health:
    """503 unless the chain answers with the deployed contracts and the database is migrated."""
    try:
        verify_deployment(platform.chain, platform.deployment)
        chain = ChainHealth(
            ready=True,
            chain_id=platform.deployment.chain_id,
            block=platform.chain.block_number(),
            contracts=platform.deployment.addresses.by_name(),
        )
    except LedgerError as exc:
        chain = ChainHealth(ready=False, error=exc.message)
    try:
        database = DatabaseHealth(ready=True, revision=platform.db.ping())
    except LedgerError as exc:
        database = DatabaseHealth(ready=False, error=exc.message)
    health = Health(ready=chain.ready and database.ready, chain=chain, database=database)
    if not health.ready:
        response.status_code = 503
    return health

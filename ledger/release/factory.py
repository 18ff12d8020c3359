"""Wiring of the release service for one platform.

The service owns two worker threads and a chain connection; `close` stops them.
"""

from __future__ import annotations

from ledger.chain.authorize_call import AuthorizeCaller
from ledger.platform import Platform
from ledger.records.service import RecordsService
from ledger.release.reader import RecordReader
from ledger.release.service import ReleaseService
from ledger.release.trail import AccessTrail


def release_service(platform: Platform) -> ReleaseService:
    return ReleaseService(
        platform,
        reader=RecordReader(RecordsService(platform)),
        trail=AccessTrail(platform.db),
        authorizer=AuthorizeCaller(platform.chain.rpc_url, platform.deployment.addresses["Consents"]),
        max_block_age_seconds=platform.settings.max_block_age_seconds,
        max_lifetime_seconds=platform.settings.request_max_lifetime_seconds,
    )

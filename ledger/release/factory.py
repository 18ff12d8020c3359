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
from ledger.services.chain_watch import WatchedAuthorizer


def release_service(platform: Platform) -> ReleaseService:
    """The service; with a watched platform, every decision's block is checked by the watch,
    whose thread runs as long as the service (`ledger.services.chain_watch`)."""
    consents = platform.deployment.addresses["Consents"]
    authorizer: AuthorizeCaller
    if platform.watch is None:
        authorizer = AuthorizeCaller(platform.chain.rpc_url, consents)
    else:
        platform.watch.start()
        authorizer = WatchedAuthorizer(platform.chain.rpc_url, consents, platform.watch)
    return ReleaseService(
        platform,
        reader=RecordReader(RecordsService(platform)),
        trail=AccessTrail(platform.db),
        authorizer=authorizer,
        max_block_age_seconds=platform.settings.max_block_age_seconds,
        max_lifetime_seconds=platform.settings.request_max_lifetime_seconds,
    )

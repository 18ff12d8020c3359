"""A platform on a devnet of its own, as `credit-ledger up` runs it, that the tests may kill.

The node seals a block every second besides mining each transaction, acts are answered
only once anvil's state on disk covers them, and the chain watch runs (it is started
with the API). The shared session node cannot serve: these tests SIGKILL theirs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from eth_account.signers.local import LocalAccount

from ledger.chain.client import ChainClient
from ledger.chain.compile import CompiledContract
from ledger.chain.deploy import Governance, deploy_all
from ledger.chain.finality import DevnetState
from ledger.devnet import Devnet, devnet_key
from ledger.platform import Platform, watched
from ledger.sdk import ApiError
from ledger.settings import Settings
from ledger.storage.database import Database
from tests.conftest import free_port
from tests.integration.test_release import World, world  # noqa: F401 (the fixture, over this platform)

T = TypeVar("T")

#: the watch polls this often here, so the tests wait little for it
WATCH_POLL_SECONDS = 0.1


@pytest.fixture
def durable_devnet(tmp_path: Path) -> Iterator[Devnet]:
    node = Devnet(tmp_path / "devnet", port=free_port(), block_time=1)
    node.start()
    yield node
    node.kill()


@pytest.fixture
def rpc_url(durable_devnet: Devnet) -> str:
    """Where the platform reaches the node (a test may put a proxy in between)."""
    return durable_devnet.url


@pytest.fixture
def platform(
    durable_devnet: Devnet,
    rpc_url: str,
    database: Database,
    operators: list[LocalAccount],
    artifacts: dict[str, CompiledContract],
    tmp_path: Path,
) -> Platform:
    chain = ChainClient.connect(
        rpc_url,
        devnet_key(0),
        artifacts=artifacts,
        finality=DevnetState(durable_devnet.state_file),
    )
    governance = Governance([o.address for o in operators], 2, 3600, chain.relayer.address)
    deployment = deploy_all(chain, governance)
    settings = Settings(
        data_dir=tmp_path,
        database_url=database.url,
        rpc_url=chain.rpc_url,
        chain_watch_poll_seconds=WATCH_POLL_SECONDS,
    )
    return watched(Platform(settings, database, chain, deployment))


def restart(devnet: Devnet) -> None:
    """SIGKILL the node, as a crash would, and start it again from what it left on disk."""
    devnet.kill()
    devnet.start()


def eventually(probe: Callable[[], T | None], timeout: float = 30.0, what: str = "condition") -> T:
    """The first non-None answer of `probe`, polled until `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None:
            return found
        assert time.monotonic() < deadline, f"{what} not reached within {timeout} s"
        time.sleep(0.05)


def release_answer(w: World, **kw: object) -> int | None:
    """The release's status once the chain is back and verified (None while refused with 503)."""
    try:
        w.release(**kw)
        return 200
    except ApiError as exc:
        return None if exc.status == 503 else exc.status

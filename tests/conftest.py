"""Shared fixtures: a real anvil node for the whole session, reverted after each test."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from hypothesis import settings

from ledger.chain.client import ChainClient
from ledger.chain.compile import CompiledContract, compile_contracts
from ledger.devnet import DEVNET_ACCOUNTS, Devnet, devnet_key

# Hypothesis's per-example deadline (200 ms) is a speed assertion, and speed is measured in
# bench/, not asserted: on a loaded 2-core machine a property test would fail for the time.
settings.register_profile("default-no-deadline", deadline=None)
settings.load_profile("default-no-deadline")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def artifacts() -> dict[str, CompiledContract]:
    return compile_contracts()


@pytest.fixture(scope="session")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    node = Devnet(tmp_path_factory.mktemp("devnet"), port=free_port())
    node.start()
    yield node
    node.stop()


@pytest.fixture(scope="session")
def dev_accounts() -> list[LocalAccount]:
    """The devnet's ten funded accounts (DEVNET ONLY keys); index 0 is the relayer."""
    return [Account.from_key(devnet_key(i)) for i in range(DEVNET_ACCOUNTS)]


@pytest.fixture
def chain(
    devnet: Devnet, artifacts: dict[str, CompiledContract], dev_accounts: list[LocalAccount]
) -> Iterator[ChainClient]:
    client = ChainClient.connect(devnet.url, devnet_key(0), artifacts=artifacts)
    snapshot = client.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    yield client
    client.w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]


@pytest.fixture
def mine(chain: ChainClient) -> Callable[[], None]:
    def _mine() -> None:
        chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    return _mine


@pytest.fixture
def advance_time(chain: ChainClient) -> Callable[[int], None]:
    """Mine one block exactly `seconds` after the latest.

    Pinned rather than `evm_increaseTime`, whose block also takes the wall-clock seconds
    that passed since the latest block: a boundary test (a grant valid in the block at its
    expiry, refused one second later) would fail whenever the clock ticked in between.
    """

    def _advance(seconds: int) -> None:
        latest = int(chain.w3.eth.get_block("latest")["timestamp"])
        chain.w3.provider.make_request("evm_setNextBlockTimestamp", [latest + seconds])  # type: ignore[arg-type]
        chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    return _advance


@pytest.fixture
def tmp_data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"

"""The local chain keeps what it promised: state across crashes, history, bounded disk."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account

from ledger.devnet import Devnet, DevnetError, _rpc, devnet_key, dir_size
from tests.conftest import free_port

DEAD = "0x000000000000000000000000000000000000dEaD"


def _send(node: Devnet, count: int) -> None:
    sender = Account.from_key(devnet_key(9)).address
    for _ in range(count):
        _rpc(node.url, "eth_sendTransaction", [{"from": sender, "to": DEAD, "value": "0x1"}])


def _block(node: Devnet) -> int:
    return int(str(_rpc(node.url, "eth_blockNumber")), 16)


def _balance(node: Devnet, block: int | str = "latest") -> int:
    tag = hex(block) if isinstance(block, int) else block
    return int(str(_rpc(node.url, "eth_getBalance", [DEAD, tag])), 16)


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Devnet]:
    devnet = Devnet(tmp_path / "chain", port=free_port(), max_persisted_states=32)
    yield devnet
    devnet.kill()


def test_state_survives_sigkill_losing_at_most_one_interval(node: Devnet) -> None:
    node.start()
    _send(node, 20)
    time.sleep(node.state_interval + 1.0)  # a full interval has passed: the dump must hold these
    durable_block, durable_balance = _block(node), _balance(node)
    _send(node, 5)  # may or may not be in the last dump
    node.kill()

    node.start()
    assert _block(node) >= durable_block
    assert _balance(node, durable_block) == durable_balance
    assert _balance(node) in {durable_balance + k for k in range(6)}


def test_clean_restart_keeps_everything_and_answers_past_blocks(node: Devnet) -> None:
    node.start()
    _send(node, 3)
    early_block, early_balance = _block(node), _balance(node)
    _send(node, 10)
    late_block, late_balance = _block(node), _balance(node)
    node.stop()
    assert node.status().running is False

    node.start()
    assert _block(node) == late_block
    assert _balance(node) == late_balance
    assert _balance(node, early_block) == early_balance  # eth_call-style read at a past block
    receipt_block = _rpc(node.url, "eth_getBlockByNumber", [hex(early_block), False])
    assert receipt_block is not None


def test_disk_use_is_bounded_and_inside_the_data_directory(node: Devnet) -> None:
    home_foundry = Path.home() / ".foundry" / "anvil" / "tmp"
    before = sorted(home_foundry.iterdir()) if home_foundry.exists() else []
    node.start()
    _send(node, 300)
    time.sleep(node.state_interval + 0.5)
    snapshots = list((node.data_dir / "cache").rglob("*.json"))
    assert len(snapshots) <= node.max_persisted_states
    # nothing in the real home directory, nothing in the redirected one
    after = sorted(home_foundry.iterdir()) if home_foundry.exists() else []
    assert after == before
    assert dir_size(node.data_dir / "home") == 0
    # restarts do not accumulate the previous runs' snapshots
    node.stop()
    first_run = dir_size(node.data_dir / "cache")
    node.start()
    node.stop()
    assert dir_size(node.data_dir / "cache") <= first_run
    assert len(list((node.data_dir / "cache").glob("anvil-state-*"))) <= 1


def test_the_log_does_not_grow_with_calls_but_keeps_a_fatal_error(node: Devnet, tmp_path: Path) -> None:
    node.start()
    _send(node, 20)
    call = {"to": DEAD, "data": "0x"}
    for _ in range(200):  # what the release path does once per release
        _rpc(node.url, "eth_call", [call, "latest"])
    assert node.log_file.stat().st_size == 0
    # an anvil that cannot start says why in the log that `start` names
    broken = Devnet(tmp_path / "broken", port=free_port(), max_persisted_states=-1)
    with pytest.raises(DevnetError, match="anvil exited with 2") as refused:
        broken.start()
    assert str(broken.log_file) in str(refused.value)
    assert "unexpected argument '-1'" in broken.log_file.read_text()


def test_a_port_already_taken_is_refused_before_anything_answers_in_our_place(
    node: Devnet, tmp_path: Path
) -> None:
    node.start()
    _send(node, 3)
    other = Devnet(tmp_path / "other", port=node.port)
    with pytest.raises(DevnetError, match=f"port {node.port} on 127.0.0.1 is already in use"):
        other.start()
    assert other.pid() is None and not other.pid_file.exists()
    # the running node is untouched, and its own restart finds the port free again
    assert _block(node) == 3
    node.stop()
    node.start()
    assert _block(node) == 3


def test_interval_mining_seals_blocks_and_still_mines_transactions_at_once(tmp_path: Path) -> None:
    node = Devnet(tmp_path / "interval", port=free_port(), block_time=1)
    assert node.command()[-3:] == ["--block-time", "1", "--mixed-mining"]
    assert "--block-time" not in Devnet(tmp_path / "plain").command()
    node.start()
    try:
        first = _block(node)
        time.sleep(2.5)
        sealed = _block(node)
        assert sealed >= first + 2  # empty blocks sealed on the interval
        sender = Account.from_key(devnet_key(9)).address
        tx = _rpc(node.url, "eth_sendTransaction", [{"from": sender, "to": DEAD, "value": "0x1"}])
        receipt = _rpc(node.url, "eth_getTransactionReceipt", [tx])  # asked at once: no interval wait
        assert isinstance(receipt, dict) and int(receipt["blockNumber"], 16) > sealed - 1
    finally:
        node.kill()


def test_a_torn_state_file_restarts_from_the_copy_secured_for_the_last_acknowledgement(node: Devnet) -> None:
    from ledger.chain.finality import DevnetState, state_file_block

    node.start()
    _send(node, 3)
    acked = _block(node)
    DevnetState(node.state_file).wait_durable(acked, b"", timeout=10)
    node.kill()
    whole = node.state_file.read_bytes()
    node.state_file.write_bytes(whole[: len(whole) // 2])  # killed in the middle of a rewrite
    node.start()
    assert _block(node) >= acked
    assert state_file_block(node.state_file.with_suffix(".acked.json")) == acked
    assert list(node.data_dir.glob("state.torn-*.json"))  # kept for inspection

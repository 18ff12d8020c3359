"""The finality rules and the chain watch's gate, without a node."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ledger.chain.errors import ChainUnavailable
from ledger.chain.finality import (
    Confirmations,
    DevnetState,
    Finalized,
    Inclusion,
    NotDurable,
    parse_finality,
    state_file_block,
)
from ledger.chain.journal import Watermark
from ledger.errors import InvalidInput
from ledger.services.chain_watch import ChainBehind, ChainWatch
from ledger.settings import Settings

HASH = b"\x11" * 32


def state(number: int) -> bytes:
    return ('{"block":{"number":"' + hex(number) + '","beneficiary":"0x0"},"accounts":{"0x1":{}}}').encode()


def test_the_block_a_state_file_covers_is_read_from_its_head(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    assert state_file_block(path) is None
    path.write_bytes(state(0x53))
    assert state_file_block(path) == 0x53
    path.write_bytes(b'{"accounts":')
    assert state_file_block(path) is None


def test_devnet_state_secures_only_a_complete_file_that_covers_the_block(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    rule = DevnetState(path)
    path.write_bytes(state(7)[:20])  # torn: anvil was mid-write
    with pytest.raises(NotDurable):
        rule.wait_durable(7, HASH, timeout=0.1)
    assert not rule.acked_file.exists()
    path.write_bytes(state(7))
    with pytest.raises(NotDurable, match="covers 7"):
        rule.wait_durable(8, HASH, timeout=0.1)
    rule.wait_durable(7, HASH, timeout=0.1)
    assert rule.acked_file.read_bytes() == state(7)


def test_chain_rules_wait_for_depth_and_refuse_a_replaced_block() -> None:
    chain = {"latest": (12, b"L" * 32), "finalized": (9, b"F" * 32), 10: (10, HASH)}
    rule = parse_finality("confirmations:2", state_file=None, block_at=chain.get)
    assert isinstance(rule, Confirmations)
    rule.wait_durable(10, HASH, timeout=1)
    with pytest.raises(ChainUnavailable, match="replaced"):
        rule.wait_durable(10, b"\x22" * 32, timeout=1)
    finalized = parse_finality("finalized", state_file=None, block_at=chain.get)
    assert isinstance(finalized, Finalized)
    with pytest.raises(NotDurable):
        finalized.wait_durable(10, HASH, timeout=0.1)
    started = time.monotonic()  # replaced while waiting: refused at once, not at the timeout
    with pytest.raises(ChainUnavailable, match="replaced"):
        finalized.wait_durable(10, b"\x22" * 32, timeout=10)
    assert time.monotonic() - started < 1


def test_a_chain_without_a_finalized_block_is_named_not_waited_on_in_silence() -> None:
    chain = {"latest": (12, b"L" * 32), 10: (10, HASH)}  # a Clique node: no `finalized` tag
    finalized = parse_finality("finalized", state_file=None, block_at=chain.get)
    with pytest.raises(NotDurable, match=r"answers no `finalized` block.*confirmations:N"):
        finalized.wait_durable(10, HASH, timeout=0.1)


def test_finality_settings() -> None:
    assert isinstance(parse_finality("inclusion", state_file=None, block_at=dict().get), Inclusion)
    for bad in ("devnet-state", "confirmations:0", "confirmations:x", "final"):
        with pytest.raises(InvalidInput):
            parse_finality(bad, state_file=None, block_at=dict().get)
    assert Settings().effective_finality == "devnet-state"
    assert Settings(rpc_url="http://127.0.0.1:1").effective_finality == "finalized"
    with pytest.raises(ValueError, match="inclusion"):
        Settings(
            environment="production",
            rpc_url="http://node:8545",
            relayer_key="0x" + "ab" * 32,
            finality="inclusion",
        )


class _Journal:
    def __init__(self, mark: Watermark | None) -> None:
        self.mark = mark
        self.db = None

    def watermark(self) -> Watermark | None:
        return self.mark

    def raise_watermark(self, mark: Watermark) -> None:
        if self.mark is None or mark.number > self.mark.number:
            self.mark = mark


class _Chain:
    def __init__(self, blocks: dict[int | str, tuple[int, bytes]]) -> None:
        self.blocks = blocks

    def block_at(self, block: int | str) -> tuple[int, bytes] | None:
        return self.blocks.get(block)

    def block_number(self) -> int:
        return max(n for n in self.blocks if isinstance(n, int))


class _NoLock:
    def acquire(self) -> bool:
        return False  # another process reconciles

    def release(self) -> None:
        return None


def watch_over(chain: _Chain, journal: _Journal, now: list[float]) -> ChainWatch:
    return ChainWatch(chain, journal, lock=_NoLock(), clock=lambda: now[0])  # type: ignore[arg-type]


def test_the_watch_refuses_until_verified_and_whenever_the_chain_is_behind() -> None:
    now = [100.0]
    chain = _Chain({5: (5, HASH), 6: (6, b"\x66" * 32)})
    journal = _Journal(Watermark(5, HASH))
    watch = watch_over(chain, journal, now)
    with pytest.raises(ChainBehind, match="not been verified"):
        watch.check(6)
    watch.poll()
    watch.check(6)  # verified; the decision block is remembered
    watch.poll()
    assert journal.mark == Watermark(6, b"\x66" * 32)  # written into the watermark by the poll
    with pytest.raises(ChainBehind, match="below block 6"):
        watch.check(5)  # a decision below the watermark: the chain came back behind
    now[0] += 10
    chain.blocks = {5: (5, b"\x99" * 32)}  # and diverged below it
    watch.poll()
    assert watch.behind is not None and "below block 6" in watch.behind
    with pytest.raises(ChainBehind):
        watch.refuse_if_behind()


def test_a_verification_goes_stale() -> None:
    now = [0.0]
    watch = watch_over(_Chain({1: (1, HASH)}), _Journal(None), now)
    watch.poll()
    watch.check(1)
    now[0] += watch.stale_after + 0.1
    with pytest.raises(ChainBehind, match="not verified"):
        watch.check(1)

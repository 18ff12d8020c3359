"""The e2e story on a chain that seals a block every second, as a permissioned network does.

`credit-ledger up` runs anvil with `--block-time 1` and without `--mixed-mining`
(`LEDGER_DEVNET_MIXED_MINING=false`): a transaction waits in the pool for the next sealed
block, so every act waits for its receipt and then for its block to be durable, the
anchoring worker's checkpoints likewise, and a release decides at whatever the latest
block is. The demo walks the whole story on it once, then the auditor exports the
platform's logs and verifies them against that chain. One platform, one story: the
instant-mining walk (twice) is `test_demo.py`.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.test_demo import demo, running_up, section
from tests.integration.test_platform_up import CLI, Up

BLOCK_SECONDS = 1


@pytest.fixture
def interval_platform(tmp_path: Path) -> Iterator[Up]:
    yield from running_up(
        tmp_path / "data",
        LEDGER_DEVNET_BLOCK_TIME_SECONDS=str(BLOCK_SECONDS),
        LEDGER_DEVNET_MIXED_MINING="false",
    )


def head(up: Up) -> tuple[int, int]:
    """(number, timestamp) of the platform's chain head, read from anvil directly."""
    url = f"http://127.0.0.1:{up.env['LEDGER_DEVNET_PORT']}"
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_getBlockByNumber", "params": ["latest", False]}
    block = httpx.post(url, json=body, timeout=5).json()["result"]
    return int(block["number"], 16), int(block["timestamp"], 16)


def cli(up: Up, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], env=up.env, capture_output=True, text=True, timeout=180)


def test_the_story_and_its_audit_on_one_second_blocks(interval_platform: Up, tmp_path: Path) -> None:
    first, first_time = head(interval_platform)
    time.sleep(2.5 * BLOCK_SECONDS)
    idle, idle_time = head(interval_platform)
    assert idle > first and idle_time > first_time  # blocks are sealed on the timer, with nothing sent

    began = time.monotonic()
    out = demo(interval_platform)
    elapsed = time.monotonic() - began
    last, _ = head(interval_platform)
    # one block a second, however many transactions the story sent: no block per transaction
    assert last - idle <= elapsed / BLOCK_SECONDS + 2
    transactions = set(re.findall(r"tx (0x[0-9a-f]{64})", out))
    assert len(transactions) >= 10

    assert section(out, "registers three enterprises").count("tx 0x") == 3
    assert "released MASKED (2 records)" in section(out, "masked release")
    assert re.search(r"receipt: access-trail #0, authorized at block B=\d+", out)
    assert "REFUSED (403): release refused at block" in section(out, "the guarantor")
    revoked = section(out, "revokes")
    assert revoked.count("revokes grant #") == 2 and "no_covering_grant" in revoked
    assert "checked here (RFC 9162)" in out.split("access-trail entry #0")[-1]

    # -- the auditor, after the story: every entry anchored and verified against this chain --
    export = tmp_path / "export.ndjson"
    exported = cli(interval_platform, "audit", "export", "--openings", "--out", str(export))
    assert exported.returncode == 0, exported.stdout + exported.stderr
    verified = cli(
        interval_platform, "audit", "verify", "--export", str(export), "--sample", "all", "--quiet"
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "CLEAN: no finding" in verified.stdout
    assert re.search(r"access-trail: \d+ entries, \d+ checkpoints, anchored \d+", verified.stdout)

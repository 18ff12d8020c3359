"""The story on a second, independent EVM client: two @ethereumjs/client nodes sealing Clique.

The API relays through node 0, the anchoring worker through node 1, and the auditor
replays against node 1: each process sees only its own node, so the story holds only if
the nodes agree. The client implements none of anvil's `anvil_*`/`evm_*` methods, so a
production path that needed one fails here. A network that does not come together
fails the test with the nodes' logs (never a skip).
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.devnet import DevnetError
from ledger.devnet_ethereumjs import EthereumjsNetwork
from tests.conftest import free_port
from tests.integration.test_demo import section
from tests.integration.test_platform_up import CLI, Up


@pytest.fixture
def network(tmp_path: Path) -> Iterator[EthereumjsNetwork]:
    net = EthereumjsNetwork(
        tmp_path / "chain", rpc_ports=[free_port(), free_port()], p2p_ports=[free_port(), free_port()]
    )
    try:
        net.start()
    except DevnetError as exc:
        pytest.fail(f"the two-node ethereumjs network did not start: {exc}")
    yield net
    net.stop()


def _cli(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run([CLI, *args], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _wait_anchored(env: dict[str, str], timeout: float = 60.0) -> str:
    """Until every log's checkpoint on chain (read through node 0) covers all its entries."""
    deadline = time.monotonic() + timeout
    while True:
        status = _cli(["anchor", "status"], env)
        counts = re.findall(r"(\d+) entries; recorded checkpoint \d+; on chain (\d+)", status)
        if counts and all(entries == on_chain for entries, on_chain in counts):
            return status
        assert time.monotonic() < deadline, f"the worker on node 1 did not anchor everything:\n{status}"
        time.sleep(0.5)


def test_the_story_runs_on_two_ethereumjs_nodes(network: EthereumjsNetwork, tmp_path: Path) -> None:
    up = Up(tmp_path / "data")
    up.env.update(network.platform_env(api_node=0))
    up.env["LEDGER_ANCHOR_IN_UP"] = "false"  # the worker runs on its own, on the other node
    up.env["LEDGER_ANCHOR_MAX_DELAY_SECONDS"] = "2"
    up.start(timeout=180)
    worker_env = {**up.env, **network.platform_env(api_node=1)}
    worker_log = tmp_path / "worker.log"
    with worker_log.open("w") as log:
        worker = subprocess.Popen(
            [CLI, "anchor", "run"], env=worker_env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        walk = subprocess.run([CLI, "demo", "--url", up.url], capture_output=True, text=True, timeout=600)
        out = walk.stdout
        assert walk.returncode == 0, out + walk.stderr
        assert "released MASKED (2 records)" in section(out, "masked release")
        assert "released RAW (1 record)" in section(out, "raw data")
        assert "no_covering_grant" in section(out, "the guarantor")
        assert "(replayed=True)" in section(out, "贷款报送")
        assert "checked here (RFC 9162)" in out.split("access-trail entry #0")[-1]
        status = _wait_anchored(up.env)
        assert "access-trail: 0 entries" not in status
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        up.stop()
    worked = worker_log.read_text()
    assert re.search(r"log access-trail: anchored \d+ -> \d+ in block \d+", worked), worked

    export = tmp_path / "export.ndjson"
    _cli(["audit", "export", "--openings", "--out", str(export)], up.env)
    node_1 = network.nodes[1].url
    verified = _cli(
        ["audit", "verify", "--export", str(export), "--rpc-url", node_1, "--sample", "all", "--quiet"],
        up.env,
    )
    assert "CLEAN" in verified, verified
    assert re.search(r"releases: [1-9]\d* replayed locally, [1-9]\d* also confirmed on chain", verified)

    # one chain, not two: both nodes hold the same block at a height past the whole story
    heads = [int(network.status()[i].block_number or 0) for i in (0, 1)]
    hashes = {network.block_hash(node.url, min(heads) - 2) for node in network.nodes}
    assert len(hashes) == 1, hashes

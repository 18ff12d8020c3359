"""The ethereumjs network's shape: genesis, keys, ports and the settings it hands the platform."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account import Account

from ledger.devnet import DevnetError, devnet_key
from ledger.devnet_ethereumjs import CLIQUE_PERIOD_SECONDS, EthereumjsNetwork


def _network(tmp_path: Path, nodes: int = 2, launcher: Path | None = None) -> EthereumjsNetwork:
    fake = launcher or tmp_path / "client" / "node.mjs"
    (fake.parent / "node_modules").mkdir(parents=True, exist_ok=True)
    net = EthereumjsNetwork.consecutive(
        tmp_path / "net", nodes, rpc_port=18545, p2p_port=30400, chain_id=4242
    )
    net.launcher = fake
    return net


def test_genesis_names_one_clique_signer_per_node_and_funds_the_devnet_accounts(tmp_path: Path) -> None:
    net = _network(tmp_path, nodes=3)
    genesis = net.genesis()
    config = genesis["config"]
    assert isinstance(config, dict)
    assert config["chainId"] == 4242 and config["londonBlock"] == 0
    assert config["clique"]["period"] == CLIQUE_PERIOD_SECONDS
    extra = bytes.fromhex(str(genesis["extraData"]).removeprefix("0x"))
    assert len(extra) == 32 + 3 * 20 + 65
    signers = [extra[32 + 20 * i : 52 + 20 * i].hex() for i in range(3)]
    assert signers == sorted(n.signer.lower().removeprefix("0x") for n in net.nodes)
    funded = genesis["alloc"]
    assert isinstance(funded, dict) and Account.from_key(devnet_key(0)).address in funded
    assert len(funded) == 10


def test_each_node_has_its_ports_identity_and_the_others_as_bootnodes(tmp_path: Path) -> None:
    net = _network(tmp_path)
    assert net.urls == ["http://127.0.0.1:18545", "http://127.0.0.1:18546"]
    first, second = net.nodes
    assert (
        first.enode.endswith("@127.0.0.1:30400") and len(first.enode.split("@")[0]) == len("enode://") + 128
    )
    command = net.command(second)
    assert command[command.index("--bootnodes") + 1] == first.enode
    assert command[command.index("--rpcAddr") + 1] == "127.0.0.1"
    assert first.signer != second.signer


def test_the_platform_runs_on_a_node_with_a_rule_clique_can_satisfy(tmp_path: Path) -> None:
    env = _network(tmp_path).platform_env(api_node=1)
    assert env["LEDGER_RPC_URL"] == "http://127.0.0.1:18546"
    assert env["LEDGER_POA"] == "true" and env["LEDGER_CHAIN_ID"] == "4242"
    assert env["LEDGER_FINALITY"].startswith("confirmations:")  # Clique has no finalized block
    assert env["LEDGER_PRIORITY_FEE_WEI"] == "0"


def test_a_data_directory_of_another_network_is_refused(tmp_path: Path) -> None:
    _network(tmp_path, nodes=3)._prepare()
    with pytest.raises(DevnetError, match="another shape"):
        _network(tmp_path, nodes=2)._prepare()


def test_a_missing_client_is_a_clear_error(tmp_path: Path) -> None:
    net = EthereumjsNetwork.consecutive(tmp_path / "net", 2, rpc_port=18545, p2p_port=30400)
    net.launcher = tmp_path / "nowhere" / "node.mjs"
    with pytest.raises(DevnetError, match="@ethereumjs/client is not installed"):
        net.start()

"""A second, independent EVM client: several @ethereumjs/client nodes sealing Clique on 127.0.0.1.

anvil is one implementation, and a development one; the platform must hold on a chain
of several nodes that seal blocks on their own clock and answer only standard JSON-RPC.
No geth, Besu or Quorum can be installed from the registries this project reaches; the
npm registry carries `@ethereumjs/client`, pinned in `hardhat-free-devnet/ethereumjs/`
and started through its launcher there (`node.mjs`, which says what it changes and why).

What the network is, and what shaped it (measured; see the README):
- a geth-format genesis: London rules from block 0 (Clique is a pre-Merge engine; the
  launcher adds the Cancun opcodes the contracts use), a block every
  `CLIQUE_PERIOD_SECONDS`, one Clique signer per node (keys from the devnet mnemonic at
  `SIGNER_KEY_BASE + i`: DEVNET ONLY), devnet accounts 0-9 funded as on anvil;
- start order: a signer that seals before its peers are connected builds a chain of its
  own that never merges back. So each node's miner waits until it has every other node
  as a peer (the launcher's `SEAL_AFTER_PEERS`), and block 1, which every signer may
  seal, is node 0's alone (the others wait for it: `SEAL_AFTER_HEIGHT`; two nodes that
  both sealed it deadlocked in 1 start of 4). The nodes' identities are fixed keys
  (`NODE_KEY_BASE`, DEVNET ONLY), so every enode is known beforehand. Node 0 starts
  first; once it answers (and so listens), the others start, booting from it over
  discv4. Started all at once, a node dialled before its peer listened and retried only
  after discovery's 30 s; joining them with `admin_addPeer` then left a node with two
  connections to one peer, and a sealed block sent down the dead one never arrived: both
  nodes stalled (measured, 1 start in 9);
- ready: every node sees the others and all agree on the block at a height every signer
  has sealed at (with Clique's rule, a signer cannot seal twice in a row);
- durability: Clique has no `finalized` block (the client answers null for the tag), so
  the platform runs with `LEDGER_FINALITY=confirmations:N` here (`platform_env`).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from eth_account import Account
from eth_keys.datatypes import PrivateKey

from ledger.devnet import (
    DEVNET_ACCOUNTS,
    DevnetError,
    DevnetStatus,
    _rpc,
    devnet_key,
    dir_size,
    ensure_port_free,
    running_pid,
    stop_process,
)
from ledger.paths import ETHEREUMJS_NODE

__all__ = ["CLIQUE_PERIOD_SECONDS", "EthereumjsNetwork", "EthereumjsNode"]

CLIQUE_PERIOD_SECONDS = 1
#: devnet mnemonic index of node i's Clique signer key (DEVNET ONLY), clear of accounts 0-9
SIGNER_KEY_BASE = 100
#: devnet mnemonic index of node i's peer-to-peer identity key (DEVNET ONLY)
NODE_KEY_BASE = 200
#: the durability rule the platform uses on this network (no `finalized` tag under Clique)
FINALITY = "confirmations:1"
#: the tip relayed transactions offer: the client lacks `eth_maxPriorityFeePerGas`
PRIORITY_FEE_WEI = 0
_POLL_SECONDS = 0.2
_LOG_TAIL_BYTES = 2_000


@dataclass(frozen=True)
class EthereumjsNode:
    """One node's ports and files; its chain data lives in `data_dir`."""

    index: int
    data_dir: Path
    rpc_port: int
    p2p_port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rpc_port}"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "node.pid"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "node.log"

    @property
    def key_file(self) -> Path:
        return self.data_dir / "signer.key"

    @property
    def node_key(self) -> str:
        return devnet_key(NODE_KEY_BASE + self.index).removeprefix("0x")

    @property
    def enode(self) -> str:
        public = PrivateKey(bytes.fromhex(self.node_key)).public_key.to_bytes().hex()
        return f"enode://{public}@127.0.0.1:{self.p2p_port}"

    @property
    def signer(self) -> str:
        return str(Account.from_key(devnet_key(SIGNER_KEY_BASE + self.index)).address)

    def pid(self) -> int | None:
        return running_pid(self.pid_file, ETHEREUMJS_NODE.name.encode())

    def log_tail(self) -> str:
        try:
            return self.log_file.read_bytes()[-_LOG_TAIL_BYTES:].decode(errors="replace")
        except FileNotFoundError:
            return "(no log)"


class EthereumjsNetwork:
    """`nodes` ethereumjs processes, each a Clique signer, whose whole footprint is `data_dir`."""

    def __init__(
        self,
        data_dir: Path,
        *,
        rpc_ports: Sequence[int],
        p2p_ports: Sequence[int],
        chain_id: int = 31337,
        launcher: Path = ETHEREUMJS_NODE,
    ) -> None:
        if len(rpc_ports) != len(p2p_ports) or not rpc_ports:
            raise DevnetError("one RPC port and one peer-to-peer port per node")
        self.data_dir = data_dir
        self.chain_id = chain_id
        self.launcher = launcher
        self.nodes = [
            EthereumjsNode(i, data_dir / f"node-{i}", rpc, p2p)
            for i, (rpc, p2p) in enumerate(zip(rpc_ports, p2p_ports, strict=True))
        ]

    @classmethod
    def consecutive(
        cls, data_dir: Path, nodes: int, *, rpc_port: int, p2p_port: int, chain_id: int = 31337
    ) -> EthereumjsNetwork:
        """Node i answers JSON-RPC on `rpc_port + i` and peers on `p2p_port + i`."""
        if nodes < 1:
            raise DevnetError("a network needs at least one node")
        return cls(
            data_dir,
            rpc_ports=[rpc_port + i for i in range(nodes)],
            p2p_ports=[p2p_port + i for i in range(nodes)],
            chain_id=chain_id,
        )

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    @property
    def genesis_file(self) -> Path:
        return self.data_dir / "genesis.json"

    def genesis(self) -> dict[str, object]:
        """The geth-format genesis: London at block 0, Clique with one signer per node."""
        signers = "".join(sorted(n.signer.lower().removeprefix("0x") for n in self.nodes))
        forks = "homestead eip150 eip155 eip158 byzantium constantinople petersburg istanbul berlin london"
        funded = {
            Account.from_key(devnet_key(i)).address: {"balance": hex(10**24)} for i in range(DEVNET_ACCOUNTS)
        }
        return {
            "config": {
                "chainId": self.chain_id,
                **{f"{fork}Block": 0 for fork in forks.split()},
                "clique": {"period": CLIQUE_PERIOD_SECONDS, "epoch": 30_000},
            },
            "nonce": "0x0",
            "timestamp": "0x0",
            # Clique's extra data: 32 vanity bytes, the signers, a 65-byte empty seal
            "extraData": "0x" + "00" * 32 + signers + "00" * 65,
            "gasLimit": hex(30_000_000),
            "difficulty": "0x1",
            "baseFeePerGas": hex(10**9),
            "mixHash": "0x" + "00" * 32,
            "coinbase": "0x" + "00" * 20,
            "number": "0x0",
            "gasUsed": "0x0",
            "parentHash": "0x" + "00" * 32,
            "alloc": funded,
        }

    def platform_env(self, api_node: int = 0) -> dict[str, str]:
        """What `credit-ledger up` (or a worker) needs to run on node `api_node`."""
        operators = [Account.from_key(devnet_key(i)).address for i in (1, 2, 3)]  # DEVNET ONLY
        return {
            "LEDGER_RPC_URL": self.nodes[api_node].url,
            "LEDGER_POA": "true",
            "LEDGER_CHAIN_ID": str(self.chain_id),
            "LEDGER_FINALITY": FINALITY,
            "LEDGER_PRIORITY_FEE_WEI": str(PRIORITY_FEE_WEI),  # the client has no fee suggestion
            "LEDGER_OPERATORS": json.dumps(operators),
        }

    def command(self, node: EthereumjsNode) -> list[str]:
        others = [other.enode for other in self.nodes if other is not node]
        boot = ["--bootnodes", ",".join(others)] if others else []
        return [
            _node_binary(),
            str(self.launcher),
            "--gethGenesis", str(self.genesis_file),
            "--dataDir", str(node.data_dir / "chain"),
            "--port", str(node.p2p_port),
            "--extIP", "127.0.0.1",
            "--rpc", "--rpcAddr", "127.0.0.1", "--rpcPort", str(node.rpc_port),
            "--mine", "--unlock", str(node.key_file),
            "--discDns", "false", "--discV4", "true",
            "--logLevel", "info", "--no-logFile",
            *boot,
        ]  # fmt: skip

    def _prepare(self) -> None:
        """Write the genesis and signer keys; refuse a data directory of another network."""
        if not (self.launcher.parent / "node_modules").exists():
            raise DevnetError(
                f"@ethereumjs/client is not installed in {self.launcher.parent}: run "
                f"`npm ci --prefix {self.launcher.parent}` (scripts/bootstrap does)"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        wanted = json.dumps(self.genesis(), indent=1)
        if self.genesis_file.exists() and self.genesis_file.read_text() != wanted:
            raise DevnetError(
                f"{self.data_dir} holds a network of another shape (signers, chain id): "
                "remove it or choose another data directory"
            )
        self.genesis_file.write_text(wanted)
        for node in self.nodes:
            node.data_dir.mkdir(exist_ok=True)
            node.key_file.write_text(devnet_key(SIGNER_KEY_BASE + node.index).removeprefix("0x"))

    def start(self, timeout: float = 180.0) -> None:
        """Start node 0, then the others, and wait until the nodes are peered and agree on
        a block every signer sealed at. No-op if the whole network runs already."""
        if all(node.pid() is not None for node in self.nodes):
            return
        self.stop()  # a partial network from an interrupted start: begin again cleanly
        self._prepare()
        for node in self.nodes:
            ensure_port_free(node.rpc_port, "LEDGER_DEVNET_PORT")
            ensure_port_free(node.p2p_port, "LEDGER_DEVNET_P2P_PORT")
        try:
            deadline = time.monotonic() + timeout
            processes = [self._spawn(self.nodes[0])]
            self._wait_answering(self.nodes[0], processes, deadline)
            processes += [self._spawn(node) for node in self.nodes[1:]]
            self._wait_agreeing(processes, deadline)
        except BaseException:
            self.stop()
            raise

    def _spawn(self, node: EthereumjsNode) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "SEAL_AFTER_PEERS": str(len(self.nodes) - 1),
            "SEAL_AFTER_HEIGHT": "0" if node.index == 0 else "1",  # block 1: node 0's alone
            "NODE_KEY": node.node_key,
            "NO_COLOR": "1",
        }
        with node.log_file.open("ab") as log:
            process = subprocess.Popen(
                self.command(node), stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, env=env, start_new_session=True, cwd=node.data_dir,
            )  # fmt: skip
        node.pid_file.write_text(str(process.pid))
        return process

    def _wait_answering(
        self, node: EthereumjsNode, processes: list[subprocess.Popen[bytes]], deadline: float
    ) -> None:
        while True:
            self._check_alive(processes)
            try:
                _rpc(node.url, "eth_chainId")
                return
            except (httpx.HTTPError, DevnetError):
                if time.monotonic() > deadline:
                    raise DevnetError(
                        f"ethereumjs node {node.index} did not answer:\n{node.log_tail()}"
                    ) from None
                time.sleep(_POLL_SECONDS)

    def _wait_agreeing(self, processes: list[subprocess.Popen[bytes]], deadline: float) -> None:
        others = len(self.nodes) - 1
        seen = "no answer yet"
        while True:
            self._check_alive(processes)
            try:
                peers = [int(str(_rpc(url, "net_peerCount")), 16) for url in self.urls]
                heads = [int(str(_rpc(url, "eth_blockNumber")), 16) for url in self.urls]
                height = min(heads)
                hashes = {self.block_hash(url, height) for url in self.urls}
                seen = f"peers {peers}, heads {heads}, {len(hashes)} distinct block(s) at {height}"
                if min(peers) >= others and height >= len(self.nodes) and len(hashes) == 1:
                    return
            except (httpx.HTTPError, DevnetError):
                pass
            if time.monotonic() > deadline:
                logs = "\n".join(f"--- node {n.index} ({n.log_file}):\n{n.log_tail()}" for n in self.nodes)
                raise DevnetError(f"the ethereumjs network did not come together ({seen}):\n{logs}")
            time.sleep(_POLL_SECONDS)

    def _check_alive(self, processes: list[subprocess.Popen[bytes]]) -> None:
        for node, process in zip(self.nodes, processes, strict=False):
            if process.poll() is not None:
                raise DevnetError(
                    f"ethereumjs node {node.index} exited with {process.returncode}:\n{node.log_tail()}"
                )

    @staticmethod
    def block_hash(url: str, number: int) -> str | None:
        """The hash of block `number` on the node at `url`, None if it has none there."""
        block = _rpc(url, "eth_getBlockByNumber", [hex(number), False])
        return None if block is None else str(block["hash"])  # type: ignore[index]

    def stop(self, timeout: float = 30.0) -> None:
        """Stop every node (SIGTERM: the client closes its databases), all at once."""
        running = [(node, pid) for node in self.nodes if (pid := node.pid()) is not None]
        for _, pid in running:
            os.kill(pid, signal.SIGTERM)
        for node, pid in running:
            stop_process(pid, f"ethereumjs node {node.index}", timeout)
        for node in self.nodes:
            node.pid_file.unlink(missing_ok=True)

    def status(self) -> list[DevnetStatus]:
        found = []
        for node in self.nodes:
            pid = node.pid()
            block = chain_id = None
            if pid is not None:
                try:
                    block = int(str(_rpc(node.url, "eth_blockNumber")), 16)
                    chain_id = int(str(_rpc(node.url, "eth_chainId")), 16)
                except (httpx.HTTPError, DevnetError):
                    pass
            found.append(
                DevnetStatus(pid is not None, pid, node.url, block, chain_id, dir_size(node.data_dir))
            )
        return found


def _node_binary() -> str:
    found = shutil.which("node")
    if found is None:
        raise DevnetError("Node.js (`node`) is not on PATH: the ethereumjs client runs on it")
    return found

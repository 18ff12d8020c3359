"""The local chain: an anvil node from the npm registry, its state kept on disk.

Measured behaviour of anvil that shapes the flags below (see the toolchain notes):
- state is written on a clean exit, and after a SIGKILL only if `--state-interval` is
  set; with an interval of 1 s at most one second of blocks can be lost;
- calls at past blocks after a reload need `--preserve-historical-states`;
- anvil writes per-block state snapshots under `~/.foundry/anvil/tmp` and never deletes
  them; `--cache-path` moves them into our data directory, `--max-persisted-states`
  bounds their number, and each start clears the previous run's. HOME is pointed into
  the data directory too, so nothing anvil writes can land outside it;
- after a restart, anvil answers calls at the recent blocks whose states it preserved
  (measured: about the last 70 blocks) and serves every block, receipt and event of the
  whole history. Keeping every historical state in memory and dumping it each second
  stalls the node, so older authorization decisions are replayed from contract events
  (the auditor's verifier) rather than by `eth_call` at old blocks;
- anvil mines only on transactions unless given `--block-time N`; with
  `--mixed-mining` too, transactions are still mined at once and an empty block is
  sealed every N seconds, so the latest block stays as fresh as a real permissioned
  network's (`credit-ledger up`: `LEDGER_DEVNET_BLOCK_TIME_SECONDS`, 2 by default). The
  shared test node runs without it: contract tests pin block timestamps. Without
  `--mixed-mining` (`LEDGER_DEVNET_MIXED_MINING=false`) the node behaves as a real
  network does: a transaction waits in the pool for the next sealed block, several share
  one, and every act waits up to N seconds for its receipt.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from eth_account import Account

from ledger.chain.finality import acked_copy, complete_state_block
from ledger.errors import LedgerError
from ledger.paths import ANVIL_BINARY

# DEVNET ONLY: anvil's well-known public test mnemonic. Its keys guard nothing of value
# and must never be used on any other chain.
DEVNET_MNEMONIC = "test test test test test test test test test test test junk"
DEVNET_ACCOUNTS = 10


def devnet_key(index: int) -> str:
    """Private key of devnet account `index` (DEVNET ONLY; publicly known)."""
    Account.enable_unaudited_hdwallet_features()
    account = Account.from_mnemonic(DEVNET_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
    return "0x" + bytes(account.key).hex()


class DevnetError(LedgerError):
    """The local chain could not be started, stopped or read."""

    code = "devnet_error"


@dataclass(frozen=True)
class DevnetStatus:
    running: bool
    pid: int | None
    url: str
    block_number: int | None
    chain_id: int | None
    disk_bytes: int


def _rpc(url: str, method: str, params: list[object] | None = None, timeout: float = 2.0) -> object:
    response = httpx.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}, timeout=timeout
    )
    response.raise_for_status()
    body = response.json()
    if "error" in body:
        raise DevnetError(f"{method}: {body['error']}")
    return body["result"]


def _complete_block(path: Path) -> int | None:
    """The block a state file covers if it parses as a whole, else None (torn or absent)."""
    try:
        return complete_state_block(path.read_bytes())
    except FileNotFoundError:
        return None


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


class Devnet:
    """One anvil process bound to 127.0.0.1 whose whole footprint lives in `data_dir`."""

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int = 8545,
        chain_id: int = 31337,
        state_interval: int = 1,
        max_persisted_states: int = 256,
        block_time: int | None = None,
        mixed_mining: bool = True,
        binary: Path = ANVIL_BINARY,
    ) -> None:
        self.data_dir = data_dir
        self.port = port
        self.chain_id = chain_id
        self.state_interval = state_interval
        self.max_persisted_states = max_persisted_states
        self.block_time = block_time
        self.mixed_mining = mixed_mining
        self.binary = binary

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def state_file(self) -> Path:
        return self.data_dir / "state.json"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "anvil.pid"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "anvil.log"

    def command(self) -> list[str]:
        """anvil's command line: state on disk, snapshots bounded, and `--quiet`.

        Why quiet: anvil logs a line for every JSON-RPC call, and the release path makes
        one `eth_call` per release, so its log grew with every release (measured: 3,072
        lines for 3,000 calls) and the data directory with it, without bound. A quiet
        anvil still writes the error it stops on (say, "Address already in use"), which
        is all `start` points to; its call latency was the same either way.
        """
        interval = ["--block-time", str(self.block_time)] if self.block_time else []
        if self.block_time and self.mixed_mining:
            interval.append("--mixed-mining")
        return [
            str(self.binary),
            "--quiet",
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--chain-id", str(self.chain_id),
            "--mnemonic", DEVNET_MNEMONIC,
            "--accounts", str(DEVNET_ACCOUNTS),
            "--state", str(self.state_file),
            "--state-interval", str(self.state_interval),
            "--preserve-historical-states",
            "--cache-path", str(self.data_dir / "cache"),
            "--max-persisted-states", str(self.max_persisted_states),
            *interval,
        ]  # fmt: skip

    def pid(self) -> int | None:
        """Pid of our running anvil, or None (a stale pid file is ignored)."""
        return running_pid(self.pid_file, b"anvil")

    def _check_state_file(self) -> None:
        """Start from the most advanced complete state on disk; keep copies of the others.

        anvil rewrites the whole file every interval; a kill in the middle of a write
        must not cost the chain. Candidates: `state.json` itself, the copy the finality
        rule secured for the last acknowledged act (`state.acked.json`, see
        `ledger.chain.finality`), and the copy taken at the previous start. The one
        covering the highest block wins; a torn file is kept for inspection.
        """
        backup = self.state_file.with_suffix(".good.json")
        acked = acked_copy(self.state_file)
        current = _complete_block(self.state_file)
        if self.state_file.exists() and current is None:
            self.state_file.replace(self.state_file.with_suffix(f".torn-{int(time.time())}.json"))
        candidates = [(b, f) for f in (acked, backup) if (b := _complete_block(f)) is not None]
        best = max(candidates, default=None, key=lambda c: c[0])
        if best is not None and (current is None or best[0] > current):
            shutil.copyfile(best[1], self.state_file)
        if self.state_file.exists():
            shutil.copyfile(self.state_file, backup)

    def durable_state_file(self) -> Path:
        """The complete state file covering the most blocks: what a restart would resume from."""
        candidates = [
            (b, f)
            for f in (self.state_file, acked_copy(self.state_file))
            if (b := _complete_block(f)) is not None
        ]
        if not candidates:
            raise DevnetError(f"the devnet has written no complete state under {self.data_dir} yet")
        return max(candidates, key=lambda c: c[0])[1]

    def start(self, timeout: float = 30.0) -> None:
        """Start anvil in the background (no-op if already running) and wait until it answers."""
        if self.pid() is not None:
            return
        if not self.binary.exists():
            raise DevnetError(
                f"anvil binary not found at {self.binary}: run `npm ci --prefix hardhat-free-devnet`"
            )
        ensure_port_free(self.port, "LEDGER_DEVNET_PORT")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "home").mkdir(exist_ok=True)
        self._check_state_file()
        # Snapshots of a previous run are useless to the next one (the durable state is
        # state.json) and anvil never deletes them: clear them so restarts cannot leak.
        shutil.rmtree(self.data_dir / "cache", ignore_errors=True)
        env = {**os.environ, "HOME": str(self.data_dir / "home"), "NO_COLOR": "1"}
        with self.log_file.open("ab") as log:
            process = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=env, start_new_session=True,
            )  # fmt: skip
        self.pid_file.write_text(str(process.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise DevnetError(f"anvil exited with {process.returncode}; see {self.log_file}")
            try:
                _rpc(self.url, "eth_chainId")
            except (httpx.HTTPError, DevnetError):
                time.sleep(0.05)
                continue
            if process.poll() is None:  # the answer was ours, not from something that took the port since
                return
        raise DevnetError(f"anvil did not answer on {self.url} within {timeout} s")

    def stop(self, timeout: float = 30.0) -> None:
        """Stop anvil cleanly (SIGTERM), which makes it write its state file."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return
        stop_process(pid, "anvil", timeout)
        self.pid_file.unlink(missing_ok=True)

    def kill(self) -> None:
        """SIGKILL, as a crash would: used by the fault tests."""
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            while True:
                _reap(pid)
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.02)
        self.pid_file.unlink(missing_ok=True)

    def status(self) -> DevnetStatus:
        pid = self.pid()
        block = chain_id = None
        if pid is not None:
            try:
                block = int(str(_rpc(self.url, "eth_blockNumber")), 16)
                chain_id = int(str(_rpc(self.url, "eth_chainId")), 16)
            except (httpx.HTTPError, DevnetError):
                pass
        return DevnetStatus(pid is not None, pid, self.url, block, chain_id, dir_size(self.data_dir))


def running_pid(pid_file: Path, program: bytes) -> int | None:
    """The pid in `pid_file` if that process runs and is `program`, else None.

    A stale file is ignored, and so is a pid the system gave to another program since.
    """
    try:
        pid = int(pid_file.read_text())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists() and program not in cmdline.read_bytes():
        return None  # the pid was reused by another program
    return pid


def ensure_port_free(port: int, setting: str) -> None:
    """Refuse to start when something already listens on the port.

    Why before starting: the node would stop at once, but whatever holds the port (a
    node of another project, say) answers the readiness check in its place, and the
    platform would deploy to, and trust, a chain that is not ours. SO_REUSEADDR as
    the node binds: connections of a previous run lingering in TIME_WAIT do not count.
    """
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise DevnetError(
                f"port {port} on 127.0.0.1 is already in use: stop what listens there "
                f"or choose another port ({setting})"
            ) from None


def stop_process(pid: int, name: str, timeout: float) -> None:
    """SIGTERM `pid` and wait until it is gone (reaped if it is our child)."""
    with contextlib.suppress(ProcessLookupError):  # gone already
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        _reap(pid)
        time.sleep(0.05)
    raise DevnetError(f"{name} (pid {pid}) did not stop within {timeout} s")


def _reap(pid: int) -> None:
    """Collect the exit status if anvil is our child, so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)

"""The README's first command, end to end: `credit-ledger up` on a fresh data directory."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from eth_account import Account

from ledger.chain.membership import Action, InstitutionKind, Role
from ledger.devnet import devnet_key
from ledger.paths import PROJECT_ROOT
from ledger.sdk import LedgerClient
from tests.conftest import free_port

CLI = str(Path(sys.executable).with_name("credit-ledger"))
#: where `up` finds the contracts compiled; without it `up` compiles them first (155 s seen at load 25)
COMPILE_CACHE = PROJECT_ROOT / "build" / "contracts.json"
READY_SECONDS = 120.0
READY_SECONDS_WITH_COMPILE = 600.0


def ready_timeout() -> float:
    """How long `up` may take to be ready: longer when it must compile the contracts first."""
    return READY_SECONDS if COMPILE_CACHE.exists() else READY_SECONDS_WITH_COMPILE


class Up:
    """One `credit-ledger up` process with its own data directory and ports."""

    def __init__(self, data_dir: Path) -> None:
        self.api_port = free_port()
        self.env = {
            **os.environ,
            "LEDGER_DATA_DIR": str(data_dir),
            "LEDGER_DEVNET_PORT": str(free_port()),
            "LEDGER_API_PORT": str(self.api_port),
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def start(self, timeout: float | None = None) -> float:
        """Start and wait for a ready /healthz (at most `timeout`, by default `ready_timeout()`);
        returns the seconds it took."""
        timeout = ready_timeout() if timeout is None else timeout
        began = time.monotonic()
        self.process = subprocess.Popen(
            [CLI, "up"], env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        while time.monotonic() - began < timeout:
            if self.process.poll() is not None:
                out = self.process.stdout.read().decode() if self.process.stdout else ""
                raise AssertionError(f"credit-ledger up exited with {self.process.returncode}:\n{out}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).json().get("ready"):
                    return time.monotonic() - began
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError("platform not ready in time")

    def stop(self) -> str:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=60)
        return out.decode()


@pytest.fixture
def up(tmp_path: Path) -> Iterator[Up]:
    platform = Up(tmp_path / "data")
    yield platform
    if platform.process is not None and platform.process.poll() is None:
        platform.stop()
    subprocess.run([CLI, "devnet", "down"], env=platform.env, check=False, capture_output=True)


def test_up_serves_a_ready_platform_and_restarts_with_its_state(up: Up) -> None:
    up.start()
    health = httpx.get(f"{up.url}/healthz").json()
    assert health["chain"]["ready"] and health["database"]["ready"]
    contracts = health["chain"]["contracts"]
    assert set(contracts) == {
        "Membership",
        "Agreements",
        "CatalogueRegistry",
        "Consents",
        "Checkpoints",
        "ModelRegistry",
        "Publications",
    }

    operators = [Account.from_key(devnet_key(i)) for i in (1, 2)]  # DEVNET ONLY keys
    bank = Account.create()
    proposal = LedgerClient(up.url, operators[0]).propose(
        Action.ADMIT, account=bank.address, role=Role.INSTITUTION, kind=InstitutionKind.BANK, name="郑州银行"
    )
    LedgerClient(up.url, operators[1]).approve(proposal["proposal_id"])

    output = up.stop()
    assert "stopping the local chain" in output

    up.start()
    again = httpx.get(f"{up.url}/healthz").json()
    assert again["chain"]["contracts"] == contracts  # not redeployed
    members = {m["account"]: m for m in LedgerClient(up.url, bank).members()}
    assert members[bank.address]["role"] == "institution"
    assert members[bank.address]["status"] == "active"


def test_manifest_for_another_chain_is_a_clear_error(up: Up, tmp_path: Path) -> None:
    up.start()
    up.stop()
    # the chain is wiped but the manifest survives: deploying again must refuse, not fork
    for leftover in (tmp_path / "data" / "devnet").glob("state*.json"):
        leftover.unlink()
    result = subprocess.run(
        [CLI, "up", "--no-serve"], env=up.env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    assert "no code at" in result.stderr


def test_the_ready_timeout_allows_a_compile_only_when_the_cache_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "contracts.json"
    monkeypatch.setattr(sys.modules[__name__], "COMPILE_CACHE", cache)
    assert ready_timeout() == READY_SECONDS_WITH_COMPILE == 600.0
    cache.write_text("{}")
    assert ready_timeout() == READY_SECONDS == 120.0


def test_up_on_a_taken_api_port_fails_in_one_line_naming_it(up: Up) -> None:
    """Another process holds the API port: `up` says so in one line and exits non-zero, no traceback."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", up.api_port))
        taken.listen()
        result = subprocess.run([CLI, "up"], env=up.env, capture_output=True, timeout=ready_timeout())
    stderr = result.stderr.decode()
    assert result.returncode != 0, stderr
    assert "Traceback" not in stderr, stderr
    assert stderr.strip() == (
        f"error: cannot serve the API on 127.0.0.1:{up.api_port}: address already in use "
        "(another process holds it? free it, or set LEDGER_API_PORT)"
    )
    assert result.stdout == b""  # refused before a chain, a worker or a sender was started

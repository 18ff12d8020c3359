"""The README's first command, end to end: `credit-ledger up` on a fresh data directory."""

from __future__ import annotations

import os
import signal
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
from ledger.sdk import LedgerClient
from tests.conftest import free_port

CLI = str(Path(sys.executable).with_name("credit-ledger"))


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

    def start(self, timeout: float = 120.0) -> float:
        """Start and wait for a ready /healthz; returns the seconds it took."""
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

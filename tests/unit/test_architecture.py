"""The architecture is kept by a tool: the import-linter contracts in pyproject.toml hold.

`lint-imports` checks every import chain, direct or not: `api` above `ledger` and never
below it, the SDK a client that loads nothing of the server, the auditor sharing no code
path with the writing side, no module but the composition root (`ledger.platform`,
`ledger.wiring`) and the CLI knowing the platform whole, the ledger's packages in their
layers, and no import cycle inside a package. Each contract is named here, so one dropped
from pyproject.toml fails the test instead of passing unseen. The SDK is also imported in
a fresh interpreter, to see what it loads, not only what it names.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


CONTRACTS = (
    "api is above ledger, never below it",
    "The SDK is a client: nothing of the server, its storage or its web framework",
    "The auditor shares no code path with the writing side",
    "Only the composition root (and the CLI, which starts processes) knows the platform whole",
    "The ledger's packages in layers: each imports only those below it",
    "No import cycles between the modules or packages of one package",
)


def test_the_import_contracts_hold() -> None:
    run = subprocess.run([str(LINT_IMPORTS)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout
    report = " ".join(run.stdout.split())  # lint-imports wraps long names to the terminal
    for name in CONTRACTS:
        assert f"{name} KEPT" in report, run.stdout


def test_the_sdk_loads_nothing_of_the_server() -> None:
    code = (
        "import sys, ledger.sdk; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'fastapi', 'api') "
        "or m.startswith(('ledger.platform', 'ledger.storage', 'ledger.services'))))"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"

"""The production paths speak standard JSON-RPC only: no anvil-only method anywhere.

anvil's `anvil_*` and `evm_*` methods (snapshots, mining, time travel) and Hardhat's
`hardhat_*` exist on no production node; the ethereumjs network runs the whole story
without them (`tests/integration/test_ethereumjs_network.py`). Tests may use them to pin
the chain; `ledger/` and `api/` may not, not even in a string handed to a provider.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from ledger.paths import PROJECT_ROOT

DEVELOPMENT_ONLY = re.compile(r"^(anvil|evm|hardhat)_[A-Za-z]+$")


def _method_names(path: Path) -> list[str]:
    strings = (
        n.value for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(n, ast.Constant)
    )
    return [s for s in strings if isinstance(s, str) and DEVELOPMENT_ONLY.match(s)]


def test_no_production_module_names_an_anvil_only_method() -> None:
    found = {
        str(path.relative_to(PROJECT_ROOT)): names
        for package in ("ledger", "api")
        for path in sorted((PROJECT_ROOT / package).rglob("*.py"))
        if (names := _method_names(path))
    }
    assert found == {}


def test_the_check_sees_such_a_method(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text('w3.provider.make_request("evm_mine", [])\nrpc("anvil_setBalance")\nrpc("eth_call")\n')
    assert sorted(_method_names(module)) == ["anvil_setBalance", "evm_mine"]

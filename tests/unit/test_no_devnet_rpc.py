"""No production path asks the node for an anvil-only method.

A permissioned network (Besu, geth, an ethereumjs network) answers the standard `eth_*`
methods only; `anvil_*`, `evm_*` and `hardhat_*` exist on development nodes. Only the
devnet's own management (`ledger/devnet.py`) may name them. The scan reads every string
literal of `ledger/` and `api/` (docstrings apart); the methods the platform really
called during a story are recorded in `tests/integration/chain/test_reorg.py`, and the
ethereumjs network, which has none of them, runs the whole story
(`tests/integration/test_ethereumjs_network.py`).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {Path("ledger/devnet.py")}
DEVNET_METHOD = re.compile(r"^(anvil|evm|hardhat)_")


def devnet_methods(source: str) -> list[tuple[int, str]]:
    """(line, literal) of each string literal, docstrings apart, naming a devnet-only method."""
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and DEVNET_METHOD.match(node.value)
    ]


def test_the_scan_finds_a_devnet_method_in_code_but_not_in_a_docstring() -> None:
    source = (
        '"""Reverts with evm_revert."""\n'
        'def f(w3):\n    """anvil_reorg."""\n    w3.make_request("evm_mine", [])\n'
    )
    assert devnet_methods(source) == [(4, "evm_mine")]
    assert devnet_methods('x = f"anvil_{name}"') == [(1, "anvil_")]


def test_no_production_module_names_an_anvil_only_method() -> None:
    found = {
        f"{path.relative_to(ROOT)}:{line}: {literal}"
        for top in ("ledger", "api")
        for path in sorted((ROOT / top).rglob("*.py"))
        if path.relative_to(ROOT) not in ALLOWED
        for line, literal in devnet_methods(path.read_text(encoding="utf-8"))
    }
    assert not found, sorted(found)

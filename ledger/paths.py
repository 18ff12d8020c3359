"""Where the project's non-Python parts live.

The Python packages are installed in editable mode from the repository, so the
contracts and the devnet toolchain are found next to them rather than copied into
site-packages: one copy of each source file, compiled on demand.
"""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONTRACTS_DIR = PROJECT_ROOT / "contracts"
DEVNET_DIR = PROJECT_ROOT / "hardhat-free-devnet"
NODE_MODULES = DEVNET_DIR / "node_modules"
SOLC_SHIM = DEVNET_DIR / "solc-standard-json.cjs"
ANVIL_BINARY = NODE_MODULES / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
#: the portal's browser assets: a pinned npm package (`npm ci --prefix web`), served by the API
WEB_MODULES = PROJECT_ROOT / "web" / "node_modules"
#: the second, independent EVM client (`ledger.devnet_ethereumjs`): its launcher and packages
ETHEREUMJS_DIR = DEVNET_DIR / "ethereumjs"
ETHEREUMJS_NODE = ETHEREUMJS_DIR / "node.mjs"

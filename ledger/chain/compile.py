"""Offline Solidity compilation through py-solc-x and the npm `solc` package.

The compiler output is cached in one JSON file keyed by a hash of every input that
can change it (sources, imported OpenZeppelin files, compiler version and settings),
so a test run or `credit-ledger up` pays for compilation only after a source changed.
That compilation takes about 20 s, so it is announced on stderr when it starts, every few
seconds while it runs and when it ends: a first start is never silent.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import solcx

from ledger.errors import LedgerError
from ledger.paths import CONTRACTS_DIR, NODE_MODULES, PROJECT_ROOT, SOLC_SHIM

SOLC_VERSION = "0.8.37"
OPTIMIZER_RUNS = 200
EVM_VERSION = "cancun"
#: seconds between the "still compiling" lines
PROGRESS_EVERY_SECONDS = 5.0


class CompilationError(LedgerError):
    """The contracts did not compile, or the compiler is not installed."""


@dataclass(frozen=True)
class CompiledContract:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str

    @property
    def code_hash(self) -> str:
        """Hash of the creation bytecode: what a deployment manifest pins."""
        return hashlib.sha256(bytes.fromhex(self.bytecode)).hexdigest()


def _sources(contracts_dir: Path) -> dict[str, Path]:
    return {path.relative_to(contracts_dir).as_posix(): path for path in sorted(contracts_dir.rglob("*.sol"))}


def _input_json(sources: dict[str, Path]) -> dict[str, Any]:
    return {
        "language": "Solidity",
        "sources": {name: {"content": path.read_text(encoding="utf-8")} for name, path in sources.items()},
        "settings": {
            "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
            "evmVersion": EVM_VERSION,
            # Signed acts take many arguments; the IR pipeline avoids "stack too deep"
            # without contorting the contracts, and optimizes across functions.
            "viaIR": True,
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}},
        },
    }


def _cache_key(input_json: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(input_json, sort_keys=True).encode())
    digest.update(SOLC_VERSION.encode())
    # Imported library files change the output too; hash the pinned package's manifest.
    oz_manifest = NODE_MODULES / "@openzeppelin" / "contracts" / "package.json"
    if oz_manifest.exists():
        digest.update(oz_manifest.read_bytes())
    return digest.hexdigest()


def _require_toolchain() -> None:
    if shutil.which("node") is None:
        raise CompilationError("node is not on PATH: the npm solc compiler needs Node.js")
    if not (NODE_MODULES / "solc").is_dir():
        raise CompilationError(
            "the npm solc compiler is not installed: run `npm ci --prefix hardhat-free-devnet`"
        )


def to_stderr(message: str) -> None:
    """A progress line on stderr, where it does not mix with a command's output."""
    print(f"· {message}", file=sys.stderr, flush=True)


@contextmanager
def _still_running(say: Callable[[str], None], what: str) -> Iterator[None]:
    """Say `what` is still running every `PROGRESS_EVERY_SECONDS` until the block ends."""
    done = threading.Event()
    began = time.monotonic()

    def tick() -> None:
        while not done.wait(PROGRESS_EVERY_SECONDS):
            say(f"still {what} ({time.monotonic() - began:.0f} s)")

    ticker = threading.Thread(target=tick, name="compile-progress", daemon=True)
    ticker.start()
    try:
        yield
    finally:
        done.set()
        ticker.join()


def compile_contracts(
    contracts_dir: Path = CONTRACTS_DIR,
    cache_file: Path | None = None,
    *,
    progress: Callable[[str], None] = to_stderr,
) -> dict[str, CompiledContract]:
    """Compile every contract under `contracts_dir`, reusing the cache when nothing changed.

    A compilation (not a cache hit) is announced through `progress` while it runs."""
    cache_file = cache_file or PROJECT_ROOT / "build" / "contracts.json"
    sources = _sources(contracts_dir)
    input_json = _input_json(sources)
    key = _cache_key(input_json)
    if cache_file.exists():
        cached = json.loads(cache_file.read_text())
        if cached.get("key") == key:
            return {name: CompiledContract(**c) for name, c in cached["contracts"].items()}

    _require_toolchain()
    progress(
        f"compiling {len(sources)} Solidity files with solc {SOLC_VERSION} (first start, or the "
        f"contracts changed): about 20 s on a quiet machine, then cached in {cache_file}"
    )
    began = time.monotonic()
    try:
        with _still_running(progress, "compiling the contracts"):
            output = solcx.compile_standard(
                input_json,
                base_path=str(contracts_dir),
                allow_paths=[str(contracts_dir), str(NODE_MODULES)],
                solc_binary=SOLC_SHIM,
            )
    except solcx.exceptions.SolcError as exc:
        raise CompilationError(f"solc failed:\n{exc.message}") from exc

    contracts: dict[str, CompiledContract] = {}
    for source_name, by_name in output["contracts"].items():
        if source_name not in input_json["sources"]:
            continue  # imported library files: their code is linked into ours
        for name, out in by_name.items():
            if not out["evm"]["bytecode"]["object"]:
                continue  # interfaces and abstract contracts
            contracts[name] = CompiledContract(
                name=name,
                abi=out["abi"],
                bytecode=out["evm"]["bytecode"]["object"],
                deployed_bytecode=out["evm"]["deployedBytecode"]["object"],
            )
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache_file.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"key": key, "contracts": {n: c.__dict__ for n, c in contracts.items()}}))
    os.replace(tmp, cache_file)
    progress(f"compiled {len(contracts)} contracts in {time.monotonic() - began:.1f} s")
    return contracts


def all_abis(contracts_dir: Path = CONTRACTS_DIR) -> dict[str, list[dict[str, Any]]]:
    """ABIs of every compiled contract, library and interface: the custom-error table needs them all."""
    return {name: c.abi for name, c in compile_contracts(contracts_dir).items()}

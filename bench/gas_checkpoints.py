"""Gas of an on-chain log checkpoint against anchoring every entry on its own.

Starts a throw-away anvil (Cancun rules, like the ledger's devnet), deploys the real
Membership and Checkpoints, anchors a log of 1,000 entries, then measures the
checkpoint that follows 1, 100 and 10,000 new entries (consistency proof verified on
chain with the SHA-256 precompile). The baseline writes each entry hash in its own
transaction to `NaiveEntryLog` (in contracts/test/RFC9162Harness.sol), stored in a
fresh slot or only emitted as an event; 100 of each are measured and extrapolated.

    .venv/bin/python bench/gas_checkpoints.py
"""

from __future__ import annotations

import socket
import statistics
import tempfile
from pathlib import Path

from eth_account import Account

from ledger.chain.checkpoints import CheckpointsContract, log_id
from ledger.chain.client import ChainClient
from ledger.chain.compile import compile_contracts
from ledger.devnet import Devnet, devnet_key
from ledger.domain.log_names import CREDIT_RECORDS_LOG
from ledger.merkle.rfc9162 import MerkleTree, hash_leaf

INITIAL_ENTRIES = 1_000
BATCHES = (1, 100, 10_000)
NAIVE_SAMPLES = 100
RECORDS_LOG_ID = log_id(CREDIT_RECORDS_LOG)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _entry(i: int) -> bytes:
    return hash_leaf(i.to_bytes(8, "big"))


def run(client: ChainClient) -> None:
    platform = client.relayer.address
    operator = Account.from_key(devnet_key(1)).address  # DEVNET ONLY key
    membership = client.deploy("Membership", [operator], 1, 3600, platform)
    checkpoints = CheckpointsContract.deploy(client, membership)

    total = INITIAL_ENTRIES + sum(BATCHES)
    tree = MerkleTree(_entry(i) for i in range(total))

    print(f"Checkpoints (consistency proof verified on chain), log {RECORDS_LOG_ID.hex()[:12]}…")
    first = checkpoints.submit(RECORDS_LOG_ID, INITIAL_ENTRIES, tree.root(INITIAL_ENTRIES), [])
    print(
        f"  first checkpoint of a log (0 -> {INITIAL_ENTRIES}, empty proof, 2 fresh slots): "
        f"{first['gasUsed']:,} gas"
    )
    print(f"  {'new entries':>11}  {'size':>13}  {'proof':>5}  {'gas':>7}  {'gas/entry':>9}")
    size = INITIAL_ENTRIES
    for batch in BATCHES:
        new_size = size + batch
        proof = tree.consistency_proof(size, new_size)
        receipt = checkpoints.submit(RECORDS_LOG_ID, new_size, tree.root(new_size), proof)
        gas = int(receipt["gasUsed"])
        print(f"  {batch:>11,}  {size:>5,}->{new_size:<6,}  {len(proof):>5}  {gas:>7,}  {gas / batch:>9,.1f}")
        size = new_size
    idempotent = checkpoints.submit(RECORDS_LOG_ID, size, tree.root(size), [])
    print(f"  re-anchoring the same checkpoint (no-op): {idempotent['gasUsed']:,} gas")

    naive = client.contract("NaiveEntryLog", client.deploy("NaiveEntryLog"))
    print(f"Baseline: one transaction per entry hash ({NAIVE_SAMPLES} measured, extrapolated)")
    for label, fn in (
        ("stored in a slot + event", naive.functions.store),
        ("event only", naive.functions.emitOnly),
    ):
        gases = [int(client.transact(fn(_entry(i)))["gasUsed"]) for i in range(NAIVE_SAMPLES)]
        mean = statistics.mean(gases)
        print(
            f"  {label:<25} {mean:>9,.0f} gas/entry (min {min(gases):,}, max {max(gases):,});"
            f" 10,000 entries ≈ {mean * 10_000:,.0f} gas"
        )


def main() -> None:
    artifacts = compile_contracts()
    with tempfile.TemporaryDirectory(prefix="gas-checkpoints-") as tmp:
        node = Devnet(Path(tmp), port=_free_port())
        node.start()
        try:
            run(ChainClient.connect(node.url, devnet_key(0), artifacts=artifacts))
        finally:
            node.stop()


if __name__ == "__main__":
    main()

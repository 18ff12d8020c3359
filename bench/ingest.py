"""Credit-record ingestion, anchoring gas and proof generation, measured end to end.

Everything runs on this machine: a throw-away anvil, a throw-away PostgreSQL database,
the real API under uvicorn (HTTP, signed requests, NDJSON bulk bodies) and the real
anchoring code. Three measurements:

1. Ingestion throughput into PostgreSQL: records acknowledged per second by the API in
   bulk requests; each acknowledgement follows the commit of its transaction
   (synchronous_commit is on), and the stored count is checked afterwards, so the rate
   is of acknowledged *and* durable records.
2. Gas per anchored record: the checkpoint that follows 1, 100 and 10,000 new records
   (consistency proof verified on chain), against one transaction per record
   (`NaiveEntryLog` in contracts/test/RFC9162Harness.sol).
3. Proof generation at 1,000,000 entries: a log of 10^6 entries in PostgreSQL, the
   cold load of its tree, then inclusion proofs to the anchored checkpoint (the
   `LogProofs.inclusion` call the API makes, and the Merkle part alone), and their
   verification.

    .venv/bin/python bench/ingest.py                      # defaults: 100,000 records, 10^6 proof log
    .venv/bin/python bench/ingest.py --records 20000 --proof-entries 100000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
from eth_account import Account
from eth_account.signers.local import LocalAccount
from sqlalchemy import func, select

from ledger.chain.catalogue_registry import CatalogueRegistryContract, CatalogueVersion
from ledger.chain.checkpoints import CheckpointsContract
from ledger.chain.client import ChainClient
from ledger.chain.compile import compile_contracts
from ledger.chain.deploy import Governance, deploy_all
from ledger.chain.membership import Action, MembershipContract, Role, name_hash
from ledger.devnet import Devnet, devnet_key
from ledger.domain.catalogue import default_catalogue
from ledger.domain.log_names import CREDIT_RECORDS_LOG
from ledger.logs.anchor_worker import AnchorPolicy, AnchorWorker
from ledger.logs.leaves import encode_leaf
from ledger.logs.proofs import LogProofs, record_checkpoint
from ledger.logs.tiles import extend
from ledger.logs.tree import TreeCache
from ledger.merkle.rfc9162 import MerkleTree, hash_leaf, verify_inclusion
from ledger.paths import PROJECT_ROOT
from ledger.records.models import CreditRecord
from ledger.records.samples import sample_records
from ledger.sdk import LedgerClient
from ledger.storage.database import Database, migrate

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PROOF_LOG = "bench-proofs"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _database() -> Iterator[str]:
    name = f"ledger_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        migrate(url)
        yield url
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _setup_chain(client: ChainClient) -> tuple[dict[str, str], int, LocalAccount]:
    operators = [Account.from_key(devnet_key(i)) for i in (1, 2, 3)]  # DEVNET ONLY keys
    deployment = deploy_all(
        client, Governance([o.address for o in operators], 2, 3600, client.relayer.address)
    )
    membership = MembershipContract(client, deployment.addresses.membership)
    provider = Account.from_key(devnet_key(4))
    proposal = membership.propose(
        membership.sign_propose(
            operators[0],
            Action.ADMIT,
            account=provider.address,
            role=Role.PROVIDER,
            name_hash=name_hash("bench"),
        )
    )
    membership.approve(membership.sign_approve(operators[1], proposal.proposal_id))
    registry = CatalogueRegistryContract(client, deployment.addresses.catalogue_registry)
    catalogue = default_catalogue()
    version = CatalogueVersion(catalogue.version, catalogue.content_hash(), catalogue.public_mask())
    registry.publish(registry.sign_publish(operators[0], version))
    deployment_path = Path(tempfile.mkdtemp(prefix="bench-ingest-data-")) / "deployment.json"
    deployment.save(deployment_path)
    return (
        {"data_dir": str(deployment_path.parent), **deployment.addresses.by_name()},
        deployment.block,
        provider,
    )


# --------------------------------------------------------------------------- 1. ingestion


def ingest(
    client: ChainClient, devnet: Devnet, url: str, records: int, batch: int, clients: int, workers: int
) -> tuple[dict[str, str], int, float]:
    addresses, block, provider = _setup_chain(client)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "LEDGER_DATA_DIR": addresses["data_dir"],
        "LEDGER_DATABASE_URL": url,
        "LEDGER_RPC_URL": devnet.url,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.main:create", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers), "--log-level", "warning"],
        env=env, cwd=PROJECT_ROOT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the API did not start")
            time.sleep(0.1)
        bodies = [
            b"".join(
                json.dumps(r, ensure_ascii=False).encode() + b"\n"
                for r in sample_records(min(batch, records - start), start=start, prefix="BENCH")
            )
            for start in range(0, records, batch)
        ]
        size_mb = sum(len(b) for b in bodies) / 1e6
        print(f"  {records:,} records in {len(bodies)} NDJSON requests of up to {batch:,} ({size_mb:.1f} MB)")
        # warm every API worker up (first request pays connection and catalogue loading)
        warm = LedgerClient(base, provider, http=httpx.Client(base_url=base, timeout=300))
        for i in range(workers * 2):
            warm.submit_records(list(sample_records(1, start=10**7 + i, prefix="WARM")))
        acknowledged = 0
        lock = threading.Lock()
        queue = list(bodies)

        def run() -> None:
            nonlocal acknowledged
            sdk = LedgerClient(base, provider, http=httpx.Client(base_url=base, timeout=600))
            while True:
                with lock:
                    if not queue:
                        return
                    body = queue.pop(0)
                report = sdk.submit_records(body)
                assert not report["rejected"], report["rejected"][:3]
                with lock:
                    acknowledged += report["created"]

        threads = [threading.Thread(target=run) for _ in range(clients)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    db = Database(url)
    with db.session() as session:
        durable = session.scalar(
            select(func.count()).select_from(CreditRecord).where(CreditRecord.source_ref.like("BENCH-%"))
        )
    db.engine.dispose()
    assert acknowledged == records == durable, (acknowledged, records, durable)
    rate = acknowledged / elapsed
    print(f"  {clients} client(s), {workers} API worker(s): {acknowledged:,} acknowledged and durable "
          f"in {elapsed:.1f} s = {rate:,.0f} records/s")  # fmt: skip
    return addresses, block, rate


# --------------------------------------------------------------------------- 2. gas


def gas(client: ChainClient, url: str, addresses: dict[str, str], block: int) -> dict[int, float]:
    db = Database(url)
    checkpoints = CheckpointsContract(client, addresses["Checkpoints"])
    worker = AnchorWorker(
        db=db, checkpoints=checkpoints, logs=[CREDIT_RECORDS_LOG], policy=AnchorPolicy(), from_block=block
    )
    proofs = LogProofs(db)
    total = proofs.size(CREDIT_RECORDS_LOG)
    base = total - 10_101
    assert base > 0, "ingest at least 10,102 records for the gas figures"
    first = worker.anchor_now(CREDIT_RECORDS_LOG, base)
    assert first is not None
    print(f"  first checkpoint of the log (0 -> {base:,}): {first.gas_used:,} gas")
    print(f"  {'records':>8}  {'checkpoint':>15}  {'gas':>7}  {'gas/record':>10}")
    per_record: dict[int, float] = {}
    size = base
    for n in (1, 100, 10_000):
        result = worker.anchor_now(CREDIT_RECORDS_LOG, size + n)
        assert result is not None
        per_record[n] = result.gas_used / n
        print(f"  {n:>8,}  {size:>7,}->{size + n:<7,}  {result.gas_used:>7,}  {per_record[n]:>10,.1f}")
        size += n
    worker.close()
    db.engine.dispose()
    naive = client.contract("NaiveEntryLog", client.deploy("NaiveEntryLog"))
    print("  one transaction per record (100 measured):")
    for label, fn in (
        ("hash stored + event", naive.functions.store),
        ("event only", naive.functions.emitOnly),
    ):
        gases = [int(client.transact(fn(hash_leaf(i.to_bytes(8, "big"))))["gasUsed"]) for i in range(100)]
        mean = statistics.mean(gases)
        print(f"  {label:>22}: {mean:>9,.0f} gas/record")
    return per_record


# --------------------------------------------------------------------------- 3. proofs


def proofs(url: str, entries: int, samples: int) -> None:
    db = Database(url)
    start = time.perf_counter()
    # The canonical (RFC 8785) form of {"n": i, "seq": i, "type": "bench"}, written directly
    # for speed; checked against encode_leaf below.
    leaves = (b'{"n":%d,"seq":%d,"type":"bench"}' % (i, i) for i in range(entries))
    assert encode_leaf("bench", 12, {"n": 12}) == b'{"n":12,"seq":12,"type":"bench"}'
    tree = MerkleTree()
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy("COPY log_entries (log_name, seq, leaf, leaf_hash) FROM STDIN") as copy:
            for i, leaf in enumerate(leaves):
                digest = hash_leaf(leaf)
                tree.append(digest)
                copy.write_row((PROOF_LOG, i, leaf, digest))
        # the tiles an append would have written with them (`ledger.logs.tiles`)
        frontier, appends = extend(0, b"", [tree.leaf_hash(i) for i in range(entries)])
        tiles: dict[tuple[int, int], bytes] = {}
        for a in appends:
            tiles[(a.level, a.index)] = tiles.get((a.level, a.index), b"") + a.hashes
        with cursor.copy("COPY log_tiles (log_name, level, idx, hashes) FROM STDIN") as copy:
            for (level, index), data in tiles.items():
                copy.write_row((PROOF_LOG, level, index, data))
        cursor.execute(
            "INSERT INTO log_heads (name, size, frontier) VALUES (%s, %s, %s)", (PROOF_LOG, entries, frontier)
        )
        raw.commit()
    finally:
        raw.close()
    with db.session() as session:
        record_checkpoint(session, PROOF_LOG, entries, tree.root(), None, None)
    print(f"  {entries:,} entries written to PostgreSQL in {time.perf_counter() - start:.1f} s")

    cache = TreeCache()
    start = time.perf_counter()
    cache.tree(db, PROOF_LOG, entries)
    loaded = time.perf_counter() - start
    print(f"  cold start: tree of {entries:,} leaves opened from its tiles in {loaded:.2f} s")
    service = LogProofs(db, cache)
    rng = random.Random(1)
    indexes = [rng.randrange(entries) for _ in range(samples)]
    root = tree.root()
    merkle, full, verify = [], [], []
    cached = cache.tree(db, PROOF_LOG, entries)
    for index in indexes:
        t0 = time.perf_counter()
        path = cached.inclusion_proof(index, entries)
        t1 = time.perf_counter()
        proof = service.inclusion(PROOF_LOG, index)
        t2 = time.perf_counter()
        verify_inclusion(proof.leaf_hash, index, entries, proof.path, root)
        t3 = time.perf_counter()
        assert path == proof.path
        merkle.append(t1 - t0)
        full.append(t2 - t1)
        verify.append(t3 - t2)

    def show(label: str, values: list[float]) -> None:
        values = sorted(values)
        p99 = values[int(len(values) * 0.99) - 1]
        print(f"  {label:<52} median {statistics.median(values) * 1e6:>7.1f} µs   p99 {p99 * 1e6:>7.1f} µs")

    hashes = len(path)
    print(
        f"  inclusion proofs at size {entries:,} ({hashes} hashes, {32 * hashes} B), {samples} random leaves:"
    )
    show("audit path from the tiles (tiles read, then hashed)", merkle)
    show("LogProofs.inclusion (+ entry and checkpoint from PG)", full)
    show("verification (RFC 9162 §2.1.3.2)", verify)
    db.engine.dispose()


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=10_000, help="records per bulk request")
    parser.add_argument("--clients", type=int, default=2, help="concurrent client connections")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--proof-entries", type=int, default=1_000_000)
    parser.add_argument("--proof-samples", type=int, default=2_000)
    parser.add_argument("--only-proofs", action="store_true", help="skip ingestion and gas")
    args = parser.parse_args()

    artifacts = compile_contracts()
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp, _database() as url:
        node = Devnet(Path(tmp), port=_free_port())
        node.start()
        try:
            client = ChainClient.connect(node.url, devnet_key(0), artifacts=artifacts)
            if args.only_proofs:
                print("3. Proof generation")
                proofs(url, args.proof_entries, args.proof_samples)
                return
            print("1. Ingestion into PostgreSQL through the API (bulk NDJSON, signed requests)")
            addresses, block, _rate = ingest(
                client, node, url, args.records, args.batch, args.clients, args.workers
            )
            print("2. Gas per anchored record (checkpoint with on-chain consistency proof)")
            gas(client, url, addresses, block)
            print("3. Proof generation")
            proofs(url, args.proof_entries, args.proof_samples)
        finally:
            node.stop()


if __name__ == "__main__":
    main()

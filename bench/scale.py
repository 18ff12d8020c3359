"""The platform at a city's scale: logs of millions of entries read from tiles, on PostgreSQL.

One run, one PostgreSQL database, one devnet: the platform is set up as for a release
(members, catalogue, agreement, consent, five records), measured with its logs nearly
empty, then the record log and the access trail are grown in bulk (COPY of entries and
of their tiles, under the log's lock, as an append would write them: not through HTTP)
and anchored on chain by the anchoring worker, and everything is measured again at each
size. At each size:

- cold start: a fresh API process (uvicorn, 1 worker) until /healthz answers, then its
  first inclusion proof over HTTP;
- inclusion proof with the database reads: `LogProofs.inclusion` in this process from a
  fresh tile cache, median and p99 of random entries (and over HTTP, signed, median);
- resident memory of that API process after the proofs (VmRSS, and its peak VmHWM);
- ingestion: records acknowledged per second through the API (2 bulk requests of 5,000);
- release latency: `ReleaseService.release` in this process, one at a time, median;
- the log append alone: one entry appended to the record log and committed, median.

For comparison, at the first size only, the in-memory tree the platform kept before the
tiles: the time and memory to load it from the table (what every API process paid on a
cold start).

Needs PostgreSQL on 127.0.0.1:5432.
Run: .venv/bin/python bench/scale.py [--sizes 1000000,10000000]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
from eth_account import Account
from eth_utils import keccak

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.release import free_port, wait_ready
from ledger.chain.agreements import CommitmentKind, CommitMessage, CountersignMessage, ProposeAgreementMessage
from ledger.chain.consents import GrantMessage
from ledger.chain.membership import Action, InstitutionKind, Role, uscc_hash
from ledger.devnet import devnet_key
from ledger.domain.catalogue import default_catalogue
from ledger.domain.log_names import ACCESS_TRAIL_LOG, CREDIT_RECORDS_LOG
from ledger.logs.proofs import LogProofs
from ledger.logs.store import committed_size, leaf_hashes, open_for_append
from ledger.logs.tiles import TILE_WIDTH, extend
from ledger.logs.tree import TreeCache
from ledger.merkle.rfc9162 import MerkleTree, hash_leaf
from ledger.platform import Platform
from ledger.records.samples import sample_record, sample_uscc
from ledger.release.request import request_domain, sign_data_request
from ledger.sdk import LedgerClient
from ledger.settings import Settings
from ledger.wiring import anchor_worker, release_service

HERE = Path(__file__).resolve().parent
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
CHUNK = 262_144  # entries per COPY chunk (1,024 tiles of level 0)


# --------------------------------------------------------------------------- bulk growth


def grow(dsn: str, name: str, count: int, tag: str) -> float:
    """Append `count` synthetic entries to log `name` in one transaction; seconds taken.

    Entries and tiles go in by COPY, the log's lock (its head row) held throughout, the
    head's size and frontier updated at the end: what `LogWriter.append` writes, in bulk.
    """
    if count <= 0:
        return 0.0
    began = time.perf_counter()
    with psycopg.connect(dsn) as conn, conn.transaction():
        row = conn.execute(
            "SELECT size, frontier FROM log_heads WHERE name = %s FOR UPDATE", (name,)
        ).fetchone()
        if row is None:
            conn.execute("INSERT INTO log_heads (name, size, frontier) VALUES (%s, 0, '')", (name,))
            row = (0, b"")
        size, frontier = int(row[0]), bytes(row[1])
        grown: dict[tuple[int, int], bytearray] = {}  # tiles this growth touches, until written
        existing: set[tuple[int, int]] = set()  # partial tiles stored before: grown in place
        done = 0
        while done < count:
            take = min(CHUNK, count - done)
            hashes = []
            with conn.cursor().copy("COPY log_entries (log_name, seq, leaf, leaf_hash) FROM STDIN") as copy:
                for seq in range(size + done, size + done + take):
                    # the canonical (RFC 8785) form of {"n": seq, "seq": seq, "type": tag}
                    leaf = b'{"n":%d,"seq":%d,"type":"%s"}' % (seq, seq, tag.encode())
                    digest = hash_leaf(leaf)
                    hashes.append(digest)
                    copy.write_row((name, seq, leaf, digest))
            frontier, appends = extend(size + done, frontier, hashes)
            for a in appends:
                key = (a.level, a.index)
                if key not in grown:
                    grown[key] = bytearray()
                    if a.offset:
                        existing.add(key)
                grown[key] += a.hashes
            full = [k for k, v in grown.items() if len(v) == TILE_WIDTH * 32 and k not in existing]
            _copy_tiles(conn, name, {k: bytes(grown.pop(k)) for k in full})
            done += take
        _copy_tiles(conn, name, {k: bytes(v) for k, v in grown.items() if k not in existing})
        for level, index in existing:
            conn.execute(
                "UPDATE log_tiles SET hashes = hashes || %s WHERE log_name = %s AND level = %s AND idx = %s",
                (bytes(grown[(level, index)]), name, level, index),
            )
        conn.execute(
            "UPDATE log_heads SET size = %s, frontier = %s WHERE name = %s", (size + count, frontier, name)
        )
    return time.perf_counter() - began


def _copy_tiles(conn: psycopg.Connection[Any], name: str, tiles: dict[tuple[int, int], bytes]) -> None:
    if tiles:
        with conn.cursor().copy("COPY log_tiles (log_name, level, idx, hashes) FROM STDIN") as copy:
            for (level, index), data in tiles.items():
                copy.write_row((name, level, index, data))


# --------------------------------------------------------------------------- measurements


def rss_kib(pid: int) -> tuple[int, int]:
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
    )
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


class Bench:
    """The platform under test and what it takes to exercise it."""

    def __init__(self, env: dict[str, str], api: str) -> None:
        self.env = env
        self.api = api
        os.environ.update({k: v for k, v in env.items() if k.startswith("LEDGER_")})
        self.platform = Platform.open(Settings())
        self.operator = LedgerClient(api, Account.from_key(devnet_key(1)))  # DEVNET ONLY keys
        self.dsn = env["LEDGER_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        self.ingested = 0

    def setup(self) -> None:
        """Members, catalogue, five records of one subject, an agreement and a consent."""
        catalogue = default_catalogue()
        self.tax, self.credit = (
            catalogue.category_mask(["tax"]),
            catalogue.purpose_mask(["credit_assessment"]),
        )
        second = LedgerClient(self.api, Account.from_key(devnet_key(2)))
        self.bank_key, provider_key, enterprise_key = Account.create(), Account.create(), Account.create()
        for account, role, kind in ((self.bank_key, Role.INSTITUTION, InstitutionKind.BANK),
                                    (provider_key, Role.PROVIDER, InstitutionKind.NONE)):  # fmt: skip
            proposal = self.operator.propose(
                Action.ADMIT, account=account.address, role=role, kind=kind, name="m"
            )
            second.approve(proposal["proposal_id"])
        self.subject = sample_uscc(0)
        self.operator.register_enterprise(enterprise_key.address, self.subject, "郑州市样例科技有限公司")
        self.operator.publish_catalogue(
            json.loads((HERE.parent / "ledger/catalogue/catalogue-v1.json").read_text())
        )
        self.provider = LedgerClient(
            self.api, provider_key, http=httpx.Client(base_url=self.api, timeout=600)
        )
        records = [
            {**sample_record(2 + 3 * i), "subject": self.subject, "source_ref": f"BENCH-{i}"}
            for i in range(5)
        ]
        self.provider.submit_records(records)
        bank, enterprise = LedgerClient(self.api, self.bank_key), LedgerClient(self.api, enterprise_key)
        commitment = bank.act(
            CommitMessage, kind=CommitmentKind.INSTITUTION_USAGE, document_hash=keccak(text="c")
        )
        now = int(time.time())
        self.agreement = bank.act(
            ProposeAgreementMessage, categories=self.tax, purposes=self.credit, max_level=4,
            valid_from=now - 60, valid_until=now + 86400, document_hash=keccak(text="a"),
            commitment_id=commitment["created_id"],
        )["created_id"]  # fmt: skip
        self.operator.act(CountersignMessage, agreement_id=self.agreement)
        enterprise.act(
            GrantMessage, uscc_hash=uscc_hash(self.subject), institution=self.bank_key.address,
            agreement_id=self.agreement, categories=self.tax, purposes=self.credit, raw_categories=0,
            expires_at=now + 86400,
        )  # fmt: skip
        chain = bank.chain()
        self.domain = request_domain(chain["chain_id"], chain["contracts"]["Consents"]["address"])
        assert len(bank.release(self.subject, self.tax, self.credit, self.agreement)["data"]["records"]) == 5

    def anchor(self) -> float:
        began = time.perf_counter()
        worker = anchor_worker(self.platform, logs=[CREDIT_RECORDS_LOG, ACCESS_TRAIL_LOG])
        try:
            for log in (CREDIT_RECORDS_LOG, ACCESS_TRAIL_LOG):
                worker.anchor_now(log)
        finally:
            worker.close()
        return time.perf_counter() - began

    def serve(self) -> tuple[subprocess.Popen[bytes], str, float]:
        port = free_port()
        began = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "api.main:create", "--factory", "--host", "127.0.0.1",
             "--port", str(port), "--workers", "1", "--loop", "uvloop", "--http", "httptools",
             "--log-level", "warning", "--no-access-log"],
            env=self.env, cwd=HERE.parent,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        wait_ready(f"{url}/healthz", timeout=600)
        return process, url, time.perf_counter() - began

    def measure(self, samples: int) -> dict[str, float]:
        out: dict[str, float] = {}
        proofs = LogProofs(self.platform.db, TreeCache())
        size = proofs.latest_checkpoint(CREDIT_RECORDS_LOG).size  # type: ignore[union-attr]
        rng = random.Random(size)
        indexes = [rng.randrange(size) for _ in range(samples)]
        times = []
        for index in indexes:
            began = time.perf_counter()
            proof = proofs.inclusion(CREDIT_RECORDS_LOG, index)
            times.append(time.perf_counter() - began)
            assert proof.index == index
        out["proof first ms"] = 1000 * times[0]
        out["proof median ms"] = 1000 * statistics.median(times)
        out["proof p99 ms"] = 1000 * quantile(times, 0.99)

        process, url, started = self.serve()
        try:
            out["API cold start s"] = started
            client = LedgerClient(url, self.operator.account)
            began = time.perf_counter()
            client.request("GET", f"/logs/{CREDIT_RECORDS_LOG}/entries/{indexes[0]}/proof")
            out["first proof over HTTP ms"] = 1000 * (time.perf_counter() - began)
            http = []
            for index in indexes[: samples // 4]:
                began = time.perf_counter()
                client.request("GET", f"/logs/{CREDIT_RECORDS_LOG}/entries/{index}/proof")
                http.append(time.perf_counter() - began)
            out["proof over HTTP median ms"] = 1000 * statistics.median(http)
            rss, peak = rss_kib(process.pid)
            out["API RSS MB"], out["API peak RSS MB"] = rss / 1024, peak / 1024

            provider = LedgerClient(url, self.provider.account, http=httpx.Client(base_url=url, timeout=600))
            bodies = []
            for _ in range(2):
                start = 10_000_000 + self.ingested
                records = [
                    {**sample_record(start + i), "source_ref": f"SCALE-{start + i}"} for i in range(5_000)
                ]
                bodies.append(b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records))
                self.ingested += 5_000
            began = time.perf_counter()
            for body in bodies:
                report = provider.submit_records(body)
                assert report["created"] == 5_000, report.get("rejected", [])[:2]
            out["ingestion records/s"] = 10_000 / (time.perf_counter() - began)
        finally:
            process.terminate()
            process.wait(timeout=30)

        appends = []
        for n in range(120):  # the append alone: lock, entry, tiles, head; one commit
            began = time.perf_counter()
            with self.platform.db.session() as session:
                open_for_append(session, CREDIT_RECORDS_LOG).append([("bench-append", {"n": n})])
            if n >= 20:
                appends.append(time.perf_counter() - began)
        out["log append of 1 entry ms"] = 1000 * statistics.median(appends)

        service = release_service(self.platform)
        try:
            latencies = []
            for n in range(220):
                signed = sign_data_request(
                    self.bank_key, self.domain, subject=self.subject, categories=self.tax,
                    purpose=self.credit, agreement_id=self.agreement,
                )  # fmt: skip
                began = time.perf_counter()
                service.release(signed)
                if n >= 20:
                    latencies.append(time.perf_counter() - began)
        finally:
            service.close()
        out["release median ms"] = 1000 * statistics.median(latencies)
        return out

    def in_memory_tree(self, size: int) -> tuple[float, float]:
        """What a cold start cost before the tiles: the whole tree loaded from the table (s, MB)."""
        gc.collect()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        began = time.perf_counter()
        tree = MerkleTree()
        with self.platform.db.session() as session:
            for lo in range(0, size, 200_000):  # as `ledger.logs.tree` read it
                tree.extend(leaf_hashes(session, CREDIT_RECORDS_LOG, lo, min(size, lo + 200_000)))
        took = time.perf_counter() - began
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        del tree
        return took, grown


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000000,10000000", help="record-log sizes to measure at")
    parser.add_argument(
        "--trail-ratio", type=float, default=0.1, help="access-trail entries per record entry"
    )
    parser.add_argument("--samples", type=int, default=1_000, help="inclusion proofs per size")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    db_name = f"bench_scale_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db_name}"')
    env = {
        **os.environ,
        "LEDGER_DATA_DIR": str(work / "data"),
        "LEDGER_DEVNET_PORT": str(free_port()),
        "LEDGER_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{db_name}",
    }
    cli = str(Path(sys.executable).with_name("credit-ledger"))
    setup_api: subprocess.Popen[bytes] | None = None
    try:
        subprocess.run([cli, "up", "--no-serve"], env=env, check=True, capture_output=True)
        port = free_port()
        setup_api = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "api.main:create", "--factory", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning", "--no-access-log"],
            env=env, cwd=HERE,
        )  # fmt: skip
        wait_ready(f"http://127.0.0.1:{port}/healthz", timeout=600)
        bench = Bench(env, f"http://127.0.0.1:{port}")
        bench.setup()
        setup_api.terminate()
        setup_api.wait(timeout=30)
        setup_api = None
        bench.anchor()
        results: dict[str, dict[str, float]] = {}
        with bench.platform.db.session() as session:
            base = committed_size(session, CREDIT_RECORDS_LOG)
        print(f"measuring at {base:,} record-log entries (the platform as set up)", file=sys.stderr)
        results[f"{base:,}"] = bench.measure(args.samples)
        before: tuple[float, float] | None = None
        for target in sizes:
            with bench.platform.db.session() as session:
                records = committed_size(session, CREDIT_RECORDS_LOG)
                trail = committed_size(session, ACCESS_TRAIL_LOG)
            if target <= records:
                raise SystemExit(f"sizes must grow: {target:,} <= {records:,} entries already")
            grown = grow(bench.dsn, CREDIT_RECORDS_LOG, target - records, "bench")
            trail_target = int(target * args.trail_ratio)
            grown_trail = grow(bench.dsn, ACCESS_TRAIL_LOG, max(0, trail_target - trail), "bench")
            anchored = bench.anchor()
            with psycopg.connect(bench.dsn, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE log_entries")
                conn.execute("VACUUM ANALYZE log_tiles")
            print(
                f"grew the record log to {target:,} in {grown:.0f} s and the trail to {trail_target:,} "
                f"in {grown_trail:.0f} s (COPY, entries and tiles); anchored both in {anchored:.1f} s",
                file=sys.stderr,
            )
            if before is None:
                before = bench.in_memory_tree(target)
                print(f"before the tiles: whole tree of {target:,} loaded in {before[0]:.2f} s, "
                      f"+{before[1]:.0f} MB", file=sys.stderr)  # fmt: skip
            results[f"{target:,}"] = bench.measure(args.samples)
        names = list(next(iter(results.values())))
        columns = list(results)
        print(f"{'record-log entries':<28}" + "".join(f"{c:>14}" for c in columns))
        for name in names:
            print(f"{name:<28}" + "".join(f"{results[c][name]:>14.2f}" for c in columns))
        first = columns[1] if len(columns) > 1 else columns[0]
        for column in columns[2:]:
            ratios = ", ".join(
                f"{n} {results[column][n] / results[first][n]:.2f}"
                for n in (
                    "proof median ms",
                    "API cold start s",
                    "API RSS MB",
                    "ingestion records/s",
                    "release median ms",
                )
            )
            print(f"{column} vs {first}: {ratios}")
        if before is not None:
            print(
                f"before the tiles, at {columns[1]}: the whole tree loaded on every cold start "
                f"in {before[0]:.2f} s, +{before[1]:.0f} MB per process"
            )
    finally:
        if setup_api is not None:
            setup_api.terminate()
            setup_api.wait(timeout=30)
        subprocess.run([cli, "devnet", "down"], env=env, check=False, capture_output=True)
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

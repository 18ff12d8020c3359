"""From a triggering record's ingestion to the webhook received, at 100 alerts/s (issue 19).

The platform as in production: `credit-ledger up --no-serve` (devnet with interval mining,
PostgreSQL, migrations), the API under uvicorn with 2 workers, the alert sender alone as
`credit-ledger alerts run` (with the real gate: each alert authorized on chain at a fresh
block B and its access-trail entry committed before it is sent), and a real receiver on
127.0.0.1 in a process of its own (`tests/alerts_receiver.py`: it verifies every signature
with the `standardwebhooks` library). A bank watches an enterprise's tax category under an
agreement allowing post-loan management and the enterprise's grant; its endpoint is
registered through the API (verification handshake).

Load: every 100 ms a provider submits 10 tax records with arrears (`POST /records/bulk`),
each firing the `tax.arrears` rule once: 100 alerts/s, open loop (a slow submission does
not delay the next). An alert's latency runs from the moment its submission was sent to
the moment the receiver got the webhook; an alert is attributed to the earliest
submission in flight when it was enqueued, so a latency is never understated. The
baseline of the same run is the submission's own round trip (the ingestion).

Needs PostgreSQL on 127.0.0.1:5432.
Run: .venv/bin/python bench/alerts_trigger.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg
from eth_account import Account

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.release import ADMIN_URL, HERE, agree_and_grant, free_port, serve, wait_ready
from ledger.chain.membership import Action, InstitutionKind, Role
from ledger.devnet import devnet_key
from ledger.domain.catalogue import default_catalogue
from ledger.records.samples import sample_record, sample_uscc
from ledger.sdk import LedgerClient

RATE_BATCHES = 10  # submissions per second
BATCH = 10  # records (alerts) per submission


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def arrears(subject: str, n: int) -> dict[str, Any]:
    record = sample_record(2)
    record["subject"], record["source_ref"] = subject, f"BENCH-ARREARS-{n}"
    record["fields"] = {**record["fields"], "overdue_tax_amount": 10_000 + n}
    return record


def start_receiver(port: int) -> subprocess.Popen[bytes]:
    code = (
        "import uvicorn; from tests.alerts_receiver import ReceiverApp; "
        f"uvicorn.run(ReceiverApp(), host='127.0.0.1', port={port}, log_level='warning', lifespan='off')"
    )
    return subprocess.Popen([sys.executable, "-c", code], cwd=HERE.parent)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20, help="seconds of load at 100 alerts/s")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-alerts-"))
    db_name = f"bench_alerts_{uuid.uuid4().hex[:8]}"
    db_url = f"postgresql://postgres@127.0.0.1:5432/{db_name}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db_name}"')
    api_port, receiver_port = free_port(), free_port()
    env = {
        **os.environ,
        "LEDGER_DATA_DIR": str(work / "data"),
        "LEDGER_DEVNET_PORT": str(free_port()),
        "LEDGER_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{db_name}",
        "LEDGER_ALERTS_IN_UP": "false",
    }
    cli = str(Path(sys.executable).with_name("credit-ledger"))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        subprocess.run([cli, "up", "--no-serve"], env=env, check=True, capture_output=True)
        processes.append(serve("api.main:create", api_port, env))
        processes.append(start_receiver(receiver_port))
        api, receiver = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{receiver_port}"
        wait_ready(f"{api}/healthz")

        catalogue = default_catalogue()
        tax = catalogue.category_mask(["tax"])
        post_loan = catalogue.purpose_mask(["post_loan_monitoring"])
        operators = [LedgerClient(api, Account.from_key(devnet_key(i))) for i in (1, 2)]  # DEVNET ONLY keys
        bank_key, provider_key, enterprise_key = Account.create(), Account.create(), Account.create()
        for account, role, kind in ((bank_key, Role.INSTITUTION, InstitutionKind.BANK),
                                    (provider_key, Role.PROVIDER, InstitutionKind.NONE)):  # fmt: skip
            proposal = operators[0].propose(
                Action.ADMIT, account=account.address, role=role, kind=kind, name="m"
            )
            operators[1].approve(proposal["proposal_id"])
        subject = sample_uscc(1)
        operators[0].register_enterprise(enterprise_key.address, subject, "样例企业")
        operators[0].publish_catalogue(
            json.loads((HERE.parent / "ledger/catalogue/catalogue-v1.json").read_text())
        )
        bank, enterprise = LedgerClient(api, bank_key), LedgerClient(api, enterprise_key)
        agreement = agree_and_grant(bank, enterprise, operators[0], subject, tax, post_loan)
        bank.request(
            "POST", "/watches", {"subject": subject, "categories": ["tax"], "agreement_id": agreement}
        )
        wait_ready(f"{receiver}/_control/log")
        httpx.put(f"{receiver}/_control/bank", json={"mode": "ok"}).raise_for_status()
        secret = bank.request("POST", "/alerts/endpoints", {"url": f"{receiver}/ep/bank"})["secret"]
        httpx.put(f"{receiver}/_control/bank", json={"mode": "ok", "secrets": [secret]}).raise_for_status()
        processes.append(subprocess.Popen([cli, "alerts", "run"], env=env, stderr=subprocess.DEVNULL))

        def log() -> list[dict[str, Any]]:
            entries: list[dict[str, Any]] = httpx.get(f"{receiver}/_control/log", timeout=30).json()
            return entries

        def wait_for(count: int, timeout: float) -> None:
            deadline = time.time() + timeout
            while len(log()) < count and time.time() < deadline:
                time.sleep(1.0)  # the log is the receiver's whole record: not read often

        # warm-up: one submission through every step
        provider = LedgerClient(api, provider_key)
        provider.submit_records([arrears(subject, -n - 1) for n in range(BATCH)])
        wait_for(BATCH, 60)
        warm = len(log())

        batches = args.seconds * RATE_BATCHES
        sent: list[tuple[float, float]] = [(0.0, 0.0)] * batches
        clients = threading.local()

        def submit(i: int) -> None:
            client = getattr(clients, "provider", None)
            if client is None:
                client = clients.provider = LedgerClient(api, provider_key)
            records = [arrears(subject, i * BATCH + k) for k in range(BATCH)]
            started = time.time()
            client.submit_records(records)
            sent[i] = (started, time.time())

        start = time.time() + 0.5
        with ThreadPoolExecutor(max_workers=8) as pool:
            for i in range(batches):
                delay = start + i / RATE_BATCHES - time.time()
                if delay > 0:
                    time.sleep(delay)
                pool.submit(submit, i)
        wait_for(warm + batches * BATCH, 60)
        received = log()[warm:]
        with psycopg.connect(db_url) as conn:
            rows = conn.execute("SELECT id, created_ms, cleared_ms FROM alert_outbox").fetchall()
        created = {alert_id: made for alert_id, made, _ in rows}
        cleared = {alert_id: done for alert_id, _, done in rows}
        to_gate = [(cleared[e["webhook_id"]] - created[e["webhook_id"]]) / 1000 for e in received]
        to_receiver = [e["at"] - cleared[e["webhook_id"]] / 1000 for e in received]
        latencies = []
        for entry in received:
            enqueued = created[entry["webhook_id"]] / 1000
            in_flight = [s for s, done in sent if s <= enqueued <= done + 0.001]
            origin = min(in_flight) if in_flight else max(s for s, _ in sent if s <= enqueued)
            latencies.append(entry["at"] - origin)
        ingest = [done - s for s, done in sent]
        span = max(e["at"] for e in received) - start
        verified = sum(e["verified"] for e in received)
        print(f"alerts sent {batches * BATCH} at {RATE_BATCHES * BATCH}/s for {args.seconds} s; "
              f"received {len(received)} ({verified} verified) in {span:.1f} s "
              f"= {len(received) / span:.1f}/s")  # fmt: skip
        print(f"ingestion to webhook received: p50 {statistics.median(latencies) * 1000:.0f} ms, "
              f"p90 {percentile(latencies, 0.9) * 1000:.0f} ms, "
              f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms, "
              f"max {max(latencies) * 1000:.0f} ms (targets: p50 < 500 ms, p99 < 2 s)")  # fmt: skip
        print(f"baseline, the submission's own round trip ({BATCH} records): "
              f"p50 {statistics.median(ingest) * 1000:.0f} ms, p99 {percentile(ingest, 0.99) * 1000:.0f} ms; "
              f"ratio p50 {statistics.median(latencies) / statistics.median(ingest):.1f}")  # fmt: skip
        print(f"of which enqueued to cleared by the gate: p50 {statistics.median(to_gate) * 1000:.0f} ms, "
              f"p99 {percentile(to_gate, 0.99) * 1000:.0f} ms; cleared to received: "
              f"p50 {statistics.median(to_receiver) * 1000:.0f} ms, "
              f"p99 {percentile(to_receiver, 0.99) * 1000:.0f} ms")  # fmt: skip
        print(f"load average {os.getloadavg()[0]:.1f} (this 2-core machine is shared)")
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        subprocess.run([cli, "devnet", "down"], env=env, capture_output=True)
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Server time of each enterprise page of the portal, for an enterprise with 10,000 records
and 1,000 accesses, beside a bare JSON route of the same server in the same run.

The platform is started as in production (`credit-ledger up --no-serve`, then uvicorn with 2
workers) on PostgreSQL with the devnet. Members, the catalogue, an agreement and the
enterprise's grant go through the API (a few acts); then, in this process and in bulk (not
over HTTP), 10,000 records about the enterprise are ingested (`RecordsService.ingest`, the
sample records re-addressed to it) and 1,000 releases are made (`ReleaseService.release`).
The enterprise signs in as a browser would (a signed challenge; the session cookie), and each
page is requested alone (concurrency 1) `--requests` times after 3 warm-ups: the median and
p90 of the time to the full answer on loopback, which is the server's time plus a loopback
round trip. The baselines: `GET /portal/signin/challenge`, a bare JSON route (a few lines of
text, no database or chain), and `GET /chain` (reads each contract's EIP-712 domain).
Target: each page's median under 50 ms.

Needs PostgreSQL on 127.0.0.1:5432.
Run: .venv/bin/python bench/portal.py [--requests 30] [--records 10000] [--accesses 1000]
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
import time
import uuid
from pathlib import Path

import httpx
import psycopg
from eth_account import Account
from eth_account.messages import encode_defunct

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.release import ADMIN_URL, HERE, agree_and_grant, free_port, serve, wait_ready
from ledger.chain.membership import Action, InstitutionKind, Role
from ledger.devnet import devnet_key
from ledger.domain.catalogue import default_catalogue
from ledger.platform import Platform
from ledger.records.samples import sample_record, sample_uscc
from ledger.records.submission import Mode, parse_submission
from ledger.release.request import request_domain, sign_data_request
from ledger.sdk import LedgerClient
from ledger.services.chain_watch import ChainBehind
from ledger.settings import Settings
from ledger.wiring import records_service, release_service

PAGES = ["", "records", "accesses", "consents", "cases", "declarations", "notices", "evaluation", "financing"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(http: httpx.Client, path: str, requests: int) -> list[float]:
    for _ in range(3):
        assert http.get(path).status_code == 200, path
    times = []
    for _ in range(requests):
        began = time.perf_counter()
        answer = http.get(path)
        times.append(time.perf_counter() - began)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--accesses", type=int, default=1_000)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-portal-"))
    db_name = f"bench_portal_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db_name}"')
    env = {
        **os.environ,
        "LEDGER_DATA_DIR": str(work / "data"),
        "LEDGER_DEVNET_PORT": str(free_port()),
        "LEDGER_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{db_name}",
    }
    cli = str(Path(sys.executable).with_name("credit-ledger"))
    server: subprocess.Popen[bytes] | None = None
    try:
        subprocess.run([cli, "up", "--no-serve"], env=env, check=True, capture_output=True)
        port = free_port()
        server = serve("api.main:create", port, env)
        api = f"http://127.0.0.1:{port}"
        wait_ready(f"{api}/healthz")

        # -- members, catalogue, agreement and grant: a few acts through the API -------------
        catalogue = default_catalogue()
        tax, credit = catalogue.category_mask(["tax"]), catalogue.purpose_mask(["credit_assessment"])
        operators = [LedgerClient(api, Account.from_key(devnet_key(i))) for i in (1, 2)]  # DEVNET ONLY keys
        bank_key, provider_key, enterprise_key = Account.create(), Account.create(), Account.create()
        for account, role, kind in ((bank_key, Role.INSTITUTION, InstitutionKind.BANK),
                                    (provider_key, Role.PROVIDER, InstitutionKind.NONE)):  # fmt: skip
            proposal = operators[0].propose(
                Action.ADMIT, account=account.address, role=role, kind=kind, name="m"
            )
            operators[1].approve(proposal["proposal_id"])
        subject = sample_uscc(0)
        operators[0].register_enterprise(enterprise_key.address, subject, "郑州市样例科技有限公司")
        operators[0].publish_catalogue(
            json.loads((HERE.parent / "ledger/catalogue/catalogue-v1.json").read_text())
        )
        bank, enterprise = LedgerClient(api, bank_key), LedgerClient(api, enterprise_key)
        agreement = agree_and_grant(bank, enterprise, operators[0], subject, tax, credit)

        # -- in bulk, in this process: the records and the releases --------------------------
        os.environ.update({k: v for k, v in env.items() if k.startswith("LEDGER_")})
        # this process's release service only makes the accesses: its chain watch polls every 2 s
        # (a verification then vouches for 16 s), so the busy release loop does not starve it
        os.environ["LEDGER_CHAIN_WATCH_POLL_SECONDS"] = "2"
        platform = Platform.open(Settings())
        began = time.perf_counter()
        submissions = []
        for n in range(args.records):
            record = {**sample_record(n), "subject": subject, "source_ref": f"PORTAL-{n:06d}"}
            if "uscc" in record["fields"]:
                record["fields"] = {**record["fields"], "uscc": subject}
            submissions.append((n, parse_submission(record)))
        report = records_service(platform).ingest(provider_key.address, submissions, Mode.ALL_OR_NOTHING)
        ingest_seconds = time.perf_counter() - began
        chain = bank.chain()
        domain = request_domain(chain["chain_id"], chain["contracts"]["Consents"]["address"])
        releases = release_service(platform)
        began = time.perf_counter()
        try:
            deadline = time.monotonic() + 1200
            made = 0
            while made < args.accesses:
                signed = sign_data_request(
                    bank_key, domain, subject=subject, categories=tax, purpose=credit, agreement_id=agreement
                )
                try:
                    releases.release(signed)
                    made += 1
                except ChainBehind:  # its chain watch has not verified the chain lately (a loaded machine)
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
        finally:
            releases.close()
        release_seconds = time.perf_counter() - began

        # -- the enterprise signs in as a browser would, and reads its pages -----------------
        with httpx.Client(base_url=api, timeout=60) as http:
            challenge = http.get(
                "/portal/signin/challenge", params={"address": enterprise_key.address}
            ).json()
            signature = enterprise_key.sign_message(encode_defunct(text=challenge["message"])).signature.hex()
            signed_in = http.post(
                "/portal/signin",
                json={"message": challenge["message"], "signature": signature, "subject": subject},
            )
            assert signed_in.status_code == 200, signed_in.text
            http.cookies.set("ledger_portal", signed_in.cookies["ledger_portal"])
            record_id = http.get("/portal/enterprise/records").text.split(
                'href="/portal/enterprise/records/'
            )[1][:36]
            paths = [f"/portal/enterprise/{p}" for p in PAGES] + [f"/portal/enterprise/records/{record_id}"]
            bare = f"/portal/signin/challenge?address={enterprise_key.address}"
            results = {
                "GET /portal/signin/challenge (bare JSON baseline)": timed(http, bare, args.requests),
                "GET /chain (JSON, reads each contract's domain)": timed(http, "/chain", args.requests),
            }
            for path in paths:
                results[path] = timed(http, path, args.requests)
        load = os.getloadavg()[0]
        print(f"enterprise {subject}: {args.records:,} records ({report.created:,} created, "
              f"{ingest_seconds:.1f} s "
              f"in process), {args.accesses:,} releases ({release_seconds:.1f} s in process)")  # fmt: skip
        print(f"{args.requests} requests each, concurrency 1, uvicorn 2 workers, PostgreSQL, "
              f"load average {load:.1f}")  # fmt: skip
        for path, seconds in results.items():
            ms = [s * 1000 for s in seconds]
            median, p90 = statistics.median(ms), percentile(ms, 0.9)
            flag = "" if path.startswith("GET ") or median < 50 else "  OVER 50 ms"
            print(f"  {path:<58} median {median:6.2f} ms   p90 {p90:6.2f} ms{flag}")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        subprocess.run([cli, "devnet", "down"], env=env, check=False, capture_output=True)
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

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
import os
import statistics
import sys
import time
from pathlib import Path

import httpx
from eth_account.messages import encode_defunct

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.release import start_platform
from ledger.platform import Platform
from ledger.records.samples import sample_record
from ledger.records.submission import Mode, parse_submission
from ledger.release.request import sign_data_request
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

    bench = start_platform()  # members, the catalogue, five tax records and the bank's grant
    env, api, subject, agreement = bench.env, bench.api, bench.subject, bench.agreement
    bank_key, provider_key, enterprise_key = bench.bank_key, bench.provider_key, bench.enterprise_key
    tax, credit, domain = bench.tax, bench.credit, bench.domain
    try:
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
        bench.close()


if __name__ == "__main__":
    main()

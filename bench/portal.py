"""Server time of each portal page, for an enterprise with 10,000 records and 1,000 accesses,
beside a bare JSON route of the same server in the same run: the enterprise's pages, and the
institution's, the auditor's and the operator's on the same platform.

The platform is started as in production (`credit-ledger up --no-serve`, then uvicorn with 2
workers) on PostgreSQL with the devnet. Members (an auditor among them), the catalogue, an
agreement and the enterprise's grant go through the API (a few acts); then, in this process
and in bulk (not over HTTP), 10,000 records about the enterprise are ingested
(`RecordsService.ingest`, the sample records re-addressed to it) and 1,000 releases are made
(`ReleaseService.release`). Each member signs in as a browser would (a signed challenge; the
session cookie), and each page is requested alone (concurrency 1) `--requests` times after 3
warm-ups: the median and p90 of the time to the full answer on loopback, which is the
server's time plus a loopback round trip. The baselines: `GET /portal/signin/challenge`, a
bare JSON route (a few lines of text, no database or chain), and `GET /chain` (reads each
contract's EIP-712 domain). Target: each page's median under 50 ms.

On a loaded machine the times wait for the cores; beside them, the CPU each request cost
(user + system, from /proc, over the timed requests): the API server's processes, the
database's backends and anvil's, which a busy machine changes much less.

Needs PostgreSQL on 127.0.0.1:5432.
Run: .venv/bin/python bench/portal.py [--requests 30] [--records 10000] [--accesses 1000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.release import BenchPlatform, cpu_seconds, postgres_backends, process_tree, start_platform
from ledger.chain.membership import Action, InstitutionKind, Role
from ledger.devnet import devnet_key
from ledger.domain.log_names import CREDIT_RECORDS_LOG
from ledger.platform import Platform
from ledger.records.samples import sample_record
from ledger.records.submission import Mode, parse_submission
from ledger.release.request import sign_data_request
from ledger.sdk import LedgerClient
from ledger.services.chain_watch import ChainBehind
from ledger.settings import Settings
from ledger.wiring import records_service, release_service

ENTERPRISE_PAGES = ["", "records", "accesses", "consents", "cases", "declarations", "notices", "evaluation",
                    "financing"]  # fmt: skip
INSTITUTION_PAGES = ["", "request", "alerts", "loans"]
AUDITOR_PAGES = ["", f"entries/{CREDIT_RECORDS_LOG}/0"]
OPERATOR_PAGES = ["", "proposals", "members", "catalogue", "calendar", "kpis"]


@dataclass(frozen=True)
class Populated:
    created: int
    ingest_seconds: float
    release_seconds: float


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def populate(bench: BenchPlatform, records: int, accesses: int) -> Populated:
    """`records` records about the enterprise and `accesses` releases of them, in this process."""
    os.environ.update({k: v for k, v in bench.env.items() if k.startswith("LEDGER_")})
    # this process's release service only makes the accesses: its chain watch polls every 2 s
    # (a verification then vouches for 16 s), so the busy release loop does not starve it
    os.environ["LEDGER_CHAIN_WATCH_POLL_SECONDS"] = "2"
    platform = Platform.open(Settings())
    began = time.perf_counter()
    submissions = []
    for n in range(records):
        record = {**sample_record(n), "subject": bench.subject, "source_ref": f"PORTAL-{n:06d}"}
        if "uscc" in record["fields"]:
            record["fields"] = {**record["fields"], "uscc": bench.subject}
        submissions.append((n, parse_submission(record)))
    report = records_service(platform).ingest(bench.provider_key.address, submissions, Mode.ALL_OR_NOTHING)
    ingest_seconds = time.perf_counter() - began
    releases = release_service(platform)
    began = time.perf_counter()
    try:
        deadline = time.monotonic() + 1200
        made = 0
        while made < accesses:
            signed = sign_data_request(
                bench.bank_key, bench.domain, subject=bench.subject, categories=bench.tax,
                purpose=bench.credit, agreement_id=bench.agreement,
            )  # fmt: skip
            try:
                releases.release(signed)
                made += 1
            except ChainBehind:  # its chain watch has not verified the chain lately (a loaded machine)
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        releases.close()
    return Populated(report.created, ingest_seconds, time.perf_counter() - began)


def admit_auditor(bench: BenchPlatform) -> LocalAccount:
    """A new auditor, admitted by the devnet's two operators (DEVNET ONLY keys)."""
    auditor = Account.create()
    operators = [LedgerClient(bench.api, Account.from_key(devnet_key(i))) for i in (1, 2)]
    proposal = operators[0].propose(
        Action.ADMIT, account=auditor.address, role=Role.AUDITOR, kind=InstitutionKind.NONE, name="audit"
    )
    operators[1].approve(proposal["proposal_id"])
    return auditor


def signed_in(api: str, key: LocalAccount, subject: str | None = None) -> httpx.Client:
    """A client holding the session cookie of `key`, signed in as a browser would."""
    with httpx.Client(base_url=api, timeout=60) as http:
        challenge = http.get("/portal/signin/challenge", params={"address": key.address}).json()
        signature = key.sign_message(encode_defunct(text=challenge["message"])).signature.hex()
        answer = http.post(
            "/portal/signin",
            json={"message": challenge["message"], "signature": signature, "subject": subject},
        )
    assert answer.status_code == 200, answer.text
    return httpx.Client(base_url=api, timeout=60, cookies={"ledger_portal": answer.cookies["ledger_portal"]})


@dataclass(frozen=True)
class Timing:
    ms: list[float]
    cpu_ms: dict[str, float]  # per request, by group of processes


def timed(http: httpx.Client, path: str, requests: int, groups: dict[str, Callable[[], list[str]]]) -> Timing:
    for _ in range(3):
        assert http.get(path).status_code == 200, path
    times = []
    cpu_before = cpu_seconds(groups)
    for _ in range(requests):
        began = time.perf_counter()
        answer = http.get(path)
        times.append((time.perf_counter() - began) * 1000)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
    cpu_after = cpu_seconds(groups)
    return Timing(times, {k: (cpu_after[k] - cpu_before[k]) * 1000 / requests for k in groups})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--accesses", type=int, default=1_000)
    args = parser.parse_args()

    bench = start_platform()  # members, the catalogue, five tax records and the bank's grant
    clients: list[httpx.Client] = []
    try:
        auditor_key = admit_auditor(bench)
        populated = populate(bench, args.records, args.accesses)
        groups = {
            "api": process_tree(bench.processes[0].pid),
            "db": postgres_backends(bench.db_name),
            "anvil": process_tree(bench.anvil_pid()),
        }
        enterprise = signed_in(bench.api, bench.enterprise_key, bench.subject)
        institution = signed_in(bench.api, bench.bank_key)
        auditor = signed_in(bench.api, auditor_key)
        operator = signed_in(bench.api, Account.from_key(devnet_key(1)))  # DEVNET ONLY key
        clients += [enterprise, institution, auditor, operator]
        record_id = enterprise.get("/portal/enterprise/records").text.split(
            'href="/portal/enterprise/records/'
        )[1][:36]
        bare = f"/portal/signin/challenge?address={bench.enterprise_key.address}"
        pages: list[tuple[httpx.Client, str]] = [
            (enterprise, bare),
            (enterprise, "/chain"),
            *[(enterprise, f"/portal/enterprise/{p}") for p in ENTERPRISE_PAGES],
            (enterprise, f"/portal/enterprise/records/{record_id}"),
            *[(institution, f"/portal/institution/{p}") for p in INSTITUTION_PAGES],
            *[(auditor, f"/portal/auditor/{p}") for p in AUDITOR_PAGES],
            *[(operator, f"/portal/operator/{p}") for p in OPERATOR_PAGES],
        ]
        names = {bare: "GET /portal/signin/challenge (bare JSON baseline)",
                 "/chain": "GET /chain (JSON, reads each contract's domain)"}  # fmt: skip
        print(f"enterprise {bench.subject}: {args.records:,} records ({populated.created:,} created, "
              f"{populated.ingest_seconds:.1f} s in process), {args.accesses:,} releases "
              f"({populated.release_seconds:.1f} s in process)")  # fmt: skip
        print(f"{args.requests} requests each, concurrency 1, uvicorn 2 workers, PostgreSQL, "
              f"load average {os.getloadavg()[0]:.1f} at the start; CPU ms per request: API server, "
              "database, anvil")  # fmt: skip
        for http, path in pages:  # each line as it is measured
            timing = timed(http, path, args.requests, groups)
            median, p90 = statistics.median(timing.ms), percentile(timing.ms, 0.9)
            cpu = "  ".join(f"{k} {v:5.1f}" for k, v in timing.cpu_ms.items())
            name = names.get(path, path)
            flag = "" if name.startswith("GET ") or median < 50 else "  OVER 50 ms"
            print(f"  {name:<52} median {median:6.1f} ms  p90 {p90:6.1f} ms  cpu {cpu}{flag}", flush=True)
        print(f"load average {os.getloadavg()[0]:.1f} at the end")
    finally:
        for http in clients:
            http.close()
        bench.close()


if __name__ == "__main__":
    main()

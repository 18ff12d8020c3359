"""Authorized release against a bare read of the same records, side by side, in one run.

Both are served the same way (uvicorn with uvloop and httptools, 2 workers) from the
same PostgreSQL database, with anvil on the same 2-core machine, and loaded by wrk at
concurrency 1 and 16, in alternating rounds (three by default; each figure is the
median round). Each authorized request is a distinct pre-signed data request
(signature, nonce, deadline): the server verifies it, asks the chain, masks, hashes and
group-commits the access-trail entry before answering. Prints requests/s, median and
p99 latency, the CPU each request cost the server, anvil and PostgreSQL (from /proc),
and the ratios. Then, in this process against the same chain and database, a release
alone step by step (signature check, chain call, record read, trail append), next to the
whole of it through `ReleaseService.release`: where the time of a release at
concurrency 1 goes.

Needs wrk (`apt-get install -y wrk`) and PostgreSQL on 127.0.0.1:5432.
With `--block-times`, the authorized release instead on two platforms in the same run:
the devnet as `credit-ledger up` runs it (instant mining) and one sealing a block every
second with nothing mined in between, rounds alternating: a release reads the chain's
state at its latest block and waits for no block, so the two should match.

Run: .venv/bin/python bench/release.py [--seconds 10] [--rounds 3] [--block-times]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger.chain.agreements import CommitmentKind, CommitMessage, CountersignMessage, ProposeAgreementMessage
from ledger.chain.consents import AuthorizationQuery, GrantMessage
from ledger.chain.eip712 import Signed
from ledger.chain.membership import Action, InstitutionKind, Role, uscc_hash
from ledger.devnet import devnet_key
from ledger.domain.catalogue import default_catalogue
from ledger.platform import Platform
from ledger.records.samples import sample_record, sample_uscc
from ledger.release.request import (
    DEFAULT_VALIDITY_SECONDS,
    DataRequestMessage,
    request_domain,
    request_to_json,
    sign_data_request,
    verify_data_request,
)
from ledger.release.trail import TrailEntry
from ledger.sdk import LedgerClient
from ledger.settings import Settings
from ledger.wiring import release_service

HERE = Path(__file__).resolve().parent
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, timeout: float = 120) -> None:
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready")


def serve(app: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--factory", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "2", "--loop", "uvloop", "--http", "httptools", "--log-level", "warning",
         "--no-access-log"],
        env=env, cwd=HERE.parent,
    )  # fmt: skip


_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: str) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None  # gone meanwhile


def cpu_seconds(groups: dict[str, Callable[[], list[str]]]) -> dict[str, float]:
    """CPU time (user + system) used so far by each group of processes (Linux /proc)."""
    used = {}
    for name, pids in groups.items():
        total = 0
        for pid in pids():
            fields = _stat(pid)
            if fields is not None:
                total += int(fields[11]) + int(fields[12])  # utime, stime
        used[name] = total / _TICK
    return used


def process_tree(root: int) -> Callable[[], list[str]]:
    """`root` and its descendants, looked up afresh each call."""

    def pids() -> list[str]:
        parents = {}
        for pid in filter(str.isdigit, os.listdir("/proc")):
            fields = _stat(pid)
            if fields is not None:
                parents[pid] = fields[1]
        found, frontier = [str(root)], [str(root)]
        while frontier:
            frontier = [pid for pid, parent in parents.items() if parent in frontier]
            found += frontier
        return found

    return pids


def postgres_backends(db_name: str) -> Callable[[], list[str]]:
    """The PostgreSQL server processes serving connections to `db_name`."""

    def pids() -> list[str]:
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                title = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if title.startswith(b"postgres: ") and f" {db_name} ".encode() in title:
                found.append(pid)
        return found

    return pids


def wrk(url: str, connections: int, seconds: int, script: list[str] | None = None) -> dict[str, float]:
    threads = min(connections, 2)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        command += ["-s", script[0], url, "--", *script[1:], str(threads)]
    else:
        command.append(url)
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    requests = float(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)

    def pct(p: str) -> float:
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return {
        "rps": rps,
        "p50": pct("50"),
        "p99": pct("99"),
        "errors": float(non2xx.group(1)) if non2xx else 0.0,
        "requests": requests,
    }


def median_round(rounds: list[dict[str, float]]) -> dict[str, float]:
    """The round with the median throughput (its latencies with it)."""
    return sorted(rounds, key=lambda r: r["rps"])[len(rounds) // 2]


def release_alone(
    env: dict[str, str], sign: Callable[[], Signed[DataRequestMessage]], subject: str, level: int
) -> None:
    """Releases one at a time in this process: the steps in sequence on one thread, then the service.

    The steps are the library's own calls, as the release service makes them for a batch
    of one (the signature check, one `authorize` call, then the access trail's transaction:
    nonce, record read, entry, commit), each timed inside a sequence, not in a loop of its
    own: in a tight loop each runs with warm caches and measures about half of what it
    costs in a release. What `ReleaseService.release` adds on top is its thread handoffs
    and the rest of the work (request checks, masking and hashing, building the entry);
    what it saves is the chain's wait, which it overlaps with the trail's first round trip.
    """
    os.environ.update({k: v for k, v in env.items() if k.startswith("LEDGER_")})
    platform = Platform.open(Settings())
    service = release_service(platform)
    count, warm_up = 500, 50
    requests = [sign() for _ in range(2 * (count + warm_up))]
    m = requests[0].message
    query = AuthorizationQuery(
        m.institution, uscc_hash(subject), m.categories, m.purpose, m.agreement_id, level
    )
    names = ("signature and deadline check", "chain: one authorize eth_call",
             "trail transaction: nonce, read, entry", "the steps in sequence")  # fmt: skip
    steps: dict[str, list[float]] = {name: [] for name in names}
    whole: list[float] = []
    try:
        for n, signed in enumerate(requests[: count + warm_up]):
            began = time.perf_counter()
            verify_data_request(signed, service.domain, now=time.time())
            checked = time.perf_counter()
            service.authorizer.authorize(query)
            authorized = time.perf_counter()
            with service.trail.transaction() as tx:
                fresh = tx.spend_nonces([(m.institution, f"bench-alone:{n}")])
                service.reader.current(tx.session, [subject], ["tax"])
                fresh()
                payload = {  # what the trail indexes, and the signed request a release's entry carries
                    "institution": m.institution,
                    "subject": subject,
                    "released_at": datetime.now(UTC).isoformat(),
                    "request": request_to_json(signed),
                }
                tx.append([TrailEntry(payload, m.institution, f"bench-alone:{n}")])
            logged = time.perf_counter()
            if n >= warm_up:
                marks = (checked - began, authorized - checked, logged - authorized)
                for name, took in zip(names, (*marks, logged - began), strict=True):
                    steps[name].append(took)
        for n, signed in enumerate(requests[count + warm_up :]):
            began = time.perf_counter()
            service.release(signed)
            if n >= warm_up:
                whole.append(time.perf_counter() - began)
    finally:
        service.close()
    print(f"\na release alone, in this process (median of {count}, wall):")
    for name, times in steps.items():
        print(f"  {name:<34}{1000 * statistics.median(times):>6.2f} ms")
    print(
        f"  {'ReleaseService.release, whole':<34}{1000 * statistics.median(whole):>6.2f} ms"
        "  (+ thread handoffs, request checks, masking, hashing, the entry)"
    )


def agree_and_grant(
    bank: LedgerClient,
    enterprise: LedgerClient,
    operator: LedgerClient,
    subject: str,
    categories: int,
    purposes: int,
) -> int:
    """The bank's commitment and agreement (countersigned by `operator`) and the enterprise's
    grant to the bank over `categories` for `purposes`, valid a day: the agreement id."""
    commitment = bank.act(
        CommitMessage, kind=CommitmentKind.INSTITUTION_USAGE, document_hash=keccak(text="c")
    )
    now = int(time.time())
    agreement = int(bank.act(
        ProposeAgreementMessage, categories=categories, purposes=purposes, max_level=4, valid_from=now - 60,
        valid_until=now + 86400, document_hash=keccak(text="a"), commitment_id=commitment["created_id"],
    )["created_id"])  # fmt: skip
    operator.act(CountersignMessage, agreement_id=agreement)
    enterprise.act(
        GrantMessage, uscc_hash=uscc_hash(subject), institution=bank.account.address, agreement_id=agreement,
        categories=categories, purposes=purposes, raw_categories=0, expires_at=now + 86400,
    )  # fmt: skip
    return agreement


@dataclass
class BenchPlatform:
    """A platform the bench loads: `credit-ledger up --no-serve` in its own data directory and
    database, the API served by uvicorn, members admitted, five tax records, one grant."""

    work: Path
    env: dict[str, str]
    db_name: str
    api: str
    processes: list[subprocess.Popen[bytes]]
    bank_key: LocalAccount
    subject: str
    agreement: int
    domain: dict[str, object]
    tax: int
    credit: int
    provider_key: LocalAccount
    enterprise_key: LocalAccount

    def sign(self, validity_seconds: int = 3600) -> Signed[DataRequestMessage]:
        return sign_data_request(
            self.bank_key, self.domain, subject=self.subject, categories=self.tax, purpose=self.credit,
            agreement_id=self.agreement, validity_seconds=validity_seconds,
        )  # fmt: skip

    def signed_bodies(self, path: Path, count: int) -> Path:
        """`count` distinct signed data requests, one JSON body a line (release_bodies.lua)."""
        with path.open("w") as out:
            for _ in range(count):
                out.write(json.dumps(request_to_json(self.sign())) + "\n")
        return path

    def anvil_pid(self) -> int:
        return int(next((self.work / "data").rglob("anvil.pid")).read_text())

    def close(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(timeout=30)
        subprocess.run([CLI, "devnet", "down"], env=self.env, check=False, capture_output=True)
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
        shutil.rmtree(self.work, ignore_errors=True)


CLI = str(Path(sys.executable).with_name("credit-ledger"))


def start_platform(extra_env: dict[str, str] | None = None) -> BenchPlatform:
    """Bring a platform up (its chain set by `extra_env`) and prepare one grant to release under."""
    work = Path(tempfile.mkdtemp(prefix="bench-release-"))
    db_name = f"bench_release_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db_name}"')
    api_port = free_port()
    env = {
        **os.environ,
        "LEDGER_DATA_DIR": str(work / "data"),
        "LEDGER_DEVNET_PORT": str(free_port()),
        "LEDGER_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{db_name}",
        **(extra_env or {}),
    }
    processes: list[subprocess.Popen[bytes]] = []
    platform = BenchPlatform(work, env, db_name, f"http://127.0.0.1:{api_port}", processes,
                             Account.create(), sample_uscc(0), 0, {}, 0, 0,
                             Account.create(), Account.create())  # fmt: skip
    try:
        subprocess.run([CLI, "up", "--no-serve"], env=env, check=True, capture_output=True)
        # the servers reach the devnet `up` started through LEDGER_DEVNET_PORT (no LEDGER_RPC_URL),
        # so acts are acknowledged as on the platform itself: once anvil's state on disk covers them
        processes.append(serve("api.main:create", api_port, env))
        api = platform.api
        wait_ready(f"{api}/healthz")

        catalogue = default_catalogue()
        tax, credit = catalogue.category_mask(["tax"]), catalogue.purpose_mask(["credit_assessment"])
        operators = [LedgerClient(api, Account.from_key(devnet_key(i))) for i in (1, 2)]  # DEVNET ONLY keys
        bank_key, provider_key, enterprise_key = (
            platform.bank_key,
            platform.provider_key,
            platform.enterprise_key,
        )
        for account, role, kind in ((bank_key, Role.INSTITUTION, InstitutionKind.BANK),
                                    (provider_key, Role.PROVIDER, InstitutionKind.NONE)):  # fmt: skip
            proposal = operators[0].propose(
                Action.ADMIT, account=account.address, role=role, kind=kind, name="m"
            )
            operators[1].approve(proposal["proposal_id"])
        subject = platform.subject
        operators[0].register_enterprise(enterprise_key.address, subject, "郑州市样例科技有限公司")
        operators[0].publish_catalogue(
            json.loads((HERE.parent / "ledger/catalogue/catalogue-v1.json").read_text())
        )
        provider = LedgerClient(api, provider_key)
        records = [
            {**sample_record(2 + 3 * i), "subject": subject, "source_ref": f"BENCH-{i}"} for i in range(5)
        ]
        provider.submit_records(records)  # five tax records of the subject
        bank, enterprise = LedgerClient(api, bank_key), LedgerClient(api, enterprise_key)
        platform.agreement = agree_and_grant(bank, enterprise, operators[0], subject, tax, credit)
        check = bank.release(subject, tax, credit, platform.agreement)
        assert len(check["data"]["records"]) == 5, check
        chain = bank.chain()
        platform.domain = request_domain(chain["chain_id"], chain["contracts"]["Consents"]["address"])
        platform.tax, platform.credit = tax, credit
    except BaseException:
        platform.close()
        raise
    return platform


#: the chains `--block-times` compares: the devnet as `credit-ledger up` runs it by default
#: (each transaction mined at once, an empty block every 2 s), and a chain that seals a block
#: every second and nothing in between, as a permissioned network does
CHAINS = {
    "instant mining": {"LEDGER_DEVNET_BLOCK_TIME_SECONDS": "2", "LEDGER_DEVNET_MIXED_MINING": "true"},
    "1-second blocks": {"LEDGER_DEVNET_BLOCK_TIME_SECONDS": "1", "LEDGER_DEVNET_MIXED_MINING": "false"},
}


def _ratios(values: list[float]) -> str:
    return f"{' '.join(f'{x:.2f}' for x in values)} (median {statistics.median(values):.2f})"


def compare_block_times(seconds: int, rounds_per_row: int) -> None:
    """The authorized release on both `CHAINS`, in alternating rounds of the same run."""
    platforms = {}
    try:
        for name, extra in CHAINS.items():
            print(f"bringing up a platform on {name}", file=sys.stderr)
            platforms[name] = start_platform(extra)
        rate = dict.fromkeys(platforms, 500.0)  # sizes the first round's bodies; then the last round's
        rounds: dict[tuple[str, int], list[dict[str, float]]] = {}
        for connections in (1, 16):
            for n in range(1, rounds_per_row + 1):
                for name, platform in platforms.items():
                    count = int(1.5 * rate[name] * seconds) + 100
                    bodies = platform.signed_bodies(platform.work / f"bodies-{connections}-{n}.ndjson", count)
                    script = [str(HERE / "release_bodies.lua"), str(bodies)]
                    result = wrk(f"{platform.api}/releases", connections, seconds, script)
                    rate[name] = max(rate[name], result["rps"])
                    rounds.setdefault((name, connections), []).append(result)
                    print(
                        f"round {n}/{rounds_per_row}, concurrency {connections}, {name}: "
                        f"{result['rps']:.0f} req/s, p50 {result['p50']:.2f} ms",
                        file=sys.stderr,
                    )
        print(f"{'chain':<18}{'conc':>5}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}")
        for (name, connections), values in rounds.items():
            r = median_round(values)
            print(
                f"{name:<18}{connections:>5}{r['rps']:>10.0f}{r['p50']:>9.2f}{r['p99']:>9.2f}{r['errors']:>9.0f}"
            )
        instant, blocks = CHAINS
        for connections in (1, 16):
            fast, slow = rounds[(instant, connections)], rounds[(blocks, connections)]
            throughput = [s["rps"] / f["rps"] for f, s in zip(fast, slow, strict=True)]
            latency = [s["p50"] / f["p50"] for f, s in zip(fast, slow, strict=True)]
            print(
                f"concurrency {connections}: {blocks} / {instant}, round by round: throughput "
                f"{_ratios(throughput)}, median latency {_ratios(latency)}"
            )
    finally:
        for platform in platforms.values():
            platform.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per path and concurrency")
    parser.add_argument(
        "--block-times", action="store_true",
        help="the authorized release on instant mining beside 1-second blocks, instead of the bare read",
    )  # fmt: skip
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install -y wrk")
    if args.block_times:
        compare_block_times(args.seconds, args.rounds)
        return

    platform = start_platform()
    try:
        bare_port, env, api, db_name = free_port(), platform.env, platform.api, platform.db_name
        platform.processes.append(serve("bench.bare_read_app:create", bare_port, env))
        wait_ready(f"http://127.0.0.1:{bare_port}/docs")
        processes, subject, signed_bodies = platform.processes, platform.subject, platform.signed_bodies
        catalogue = default_catalogue()

        # Rounds alternate bare and authorized, and each figure is the median round: uvicorn's
        # workers share one listening socket, and wrk's connections can land unevenly on
        # them (12 on one, 4 on the other), which moves a single round by ±20%.
        # CPU per request of each part, from /proc: the server's workers (the API's for an
        # authorized round, the bare app's for a bare one), anvil, and the database's
        # backends. wrk keeps 16 requests in flight on 2 cores shared by all of them, so
        # at concurrency 16 throughput follows the total: a steadier figure than req/s.
        anvil_pid = platform.anvil_pid()
        groups = {
            "api": process_tree(processes[0].pid),
            "bare": process_tree(processes[1].pid),
            "chain": process_tree(anvil_pid),
            "database": postgres_backends(db_name),
        }

        def measured(
            server: str, url: str, connections: int, script: list[str] | None = None
        ) -> dict[str, float]:
            before = cpu_seconds(groups)
            result = wrk(url, connections, args.seconds, script)
            after = cpu_seconds(groups)
            per_request = {g: 1000 * (after[g] - before[g]) / max(result["requests"], 1) for g in groups}
            result.update(cpu_server=per_request[server], cpu_chain=per_request["chain"])
            result.update(cpu_database=per_request["database"])
            result["cpu"] = result["cpu_server"] + result["cpu_chain"] + result["cpu_database"]
            return result

        rounds: dict[tuple[str, int], list[dict[str, float]]] = {}
        for connections in (1, 16):
            for n in range(1, args.rounds + 1):
                bare = measured("bare", f"http://127.0.0.1:{bare_port}/bare/{subject}/tax", connections)
                # each round has its own bodies, a nonce is never reused: sized from the bare
                # read just measured, which the authorized path does not outrun (a body
                # sent twice would be refused as a replay and show among the non-2xx)
                count = int(1.25 * bare["rps"] * args.seconds) + 100
                bodies = signed_bodies(platform.work / f"bodies-{connections}-{n}.ndjson", count)
                script = [str(HERE / "release_bodies.lua"), str(bodies)]
                authorized = measured("api", f"{api}/releases", connections, script)
                rounds.setdefault(("bare read", connections), []).append(bare)
                rounds.setdefault(("authorized release", connections), []).append(authorized)
                print(
                    f"round {n}/{args.rounds}, concurrency {connections}: bare {bare['rps']:.0f} req/s, "
                    f"authorized {authorized['rps']:.0f} req/s",
                    file=sys.stderr,
                )
        results = {key: median_round(values) for key, values in rounds.items()}
        print(
            f"{'path':<20}{'conc':>5}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}"
            f"   CPU ms/request: {'server':>7}{'chain':>7}{'db':>7}{'total':>7}"
        )
        for (name, connections), r in results.items():
            print(
                f"{name:<20}{connections:>5}{r['rps']:>10.0f}{r['p50']:>9.2f}{r['p99']:>9.2f}{r['errors']:>9.0f}"
                f"{'':>18}{r['cpu_server']:>7.2f}{r['cpu_chain']:>7.2f}{r['cpu_database']:>7.2f}{r['cpu']:>7.2f}"
            )
        for connections in (1, 16):
            bare, release = results[("bare read", connections)], results[("authorized release", connections)]
            print(
                f"concurrency {connections}: authorized/bare throughput {release['rps'] / bare['rps']:.2f}, "
                f"median latency ratio {release['p50'] / bare['p50']:.2f}, "
                f"CPU per request ratio {release['cpu'] / bare['cpu']:.2f}"
            )
            # a round's two paths ran back to back: their ratio moves less with the host's
            # speed, which drifts between rounds, than the ratio of two median rounds
            bares, releases = rounds[("bare read", connections)], rounds[("authorized release", connections)]
            latency = [r["p50"] / b["p50"] for b, r in zip(bares, releases, strict=True)]
            throughput = [r["rps"] / b["rps"] for b, r in zip(bares, releases, strict=True)]
            print(
                f"  round by round: latency ratio {' '.join(f'{x:.2f}' for x in latency)} "
                f"(median {statistics.median(latency):.2f}), throughput ratio "
                f"{' '.join(f'{x:.2f}' for x in throughput)} (median {statistics.median(throughput):.2f})"
            )
        level = catalogue.max_level(["tax"], raw=False)
        release_alone(env, lambda: platform.sign(DEFAULT_VALIDITY_SECONDS), subject, level)
    finally:
        platform.close()


if __name__ == "__main__":
    main()

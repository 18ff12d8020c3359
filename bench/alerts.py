"""Alerts to institutions (issue 19): the figures, by section.

Sections (all by default; `--section NAME` runs one):

- `isolation`: 10,000 alerts to 100 endpoints, twice in the same run (after 1,000 to
  warm up, not measured): first with every endpoint healthy, then with 10 that answer
  after 2 s and 5 that always fail (500). The figure is the healthy endpoints' p99
  latency (enqueue committed -> webhook received) in the second phase over their p99 in
  the first (the issue's bound: at most 2).
- `kill`: 20 rounds of SIGKILL of a sender process mid-delivery, on SQLite and on
  PostgreSQL: alerts lost (must be 0), duplicates, and duplicates under another
  webhook-id or with another body (must be 0).

The sender runs as a process of its own (as `credit-ledger alerts run` does) with the
production pacing; the receiver is a separate uvicorn process on 127.0.0.1 that verifies
every signature with the `standardwebhooks` library. The delivery gate is a fake that
clears at once: these sections measure delivery, not the on-chain check (the trigger and
gate work adds its own section, ingestion to receipt, to this file).

Needs PostgreSQL on 127.0.0.1:5432 for `kill` (and for `isolation --db postgresql`).
Run: .venv/bin/python bench/alerts.py [--section isolation|kill] [--db sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ledger.alerts.endpoints import AlertEndpoints  # noqa: E402
from ledger.alerts.outbox import enqueue  # noqa: E402
from ledger.storage.database import Database, migrate  # noqa: E402
from tests.alerts_receiver import Receiver, control, free_port  # noqa: E402
from tests.integration.alerts.kill_rounds import kill_rounds  # noqa: E402
from tests.integration.alerts.support import draft, institution  # noqa: E402

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


@contextmanager
def database(kind: str) -> Iterator[Database]:
    """A fresh, migrated database of `kind`, removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'ledger.db'}"
            migrate(url)
            db = Database(url)
            yield db
            db.engine.dispose()
        return
    name = f"ledger_bench_alerts_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        migrate(url)
        db = Database(url)
        yield db
        db.engine.dispose()
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def process(*args: str) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stderr=subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- isolation -----------------------------------------------------------------------------


def _phase(
    db: Database,
    base: str,
    insts: list[str],
    names: list[str],
    *,
    total: int,
    rate: float,
    wait_for: set[int],
) -> dict[str, float]:
    """Enqueue `total` alerts round-robin at `rate`/s; latency of those to endpoints `wait_for`."""
    httpx.delete(f"{base}/_control/log").raise_for_status()
    sent_at: dict[str, float] = {}
    target: set[str] = set()
    batch = max(1, int(rate / 20))
    began = time.monotonic()
    for start in range(0, total, batch):
        due = began + start / rate
        time.sleep(max(0.0, due - time.monotonic()))
        with db.session() as session:
            ids = [
                (i % len(insts), enqueue(session, draft(insts[i % len(insts)])))
                for i in range(start, start + batch)
            ]
        now = time.time()
        for endpoint, alert_id in ids:
            sent_at[alert_id] = now
            if endpoint in wait_for:
                target.add(alert_id)
    deadline = time.monotonic() + 300
    while True:
        log = httpx.get(f"{base}/_control/log", timeout=30).json()
        got = {e["webhook_id"]: e["at"] for e in log if e["webhook_id"] in target}
        if len(got) == len(target) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    latencies = [(got[a] - sent_at[a]) * 1000 for a in target if a in got]
    unverified = sum(1 for e in log if not e["verified"])
    return {
        "alerts": total,
        "measured": len(target),
        "received": len(got),
        "p50_ms": statistics.median(latencies),
        "p99_ms": p(latencies, 0.99),
        "max_ms": max(latencies),
        "unverified": unverified,
    }


def isolation(db_kind: str, total: int, rate: float) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with database(db_kind) as db, process("-m", "tests.alerts_receiver", str(port), "--no-bodies"):
        _wait(lambda: httpx.get(f"{base}/_control/log").status_code == 200)
        names = [f"e{i}" for i in range(100)]
        insts = [institution(2000 + i) for i in range(100)]
        registry = AlertEndpoints(db, environment="development")
        for name, inst in zip(names, insts, strict=True):
            control(base, name, mode="ok")
            secret = registry.register(inst, f"{base}/ep/{name}").secret
            control(base, name, secrets=[secret])
        healthy = set(range(15, 100))
        with process("-m", "tests.integration.alerts.sender_process", db.url, "default"):
            # warm-up, not measured: connections to every endpoint opened, caches filled
            _phase(db, base, insts, names, total=1000, rate=rate, wait_for=set(range(100)))
            first = _phase(db, base, insts, names, total=total, rate=rate, wait_for=healthy)
            for i in range(10):
                control(base, names[i], mode="slow:2")
            for i in range(10, 15):
                control(base, names[i], mode="fail")
            second = _phase(db, base, insts, names, total=total, rate=rate, wait_for=healthy)
    print(f"\n## isolation ({db_kind}; {total} alerts per phase to 100 endpoints at {rate:.0f}/s)")
    print("phase                              healthy alerts  received  p50 ms  p99 ms  max ms")
    for label, r in (("all 100 healthy", first), ("10 slow (2 s) + 5 failing", second)):
        print(
            f"{label:<34} {r['measured']:>14}  {r['received']:>8}  {r['p50_ms']:>6.0f}  "
            f"{r['p99_ms']:>6.0f}  {r['max_ms']:>6.0f}"
        )
    print(f"healthy p99 ratio (faulty / healthy run): {second['p99_ms'] / first['p99_ms']:.2f}  (bound: 2)")
    print(f"signatures not verified by the receiver: {first['unverified'] + second['unverified']}")


def _wait(ready: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if ready():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("not ready in time")


# -- kill ----------------------------------------------------------------------------------


def kill(rounds: int, per_round: int) -> None:
    print(f"\n## kill ({rounds} rounds of SIGKILL of the sender mid-delivery, {per_round} alerts a round)")
    print("database    alerts  received  duplicates  lost  other-id/body  unverified  seconds")
    for kind in ("sqlite", "postgresql"):
        began = time.monotonic()
        with database(kind) as db, Receiver() as receiver:
            receiver.app.keep_bodies = True
            r = kill_rounds(db, receiver, rounds=rounds, per_round=per_round)
        print(
            f"{kind:<10} {r.alerts:>7} {r.received:>9} {r.duplicates:>11} {r.lost:>5} "
            f"{r.foreign + r.mismatched:>14} {r.unverified:>11} {time.monotonic() - began:>8.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--section", choices=["isolation", "kill"], action="append")
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--alerts", type=int, default=10_000, help="alerts per isolation phase")
    parser.add_argument("--rate", type=float, default=200.0, help="alerts enqueued per second")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--per-round", type=int, default=50)
    args = parser.parse_args()
    sections = args.section or ["isolation", "kill"]
    if "isolation" in sections:
        isolation(args.db, args.alerts, args.rate)
    if "kill" in sections:
        kill(args.rounds, args.per_round)


if __name__ == "__main__":
    main()

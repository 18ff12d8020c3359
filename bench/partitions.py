"""The release path's and the self-service views' database work, before and after monthly partitions.

Two throw-away PostgreSQL databases hold the same bulk-generated data (the same seed):
one at migration 0014 (plain tables), one at the latest migration (0015: monthly
partitions), where each twelfth of the rows is closed as a month by
`ledger.storage.partitions.close_month` as `credit-ledger db partitions` would on the
1st. The statements timed are the ones the platform sends (copied from the modules named
beside each), one at a time on one connection, for random subjects:

- `release: records read` (`ledger.release.reader`): a subject's current records;
- `release: trail append` (`ledger.logs.store`, `ledger.release.trail`): the head locked,
  one trail entry and its index row written, the head moved, committed (tiles and the
  nonce are left out: the same in both layouts);
- `self-service: newest releases` (`ledger.release.accesses`): an enterprise's newest 20
  releases and their leaves;
- `institution: releases after cursor` (same module): the 20 after a recent cursor;
- `self-query: records` (`ledger.selfservice.selfquery`): a subject's record versions;
- `tile: 256 leaves` (`ledger.logs.tlog`): an entry bundle.

    .venv/bin/python bench/partitions.py                       # 1,000,000 trail rows, 200,000 records
    .venv/bin/python bench/partitions.py --trail 100000 --records 20000 --repeat 100
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import date

import psycopg
from alembic import command
from sqlalchemy import Connection, text

from ledger.storage import partitions
from ledger.storage.database import alembic_config, make_engine

ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
MONTHS = 12
SUBJECTS = 50_000
INSTITUTIONS = 20
TRAIL = "access-trail"

_SUBJECT = "'S' || lpad(((s * 7919) % {n})::text, 6, '0')"
_SERIES = "generate_series(CAST(:a AS bigint), CAST(:b AS bigint)) s"
_TRAIL_ENTRIES = (
    "INSERT INTO log_entries (log_name, seq, leaf, leaf_hash) SELECT 'access-trail', s, "
    f"convert_to(repeat(md5(s::text), 10), 'UTF8'), sha256(int8send(s)) FROM {_SERIES}"
)
_TRAIL_INDEX = (
    "INSERT INTO access_releases (seq, subject, institution, released_at) "
    f"SELECT s, {_SUBJECT.format(n=SUBJECTS)}, 'I' || (s % {INSTITUTIONS}), now() FROM {_SERIES}"
)
_RECORDS = (
    "INSERT INTO credit_records (record_id, version, provider, source_ref, category, subject, "
    "event_date, severity, catalogue_version, public_fields, sealed, key_id, content_mac, commitment, "
    "log_seq, leaf_hash, created_at) SELECT md5(s::text)::uuid::text, 1, 'P', 'ref-' || s, "
    "(ARRAY['tax','social_insurance','registration','administrative_penalty'])[1 + s % 4], "
    f"{_SUBJECT.format(n=SUBJECTS)}, DATE '2026-01-01', NULL, 1, '{{}}', "
    "convert_to(repeat('x', 200), 'UTF8'), 'k', sha256(int8send(s)), sha256(int8send(s)), s, "
    f"sha256(int8send(s)), now() FROM {_SERIES}"
)
_HEAD = (
    "INSERT INTO log_heads (name, size, frontier) VALUES (:log, :size, '') "
    "ON CONFLICT (name) DO UPDATE SET size = :size"
)

# ledger.release.reader._CURRENT with one subject and the four categories
_RECORDS_READ = (
    "SELECT r.id, r.record_id, r.version, r.subject, r.category, r.event_date, r.severity,"
    " EXISTS (SELECT 1 FROM objections o WHERE o.record_id = r.record_id AND o.status IN ('open')),"
    " EXISTS (SELECT 1 FROM repair_applications a WHERE a.record_id = r.record_id AND a.status = 'approved')"
    " FROM credit_records r WHERE r.subject IN (:s) AND r.category IN "
    "('tax','social_insurance','registration','administrative_penalty') ORDER BY r.record_id, r.version"
)


def _load(url: str, trail: int, records: int, partitioned: bool) -> float:
    """Fill the database month by month; the seconds it took."""
    engine = make_engine(url)
    started = time.perf_counter()
    for month in range(MONTHS):
        t = (trail * month // MONTHS, trail * (month + 1) // MONTHS)
        r = (records * month // MONTHS, records * (month + 1) // MONTHS)
        with engine.begin() as conn:
            conn.execute(text(_TRAIL_ENTRIES), {"a": t[0], "b": t[1] - 1})
            conn.execute(text(_TRAIL_INDEX), {"a": t[0], "b": t[1] - 1})
            conn.execute(text(_RECORDS), {"a": r[0], "b": r[1] - 1})
            conn.execute(text(_HEAD), {"log": TRAIL, "size": t[1]})
            conn.execute(text(_HEAD), {"log": "credit-records", "size": r[1]})
            if partitioned and month < MONTHS - 1:  # the last month stays open
                partitions.close_month(conn, date(2030, month + 2, 1))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started


def _index_mb(conn: Connection, tables: list[str]) -> float:
    total = conn.execute(
        text(
            "SELECT coalesce(sum(pg_indexes_size(r)), 0) FROM ("
            "SELECT p.relid AS r FROM unnest(CAST(:t AS text[])) t, "
            "LATERAL pg_partition_tree(to_regclass(t)) p "
            "UNION SELECT to_regclass(t) FROM unnest(CAST(:t AS text[])) t) tree"
        ),
        {"t": tables},
    ).scalar_one()
    return float(total) / 2**20


def _measure(url: str, trail: int, repeat: int, seed: int) -> dict[str, tuple[float, float]]:
    engine = make_engine(url)
    rng = random.Random(seed)
    timings: dict[str, tuple[float, float]] = {}
    with engine.connect() as conn:
        conn.commit()

        def timed(name: str, run: Callable[[], object]) -> None:
            for _ in range(max(3, repeat // 10)):  # warm the plan cache and the buffers
                run()
            samples = []
            for _ in range(repeat):
                start = time.perf_counter()
                run()
                samples.append((time.perf_counter() - start) * 1000)
            samples.sort()
            timings[name] = (statistics.median(samples), samples[int(len(samples) * 0.95) - 1])

        def subject() -> str:
            return f"S{rng.randrange(SUBJECTS):06d}"

        timed("release: records read", lambda: conn.execute(text(_RECORDS_READ), {"s": subject()}).all())

        def append() -> None:
            size = conn.execute(
                text("SELECT size FROM log_heads WHERE name = :n FOR UPDATE"), {"n": TRAIL}
            ).scalar_one()
            conn.execute(text(_TRAIL_ENTRIES), {"a": size, "b": size})
            conn.execute(text(_TRAIL_INDEX), {"a": size, "b": size})
            conn.execute(text("UPDATE log_heads SET size = :s WHERE name = :n"), {"s": size + 1, "n": TRAIL})
            conn.commit()

        timed("release: trail append", append)

        def newest() -> None:
            seqs = list(
                conn.execute(
                    text("SELECT seq FROM access_releases WHERE subject = :s ORDER BY seq DESC LIMIT 20"),
                    {"s": subject()},
                ).scalars()
            )
            conn.execute(
                text("SELECT seq, leaf FROM log_entries WHERE log_name = :n AND seq = ANY(:q)"),
                {"n": TRAIL, "q": seqs},
            ).all()

        timed("self-service: newest releases", newest)
        timed(
            "institution: releases after cursor",
            lambda: conn.execute(
                text(
                    "SELECT seq FROM access_releases WHERE institution = :i AND seq > :c "
                    "ORDER BY seq LIMIT 20"
                ),
                {"i": f"I{rng.randrange(INSTITUTIONS)}", "c": trail - rng.randrange(1, trail // MONTHS)},
            ).all(),
        )
        timed(
            "self-query: records",
            lambda: conn.execute(
                text("SELECT * FROM credit_records WHERE subject = :s"), {"s": subject()}
            ).all(),
        )
        timed(
            "tile: 256 leaves",
            lambda: conn.execute(
                text(
                    "SELECT seq, leaf FROM log_entries WHERE log_name = :n AND seq >= :a AND seq < :b "
                    "ORDER BY seq"
                ),
                {"n": TRAIL, "a": (a := rng.randrange(trail // 256) * 256), "b": a + 256},
            ).all(),
        )
        conn.rollback()

        def buffers(name: str, sql: str, params: Callable[[], dict[str, object]]) -> None:
            """Shared blocks the statement touches (EXPLAIN ANALYZE BUFFERS): load-independent."""
            counts = []
            for _ in range(30):
                plan = conn.execute(
                    text(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}"), params()
                ).scalar_one()
                top = plan[0]["Plan"]
                counts.append(int(top["Shared Hit Blocks"]) + int(top["Shared Read Blocks"]))
            timings[f"{name} (blocks, mean / max)"] = (statistics.mean(counts), max(counts))

        buffers("release: records read", _RECORDS_READ, lambda: {"s": subject()})
        buffers(
            "self-service: newest releases",
            "SELECT seq FROM access_releases WHERE subject = :s ORDER BY seq DESC LIMIT 20",
            lambda: {"s": subject()},
        )
        buffers(
            "self-query: records", "SELECT * FROM credit_records WHERE subject = :s", lambda: {"s": subject()}
        )
        conn.rollback()
        all_indexes = _index_mb(conn, ["log_entries", "access_releases", "credit_records"])
        opened = ["log_entries_access_trail_open", "access_releases_open", "credit_records_open"]
        open_indexes = (
            _index_mb(conn, opened) if partitions.partitions_of(conn, "access_releases") else all_indexes
        )
        timings["index MiB (all / written by an append)"] = (all_indexes, open_indexes)
    engine.dispose()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trail", type=int, default=1_000_000, help="access-trail entries (and index rows)")
    parser.add_argument("--records", type=int, default=200_000, help="credit records")
    parser.add_argument("--repeat", type=int, default=300, help="timed runs per statement")
    args = parser.parse_args()
    results = {}
    for label, revision in (("before (0014)", "0014"), ("after (0015, 12 months)", "head")):
        name = f"ledger_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        try:
            command.upgrade(alembic_config(url), revision)
            seconds = _load(url, args.trail, args.records, revision == "head")
            print(
                f"{label}: loaded {args.trail:,} trail rows and {args.records:,} records in {seconds:.0f} s"
            )
            results[label] = _measure(url, args.trail, args.repeat, seed=7)
        finally:
            with psycopg.connect(ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    before, after = results.values()
    print(f"\n| statement (ms, median / p95) | {' | '.join(results)} |\n|---|---|---|")
    for key in before:
        cells = [f"{v[key][0]:.3f} / {v[key][1]:.3f}" for v in (before, after)]
        if key.startswith("index") or "blocks" in key:
            cells = [f"{v[key][0]:.0f} / {v[key][1]:.0f}" for v in (before, after)]
        print(f"| {key} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()

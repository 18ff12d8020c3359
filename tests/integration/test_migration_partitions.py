"""Migration 0015: monthly partitions on PostgreSQL, nothing on SQLite.

On throw-away PostgreSQL databases: a platform's whole story (records ingested, releases
granted and refused, checkpoints anchored) survives a downgrade to 0014 and the upgrade
back row for row; the platform then ingests and releases on, and the auditor finds the
result clean. A new month's rows land in their partition, the unique keys still refuse
duplicates whatever month the first copy is in, and reads by sequence number touch one
partition (EXPLAIN).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic import command
from eth_account.signers.local import LocalAccount
from sqlalchemy import Connection, insert, inspect, text
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from ledger.cli import app as cli
from ledger.platform import Platform
from ledger.records.models import CreditRecord
from ledger.records.samples import sample_records
from ledger.records.submission import Mode, parse_submission
from ledger.storage import partitions
from ledger.storage.database import Database, alembic_config, migrate
from ledger.wiring import records_service
from tests.integration.audit.conftest import export_of, verifier_for
from tests.integration.audit.trail import Releaser, build_trail
from tests.integration.conftest import new_database

#: every table 0015 rebuilds, with the order that makes its dump comparable
_TABLES = {
    "log_entries": "log_name, seq",
    "credit_records": "id",
    "access_releases": "seq",
    "audit_events": "id",
}


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    """A throw-away PostgreSQL database at the latest revision (the platform fixture uses it)."""
    with new_database("postgresql", tmp_path) as url:
        migrate(url)
        db = Database(url)
        yield db
        db.engine.dispose()


def _contents(db: Database) -> dict[str, tuple[int, str]]:
    """Each rebuilt table's row count and a digest of all its rows in key order."""
    with db.engine.connect() as conn:
        return {
            table: tuple(
                conn.execute(
                    text(
                        f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY {key}), '')) "
                        f"FROM {table} t"
                    )
                ).one()
            )
            for table, key in _TABLES.items()
        }  # type: ignore[misc]


def _where(conn: Connection, table: str, condition: str) -> set[str]:
    """The partitions holding the rows of `table` that match `condition`."""
    rows = conn.execute(text(f"SELECT DISTINCT tableoid::regclass::text FROM {table} WHERE {condition}"))
    return {str(r[0]) for r in rows}


def _is_partitioned(conn: Connection, table: str) -> bool:
    kind = conn.execute(text("SELECT relkind FROM pg_class WHERE relname = :t"), {"t": table}).scalar_one()
    return str(kind) == "p"


@pytest.mark.slow
def test_a_platforms_story_survives_downgrade_and_upgrade_and_goes_on(
    platform: Platform, operators: list[LocalAccount], database: Database
) -> None:
    trail = build_trail(platform, operators)
    before = _contents(database)
    assert before["credit_records"][0] == 17 and before["access_releases"][0] == len(trail.releases)
    assert trail.refusals > 0 and before["audit_events"][0] >= trail.refusals

    command.downgrade(alembic_config(database.url), "0014")
    with database.engine.connect() as conn:
        assert not any(_is_partitioned(conn, t) for t in _TABLES)
        uniques = {u["name"] for u in inspect(conn).get_unique_constraints("credit_records")}
        assert {"uq_credit_record_version", "uq_credit_record_source_version"} <= uniques
    assert _contents(database) == before

    migrate(database.url)  # 0015 with the rows in place, then the partitions' upkeep
    with database.engine.connect() as conn:
        assert all(_is_partitioned(conn, t) for t in _TABLES)
        month = partitions.month_start(datetime.now(UTC).date(), -1).strftime("%Y%m")
        assert _where(conn, "credit_records", "true") == {f"credit_records_p{month}"}
        assert _where(conn, "log_entries", "log_name = 'access-trail'") == {
            f"log_entries_access_trail_p{month}"
        }
        keys = conn.execute(text("SELECT count(*) FROM credit_record_keys")).scalar_one()
        assert keys == before["credit_records"][0]
    assert _contents(database) == before

    records = records_service(platform)
    items = [(i + 1, parse_submission(r)) for i, r in enumerate(sample_records(3, start=17, prefix="AUD"))]
    records.ingest(trail.provider.address, items, Mode.ALL_OR_NOTHING)
    releaser = Releaser(platform)
    try:
        seq = releaser.release(
            trail.banks[0], trail.usccs[1], trail.catalogue.category_mask(["tax"]),
            trail.catalogue.purpose_mask(["credit_assessment"]), trail.agreements[0],
        )  # fmt: skip
    finally:
        releaser.close()
    assert seq is not None
    trail.releases.append(seq)
    with database.engine.connect() as conn:
        assert _where(conn, "access_releases", f"seq = {seq}") == {"access_releases_open"}
        assert _where(conn, "credit_records", "log_seq >= 17") == {"credit_records_open"}

    report = verifier_for(platform).verify(export_of(platform, openings=True))
    assert [str(f) for f in report.findings] == []
    data = report.to_json()
    assert data["verdict"] == "clean"
    assert data["records"]["stored_versions"] == 20
    assert data["replay"]["checked_both_ways"] == len(trail.releases)


def _record(log_seq: int, *, source_ref: str, record_id: str, version: int = 1) -> dict[str, object]:
    return {
        "record_id": record_id, "version": version, "provider": "0x" + "11" * 20,
        "source_ref": source_ref, "category": "tax", "subject": "91410100MA0000000X",
        "event_date": date(2026, 1, 1), "catalogue_version": 1, "public_fields": "{}", "sealed": b"s",
        "key_id": "k", "content_mac": b"m" * 32, "commitment": b"c" * 32, "log_seq": log_seq,
        "leaf_hash": b"h" * 32, "created_at": datetime.now(UTC),
    }  # fmt: skip


_INSERT_RECORD = insert(CreditRecord.__table__)


def _fill_a_month(conn: Connection, log: str, start: int, count: int) -> None:
    """`count` entries of `log` from `start`, and the head that says so (as an append leaves it)."""
    conn.execute(
        text("INSERT INTO log_entries (log_name, seq, leaf, leaf_hash) VALUES (:log, :seq, 'x', 'h')"),
        [{"log": log, "seq": s} for s in range(start, start + count)],
    )
    conn.execute(
        text(
            "INSERT INTO log_heads (name, size, frontier) VALUES (:log, :size, '') "
            "ON CONFLICT (name) DO UPDATE SET size = :size"
        ),
        {"log": log, "size": start + count},
    )


def test_months_close_where_the_log_stood_and_keys_stay_unique(database: Database) -> None:
    with database.engine.begin() as conn:
        _fill_a_month(conn, "credit-records", 0, 4)
        conn.execute(
            _INSERT_RECORD, [_record(s, source_ref=f"ref-{s}", record_id=f"rec-{s}") for s in range(4)]
        )
        done = partitions.maintain(conn, date(2031, 1, 1))
        assert ("credit_records", "credit_records_p203012", 0, 4) in done.closed
        assert "audit_events_p203103" in done.created
        # a second run in the same month closes nothing more
        assert partitions.maintain(conn, date(2031, 1, 20)).closed == ()
        _fill_a_month(conn, "credit-records", 4, 3)
        conn.execute(
            _INSERT_RECORD, [_record(s, source_ref=f"ref-{s}", record_id=f"rec-{s}") for s in (4, 5, 6)]
        )
        conn.execute(
            text("INSERT INTO audit_events (at, event, outcome) VALUES ('2031-02-14T10:00:00Z', 'e', 'ok')")
        )
        assert _where(conn, "credit_records", "log_seq >= 4") == {"credit_records_open"}
        assert _where(conn, "audit_events", "true") == {"audit_events_p203102"}
        done = partitions.maintain(conn, date(2031, 2, 1))
        assert ("log_entries_credit_records", "log_entries_credit_records_p203101", 4, 7) in done.closed
        assert _where(conn, "credit_records", "log_seq >= 4") == {"credit_records_p203101"}
        assert _where(conn, "credit_records", "log_seq < 4") == {"credit_records_p203012"}
        names = {n for n, _ in partitions.partitions_of(conn, "credit_records")}
        assert names == {"credit_records_p203012", "credit_records_p203101", "credit_records_open"}

    # a row whose month was never created waits in the default partition, then moves in
    with database.engine.begin() as conn:
        conn.execute(
            text("INSERT INTO audit_events (at, event, outcome) VALUES ('2040-06-01T00:00:00Z', 'e', 'ok')")
        )
        assert _where(conn, "audit_events", "at >= '2040-01-01'") == {"audit_events_default"}
        partitions.create_months(conn, date(2040, 6, 1), date(2040, 6, 1))
        assert _where(conn, "audit_events", "at >= '2040-01-01'") == {"audit_events_p204006"}

    duplicates = {
        "same source version, a later month": _record(7, source_ref="ref-0", record_id="rec-new"),
        "same record version, a later month": _record(8, source_ref="ref-new", record_id="rec-1"),
        "same leaf": _record(2, source_ref="ref-other", record_id="rec-other"),
    }
    for why, row in duplicates.items():
        with pytest.raises(IntegrityError), database.engine.begin() as conn:
            conn.execute(_INSERT_RECORD, row)
            pytest.fail(f"accepted a duplicate: {why}")
    for statement in (
        "INSERT INTO log_entries (log_name, seq, leaf, leaf_hash) VALUES ('credit-records', 1, 'y', 'h')",
        "INSERT INTO access_releases (seq, subject, institution, released_at) VALUES (0, 's', 'i', now()), "
        "(0, 's', 'i', now())",
    ):
        with pytest.raises(IntegrityError), database.engine.begin() as conn:
            conn.execute(text(statement))
    with database.engine.begin() as conn:  # a new version of a record is not a duplicate
        conn.execute(_INSERT_RECORD, _record(7, source_ref="ref-0", record_id="rec-0", version=2))
        assert conn.execute(text("SELECT count(*) FROM credit_record_keys")).scalar_one() == 8


def _plan(conn: Connection, sql: str) -> str:
    return "\n".join(str(r[0]) for r in conn.execute(text(f"EXPLAIN (ANALYZE, COSTS OFF) {sql}")))


def test_reads_by_sequence_number_touch_one_months_partition(database: Database) -> None:
    with database.engine.begin() as conn:
        for month in range(1, 7):  # six closed months of 100 trail entries, and an open one
            _fill_a_month(conn, "access-trail", (month - 1) * 100, 100)
            conn.execute(
                text(
                    "INSERT INTO access_releases (seq, subject, institution, released_at) "
                    "SELECT s, 'S' || (s % 7), 'I', now() "
                    "FROM generate_series(CAST(:a AS bigint), CAST(:b AS bigint)) s"
                ),
                {"a": (month - 1) * 100, "b": month * 100 - 1},
            )
            partitions.maintain(conn, date(2030, month + 1, 1))
        conn.execute(text("ANALYZE"))
        # ledger.logs.store's leaf hashes of a tile, ledger.logs.tlog's entry bundle
        plan = _plan(
            conn,
            "SELECT leaf_hash FROM log_entries WHERE log_name = 'access-trail' AND seq >= 256 AND seq < 300 "
            "ORDER BY seq",
        )
        assert "log_entries_access_trail_p203003" in plan
        assert plan.count("log_entries_access_trail_p") == 1
        # ledger.release.accesses: the trail's leaves of a page of releases
        plan = _plan(conn, "SELECT leaf FROM log_entries WHERE log_name = 'access-trail' AND seq IN (5, 150)")
        assert plan.count("log_entries_access_trail_p") == 2
        # an enterprise's releases after a cursor: only the months after it
        plan = _plan(
            conn, "SELECT seq FROM access_releases WHERE subject = 'S3' AND seq > 480 ORDER BY seq LIMIT 20"
        )
        assert "access_releases_p203006" in plan and "access_releases_p203001" not in plan
        # an enterprise's newest releases: the newest months are read, the older never executed
        plan = _plan(conn, "SELECT seq FROM access_releases WHERE subject = 'S3' ORDER BY seq DESC LIMIT 5")
        scans = {
            line.split(" on ")[1].split()[0]: line
            for line in plan.splitlines()
            if " on access_releases_p" in line
        }
        assert "never executed" not in scans["access_releases_p203006"]
        assert all("never executed" in scans[f"access_releases_p20300{m}"] for m in (1, 2, 3))


def test_sqlite_is_left_as_it_was(tmp_path: Path) -> None:
    before, after = f"sqlite:///{tmp_path / 'at-0014.db'}", f"sqlite:///{tmp_path / 'head.db'}"
    command.upgrade(alembic_config(before), "0014")
    migrate(after)
    schemas = []
    for url in (before, after):
        db = Database(url)
        with db.engine.connect() as conn:
            schemas.append(
                conn.execute(
                    text(
                        "SELECT type, name, sql FROM sqlite_master "
                        "WHERE name != 'alembic_version' ORDER BY name"
                    )
                ).all()
            )
            assert partitions.maintain(conn) == partitions.Maintenance((), ())
            assert partitions.storage_tables(conn) == set()
        db.engine.dispose()
    assert schemas[0] == schemas[1]


def test_the_command_closes_a_month_and_says_what_it_did(database: Database, tmp_path: Path) -> None:
    with database.engine.begin() as conn:
        _fill_a_month(conn, "access-trail", 0, 5)
    runner = CliRunner()
    env = {"LEDGER_DATA_DIR": str(tmp_path), "LEDGER_DATABASE_URL": database.url}
    done = runner.invoke(cli, ["db", "partitions"], env=env)
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    month = partitions.month_start(datetime.now(UTC).date(), -1).strftime("%Y%m")
    assert {"table": "log_entries_access_trail", "partition": f"log_entries_access_trail_p{month}",
            "from_seq": 0, "to_seq": 5} in report["closed"]  # fmt: skip
    again = runner.invoke(cli, ["db", "partitions"], env=env)
    assert json.loads(again.output) == {"closed": [], "created": []}
    sqlite = {**env, "LEDGER_DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.db'}"}
    assert runner.invoke(cli, ["db", "partitions"], env=sqlite).output.strip() == "SQLite: no partitions"

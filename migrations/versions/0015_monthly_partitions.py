"""monthly partitions of the log entries, credit records, access trail index and MLPS records (PostgreSQL)

Each table is renamed, a partitioned table of the same columns takes its name, the rows
are copied into it and the old table dropped, all in the migration's one transaction (a
failure leaves the database at 0014, rows untouched). Indexes and keys are built after
the copy, on each partition. The layout and why each key is what it is:
`ledger.storage.partitions`. SQLite (the embedded default) is left exactly as it was.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08
"""

from collections.abc import Sequence
from datetime import UTC, datetime

from alembic import op
from sqlalchemy import text

from ledger.storage.partitions import MONTHS_AHEAD, create_months, month_start

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = "{}_unpartitioned"
#: the open month of a table partitioned by sequence number: everything not yet closed
_AHEAD = "FOR VALUES FROM (0) TO (MAXVALUE)"
_LOCKED = "log_heads, log_entries, credit_records, access_releases, audit_events"

#: the logs whose entries get monthly partitions; any other log's stay in `log_entries_other`
_LOGS = (("credit-records", "log_entries_credit_records"), ("access-trail", "log_entries_access_trail"))

_KEYS_TRIGGER = """
CREATE FUNCTION credit_record_keys_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM credit_record_keys k USING removed r
        WHERE k.provider = r.provider AND k.source_ref = r.source_ref AND k.version = r.version;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO credit_record_keys (provider, source_ref, version, record_id)
        SELECT provider, source_ref, version, record_id FROM added;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER credit_record_keys_insert AFTER INSERT ON credit_records
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION credit_record_keys_sync();
CREATE TRIGGER credit_record_keys_update AFTER UPDATE ON credit_records
    REFERENCING OLD TABLE AS removed NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION credit_record_keys_sync();
CREATE TRIGGER credit_record_keys_delete AFTER DELETE ON credit_records
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION credit_record_keys_sync();
"""


def _sql(statement: str) -> None:
    op.execute(text(statement))


def _swap(table: str, partition_by: str) -> None:
    """Rename `table` aside and create its partitioned replacement (same columns, defaults)."""
    _sql(f"ALTER TABLE {table} RENAME TO {_OLD.format(table)}")
    _sql(f"CREATE TABLE {table} (LIKE {_OLD.format(table)} INCLUDING DEFAULTS) PARTITION BY {partition_by}")


def _copy_and_drop(table: str, serial: str | None = None) -> None:
    """Copy the old rows in, keep the id sequence (owned by the old column) and drop the old table."""
    old = _OLD.format(table)
    _sql(f"INSERT INTO {table} SELECT * FROM {old}")
    if serial:
        _sql(f"ALTER SEQUENCE {serial} OWNED BY {table}.id")
    _sql(f"DROP TABLE {old}")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _sql(f"LOCK TABLE {_LOCKED} IN ACCESS EXCLUSIVE MODE")

    _swap("log_entries", "LIST (log_name)")
    for log, table in _LOGS:
        _sql(
            f"CREATE TABLE {table} PARTITION OF log_entries FOR VALUES IN ('{log}') PARTITION BY RANGE (seq)"
        )
        _sql(f"CREATE TABLE {table}_open PARTITION OF {table} {_AHEAD}")
    _sql("CREATE TABLE log_entries_other PARTITION OF log_entries DEFAULT")
    _copy_and_drop("log_entries")
    _sql("ALTER TABLE log_entries ADD CONSTRAINT log_entries_pkey PRIMARY KEY (log_name, seq)")

    _swap("access_releases", "RANGE (seq)")
    _sql(f"CREATE TABLE access_releases_open PARTITION OF access_releases {_AHEAD}")
    _copy_and_drop("access_releases")
    _sql("ALTER TABLE access_releases ADD CONSTRAINT access_releases_pkey PRIMARY KEY (seq)")
    _sql("CREATE INDEX ix_access_releases_subject ON access_releases (subject, seq)")
    _sql("CREATE INDEX ix_access_releases_institution ON access_releases (institution, seq)")

    _swap("credit_records", "RANGE (log_seq)")
    _sql(f"CREATE TABLE credit_records_open PARTITION OF credit_records {_AHEAD}")
    _copy_and_drop("credit_records", "credit_records_id_seq")
    _sql("ALTER TABLE credit_records ADD CONSTRAINT credit_records_pkey PRIMARY KEY (id, log_seq)")
    _sql("ALTER TABLE credit_records ADD CONSTRAINT uq_credit_record_log_seq UNIQUE (log_seq)")
    _sql("CREATE INDEX ix_credit_records_subject ON credit_records (subject, category)")
    _sql("CREATE INDEX ix_credit_records_created_at ON credit_records (created_at)")
    _sql("CREATE INDEX ix_credit_records_source ON credit_records (provider, source_ref, version)")
    _sql("CREATE INDEX ix_credit_records_record ON credit_records (record_id, version)")
    _sql(
        "CREATE TABLE credit_record_keys (provider VARCHAR(42) NOT NULL, source_ref VARCHAR(200) NOT NULL, "
        "version INTEGER NOT NULL, record_id VARCHAR(36) NOT NULL, "
        "CONSTRAINT uq_credit_record_source_version PRIMARY KEY (provider, source_ref, version), "
        "CONSTRAINT uq_credit_record_version UNIQUE (record_id, version))"
    )
    _sql(
        "INSERT INTO credit_record_keys (provider, source_ref, version, record_id) "
        "SELECT provider, source_ref, version, record_id FROM credit_records"
    )
    _sql(_KEYS_TRIGGER)

    _swap("audit_events", "RANGE (at)")
    _sql("CREATE TABLE audit_events_default PARTITION OF audit_events DEFAULT")
    oldest = op.get_bind().execute(text(f"SELECT min(at) FROM {_OLD.format('audit_events')}")).scalar_one()
    today = datetime.now(UTC).date()
    first = min(oldest.astimezone(UTC).date(), today) if oldest else today
    create_months(op.get_bind(), first, month_start(today, MONTHS_AHEAD - 1))
    _copy_and_drop("audit_events", "audit_events_id_seq")
    _sql("ALTER TABLE audit_events ADD CONSTRAINT audit_events_pkey PRIMARY KEY (id, at)")
    _sql("CREATE INDEX ix_audit_events_at ON audit_events (at)")
    _sql("CREATE INDEX ix_audit_events_actor ON audit_events (actor)")


def _unpartition(table: str, serial: str | None = None) -> None:
    """Replace partitioned `table` by a plain one holding the same rows (keys added by the caller)."""
    old = _OLD.format(table)
    _sql(f"ALTER TABLE {table} RENAME TO {old}")
    _sql(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS)")
    _sql(f"INSERT INTO {table} SELECT * FROM {old}")
    if serial:
        _sql(f"ALTER SEQUENCE {serial} OWNED BY {table}.id")
    _sql(f"DROP TABLE {old} CASCADE")  # its partitions with it


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _sql(f"LOCK TABLE {_LOCKED} IN ACCESS EXCLUSIVE MODE")
    _unpartition("log_entries")
    _sql("ALTER TABLE log_entries ADD CONSTRAINT log_entries_pkey PRIMARY KEY (log_name, seq)")

    _unpartition("access_releases")
    _sql("ALTER TABLE access_releases ADD CONSTRAINT access_releases_pkey PRIMARY KEY (seq)")
    _sql("CREATE INDEX ix_access_releases_subject ON access_releases (subject, seq)")
    _sql("CREATE INDEX ix_access_releases_institution ON access_releases (institution, seq)")

    for trigger in ("insert", "update", "delete"):
        _sql(f"DROP TRIGGER credit_record_keys_{trigger} ON credit_records")
    _sql("DROP FUNCTION credit_record_keys_sync()")
    _sql("DROP TABLE credit_record_keys")
    _unpartition("credit_records", "credit_records_id_seq")
    _sql("ALTER TABLE credit_records ADD CONSTRAINT credit_records_pkey PRIMARY KEY (id)")
    _sql(
        "ALTER TABLE credit_records ADD CONSTRAINT uq_credit_record_source_version "
        "UNIQUE (provider, source_ref, version)"
    )
    _sql("ALTER TABLE credit_records ADD CONSTRAINT uq_credit_record_version UNIQUE (record_id, version)")
    _sql("ALTER TABLE credit_records ADD CONSTRAINT uq_credit_record_log_seq UNIQUE (log_seq)")
    _sql("CREATE INDEX ix_credit_records_subject ON credit_records (subject, category)")
    _sql("CREATE INDEX ix_credit_records_created_at ON credit_records (created_at)")

    _unpartition("audit_events", "audit_events_id_seq")
    _sql("ALTER TABLE audit_events ADD CONSTRAINT audit_events_pkey PRIMARY KEY (id)")
    _sql("CREATE INDEX ix_audit_events_at ON audit_events (at)")
    _sql("CREATE INDEX ix_audit_events_actor ON audit_events (actor)")

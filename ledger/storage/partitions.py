"""Monthly partitions of the tables that grow with the city (PostgreSQL only).

Two kinds, chosen so that every unique key the code relies on stays a real constraint
(PostgreSQL demands the partition key in every unique key of a partitioned table):

- **Tables keyed by a log's sequence number** (`log_entries` per log, `credit_records`
  by `log_seq`, `access_releases` by the trail's `seq`) are RANGE-partitioned on that
  number, so `(log_name, seq)`, `log_seq` and `seq` stay primary/unique keys as before
  and a read by sequence number (an entry, a tile's 256 leaves, the trail page after a
  cursor) touches one partition. A month is a range of sequence numbers: rows always
  arrive in `<table>_open`, FROM the first number not yet closed TO MAXVALUE (so it exists
  before any row does), and `close_month` turns it, at the start of a month, into
  `<table>_p<YYYYMM>` bounded by the log's size at that moment, with a new `_open` above
  it. The logs' head rows are locked meanwhile, so no append runs between the bound being
  read and fixed. The bound is first validated as a CHECK constraint (one scan of the
  month while readers go on: about a second per million trail rows, once a month), so
  the detach and attach that follow hold the parent's exclusive lock only for an instant.
  No DEFAULT partition there: without one PostgreSQL reads the months in order ("ordered
  append"), so a newest-first page stops in the newest months instead of probing every
  month's index.
- **`audit_events`** (the MLPS records) is RANGE-partitioned on `at`, calendar months
  created `MONTHS_AHEAD` ahead; its DEFAULT partition only catches a row whose month was
  not created in time (a clock far ahead, maintenance not run for months), and the next
  maintenance moves such rows into their month. Its key becomes `(id, at)`; `id` comes
  from its sequence and nothing looks a record up by it.

`credit_records` loses two unique keys that do not contain `log_seq`
(`(provider, source_ref, version)`, `(record_id, version)`): they live on in the
unpartitioned table `credit_record_keys`, filled by statement-level triggers from the
rows each statement adds (and cleared of those it deletes), so a duplicate version is
still refused by the database in the same statement, whatever month the first one is in.

Maintenance (`maintain`) runs at every `credit-ledger migrate`/`up` and as
`credit-ledger db partitions` (cron on the 1st of each month); it is idempotent and
serialised by an advisory lock. Hand-written DDL because no maintained library does
this for PostgreSQL without an extension (pg_partman) the deployment would have to carry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, text

from ledger.domain.log_names import ACCESS_TRAIL_LOG, CREDIT_RECORDS_LOG

__all__ = [
    "MONTHS_AHEAD",
    "MOVED_UNIQUE_KEYS_DIFF",
    "PARTITIONED_BY_LOG",
    "Maintenance",
    "SeqPartitioned",
    "close_month",
    "create_months",
    "maintain",
    "month_start",
    "partitions_of",
    "storage_tables",
]

#: calendar months of `audit_events` kept created ahead of today (this one included)
MONTHS_AHEAD = 3

#: an arbitrary constant naming the maintenance's advisory lock ("part" in ASCII)
_LOCK_KEY = 0x70617274


@dataclass(frozen=True)
class SeqPartitioned:
    """A table (or a log's sub-table of `log_entries`) partitioned on a log's sequence number."""

    table: str
    log: str
    column: str = "seq"


#: closed together per log, under that log's head lock, so a month's records, their
#: leaves and the trail's index of them share the month's bounds
PARTITIONED_BY_LOG = (
    SeqPartitioned("log_entries_credit_records", CREDIT_RECORDS_LOG),
    SeqPartitioned("credit_records", CREDIT_RECORDS_LOG, "log_seq"),
    SeqPartitioned("log_entries_access_trail", ACCESS_TRAIL_LOG),
    SeqPartitioned("access_releases", ACCESS_TRAIL_LOG),
)


@dataclass(frozen=True)
class Maintenance:
    """What one maintenance run did: months closed (table, partition, bounds) and created."""

    closed: tuple[tuple[str, str, int, int], ...]
    created: tuple[str, ...]


def month_start(day: date, shift: int = 0) -> date:
    """The first day of `day`'s month, moved by `shift` months."""
    index = day.year * 12 + day.month - 1 + shift
    return date(index // 12, index % 12 + 1, 1)


def partitions_of(conn: Connection, table: str) -> list[tuple[str, str]]:
    """(partition, bound expression) of `table`, in name order; DEFAULT for the default one."""
    rows = conn.execute(
        text(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent "
            "WHERE p.relname = :t ORDER BY c.relname"
        ),
        {"t": table},
    )
    return [(str(name), str(bound)) for name, bound in rows]


def _exists(conn: Connection, name: str) -> bool:
    return conn.execute(text("SELECT to_regclass(:n) IS NOT NULL"), {"n": name}).scalar_one() is True


def _open_from(conn: Connection, table: str) -> int:
    """Where `table`'s open partition starts: the first sequence number not in a closed month."""
    bound = conn.execute(
        text("SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = :t"), {"t": f"{table}_open"}
    ).scalar_one()
    match = re.search(r"FROM \('?(\d+)'?\)", str(bound))
    if match is None:
        raise ValueError(f"{table}_open is not a partition from a sequence number: {bound}")
    return int(match.group(1))


def _rename_indexes(conn: Connection, table: str, old_prefix: str, new_prefix: str) -> None:
    """Give a renamed partition's indexes its new name, so the next `_open` can take the old ones."""
    names = conn.execute(
        text("SELECT indexname FROM pg_indexes WHERE tablename = :t"), {"t": table}
    ).scalars()
    for name in list(names):
        if name.startswith(old_prefix):
            conn.execute(text(f'ALTER INDEX "{name}" RENAME TO "{new_prefix}{name[len(old_prefix) :]}"'))


def close_month(conn: Connection, today: date) -> list[tuple[str, str, int, int]]:
    """Close the open partition of every sequence-partitioned table as the month before `today`.

    Runs in the caller's transaction. The month is named for the month before `today`
    (run on the 1st, it holds exactly that month; the first run after the migration
    holds everything before it). Nothing to close (no rows since the last close, or that
    month already closed) is not an error. Returns (table, partition, from, to) closed.
    """
    label = month_start(today, -1).strftime("%Y%m")
    logs = sorted({p.log for p in PARTITIONED_BY_LOG})
    sizes = {
        str(name): int(size)
        for name, size in conn.execute(
            text("SELECT name, size FROM log_heads WHERE name = ANY(:n) ORDER BY name FOR UPDATE"),
            {"n": logs},
        )
    }
    closed: list[tuple[str, str, int, int]] = []
    for part in PARTITIONED_BY_LOG:
        name = f"{part.table}_p{label}"
        low, high = _open_from(conn, part.table), sizes.get(part.log, 0)
        if _exists(conn, name) or high <= low:
            continue
        opened, column = f"{part.table}_open", part.column
        # validated before the parent is locked: readers go on meanwhile (appends wait on the head)
        conn.execute(
            text(
                f"ALTER TABLE {opened} ADD CONSTRAINT {name}_bound "
                f"CHECK ({column} >= {low} AND {column} < {high}) NOT VALID"
            )
        )
        conn.execute(text(f"ALTER TABLE {opened} VALIDATE CONSTRAINT {name}_bound"))
        conn.execute(text(f"ALTER TABLE {part.table} DETACH PARTITION {opened}"))
        conn.execute(text(f"ALTER TABLE {opened} RENAME TO {name}"))
        _rename_indexes(conn, name, opened, name)
        conn.execute(
            text(f"CREATE TABLE {opened} PARTITION OF {part.table} FOR VALUES FROM ({high}) TO (MAXVALUE)")
        )
        conn.execute(
            text(f"ALTER TABLE {part.table} ATTACH PARTITION {name} FOR VALUES FROM ({low}) TO ({high})")
        )
        closed.append((part.table, name, low, high))
    return closed


def create_months(conn: Connection, first: date, last: date) -> list[str]:
    """Create the monthly partitions of `audit_events` from `first`'s month to `last`'s.

    A month already created is left alone; rows of a new month that reached the DEFAULT
    partition meanwhile are moved into it in the same transaction (none is lost: the move
    is a DELETE ... RETURNING feeding the INSERT). Returns the partitions created.
    """
    created: list[str] = []
    month = month_start(first)
    while month <= last:
        following = month_start(month, 1)
        name = f"audit_events_p{month:%Y%m}"
        if not _exists(conn, name):
            span = {"lo": datetime(month.year, month.month, 1, tzinfo=UTC)}
            span["hi"] = datetime(following.year, following.month, 1, tzinfo=UTC)
            conn.execute(text(f"CREATE TABLE {name} (LIKE audit_events INCLUDING DEFAULTS)"))
            conn.execute(
                text(
                    "WITH moved AS (DELETE FROM audit_events_default "
                    "WHERE at >= :lo AND at < :hi RETURNING *) "
                    f"INSERT INTO {name} SELECT * FROM moved"
                ),
                span,
            )
            bounds = f"FROM ('{span['lo'].isoformat()}') TO ('{span['hi'].isoformat()}')"
            conn.execute(text(f"ALTER TABLE audit_events ATTACH PARTITION {name} FOR VALUES {bounds}"))
            created.append(name)
        month = following
    return created


def maintain(conn: Connection, today: date | None = None) -> Maintenance:
    """Close last month's sequence partitions and create `audit_events`' months ahead.

    No-op on SQLite and on a database whose tables are not partitioned (before 0015).
    Runs in the caller's transaction, serialised against other runs by an advisory lock.
    """
    if conn.dialect.name != "postgresql" or not partitions_of(conn, "audit_events"):
        return Maintenance((), ())
    day = today or datetime.now(UTC).date()
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    closed = close_month(conn, day)
    created = create_months(conn, day, month_start(day, MONTHS_AHEAD - 1))
    return Maintenance(tuple(closed), tuple(created))


def storage_tables(conn: Connection) -> set[str]:
    """Tables no model maps: every partition, and the moved unique keys of `credit_records`."""
    if conn.dialect.name != "postgresql":
        return set()
    names = conn.execute(
        text("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid")
    ).scalars()
    return {str(name) for name in names} | {"credit_record_keys"}


#: what Alembic's comparison of the models with a partitioned database finds, by design:
#: `credit_records`' two unique keys are constraints of `credit_record_keys` instead, and
#: plain indexes of the same columns serve the lookups on the partitions
MOVED_UNIQUE_KEYS_DIFF = (
    ("add_constraint", "uq_credit_record_source_version"),
    ("add_constraint", "uq_credit_record_version"),
    ("remove_index", "ix_credit_records_source"),
    ("remove_index", "ix_credit_records_record"),
)

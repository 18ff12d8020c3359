"""The tables as the code maps them are the tables the migrations make, on SQLite and PostgreSQL.

A model changed without a migration (or a migration without its model) fails here; the
self-service case tables share their columns through `CaseColumns` and must still be
exactly what migration 0004 created.
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import ledger.alerts.endpoint_model
import ledger.alerts.outbox
import ledger.alerts.watch_model
import ledger.chain.journal
import ledger.evaluation_release.models
import ledger.financing.loan_models
import ledger.financing.models
import ledger.logs.models
import ledger.portal.models
import ledger.records.models
import ledger.release.models
import ledger.selfservice.models  # noqa: F401  (the mapped tables register with Base.metadata)
from ledger.storage.database import Database
from ledger.storage.models import Base
from ledger.storage.partitions import MOVED_UNIQUE_KEYS_DIFF, storage_tables


def test_the_mapped_tables_are_the_migrated_schema(database: Database) -> None:
    with database.engine.connect() as conn:
        unmapped = storage_tables(conn)

        def mapped(obj: object, name: str | None, kind: str, reflected: bool, _compare_to: object) -> bool:
            table = getattr(obj, "table", obj) if kind != "table" else obj
            return not (reflected and getattr(table, "name", name) in unmapped)

        opts = {"compare_type": True, "include_object": mapped}
        context = MigrationContext.configure(conn, opts=opts)  # type: ignore[arg-type]
        differences = {(diff[0], diff[1].name) for diff in compare_metadata(context, Base.metadata)}
    # on PostgreSQL the two unique keys without the partition key live in credit_record_keys
    # (ledger.storage.partitions); credit_records keeps plain indexes for their lookups
    assert differences == (set(MOVED_UNIQUE_KEYS_DIFF) if database.url.startswith("postgresql") else set())
    assert {"objections", "repair_applications"} <= set(Base.metadata.tables)

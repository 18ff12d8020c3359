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


def test_the_mapped_tables_are_the_migrated_schema(database: Database) -> None:
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    assert {"objections", "repair_applications"} <= set(Base.metadata.tables)

"""A throwaway SQLite database with the platform's tables, for the release path's SQL.

The access trail and the record reader are thin layers of SQL; their unit tests drive
them against a real SQLite file (created from the models, no migrations: a few tenths of
a second per module, emptied between tests) instead of faking the database they query.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text

import ledger.logs.models
import ledger.records.models
import ledger.release.models
import ledger.selfservice.models  # noqa: F401  (the tables the release path reads)
from ledger.storage.database import Database
from ledger.storage.models import Base


def sqlite_database(directory: Path) -> Database:
    db = Database(f"sqlite:///{directory / 'ledger.db'}")
    Base.metadata.create_all(db.engine)
    return db


def emptied(db: Database) -> Iterator[Database]:
    """`db` for one test, with every table emptied afterwards."""
    yield db
    with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(text(f"DELETE FROM {table.name}"))

"""A migrated SQLite database per test: the outbox's unit tests need its real schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.storage.database import Database, migrate


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    migrate(url)
    database = Database(url)
    yield database
    database.engine.dispose()

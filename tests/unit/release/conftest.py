"""Under mutation testing (`scripts/mutation`), a property test that fails is not shrunk;
and a SQLite database for the tests of the release path's own SQL.

A mutant is killed by any failing example; shrinking it to the smallest one only costs
time, once for each of hundreds of mutants.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import Phase, settings

from ledger.storage.database import Database
from tests.unit.release.sqlite import emptied, sqlite_database

settings.register_profile("mutation", phases=[Phase.explicit, Phase.reuse, Phase.generate])
if os.environ.get("LEDGER_MUTATION"):
    settings.load_profile("mutation")


@pytest.fixture(scope="module")
def sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    db = sqlite_database(tmp_path_factory.mktemp("release-sqlite"))
    yield db
    db.engine.dispose()


@pytest.fixture
def sqlite_db(sqlite_file: Database) -> Iterator[Database]:
    """A SQLite database with the platform's tables, empty at the start of the test."""
    yield from emptied(sqlite_file)

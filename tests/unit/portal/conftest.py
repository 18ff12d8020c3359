"""The release tests' SQLite database, for the portal's own SQL (the records page)."""

from tests.unit.release.conftest import sqlite_db, sqlite_file

__all__ = ["sqlite_db", "sqlite_file"]

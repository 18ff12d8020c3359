"""Migration 0012 tiles the entries written before it, and appends after it continue the tree."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic import command
from sqlalchemy import text

from ledger.logs.store import open_for_append
from ledger.logs.tree import TreeCache
from ledger.merkle.rfc9162 import MerkleTree, hash_leaf
from ledger.storage.database import Database, alembic_config
from tests.integration.conftest import POSTGRES_ADMIN_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def old_schema(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database at revision 0009, the one before the tiles."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
        command.upgrade(alembic_config(url), "0009")
        yield url
        return
    name = f"ledger_mig_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    command.upgrade(alembic_config(url), "0009")
    yield url
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_existing_entries_are_tiled_and_the_log_grows_on(old_schema: str) -> None:
    db = Database(old_schema)
    leaves = [f"old entry {i}".encode() for i in range(70_000)]
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO log_heads (name, size) VALUES ('old-log', :n)"), {"n": len(leaves)})
        conn.execute(
            text("INSERT INTO log_entries (log_name, seq, leaf, leaf_hash) VALUES ('old-log', :s, :l, :h)"),
            [{"s": i, "l": leaf, "h": hash_leaf(leaf)} for i, leaf in enumerate(leaves)],
        )
    command.upgrade(alembic_config(old_schema), "head")
    with db.session() as session:
        writer = open_for_append(session, "old-log")
        appended = writer.append([("entry", {"i": i}) for i in range(300)])
    reference = MerkleTree([hash_leaf(leaf) for leaf in leaves] + [a.leaf_hash for a in appended])
    tree = TreeCache().tree(db, "old-log")
    assert tree.size == 70_300
    for size in (1, 256, 65_536, 70_000, 70_001, 70_300):
        assert tree.root(size) == reference.root(size)
        assert tree.inclusion_proof(size - 1, 70_300) == reference.inclusion_proof(size - 1, 70_300)
    assert tree.consistency_proof(70_000, 70_300) == reference.consistency_proof(70_000, 70_300)
    assert hashlib.sha256(b"").digest() == TreeCache().tree(db, "never-written").root(0)
    db.engine.dispose()

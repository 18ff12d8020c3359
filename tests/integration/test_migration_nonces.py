"""Migration 0007 moves the nonces evaluations spent into the data requests' namespace, on
SQLite and PostgreSQL: none of them can be spent again by either kind of request."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from ledger.storage.database import alembic_config
from tests.integration.conftest import new_database


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with new_database(request.param, tmp_path) as url:
        yield url


def test_evaluation_nonces_join_the_data_request_namespace(fresh_url: str) -> None:
    config = alembic_config(fresh_url)
    command.upgrade(config, "0006")
    engine = create_engine(fresh_url)
    rows = [
        ("0xA", "data:0x01"),  # a release's
        ("0xA", "evaluation:0x02"),  # an evaluation's: moved
        ("0xA", "evaluation:0x01"),  # spent by both kinds: one row stays
        ("0xB", "evaluation:0x01"),  # another signer's: moved
        ("0xB", "api:0x09"),  # not a release nonce: untouched
    ]
    with engine.begin() as conn:
        for signer, nonce in rows:
            conn.execute(
                text(
                    "INSERT INTO request_nonces (signer, nonce, seen_at) VALUES (:s, :n, CURRENT_TIMESTAMP)"
                ),
                {"s": signer, "n": nonce},
            )
    command.upgrade(config, "0007")
    with engine.connect() as conn:
        found = sorted(conn.execute(text("SELECT signer, nonce FROM request_nonces")).all())
    engine.dispose()
    assert [tuple(r) for r in found] == [
        ("0xA", "data:0x01"),
        ("0xA", "data:0x02"),
        ("0xB", "api:0x09"),
        ("0xB", "data:0x01"),
    ]

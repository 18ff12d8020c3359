"""log tiles: each log's Merkle tree persisted as C2SP tlog-tiles, and its frontier on the head row

Existing entries are tiled here once (read in chunks, so memory stays bounded): from
then on every append writes its tiles in its own transaction (`ledger.logs.store`).

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ledger.logs.tiles import extend

revision: str = "0012"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHUNK = 100_000


def upgrade() -> None:
    empty = "''::bytea" if op.get_bind().dialect.name == "postgresql" else "x''"
    op.add_column(
        "log_heads", sa.Column("frontier", sa.LargeBinary(), nullable=False, server_default=sa.text(empty))
    )
    op.create_table(
        "log_tiles",
        sa.Column("log_name", sa.String(64), primary_key=True),
        sa.Column("level", sa.SmallInteger(), primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("hashes", sa.LargeBinary(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        # hashes do not compress: a partial tile rewritten by every append (up to 8 KiB) goes
        # to TOAST without PostgreSQL first trying to compress it
        op.execute("ALTER TABLE log_tiles ALTER COLUMN hashes SET STORAGE EXTERNAL")
    _tile_existing_entries()


def _tile_existing_entries() -> None:
    conn = op.get_bind()
    heads = conn.execute(sa.text("SELECT name, size FROM log_heads ORDER BY name")).all()
    tiles_table = sa.table(
        "log_tiles",
        sa.column("log_name", sa.String),
        sa.column("level", sa.SmallInteger),
        sa.column("idx", sa.BigInteger),
        sa.column("hashes", sa.LargeBinary),
    )
    for name, size in heads:
        frontier, done = b"", 0
        tiles: dict[tuple[int, int], bytes] = {}
        while done < size:
            stop = min(size, done + _CHUNK)
            hashes = [
                bytes(h)
                for h in conn.execute(
                    sa.text(
                        "SELECT leaf_hash FROM log_entries WHERE log_name = :n AND seq >= :a AND seq < :b "
                        "ORDER BY seq"
                    ),
                    {"n": name, "a": done, "b": stop},
                ).scalars()
            ]
            if len(hashes) != stop - done:
                raise RuntimeError(f"log {name}: entries {done}..{stop - 1} are not all there")
            frontier, appends = extend(done, frontier, hashes)
            for a in appends:
                tiles[(a.level, a.index)] = tiles.get((a.level, a.index), b"") + a.hashes
            full = [k for k, v in tiles.items() if len(v) == 256 * 32]
            if full:  # complete tiles never change again: write them now, keep memory bounded
                conn.execute(
                    tiles_table.insert(),
                    [{"log_name": name, "level": k[0], "idx": k[1], "hashes": tiles.pop(k)} for k in full],
                )
            done = stop
        if tiles:
            conn.execute(
                tiles_table.insert(),
                [{"log_name": name, "level": k[0], "idx": k[1], "hashes": v} for k, v in tiles.items()],
            )
        conn.execute(
            sa.text("UPDATE log_heads SET frontier = :f WHERE name = :n"), {"f": frontier, "n": name}
        )


def downgrade() -> None:
    op.drop_table("log_tiles")
    op.drop_column("log_heads", "frontier")

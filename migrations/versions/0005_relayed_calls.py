"""relayed calls and the chain watermark: acknowledged means durable, a chain behind is repaired

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_at = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "relayed_calls",
        sa.Column("id", _id, primary_key=True, autoincrement=True),
        sa.Column("contract", sa.String(42), nullable=False),
        sa.Column("function", sa.String(64), nullable=False),
        sa.Column("calldata", sa.LargeBinary(), nullable=False),
        sa.Column("transaction_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text()),
        sa.Column("recorded_at", _at, nullable=False),
    )
    op.create_index("ix_relayed_calls_block_number", "relayed_calls", ["block_number"])
    op.create_index("ix_relayed_calls_status", "relayed_calls", ["status"])
    op.create_table(
        "chain_watermarks",
        sa.Column("chain_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("updated_at", _at, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("chain_watermarks")
    op.drop_index("ix_relayed_calls_status", table_name="relayed_calls")
    op.drop_index("ix_relayed_calls_block_number", table_name="relayed_calls")
    op.drop_table("relayed_calls")

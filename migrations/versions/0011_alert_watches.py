"""alerts: watches, operators' evasion flags and the delivery gate's clearances (issue 19)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_watches",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("institution", sa.String(42), nullable=False),
        sa.Column("subject", sa.String(18), nullable=False),
        sa.Column("categories", sa.Text(), nullable=False),
        sa.Column("category_mask", sa.String(80), nullable=False),
        sa.Column("agreement_id", sa.BigInteger(), nullable=False),
        sa.Column("purpose_bit", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_block", sa.BigInteger(), nullable=False),
        sa.Column("grant_id", sa.BigInteger(), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_alert_watches_subject", "alert_watches", ["subject", "ended_at"])
    op.create_index("ix_alert_watches_institution", "alert_watches", ["institution", "created_at"])
    op.create_table(
        "evasion_flags",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("subject", sa.String(18), nullable=False),
        sa.Column("operator", sa.String(42), nullable=False),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("alerts", sa.Integer(), nullable=False),
    )
    op.create_index("ix_evasion_flags_subject", "evasion_flags", ["subject", "flagged_at"])
    op.create_table(
        "alert_clearances",
        sa.Column("alert_id", sa.String(40), primary_key=True),
        sa.Column("trail_seq", sa.BigInteger(), nullable=False),
        sa.Column("block", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("alert_clearances")
    op.drop_index("ix_evasion_flags_subject", table_name="evasion_flags")
    op.drop_table("evasion_flags")
    op.drop_index("ix_alert_watches_institution", table_name="alert_watches")
    op.drop_index("ix_alert_watches_subject", table_name="alert_watches")
    op.drop_table("alert_watches")

"""credit records, catalogue versions, Merkle log entries and anchored checkpoints

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "log_heads",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "log_entries",
        sa.Column("log_name", sa.String(64), primary_key=True),
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("leaf", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
    )
    op.create_table(
        "log_checkpoints",
        sa.Column("log_name", sa.String(64), primary_key=True),
        sa.Column("size", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("transaction_hash", sa.LargeBinary(32)),
        sa.Column("block_number", sa.BigInteger()),
        sa.Column("anchored_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "catalogue_versions",
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("public_categories", sa.String(80), nullable=False),
        sa.Column("operator", sa.String(42), nullable=False),
        sa.Column("transaction_hash", sa.LargeBinary(32)),
        sa.Column("block_number", sa.BigInteger()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "credit_records",
        sa.Column("id", _id, primary_key=True),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(42), nullable=False),
        sa.Column("source_ref", sa.String(200), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(18), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("severity", sa.String(16)),
        sa.Column("catalogue_version", sa.Integer(), nullable=False),
        sa.Column("public_fields", sa.Text(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("content_mac", sa.LargeBinary(32), nullable=False),
        sa.Column("commitment", sa.LargeBinary(32), nullable=False),
        sa.Column("log_seq", sa.BigInteger(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("warnings", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("provider", "source_ref", "version", name="uq_credit_record_source_version"),
        sa.UniqueConstraint("record_id", "version", name="uq_credit_record_version"),
        sa.UniqueConstraint("log_seq", name="uq_credit_record_log_seq"),
    )
    op.create_index("ix_credit_records_subject", "credit_records", ["subject", "category"])


def downgrade() -> None:
    op.drop_index("ix_credit_records_subject", table_name="credit_records")
    op.drop_table("credit_records")
    op.drop_table("catalogue_versions")
    op.drop_table("log_checkpoints")
    op.drop_table("log_entries")
    op.drop_table("log_heads")

"""financing services: published documents, white-list entries, demands, loan applications

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "financing_documents",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("document_key", sa.String(128), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("publisher", sa.String(42), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("transaction", sa.String(66), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_financing_documents_publisher", "financing_documents", ["publisher"])
    op.create_table(
        "white_list_entries",
        sa.Column("list_key", sa.String(128), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("uscc", sa.String(18), primary_key=True),
    )
    op.create_index("ix_white_list_entries_uscc", "white_list_entries", ["uscc"])
    op.create_table(
        "financing_demands",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("subject", sa.String(18), nullable=False),
        sa.Column("enterprise", sa.String(42), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=False),
        sa.Column("use", sa.Text(), nullable=False),
        sa.Column("collateral", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_financing_demands_subject", "financing_demands", ["subject"])
    op.create_table(
        "loan_applications",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("subject", sa.String(18), nullable=False),
        sa.Column("enterprise", sa.String(42), nullable=False),
        sa.Column("institution", sa.String(42), nullable=False),
        sa.Column("product_key", sa.String(128), nullable=False),
        sa.Column("product_version", sa.Integer(), nullable=False),
        sa.Column("demand_id", sa.String(36), nullable=True),
        sa.Column("grant_id", sa.BigInteger(), nullable=False),
        sa.Column("grant_block", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("grant_id", name="uq_loan_application_grant"),
    )
    op.create_index("ix_loan_applications_subject", "loan_applications", ["subject"])
    op.create_index(
        "ix_loan_applications_institution_subject", "loan_applications", ["institution", "subject"]
    )


def downgrade() -> None:
    op.drop_table("loan_applications")
    op.drop_table("financing_demands")
    op.drop_table("white_list_entries")
    op.drop_table("financing_documents")

"""enterprise self-service: objections, repair applications, self-declarations, notices, calendar

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_at = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "objections",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("record_version", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(18), nullable=False),
        sa.Column("enterprise", sa.String(42), nullable=False),
        sa.Column("provider", sa.String(42), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("filed_at", _at, nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("forward_by", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("outer_due_on", sa.Date(), nullable=False),
        sa.Column("forwarded_at", _at),
        sa.Column("escalated_at", _at),
        sa.Column("decided_by", sa.String(42)),
        sa.Column("decided_at", _at),
        sa.Column("decision_reasons", sa.Text()),
        sa.Column("corrected_version", sa.Integer()),
        sa.Column("log_seq", sa.BigInteger(), nullable=False),
        sa.Column("decision_log_seq", sa.BigInteger()),
    )
    op.create_index("ix_objections_record", "objections", ["record_id", "status"])
    op.create_index("ix_objections_subject", "objections", ["subject", "filed_at"])
    op.create_index("ix_objections_provider", "objections", ["provider", "status"])
    op.create_index("ix_objections_status_due", "objections", ["status", "due_on"])

    op.create_table(
        "repair_applications",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("record_version", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(18), nullable=False),
        sa.Column("enterprise", sa.String(42), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("commitment_id", sa.BigInteger(), nullable=False),
        sa.Column("proofs", sa.Text(), nullable=False),
        sa.Column("statement", sa.Text()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("filed_at", _at, nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("escalated_at", _at),
        sa.Column("decided_by", sa.String(42)),
        sa.Column("decided_at", _at),
        sa.Column("decision_reasons", sa.Text()),
        sa.Column("log_seq", sa.BigInteger(), nullable=False),
        sa.Column("decision_log_seq", sa.BigInteger()),
    )
    op.create_index("ix_repair_applications_record", "repair_applications", ["record_id", "status"])
    op.create_index("ix_repair_applications_subject", "repair_applications", ["subject", "filed_at"])
    op.create_index("ix_repair_applications_status_due", "repair_applications", ["status", "due_on"])

    op.create_table(
        "self_declarations",
        sa.Column("record_id", sa.String(36), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("subject", sa.String(18), nullable=False),
        sa.Column("enterprise", sa.String(42), nullable=False),
        sa.Column("commitment_id", sa.BigInteger(), nullable=False),
        sa.Column("log_seq", sa.BigInteger(), nullable=False),
        sa.Column("created_at", _at, nullable=False),
    )
    op.create_index("ix_self_declarations_subject", "self_declarations", ["subject"])

    op.create_table(
        "notices",
        sa.Column("id", _id, primary_key=True),
        sa.Column("subject", sa.String(18), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("ref", sa.String(36), nullable=False),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", _at, nullable=False),
    )
    op.create_index("ix_notices_subject", "notices", ["subject", "created_at"])

    op.create_table(
        "calendar_days",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("set_by", sa.String(42), nullable=False),
        sa.Column("set_at", _at, nullable=False),
    )


def downgrade() -> None:
    for table in ("calendar_days", "notices", "self_declarations", "repair_applications", "objections"):
        op.drop_table(table)

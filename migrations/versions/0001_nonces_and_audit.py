"""request nonces and MLPS audit events

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "request_nonces",
        sa.Column("id", _id, primary_key=True),
        sa.Column("signer", sa.String(42), nullable=False),
        sa.Column("nonce", sa.String(80), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("signer", "nonce", name="uq_request_nonce"),
    )
    op.create_index("ix_request_nonces_seen_at", "request_nonces", ["seen_at"])
    op.create_table(
        "audit_events",
        sa.Column("id", _id, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(42)),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text()),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_actor", "audit_events", ["actor"])


def downgrade() -> None:
    op.drop_table("audit_events")
    op.drop_table("request_nonces")

"""alerts: the transactional outbox and the institutions' webhook endpoints (issue 19)

Revision ID: 0010
Revises: 0012
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_outbox",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("id", sa.String(40), nullable=False, unique=True),
        sa.Column("institution", sa.String(42), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("categories", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("rules_version", sa.Integer(), nullable=False),
        sa.Column("watch_id", sa.String(64)),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(200)),
        sa.Column("block", sa.BigInteger()),
        sa.Column("trail_seq", sa.BigInteger()),
        sa.Column("cleared_ms", sa.BigInteger()),
        sa.Column("feed_seq", sa.BigInteger(), unique=True),
        sa.Column("payload", sa.LargeBinary()),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_ms", sa.BigInteger(), nullable=False),
        sa.Column("delivered_ms", sa.BigInteger()),
    )
    op.create_index("ix_alert_outbox_due", "alert_outbox", ["state", "next_attempt_ms"])
    op.create_index("ix_alert_outbox_feed", "alert_outbox", ["institution", "feed_seq"])
    op.create_table(
        "alert_endpoints",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("institution", sa.String(42), nullable=False, unique=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(200)),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("previous_secret", sa.String(100)),
        sa.Column("previous_until_ms", sa.BigInteger()),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("alert_endpoints")
    op.drop_index("ix_alert_outbox_feed", table_name="alert_outbox")
    op.drop_index("ix_alert_outbox_due", table_name="alert_outbox")
    op.drop_table("alert_outbox")

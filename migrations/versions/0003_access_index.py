"""access-trail index by subject and institution

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "access_releases",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("subject", sa.String(18), nullable=False),
        sa.Column("institution", sa.String(42), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_access_releases_subject", "access_releases", ["subject", "seq"])
    op.create_index("ix_access_releases_institution", "access_releases", ["institution", "seq"])


def downgrade() -> None:
    op.drop_table("access_releases")

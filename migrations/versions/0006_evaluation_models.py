"""evaluation models: the scorecard documents and cards whose hashes the ModelRegistry governs

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evaluation_models",
        sa.Column("model_hash", sa.LargeBinary(32), primary_key=True),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("card_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("card", sa.Text(), nullable=False),
        sa.Column("stored_by", sa.String(42), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("evaluation_models")

"""alerts: webhook secrets sealed at rest - widen alert_endpoints' secret columns (issue 19)

A sealed secret (``sealed:1:<key id>:<base64 blob>``, `ledger.alerts.secret_seal`) is
longer than the 100 characters a plain ``whsec_`` secret needed. Rows stored plain stay
readable; `credit-ledger alerts seal-secrets` seals them.

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alert_endpoints") as batch:
        batch.alter_column("secret", type_=sa.Text(), existing_nullable=False)
        batch.alter_column("previous_secret", type_=sa.Text(), existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("alert_endpoints") as batch:
        batch.alter_column("secret", type_=sa.String(100), existing_nullable=False)
        batch.alter_column("previous_secret", type_=sa.String(100), existing_nullable=True)

"""one nonce namespace for an institution's data and evaluation requests

Evaluation requests spent their nonces as `evaluation:0x…`, data requests as `data:0x…`,
so the same signed nonce could be spent once of each kind, while the auditor holds nonces
unique across the whole access trail. Both kinds now spend `data:0x…`; the nonces already
spent by evaluations are moved into that namespace, so none of them can be spent again by
either kind (one spent by both already keeps its single `data:` row).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = "evaluation:"


def upgrade() -> None:
    # substr is 1-based: the nonce after the 11 characters of "evaluation:"
    op.execute(
        "DELETE FROM request_nonces WHERE nonce LIKE 'evaluation:%' AND EXISTS ("
        "SELECT 1 FROM request_nonces d WHERE d.signer = request_nonces.signer"
        " AND d.nonce = 'data:' || substr(request_nonces.nonce, 12))"
    )
    op.execute(
        "UPDATE request_nonces SET nonce = 'data:' || substr(nonce, 12) WHERE nonce LIKE 'evaluation:%'"
    )


def downgrade() -> None:
    # The namespaces were merged: which `data:` nonce an evaluation spent is not recorded,
    # and keeping every nonce spent is what refuses replays, so nothing is moved back.
    pass

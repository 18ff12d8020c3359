"""Replay protection for signed API requests, shared by every API worker through the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError

from ledger.errors import Conflict
from ledger.storage.database import Database
from ledger.storage.models import RequestNonce


class ReplayedRequest(Conflict):
    code = "replayed_request"


def remember_nonce(db: Database, signer: str, nonce: str) -> None:
    """Record (signer, nonce) or raise `ReplayedRequest` if it was seen before.

    The unique constraint decides, so two workers racing on the same nonce cannot both win.
    """
    try:
        with db.engine.begin() as conn:
            conn.execute(insert(RequestNonce).values(signer=signer, nonce=nonce, seen_at=datetime.now(UTC)))
    except IntegrityError:
        raise ReplayedRequest(f"replayed request: nonce {nonce} of {signer} was already used") from None


def prune_nonces(db: Database, older_than_seconds: int) -> int:
    """Forget nonces old enough that their requests are refused as stale anyway."""
    cutoff = datetime.now(UTC) - timedelta(seconds=older_than_seconds)
    with db.engine.begin() as conn:
        return int(conn.execute(delete(RequestNonce).where(RequestNonce.seen_at < cutoff)).rowcount)

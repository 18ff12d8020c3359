"""Portal sessions: a signed challenge opens one; its cookie then opens the member's read views.

A session names an address and nothing more: the member's role and status are read from
the chain on every page (`ledger.services.membership`), so a suspension ends the portal
too. The cookie's token is stored as its SHA-256; each session has its own CSRF token,
which every form and htmx request of the portal sends back.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select

from ledger.portal import signin
from ledger.portal.models import PortalSession
from ledger.request_auth import Unauthenticated
from ledger.services import audit_events
from ledger.services.replay import remember_nonce
from ledger.storage.database import Database


class CsrfRefused(Unauthenticated):
    """A portal form or request without its session's CSRF token (HTTP 401)."""

    code = "csrf_token"


@dataclass(frozen=True)
class OpenSession:
    """A live session: whose it is, its CSRF token, until when; `token` only when just opened."""

    address: str
    csrf_token: str
    expires_at: datetime
    subject: str | None = None  # an enterprise's USCC, checked against its hash on chain at sign-in
    token: str = ""

    def check_csrf(self, sent: str | None) -> None:
        if not sent or not hmac.compare_digest(sent, self.csrf_token):
            raise CsrfRefused("the form's CSRF token is missing or not this session's: reload the page")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class PortalSessions:
    """Verifies signed challenges, opens sessions, finds them by cookie, closes them."""

    def __init__(self, db: Database, *, lifetime_seconds: int, chain_id: int) -> None:
        self.db = db
        self.lifetime = timedelta(seconds=lifetime_seconds)
        self.chain_id = chain_id

    def challenge(self, origin: str, address: str, *, now: datetime | None = None) -> signin.Challenge:
        return signin.challenge(origin, address, self.chain_id, now=now or datetime.now(UTC))

    def verify(self, message: str, signature: str, *, origin: str, now: datetime | None = None) -> str:
        """The signer of the sign-in challenge `message`, once it is verified and its nonce spent.

        Whether the signer may use the portal (an active member) is the caller's check: the
        chain answers it, not this table.
        """
        at = now or datetime.now(UTC)
        found = signin.verify(message, signature, origin=origin, chain_id=self.chain_id, now=at)
        remember_nonce(self.db, found.address, signin.NONCE_PREFIX + found.nonce)
        return found.address

    def open(self, address: str, *, subject: str | None = None, now: datetime | None = None) -> OpenSession:
        """A new session for `address` (verified by `verify`); `subject`: an enterprise's USCC."""
        at = now or datetime.now(UTC)
        token = secrets.token_urlsafe(32)
        opened = OpenSession(address, secrets.token_urlsafe(32), at + self.lifetime, subject, token)
        with self.db.session() as session:
            session.execute(delete(PortalSession).where(PortalSession.expires_at < at))
            session.add(
                PortalSession(
                    token_hash=_hash(token),
                    address=address,
                    subject=subject,
                    csrf_token=opened.csrf_token,
                    created_at=at,
                    expires_at=opened.expires_at,
                )
            )
        audit_events.record(self.db, actor=address, event="portal sign-in", outcome="ok")
        return opened

    def find(self, token: str | None, *, now: datetime | None = None) -> OpenSession | None:
        """The live session of the cookie `token`, or None (unknown, closed or expired)."""
        if not token:
            return None
        with self.db.session() as session:
            row = session.scalar(select(PortalSession).where(PortalSession.token_hash == _hash(token)))
        if row is None:
            return None
        expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
        if expires <= (now or datetime.now(UTC)):
            return None
        return OpenSession(row.address, row.csrf_token, expires, row.subject)

    def sign_out(self, token: str | None) -> None:
        found = self.find(token)
        if token and found is not None:
            with self.db.session() as session:
                session.execute(delete(PortalSession).where(PortalSession.token_hash == _hash(token)))
            audit_events.record(self.db, actor=found.address, event="portal sign-out", outcome="ok")

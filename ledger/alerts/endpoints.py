"""Institutions' webhook endpoints: registration with a verification handshake, secret
rotation with overlap, removal.

Registration checks the URL (`ledger.alerts.urls`: https outside private ranges in
production, loopback too in development), makes a fresh `whsec_` secret, and sends the
endpoint a signed `endpoint.verification` message whose `data.challenge` the endpoint must
echo in a 2xx JSON answer (`{"challenge": "..."}`), proving it is reachable, is the
institution's, and verifies Standard Webhooks signatures with the secret given. Only then is
the endpoint stored: a refused or unverified endpoint leaves nothing behind. The secret is
shown once, in the registration's (or rotation's) answer.

Rotation makes a new secret; the previous one keeps signing alongside it for
`overlap_seconds`, so a receiver can switch without losing a message.
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass
from typing import Annotated

import httpx
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.alerts.endpoint_model import ACTIVE, DISABLED, AlertEndpoint
from ledger.alerts.outbox import now_ms
from ledger.alerts.secret_seal import development_keyring, open_secret, seal_secret
from ledger.alerts.signing import new_secret, signed_headers, verification_payload
from ledger.alerts.transport import request_kwargs
from ledger.alerts.urls import EndpointRefused, Environment, Resolver, check_url, system_resolver
from ledger.chain.address import checksum_address
from ledger.errors import NotFound
from ledger.records.crypto import Keyring
from ledger.storage.database import Database

__all__ = ["AlertEndpoints", "EndpointStatus", "Registered", "Rotated"]


@dataclass(frozen=True)
class Registered:
    endpoint_id: str
    url: str
    secret: Annotated[str, Field(description="the whsec_ signing secret: shown only here")]


@dataclass(frozen=True)
class Rotated:
    endpoint_id: str
    secret: Annotated[str, Field(description="the new whsec_ secret: shown only here")]
    previous_valid_until_ms: Annotated[int, Field(description="the previous secret signs too until then")]


@dataclass(frozen=True)
class EndpointStatus:
    endpoint_id: str
    url: str
    state: Annotated[str, Field(description="active or disabled")]
    reason: Annotated[str | None, Field(description="why it is disabled")]
    rotating_until_ms: Annotated[int | None, Field(description="the previous secret signs too until then")]


class AlertEndpoints:
    def __init__(
        self,
        db: Database,
        *,
        environment: Environment,
        overlap_seconds: int = 24 * 3600,
        resolver: Resolver = system_resolver,
        timeout_seconds: float = 5.0,
        http_transport: httpx.BaseTransport | None = None,
        keyring: Keyring | None = None,
    ) -> None:
        self.db = db
        #: seals the secrets at rest (the records' keyring; the development one by default)
        if keyring is None and environment != "development":
            raise ValueError(
                "webhook secrets are sealed under the records' keyring: pass it outside development"
            )
        self.keyring = keyring or development_keyring()
        self.environment = environment
        self.overlap_seconds = overlap_seconds
        self.resolver = resolver
        self.timeout_seconds = timeout_seconds
        self._http_transport = http_transport

    def handshake(self, url: str, secret: str) -> None:
        """Send the verification message; `EndpointRefused` unless the challenge comes back."""
        target = check_url(url, environment=self.environment, resolver=self.resolver)
        challenge = secrets.token_urlsafe(24)
        body = verification_payload(challenge, now_ms())
        headers = signed_headers(f"msg_verify_{uuid.uuid4().hex}", body, [secret])
        try:
            with httpx.Client(
                timeout=self.timeout_seconds,
                follow_redirects=False,
                trust_env=False,
                transport=self._http_transport,
            ) as client:
                response = client.post(content=body, **request_kwargs(target, headers))  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            raise EndpointRefused(
                "endpoint_unverified", f"the endpoint could not be reached: {exc.__class__.__name__}"
            ) from None
        if not 200 <= response.status_code < 300:
            raise EndpointRefused(
                "endpoint_unverified", f"the endpoint answered {response.status_code} to the verification"
            )
        try:
            echoed = json.loads(response.content).get("challenge")
        except (ValueError, AttributeError):
            echoed = None
        if echoed != challenge:
            raise EndpointRefused(
                "endpoint_unverified", 'the endpoint did not echo the challenge as {"challenge": "..."}'
            )

    def register(self, institution: str, url: str) -> Registered:
        """Verify and store `url` as `institution`'s endpoint (replacing any before it)."""
        institution = checksum_address(institution)
        secret = new_secret()
        self.handshake(url, secret)
        now = now_ms()
        with self.db.session() as session:
            row = session.scalars(
                select(AlertEndpoint).where(AlertEndpoint.institution == institution)
            ).one_or_none()
            if row is None:
                row = AlertEndpoint(id=f"ep_{uuid.uuid4().hex}", institution=institution, created_ms=now)
                session.add(row)
            row.url, row.state, row.reason = url, ACTIVE, None
            row.secret = seal_secret(self.keyring, row.id, "secret", secret)
            row.previous_secret, row.previous_until_ms = None, None
            row.updated_ms = now
            return Registered(row.id, url, secret)

    def rotate(self, institution: str) -> Rotated:
        """A new secret; the current one signs too for `overlap_seconds`."""
        with self.db.session() as session:
            row = self._active(session, institution)
            secret = new_secret()
            now = now_ms()
            current = open_secret(self.keyring, row.id, "secret", row.secret)
            row.previous_secret = seal_secret(self.keyring, row.id, "previous_secret", current)
            row.previous_until_ms = now + self.overlap_seconds * 1000
            row.secret, row.updated_ms = seal_secret(self.keyring, row.id, "secret", secret), now
            return Rotated(row.id, secret, row.previous_until_ms)

    def remove(self, institution: str) -> None:
        """Stop pushing to the institution's endpoint (the pull feed goes on)."""
        with self.db.session() as session:
            row = self._active(session, institution)
            row.state, row.reason, row.updated_ms = DISABLED, "removed by the institution", now_ms()

    def status(self, institution: str) -> EndpointStatus:
        with self.db.session() as session:
            row = session.scalars(
                select(AlertEndpoint).where(AlertEndpoint.institution == checksum_address(institution))
            ).one_or_none()
            if row is None:
                raise NotFound("no alert endpoint is registered for this institution")
            until = row.previous_until_ms
            rotating = until if until is not None and until > now_ms() else None
            return EndpointStatus(row.id, row.url, row.state, row.reason, rotating)

    @staticmethod
    def _active(session: Session, institution: str) -> AlertEndpoint:
        row = session.scalars(
            select(AlertEndpoint).where(
                AlertEndpoint.institution == checksum_address(institution), AlertEndpoint.state == ACTIVE
            )
        ).one_or_none()
        if row is None:
            raise NotFound("no active alert endpoint is registered for this institution")
        return row

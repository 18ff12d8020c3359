"""Portal sessions on a migrated SQLite file: opened once per signed challenge, found, ended."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from ledger.portal.sessions import CsrfRefused, PortalSessions
from ledger.services import audit_events
from ledger.services.replay import ReplayedRequest
from ledger.storage.database import Database, migrate

ORIGIN = "http://127.0.0.1:8000"
MEMBER = Account.from_key("0x" + "33" * 32)


@pytest.fixture
def sessions(tmp_path: Path) -> PortalSessions:
    url = f"sqlite:///{tmp_path / 'portal.db'}"
    migrate(url)
    return PortalSessions(Database(url), lifetime_seconds=3600, chain_id=31337)


def test_a_signed_challenge_opens_one_session_which_its_cookie_finds_until_it_ends(
    sessions: PortalSessions,
) -> None:
    now = datetime.now(UTC)
    text = sessions.challenge(ORIGIN, MEMBER.address, now=now).text
    signature = MEMBER.sign_message(encode_defunct(text=text)).signature.hex()
    assert sessions.verify(text, signature, origin=ORIGIN, now=now) == MEMBER.address
    with pytest.raises(ReplayedRequest):  # the same signed challenge is accepted once
        sessions.verify(text, signature, origin=ORIGIN, now=now)
    opened = sessions.open(MEMBER.address, subject="91350200776049653A", now=now)
    assert opened.address == MEMBER.address and opened.token and opened.expires_at == now + timedelta(hours=1)

    found = sessions.find(opened.token)
    assert found is not None and found.address == MEMBER.address and found.token == ""
    assert found.subject == "91350200776049653A"
    found.check_csrf(opened.csrf_token)
    for wrong in (None, "", opened.token):
        with pytest.raises(CsrfRefused):
            found.check_csrf(wrong)
    assert sessions.find(opened.token, now=now + timedelta(hours=1)) is None  # expired
    assert sessions.find("not-a-token") is None and sessions.find(None) is None

    sessions.sign_out(opened.token)
    assert sessions.find(opened.token) is None
    events = [e.event for e in audit_events.recent(sessions.db, 5, actor=MEMBER.address)]
    assert events == ["portal sign-out", "portal sign-in"]

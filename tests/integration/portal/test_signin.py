"""Sign-in with a keystore opened in the browser, the session it opens, the language switch, /docs.

Real Chromium, real HTTP, real anvil and SQLite. Every page: only 127.0.0.1 requested, no
serious or critical axe violation, a screenshot kept.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_account import Account
from sqlalchemy import select

from ledger.portal.models import PortalSession
from ledger.services import audit_events
from tests.integration.portal.conftest import PASSWORD, Visit, axe, keystore, shoot, sign_in
from tests.integration.test_release import SUBJECT, World

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


def test_an_enterprise_signs_in_with_its_keystore_and_its_key_stays_in_the_browser(
    world: World, visit: Visit, tmp_path: Path
) -> None:
    stored = keystore(world.enterprise, tmp_path)
    sign_in(visit, stored, expect="/portal/enterprise/", subject=SUBJECT)
    page = visit.page
    page.wait_for_selector("h1")
    assert page.locator("h1").inner_text() == "您的企业"  # zh-CN by default
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert world.enterprise.address in page.locator("header .who").inner_text()
    cookie = next(c for c in page.context.cookies() if c["name"] == "ledger_portal")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie").find("ledger_portal") == -1  # not readable by scripts
    axe(page)
    shoot(page, "enterprise-home-zh")

    # the key never left the browser: no request (URL or body) holds it, the keystore or the password
    sent = visit.sent()
    secrets = [
        world.enterprise.key.hex().removeprefix("0x"),
        json.loads(stored.read_text())["crypto"]["ciphertext"],
    ]
    assert "signature" in sent and all(s not in sent for s in [*secrets, PASSWORD])
    visit.local_only()
    with world.platform.db.session() as session:
        assert session.scalars(select(PortalSession.address)).all() == [world.enterprise.address]
    assert (
        audit_events.recent(world.platform.db, 5, actor=world.enterprise.address)[0].event == "portal sign-in"
    )

    # English on request, and back; the session survives
    page.get_by_role("button", name="English").click()
    page.wait_for_selector("h1:text('Your enterprise')")
    assert page.locator("html").get_attribute("lang") == "en"
    axe(page)
    shoot(page, "enterprise-home-en")
    page.get_by_role("button", name="中文").click()
    page.wait_for_selector("h1:text('您的企业')")

    # sign-out ends the session: its cookie opens nothing any more
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url("**/portal/signin")
    with world.platform.db.session() as session:
        assert session.scalars(select(PortalSession.address)).all() == []
    visit.goto("/portal/enterprise/")
    page.wait_for_url("**/portal/signin?next=/portal/enterprise/")
    axe(page)
    shoot(page, "signin")
    visit.local_only()


def test_a_key_that_is_no_member_is_refused_and_opens_no_session(
    world: World, visit: Visit, tmp_path: Path
) -> None:
    stranger = keystore(Account.create(), tmp_path)
    sign_in(visit, stranger, expect="")
    result = visit.page.locator("form[data-signin] [data-result]")
    result.filter(has_text="登录失败").wait_for()
    assert "403" in result.inner_text() and "not an active member" in result.inner_text()
    assert PASSWORD not in visit.sent() and "keystore" not in visit.sent()
    with world.platform.db.session() as session:
        assert session.scalars(select(PortalSession.address)).all() == []
    # a page needs a session
    visit.goto("/portal/me")
    visit.page.wait_for_url("**/portal/signin?next=/portal/me")


def test_swagger_ui_is_served_from_the_platform(world: World, visit: Visit) -> None:
    del world
    visit.goto("/docs")
    visit.page.wait_for_selector(".swagger-ui .information-container", timeout=60_000)  # 1.5 MB of script
    assert "credit-ledger" in visit.page.locator(".swagger-ui .title").inner_text()
    shoot(visit.page, "docs")
    visit.local_only()

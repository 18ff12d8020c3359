"""The enterprise's pages in a real browser: it signs in with its keystore, grants a consent
signed in the page, an institution's release (through the SDK) then shows in its
who-read-my-data in words; it revokes; every page passes axe and requests only 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.chain.membership import uscc_hash
from tests.integration.portal.conftest import PASSWORD, Visit, as_enterprise, axe, open_page, shoot
from tests.integration.test_release import SUBJECT, TAX, World

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)

PAGES = ["records", "accesses", "consents", "cases", "declarations", "notices", "evaluation", "financing"]


def test_an_enterprise_grants_in_the_browser_and_then_sees_who_read_its_data(
    world: World, visit: Visit, tmp_path: Path
) -> None:
    page = as_enterprise(visit, world, tmp_path)
    open_page(page, "授权管理")
    assert "您尚未授权任何机构" in page.locator("#grants").inner_text()

    # the grant form: bank, tax, credit assessment; the summary says exactly what is shared
    form = page.locator("form#grant")
    form.locator(f"input[name=institution][value='{world.bank.address}']").check()
    form.locator("input[name=categories][value='64']").check()  # tax (bit 6)
    form.locator("input[name=purposes][value='1']").check()  # credit assessment (bit 0)
    summary = page.locator("#summary")
    summary.filter(has_text="纳税").wait_for()
    said = summary.inner_text()
    assert "授信审批" in said and world.bank.address in said and "脱敏" in said
    assert "办税人员姓名 (仅显示姓氏)" in said  # each field the grant lets the bank read, by name
    axe(page)
    shoot(page, "enterprise-consent-summary")
    form.get_by_role("button", name="签名并授权").click()
    form.locator("[data-result]").filter(has_text="已完成").wait_for()
    grants = page.locator("#grants")
    grants.filter(has_text="生效中").wait_for()  # the list reloaded itself after the act
    assert len(world.platform.contracts.consents.grants_of(uscc_hash(SUBJECT))) == 1  # on chain

    # the institution reads (through the SDK); the release shows in the timeline, in words
    released = world.release(categories=TAX)
    index = released["receipt"]["index"]  # type: ignore[index]
    open_page(page, "谁查询了我")
    entry = page.locator("ol.timeline li").first
    text = entry.inner_text()
    assert world.bank.address in text and "银行" in text
    assert "授信审批" in text and "纳税" in text and "脱敏" in text
    assert f"#{index}" in text and f"区块 {released['receipt']['block']}" in text  # type: ignore[index]
    assert "64" not in text.replace(world.bank.address, "")  # words, never the bit mask
    axe(page)
    shoot(page, "enterprise-accesses")

    # every other page renders, passes axe, and is kept as a screenshot
    for name in PAGES:
        visit.goto(f"/portal/enterprise/{name}")
        page.wait_for_selector("h1")
        axe(page)
        shoot(page, f"enterprise-{name}")
    visit.goto("/portal/enterprise/records")
    page.locator("table a").first.click()  # a record: its versions and proof
    page.wait_for_selector("text=下载证明")
    axe(page)
    shoot(page, "enterprise-record")
    download = page.get_by_role("link", name="下载证明").first.get_attribute("href")
    proof = page.request.get(visit.base + str(download))  # the session's cookie goes with it
    assert proof.ok and "attachment" in proof.headers["content-disposition"]
    assert proof.json()["log"] == "credit-records" and proof.json()["leaf_hash"].startswith("0x")

    # revoking, signed in the page after a full reload: the key is asked for again
    visit.goto("/portal/enterprise/consents")
    page.get_by_role("button", name="撤销").first.click()
    page.locator("#unlock-password").fill(PASSWORD)
    page.locator("#unlock button[type=submit]").click()
    page.locator("#grants").filter(has_text="已撤销").wait_for()
    visit.local_only()
    sent = visit.sent()
    assert world.enterprise.key.hex().removeprefix("0x") not in sent and PASSWORD not in sent
    assert "/acts/Grant" in sent and "/acts/Revoke" in sent

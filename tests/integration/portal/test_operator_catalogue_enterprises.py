"""The operator's catalogue and enterprise acts in real Chromium over real HTTP, anvil and SQLite.

- an operator uploads catalogue v2 over v1 in force: the page says what it adds, the browser
  signs `PublishCatalogue`, and the chain then holds v2 with the hash of the packaged file; a
  catalogue that drops a field is refused in words, naming the field, before anything is signed;
- an operator registers an enterprise (`RegisterEnterprise`, no quorum), suspends and
  reinstates it; a 统一社会信用代码 with a wrong check character is refused naming position 18
  before signing (in Chinese, then in English), and registering the same code twice shows the
  chain's refusal in words.

Every page: no serious or critical axe violation, only 127.0.0.1 requested, no key, keystore
or password sent, a screenshot kept.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_account import Account
from playwright.sync_api import Page

from ledger.chain.membership import MembershipContract, Role, Status
from ledger.domain.catalogue import packaged_catalogues
from ledger.domain.identifiers import uscc_check_char
from ledger.paths import PROJECT_ROOT
from tests.integration.portal.conftest import Visit, axe, keystore, shoot, sign_in
from tests.integration.portal.test_acts import refusal_of, result_of
from tests.integration.portal.test_roles import secrets_kept, unlock
from tests.integration.test_release import World

pytestmark = [pytest.mark.parametrize("database", ["sqlite"], indirect=True), pytest.mark.slow]

V2_FILE = PROJECT_ROOT / "ledger" / "catalogue" / "catalogue-v2.json"


def test_an_operator_publishes_catalogue_v2_and_a_version_dropping_a_field_is_refused(
    world: World, visit: Visit, tmp_path: Path
) -> None:
    registry = world.platform.contracts.catalogue_registry
    operator = world.operators[0]
    stored = keystore(operator, tmp_path)
    sign_in(visit, stored, expect="/portal/operator/")
    visit.goto("/portal/operator/catalogue")
    page = visit.page
    axe(page)
    assert registry.current().version == 1

    # v2 without registration.address: refused in words before anything is signed
    v2 = packaged_catalogues()[1]
    dropped = v2.model_dump(mode="json")
    registration = next(c for c in dropped["categories"] if c["name"] == "registration")
    registration["fields"] = [f for f in registration["fields"] if f["name"] != "address"]
    bad = tmp_path / "catalogue-dropped.json"
    bad.write_text(json.dumps(dropped, ensure_ascii=False), encoding="utf-8")
    page.set_input_files("#catalogue-file", str(bad))
    page.locator("#catalogue-upload button[type=submit]").click()
    refused = page.locator("#catalogue-draft [data-catalogue-refused=field_removed]")
    refused.wait_for()
    words = refused.inner_text()
    assert "registration.address" in words and "每个版本只能新增" in words and "平台将拒绝" in words, words
    assert page.locator("#catalogue-publish").count() == 0  # nothing to sign
    axe(page)
    shoot(page, "operator-catalogue-refused")

    # the packaged v2: what it adds, then signed here and anchored
    page.set_input_files("#catalogue-file", str(V2_FILE))
    page.locator("#catalogue-upload button[type=submit]").click()
    page.wait_for_selector("#catalogue-draft [data-catalogue-ready='2']")
    added = page.locator("#catalogue-draft [data-change]")
    names = {added.nth(i).get_attribute("data-name") for i in range(added.count())}
    assert names == {
        "registration.industry",
        "rnd.specialized_sme_level",
        "rnd.specialized_sme_certified_on",
        "rnd.specialized_sme_valid_until",
    }
    assert "新增字段" in page.locator("#catalogue-draft [data-changes]").inner_text()
    axe(page)
    shoot(page, "operator-catalogue-draft")
    page.locator("#catalogue-publish button[type=submit]").click()
    unlock(page)
    said = result_of(page, "#catalogue-publish")
    assert page.locator("#catalogue-publish [data-result]").get_attribute("data-kind") == "ok", said
    current = registry.current()
    assert (current.version, current.content_hash) == (2, v2.content_hash())
    assert current.public_categories == v2.public_mask()
    assert world.sdk(operator).catalogue()["version"] == 2  # the platform holds its content
    visit.goto("/portal/operator/catalogue")
    assert "v2" in page.locator("table tbody tr").first.inner_text()
    shoot(page, "operator-catalogue-published")

    # the same version again: the chain's version is not above, refused in words
    page.set_input_files("#catalogue-file", str(V2_FILE))
    page.locator("#catalogue-upload button[type=submit]").click()
    page.wait_for_selector("#catalogue-draft [data-catalogue-refused=version_not_above]")
    assert "v2" in page.locator("#catalogue-draft").inner_text()
    secrets_kept(visit, operator, stored)


def cleared(page: Page, form: str) -> None:
    """The form's last answer wiped, so that waiting for the next one does not find it."""
    page.locator(f"{form} [data-result]").evaluate("e => { e.dataset.kind = ''; e.textContent = '' }")


def uscc(first17: str) -> str:
    return first17 + uscc_check_char(first17)


def test_an_operator_registers_suspends_and_reinstates_an_enterprise_and_a_bad_code_names_its_position(
    world: World, visit: Visit, tmp_path: Path
) -> None:
    membership = MembershipContract(world.platform.chain, world.platform.deployment.addresses.membership)
    operator = world.operators[0]
    stored = keystore(operator, tmp_path)
    sign_in(visit, stored, expect="/portal/operator/")
    page = visit.page
    page.get_by_role("navigation").get_by_role("link", name="企业").click()
    page.wait_for_selector("h1:text('企业')")
    axe(page)

    newcomer = Account.create()
    code = uscc("91410100MA45TL7G2")
    wrong = code[:17] + ("1" if code[17] != "1" else "2")
    form = page.locator("#enterprise-register")
    form.locator("[name=account]").fill(newcomer.address)
    form.locator("[name=uscc]").fill(wrong)
    form.locator("[name=name]").fill("郑州新科技有限公司")
    form.locator("button[type=submit]").click()
    said = result_of(page, "#enterprise-register")
    assert "第 18 位" in said and "校验码" in said, said
    assert form.locator("[data-uscc-check] [data-uscc=check_char]").get_attribute("data-position") == "18"
    assert not any(r.method == "POST" and r.url == f"{visit.base}/enterprises" for r in visit.requests)
    assert membership.member_of(newcomer.address).role is Role.NONE
    axe(page)
    shoot(page, "operator-enterprise-bad-uscc")

    form.locator("[name=uscc]").fill(code)
    form.locator("[data-uscc-check] [data-uscc=ok]").wait_for()
    cleared(page, "#enterprise-register")
    form.locator("button[type=submit]").click()  # the key is open since sign-in: no reload since
    said = result_of(page, "#enterprise-register")
    assert form.locator("[data-result]").get_attribute("data-kind") == "ok", said
    member = membership.member_of(newcomer.address)
    assert (member.role, member.status) == (Role.ENTERPRISE, Status.ACTIVE)
    assert membership.enterprise_by_uscc(code) == newcomer.address
    shoot(page, "operator-enterprise-registered")

    # the same code again: the chain refuses it, in words
    form.locator("[name=account]").fill(Account.create().address)
    cleared(page, "#enterprise-register")
    form.locator("button[type=submit]").click()
    assert refusal_of(page, "#enterprise-register") == "UsccAlreadyRegistered"
    assert "已有企业" in form.locator("[data-result]").inner_text()

    status = page.locator("#enterprise-status")
    status.locator("[name=uscc]").fill(code)
    status.locator("input[name=action][value=suspend]").check()
    status.locator("button[type=submit]").click()
    said = result_of(page, "#enterprise-status")
    assert status.locator("[data-result]").get_attribute("data-kind") == "ok", said
    assert membership.member_of(newcomer.address).status is Status.SUSPENDED
    cleared(page, "#enterprise-status")
    status.locator("input[name=action][value=reinstate]").check()
    status.locator("button[type=submit]").click()
    said = result_of(page, "#enterprise-status")
    assert status.locator("[data-result]").get_attribute("data-kind") == "ok", said
    assert membership.member_of(newcomer.address).status is Status.ACTIVE
    axe(page)
    shoot(page, "operator-enterprise-reinstated")

    page.get_by_role("button", name="English").click()
    page.wait_for_selector("h1:text('Enterprises')")
    form = page.locator("#enterprise-register")
    form.locator("[name=account]").fill(Account.create().address)
    form.locator("[name=uscc]").fill(wrong)
    form.locator("[name=name]").fill("A company")
    form.locator("button[type=submit]").click()
    said = result_of(page, "#enterprise-register")
    assert "Position 18" in said and "check character" in said, said
    axe(page)
    shoot(page, "operator-enterprise-bad-uscc-en")
    secrets_kept(visit, operator, stored)

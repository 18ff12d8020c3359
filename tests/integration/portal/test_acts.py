"""The operator's and the institution's acts in real Chromium over real HTTP, anvil and SQLite.

- an operator proposes a member's admission (its summary in words before signing), a second
  operator approves it in its own browser, and the quorum executes it; a proposal the chain
  refuses shows the refusal in words;
- an operator proposes a credit-evaluation model version from its document and card, a second
  operator approves it to the quorum, then proposes its retirement; retiring a version that
  does not exist shows the refusal in words;
- an operator sets a day of the working-day calendar and removes it again; a day the API
  refuses shows the refusal in words;
- an institution publishes a loan product (checked first: a rule over a field the platform
  does not hold is refused, named), an enterprise applies to it, and the institution reports
  its decision; a report reusing the idempotency key, or inconsistent, shows its refusal in
  words, in Chinese and in English.

Every page: no serious or critical axe violation, only 127.0.0.1 requested, no key, keystore
or password sent, a screenshot kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from eth_account import Account
from playwright.sync_api import Browser, Page

from ledger.chain.membership import InstitutionKind, MembershipContract, Role, Status, name_hash
from ledger.chain.model_registry import ModelStatus
from ledger.evaluation.training import TrainedModel
from ledger.selfservice.calendar import DayKind
from tests.integration.portal.conftest import Visit, axe, keystore, shoot, sign_in
from tests.integration.portal.test_roles import secrets_kept, unlock
from tests.integration.test_evaluation import cohort, trained  # noqa: F401
from tests.integration.test_release import SUBJECT, World

pytestmark = [pytest.mark.parametrize("database", ["sqlite"], indirect=True), pytest.mark.slow]


def result_of(page: Page, form: str) -> str:
    """The words a signed form shows once the platform answered (ok or refused)."""
    page.wait_for_selector(f"{form} [data-result][data-kind=ok], {form} [data-result][data-kind=error]")
    return page.locator(f"{form} [data-result]").inner_text()


def refusal_of(page: Page, form: str) -> str:
    page.wait_for_selector(f"{form} [data-result][data-refusal]:not([data-refusal=''])")
    return page.locator(f"{form} [data-result]").get_attribute("data-refusal") or ""


def test_an_operator_proposes_an_admission_and_a_second_operator_approves_it_to_the_quorum(
    world: World, visit: Visit, browser: Browser, live_api: str, tmp_path: Path
) -> None:
    membership = MembershipContract(world.platform.chain, world.platform.deployment.addresses.membership)
    newcomer = Account.create()
    first = world.operators[0]
    stored = keystore(first, tmp_path)
    sign_in(visit, stored, expect="/portal/operator/")
    visit.goto("/portal/operator/")
    page = visit.page

    form = page.locator("#propose")
    form.locator("select[name=action]").select_option("admit")
    form.locator("input[name=account]").fill(newcomer.address)
    form.locator("select[name=role]").select_option("institution")
    form.locator("select[name=kind]").select_option("bank")
    form.locator("input[name=name]").fill("郑州新银行")
    page.wait_for_selector("#proposal-summary [data-draft][data-ready=yes]")
    summary = page.locator("#proposal-summary").inner_text()
    assert newcomer.address in summary and "郑州新银行" in summary and "银行" in summary, summary
    assert "2" in summary  # the quorum it needs
    axe(page)
    shoot(page, "operator-propose-summary")

    form.locator("button[type=submit]").click()
    unlock(page)
    said = result_of(page, "#propose")
    assert page.locator("#propose [data-result]").get_attribute("data-kind") == "ok", said
    row = page.locator("#proposals tr[data-status=open]").filter(has_text=newcomer.address)
    row.wait_for()
    assert "1 / 2" in row.inner_text() and "1" in said, said
    proposal = int(row.get_attribute("data-proposal") or 0)
    assert membership.member_of(newcomer.address).role is Role.NONE  # not before the quorum
    shoot(page, "operator-proposed")

    # a proposal the chain refuses: the bank is a member already
    form.locator("input[name=account]").fill(world.bank.address)
    page.wait_for_selector("#proposal-summary [data-problem=already_member]")
    form.locator("button[type=submit]").click()
    assert refusal_of(page, "#propose") == "AlreadyMember"
    assert "已经是成员" in page.locator("#propose [data-result]").inner_text()
    axe(page)
    shoot(page, "operator-propose-refused")
    secrets_kept(visit, first, stored)

    # the second operator, in its own browser, approves: the quorum executes the admission
    with second_operator(browser, live_api, world, tmp_path) as second:
        mine = second.page.locator(f"#proposals tr[data-proposal='{proposal}']")
        mine.get_by_role("button", name="批准").click()
        unlock(second.page)
        second.page.wait_for_selector(f"#proposals tr[data-proposal='{proposal}'][data-status=executed]")
        shoot(second.page, "operator-second-approval-executed")
    member = membership.member_of(newcomer.address)
    assert (member.role, member.kind) == (Role.INSTITUTION, InstitutionKind.BANK)
    assert member.status is Status.ACTIVE
    assert member.name_hash == name_hash("郑州新银行")  # the browser hashed the name the operator typed


@contextmanager
def second_operator(browser: Browser, live_api: str, world: World, tmp_path: Path) -> Iterator[Visit]:
    """The second operator in a browser of its own (its requests logged), signed in on the
    proposals page; afterwards, no request of it carried its key, keystore or password."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    try:
        other = Visit(context.new_page(), live_api)
        other.page.on("request", lambda request: other.requests.append(request))
        other.page.set_default_timeout(20_000)
        stored = keystore(world.operators[1], tmp_path)
        sign_in(other, stored, expect="/portal/operator/")
        other.goto("/portal/operator/")
        yield other
        secrets_kept(other, world.operators[1], stored)
    finally:
        context.close()


def test_operators_propose_and_approve_a_model_version_then_propose_its_retirement(
    world: World,
    visit: Visit,
    browser: Browser,
    live_api: str,
    tmp_path: Path,
    trained: TrainedModel,  # noqa: F811
) -> None:
    registry = world.platform.contracts.model_registry
    model, card = tmp_path / "model.json", tmp_path / "card.json"
    model.write_bytes(trained.document.canonical())
    card.write_bytes(trained.card.canonical())
    first = world.operators[0]
    stored = keystore(first, tmp_path)
    sign_in(visit, stored, expect="/portal/operator/")
    visit.goto("/portal/operator/")
    page = visit.page
    page.set_input_files("#model-file", str(model))
    page.set_input_files("#card-file", str(card))
    page.locator("#model-propose button[type=submit]").click()
    unlock(page)
    said = result_of(page, "#model-propose")
    assert page.locator("#model-propose [data-result]").get_attribute("data-kind") == "ok", said
    row = page.locator("#model-proposals tr[data-status=open]").first
    row.wait_for()
    proposal = int(row.get_attribute("data-model-proposal") or 0)
    assert f"{proposal}" in said and "1 / 2" in row.inner_text() and "模型第 1 版" in row.inner_text()
    assert registry.model(1).status is ModelStatus.PROPOSED
    axe(page)
    shoot(page, "operator-model-proposed")
    secrets_kept(visit, first, stored)

    with second_operator(browser, live_api, world, tmp_path) as second:
        other = second.page
        other.locator(f"#model-proposals tr[data-model-proposal='{proposal}'] button").click()
        unlock(other)
        other.wait_for_selector(
            f"#model-proposals tr[data-model-proposal='{proposal}'][data-status=executed]"
        )
        assert registry.model(1).status is ModelStatus.ACTIVE

        other.locator("#retire-version").fill("99")  # no such version: refused in words
        other.locator("#model-retire button[type=submit]").click()
        assert refusal_of(other, "#model-retire") == "NonexistentModelVersion"
        assert "没有这个模型版本" in other.locator("#model-retire [data-result]").inner_text()
        other.locator("#retire-version").fill("1")
        other.locator("#model-retire button[type=submit]").click()
        retiring = other.locator("#model-proposals tr[data-status=open]").filter(has_text="停用")
        retiring.wait_for()
        assert "1 / 2" in retiring.inner_text()
        axe(other)
        shoot(other, "operator-model-retirement-proposed")
    assert registry.model(1).status is ModelStatus.ACTIVE  # until the quorum approves its retirement


def test_an_operator_sets_and_removes_a_calendar_day_and_a_refused_day_is_named(
    world: World, visit: Visit, tmp_path: Path
) -> None:
    operator = world.operators[0]
    stored = keystore(operator, tmp_path)
    sign_in(visit, stored, expect="/portal/operator/")
    year = datetime.now(UTC).year
    visit.goto(f"/portal/operator/calendar?year={year}")
    page = visit.page
    axe(page)
    may_day = date(year, 5, 1)
    weekday = next(d for d in (date(year, 6, 1) + timedelta(n) for n in range(7)) if d.weekday() < 5)

    form = page.locator("#calendar-set")
    form.locator("input[name=day]").fill(weekday.isoformat())
    form.locator("input[name=kind][value=workday]").check()
    form.locator("input[name=name]").fill("调休")
    form.locator("button[type=submit]").click()
    unlock(page)
    assert refusal_of(page, "#calendar-set") == "invalid_input"  # a weekday is a working day already
    assert "无效" in page.locator("#calendar-set [data-result]").inner_text()
    assert page.locator(f"tr[data-day='{weekday.isoformat()}']").count() == 0

    form.locator("input[name=day]").fill(may_day.isoformat())
    form.locator("input[name=kind][value=holiday]").check()
    form.locator("input[name=name]").fill("劳动节")
    form.locator("button[type=submit]").click()
    assert "完成" in result_of(page, "#calendar-set")
    row = page.locator(f"#calendar-days tr[data-day='{may_day.isoformat()}']")
    row.wait_for()
    assert "劳动节" in row.inner_text() and operator.address in row.inner_text()
    days = world.sdk(operator).request("GET", f"/calendar/days?year={year}")
    assert [(d["day"], d["kind"], d["name"], d["set_by"]) for d in days] == [
        (may_day.isoformat(), DayKind.HOLIDAY.value, "劳动节", operator.address)
    ]
    axe(page)
    shoot(page, "operator-calendar-set")

    row.get_by_role("button").click()
    page.wait_for_selector(f"#calendar-days tr[data-day='{may_day.isoformat()}']", state="detached")
    assert world.sdk(operator).request("GET", f"/calendar/days?year={year}") == []
    secrets_kept(visit, operator, stored)


def test_an_institution_publishes_a_product_decides_an_application_and_a_bad_report_is_refused(
    world: World, visit: Visit, tmp_path: Path
) -> None:
    bank = world.bank
    stored = keystore(bank, tmp_path)
    sign_in(visit, stored, expect="/portal/institution/")
    visit.goto("/portal/institution/loans")
    page = visit.page
    axe(page)

    form = page.locator("#product-form")
    for name, value in {
        "key": "zz-科技贷", "name": "郑州科技贷", "amount_min": "100000", "amount_max": "3000000",
        "term_min": "6", "term_max": "36", "rate_min": "3.2", "rate_max": "4.5",
    }.items():  # fmt: skip
        form.locator(f"[name={name}]").fill(value)
    form.locator("select[name=product_kind]").select_option("科技贷")
    form.locator("[name=rule_field_0]").fill("years_in_operation")
    form.locator("[name=rule_op_0]").select_option("min")
    form.locator("[name=rule_value_0]").fill("1")
    form.locator("[name=rule_field_1]").fill("patents")  # not a fact the platform holds
    form.locator("[name=rule_op_1]").select_option("min")
    form.locator("[name=rule_value_1]").fill("2")
    form.locator("button[type=submit]").click()
    refused = page.locator("#product-draft [data-draft-refused=eligibility_invalid]")
    refused.wait_for()
    assert "patents" in refused.inner_text() and "资格条件" in refused.inner_text(), refused.inner_text()
    axe(page)
    shoot(page, "institution-product-refused")

    form.locator("[name=rule_field_1]").fill("no_dishonesty_record")
    form.locator("[name=rule_op_1]").select_option("equals")
    form.locator("[name=rule_value_1]").fill("是")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#product-draft [data-draft-ready]")
    summary = page.locator("#product-draft [data-draft-ready]").inner_text()
    assert "郑州科技贷" in summary and "经营年限" in summary and "无严重失信记录" in summary, summary
    axe(page)
    shoot(page, "institution-product-summary")
    page.locator("#product-publish button[type=submit]").click()
    unlock(page)
    assert "完成" in result_of(page, "#product-publish")
    page.locator("#products").filter(has_text="郑州科技贷").wait_for()
    published = world.sdk(bank).request("GET", "/financing/products/zz-科技贷")
    assert published["anchor"]["publisher"] == bank.address and published["document"]["eligibility"] == [
        {"field": "years_in_operation", "op": "min", "value": 1},
        {"field": "no_dishonesty_record", "op": "equals", "value": True},
    ]

    # the enterprise applies; the institution decides and reports the decision
    expires = int(world.platform.chain.w3.eth.get_block("latest")["timestamp"]) + 86400
    world.sdk(world.enterprise).apply_for_loan(
        SUBJECT, "zz-科技贷", 1, categories=["registration"], expires_at=expires
    )
    visit.goto("/portal/institution/loans")
    page.locator(f"tr[data-application='{SUBJECT}'] a").click()
    page.wait_for_url("**subject=**")
    report = page.locator("#loan-report")
    assert report.locator("[name=subject]").input_value() == SUBJECT
    key = report.locator("[name=idempotency_key]").input_value()
    report.locator("[name=loan_ref]").fill("ZZB-2026-000123")
    report.locator("[name=amount]").fill("500000.00")
    report.locator("[name=annual_rate]").fill("3.85")
    report.locator("[name=term_months]").fill("12")
    report.locator("[name=first_loan]").check()
    report.locator("select[name=industry]").select_option("C")
    report.locator("button[type=submit]").click()
    unlock(page)
    said = result_of(page, "#loan-report")
    assert "ZZB-2026-000123" in said and "1" in said, said
    page.locator("#reports").filter(has_text="ZZB-2026-000123").wait_for()
    versions = world.sdk(bank).request("GET", "/loans/ZZB-2026-000123/versions")
    assert len(versions) == 1 and versions[0]["content"]["amount"] == "500000.00"
    axe(page)
    shoot(page, "institution-loan-reported")

    # the same key with other content: refused (409), nothing stored
    report.locator("[name=amount]").fill("600000.00")
    report.locator("button[type=submit]").click()
    assert refusal_of(page, "#loan-report") == "idempotency_key_reused"
    assert "幂等键" in page.locator("#loan-report [data-result]").inner_text()
    shoot(page, "institution-loan-report-refused")
    # a new key, but decided before it was applied for: refused (422), the field named
    report.locator("[name=idempotency_key]").fill(key + "-2")
    report.locator("[name=decided_on]").fill("2020-01-01")
    report.locator("button[type=submit]").click()
    page.wait_for_selector("#loan-report [data-result][data-refusal=invalid_loan_report]")
    assert "decided_on" in page.locator("#loan-report [data-result]").inner_text()
    assert len(world.sdk(bank).request("GET", "/loans/ZZB-2026-000123/versions")) == 1

    page.get_by_role("button", name="English").click()
    page.wait_for_selector("h1:text('Products, applications and loan reports')")
    report = page.locator("#loan-report")
    report.locator("[name=idempotency_key]").fill(key)  # the first key again, other content
    report.locator("[name=loan_ref]").fill("ZZB-2026-000123")
    report.locator("[name=subject]").fill(SUBJECT)
    report.locator("[name=amount]").fill("700000.00")
    report.locator("[name=annual_rate]").fill("3.85")
    report.locator("[name=term_months]").fill("12")
    report.locator("button[type=submit]").click()
    unlock(page)
    assert refusal_of(page, "#loan-report") == "idempotency_key_reused"
    assert "idempotency key was already used" in page.locator("#loan-report [data-result]").inner_text()
    axe(page)
    shoot(page, "institution-loan-report-refused-en")
    secrets_kept(visit, bank, stored)

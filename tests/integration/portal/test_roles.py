"""The institution's, auditor's and operator's pages in real Chromium over real HTTP, anvil and SQLite.

- an institution signs a data request in its browser, sees the released data and each
  step of its receipt checked (the inclusion proof once anchored);
- an auditor runs the verification, sees its progress then the report, and follows a
  finding to the entry it names;
- an operator approves a proposal in its browser, and the quorum executes it.

Every page: only 127.0.0.1 requested, no serious or critical axe violation, a screenshot
kept (Chinese by default; one English page each).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_account import Account
from playwright.sync_api import Page
from sqlalchemy import select, update

from ledger.chain.membership import Action, MembershipContract, Role, Status, name_hash
from ledger.domain.log_names import ACCESS_TRAIL_LOG, CREDIT_RECORDS_LOG
from ledger.logs.leaves import decode_leaf
from ledger.logs.models import LogEntry
from ledger.records.models import CreditRecord
from tests.integration.conftest import Onboarding
from tests.integration.portal.conftest import PASSWORD, Visit, axe, keystore, shoot, sign_in
from tests.integration.test_release import CATALOGUE, SUBJECT, TAX, World

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


def unlock(page: Page) -> None:
    """The key, kept encrypted in the tab since sign-in, opened again with its password to sign."""
    page.locator("#unlock-password").fill(PASSWORD)
    page.locator("#unlock button[type=submit]").click()


def checks_of(page: Page) -> dict[str, str]:
    items = page.locator("[data-answer] [data-checks] li")
    return {items.nth(i).get_attribute("data-step") or "": items.nth(i).get_attribute("data-passed") or ""
            for i in range(items.count())}  # fmt: skip


def run_audit(page: Page) -> None:
    """Start a verification and wait for that run (not the one shown before) to end, done or failed."""
    before = page.locator("#run").get_attribute("data-run-id")
    page.get_by_role("button", name="开始核验").click()
    # the answer to the click is the new run, still running, which the page then polls
    page.wait_for_selector(f"#run:not([data-run-id='{before}']) [data-run-state=running]")
    page.wait_for_function(
        """before => {
          const run = document.getElementById("run");
          const state = run && run.querySelector("[data-run-state]");
          return run.dataset.runId !== before && state && state.dataset.runState !== "running";
        }""",
        arg=before,
        timeout=60_000,
    )


def secrets_kept(visit: Visit, account: Account, stored: Path) -> None:
    """No request the page made carried the key, the keystore or its password."""
    sent = visit.sent()
    secrets = [account.key.hex().removeprefix("0x"), json.loads(stored.read_text())["crypto"]["ciphertext"]]
    assert all(s not in sent for s in [*secrets, PASSWORD])
    visit.local_only()


def test_an_institution_requests_data_signed_in_its_browser_and_sees_the_receipt_checked(
    world: World, visit: Visit, tmp_path: Path
) -> None:
    from ledger.wiring import anchor_worker

    world.grant(world.bank, TAX)
    stored = keystore(world.bank, tmp_path)
    sign_in(visit, stored, expect="/portal/institution/")
    page = visit.page
    page.wait_for_selector("h1:text('协议与承诺')")
    tax = CATALOGUE.category("tax").name_zh
    assert tax in page.locator("table").first.inner_text()  # categories named, not a mask
    axe(page)
    shoot(page, "institution-agreements")

    visit.goto("/portal/institution/request")
    form = page.locator("form[data-type=DataRequest]").filter(
        has=page.locator(f"input[value='{world.agreement}']")
    )
    form.locator("input[name=subject]").fill(SUBJECT)
    form.locator(f"input[name=categories][value='{TAX}']").check()
    axe(page)
    form.locator("button[type=submit]").click()
    unlock(page)
    page.wait_for_selector("[data-answer] [data-checks]")
    assert checks_of(page) == {
        "response_hash": "yes",
        "entry": "yes",
        "leaf_hash": "yes",
        "anchored": "pending",
    }
    assert tax in page.locator("[data-answer] table").inner_text()  # the released record, its category named
    nonce = form.get_attribute("data-nonce")
    with world.platform.db.session() as session:  # the release the trail holds is the browser's request
        leaf = decode_leaf(bytes(session.get(LogEntry, (ACCESS_TRAIL_LOG, 0)).leaf))  # type: ignore[union-attr]
    assert (leaf.payload["request"]["nonce"], leaf.payload["institution"]) == (nonce, world.bank.address)
    axe(page)
    shoot(page, "institution-request-answer")

    worker = anchor_worker(world.platform)  # a checkpoint now covers the entry: its proof checks
    try:
        worker.anchor_now(ACCESS_TRAIL_LOG)
    finally:
        worker.close()
    page.get_by_role("button", name="再次核对").click()
    page.wait_for_selector("[data-answer] li[data-step=anchored][data-passed=yes]")
    assert set(checks_of(page).values()) == {"yes"}

    for path, name in [
        ("/portal/institution/alerts", "institution-alerts"),
        ("/portal/institution/loans", "institution-loans"),
    ]:
        visit.goto(path)
        page.wait_for_selector("h1")
        axe(page)
        shoot(page, name)
    page.get_by_role("button", name="English").click()
    page.wait_for_selector("h1:text('Products, applications and loan reports')")
    axe(page)
    shoot(page, "institution-loans-en")
    secrets_kept(visit, world.bank, stored)


def test_an_auditor_runs_the_verification_sees_progress_then_the_report_and_follows_a_finding(
    world: World, visit: Visit, onboarding: Onboarding, dev_accounts: list[Account], tmp_path: Path
) -> None:
    auditor = onboarding.admit(dev_accounts[8], Role.AUDITOR, name="郑州审计")
    world.grant(world.bank, TAX)
    world.release()  # a release in the trail: its signature and authorization are checked
    stored = keystore(auditor, tmp_path)
    sign_in(visit, stored, expect="/portal/auditor/")
    page = visit.page
    page.wait_for_selector("h1:text('独立核验')")
    axe(page)
    shoot(page, "auditor-home")

    run_audit(page)
    assert page.locator("#report").get_attribute("data-verdict") == "clean", page.locator("#run").inner_text()
    steps = page.locator("#run [data-progress] li")
    assert steps.count() >= 4 and "从接口读取访问记录" in steps.first.inner_text()
    report = page.locator("#report").inner_text()
    assert "无问题" in report and CATALOGUE.purpose("credit_assessment").name_zh in report  # purpose named
    axe(page)
    shoot(page, "auditor-report-clean")

    with world.platform.db.session() as session:  # a stored record version no longer matches its leaf
        seq = session.scalars(select(CreditRecord.log_seq).order_by(CreditRecord.log_seq)).first()
        session.execute(
            update(CreditRecord).where(CreditRecord.log_seq == seq).values(commitment=b"\x01" * 32)
        )
        session.commit()
    run_audit(page)
    assert page.locator("#report").get_attribute("data-verdict") == "findings", page.locator(
        "#run"
    ).inner_text()
    link = page.locator(
        f"#report [data-findings] a[href='/portal/auditor/entries/{CREDIT_RECORDS_LOG}/{seq}']"
    )
    assert link.count() >= 1
    axe(page)
    shoot(page, "auditor-report-findings")
    link.first.click()
    page.wait_for_selector(f"h1:text('日志 {CREDIT_RECORDS_LOG} 的第 {seq} 条')")
    axe(page)
    shoot(page, "auditor-entry")
    secrets_kept(visit, auditor, stored)


def test_an_operator_approves_a_proposal_signed_in_its_browser_and_the_quorum_executes_it(
    world: World, visit: Visit, tmp_path: Path
) -> None:
    membership = MembershipContract(world.platform.chain, world.platform.deployment.addresses.membership)
    newcomer = Account.create()
    proposed = membership.propose(
        membership.sign_propose(
            world.operators[1],
            Action.ADMIT,
            account=newcomer.address,
            role=Role.AUDITOR,
            name_hash=name_hash("审计所"),
        )
    )
    operator = world.operators[0]
    stored = keystore(operator, tmp_path)
    sign_in(visit, stored, expect="/portal/operator/")
    visit.goto("/portal/operator/")  # a page loaded anew: the key is unlocked again to sign
    page = visit.page
    row = page.locator(f"#proposals tr[data-proposal='{proposed.proposal_id}']")
    assert row.get_attribute("data-status") == "open" and "1 / 2" in row.inner_text()
    axe(page)
    shoot(page, "operator-proposals")

    row.get_by_role("button", name="批准").click()
    unlock(page)
    page.wait_for_selector(f"#proposals tr[data-proposal='{proposed.proposal_id}'][data-status=executed]")
    assert membership.member_of(newcomer.address).status is Status.ACTIVE
    shoot(page, "operator-proposal-executed")

    for path, name in [
        ("/portal/operator/members", "operator-members"),
        ("/portal/operator/catalogue", "operator-catalogue"),
        ("/portal/operator/calendar", "operator-calendar"),
        ("/portal/operator/kpis", "operator-kpis"),
    ]:
        visit.goto(path)
        page.wait_for_selector("h1")
        axe(page)
        shoot(page, name)
    assert page.locator("[data-chart=records_by_category] svg[role=img]").count() == 1
    drawn = page.locator("[data-chart=records_by_category] svg").inner_html()
    assert CATALOGUE.category("tax").name_zh in drawn and "tax" not in drawn  # named, in Chinese
    secrets_kept(visit, operator, stored)

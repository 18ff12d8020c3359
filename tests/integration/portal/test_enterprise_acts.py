"""The enterprise's other acts in a real browser: an objection and a self-declaration, each signed
in the page and then listed; an access-trail entry's proof, anchored by the anchoring worker,
downloaded from who-read-my-data and checked by the CLI's verifier (`release verify-proof`).

Every new state of a page passes axe (no serious or critical violation) and is kept as a
screenshot; every request went to 127.0.0.1 and none carried the key or its password.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from playwright.sync_api import Page
from typer.testing import CliRunner

from ledger.chain.agreements import CommitmentKind
from ledger.cli import app as cli
from ledger.domain.log_names import ACCESS_TRAIL_LOG
from tests.integration.portal.conftest import PASSWORD, Visit, as_enterprise, axe, open_page, shoot
from tests.integration.test_release import CATALOGUE, SUBJECT, TAX, World

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


def signed(page: Page, form_selector: str) -> str:
    """Submit the signed form; open the key again if the page asks; its result once it has one."""
    form = page.locator(form_selector)
    form.locator("button[type=submit]").click()
    result = form.locator("[data-result]")
    page.wait_for_function(
        """sel => {
          const unlock = document.getElementById("unlock-password");
          const said = document.querySelector(sel + " [data-result]").textContent;
          return (unlock && unlock.offsetParent !== null) || /已完成|拒绝|refused/i.test(said);
        }""",
        arg=form_selector,
    )
    if page.locator("#unlock-password").is_visible():
        page.locator("#unlock-password").fill(PASSWORD)
        page.locator("#unlock button[type=submit]").click()
    result.filter(has_text="已").wait_for()
    return result.inner_text()


def secrets_kept(visit: Visit, account: LocalAccount) -> None:
    sent = visit.sent()
    assert account.key.hex().removeprefix("0x") not in sent and PASSWORD not in sent
    visit.local_only()


def test_an_enterprise_files_an_objection_signed_in_the_browser_and_sees_it_listed(
    world: World, visit: Visit, tmp_path: Path
) -> None:
    page = as_enterprise(visit, world, tmp_path)
    open_page(page, "我的记录")
    page.locator("table a").first.click()
    page.wait_for_selector("text=对此记录提出异议")
    record_id = page.locator("form[data-prepare=objection] input[name=record_id]").input_value()
    page.locator("#reasons").fill("处罚决定已被行政复议撤销，记录应予更正")
    said = signed(page, "form[data-prepare=objection]")
    assert "已完成" in said, said
    axe(page)
    shoot(page, "enterprise-objection-filed")

    open_page(page, "异议与修复")
    row = page.locator("table").first.locator("tbody tr").filter(has_text=record_id)
    assert row.count() == 1
    text = row.inner_text()
    assert "处罚决定已被行政复议撤销" in text and "平台处理中" in text
    axe(page)
    shoot(page, "enterprise-objections")

    open_page(page, "通知")
    assert "已提交异议" in page.locator("main").inner_text()  # the notice of its own objection
    axe(page)
    shoot(page, "enterprise-notices-objection")

    visit.goto(f"/portal/enterprise/records/{record_id}")  # a reload: the record now shows disputed
    page.wait_for_selector("text=对此记录提出异议")
    assert "异议中" in page.locator("main").inner_text()
    secrets_kept(visit, world.enterprise)
    assert "/objections" in visit.sent()


def test_an_enterprise_declares_self_declared_information_and_sees_it(
    world: World, visit: Visit, tmp_path: Path
) -> None:
    commitment = world.sdk(world.enterprise).commit(CommitmentKind.ENTERPRISE_TRUTHFULNESS, "真实性承诺书")
    page = as_enterprise(visit, world, tmp_path)
    open_page(page, "自愿申报", "自愿申报信息")
    assert "尚未申报任何信息" in page.locator("main ul").first.inner_text()
    form = page.locator("form[data-prepare=declaration]")
    form.locator("#commitment_id").fill(str(commitment))
    form.locator("#source_ref").fill("SD-PORTAL-1")
    form.locator("#declaration_type").select_option("contract_performance")
    form.locator("#title").fill("郑州地铁5号线设备供货合同履约完毕")
    form.locator("#description").fill("合同金额三百万元，按期交付并验收")
    form.locator("#declared_on").fill("2026-01-15")
    axe(page)
    said = signed(page, "form[data-prepare=declaration]")
    assert "已完成" in said, said
    shoot(page, "enterprise-declaration-signed")

    visit.goto("/portal/enterprise/declarations")  # the list, read again
    page.wait_for_selector("h1:text('自愿申报信息')")
    listed = page.locator("main ul").first
    assert "郑州地铁5号线设备供货合同履约完毕" in listed.inner_text() and "2026-01-15" in listed.inner_text()
    axe(page)
    shoot(page, "enterprise-declarations-listed")

    listed.get_by_role("link").first.click()  # the declared record: its fields, named in Chinese
    page.wait_for_selector("text=下载证明")
    shown = page.locator("main").inner_text()
    declared = CATALOGUE.category("self_declared")
    assert declared.name_zh in shown and "合同金额三百万元" in shown
    assert "合同履约" in shown and "contract_performance" not in shown  # a code in words
    assert "不能对其提出异议" in shown and page.locator("form[data-prepare=objection]").count() == 0
    assert all(f.name_zh in shown for f in declared.fields if f.name in ("title", "declaration_type"))
    axe(page)
    shoot(page, "enterprise-declaration-record")

    page.get_by_role("button", name="English").click()  # the same record in English: no Chinese field name
    page.wait_for_selector("h1:text('" + declared.name_en + "')")
    english = page.locator("main table").first.inner_text()
    assert not any(f.name_zh in english for f in declared.fields), english
    assert "Title" in english and "Declaration type" in english and "Contract performance" in english
    assert "title" not in english.split() and "contract_performance" not in english  # words, not keys
    axe(page)
    shoot(page, "enterprise-declaration-record-en")
    secrets_kept(visit, world.enterprise)


@pytest.mark.slow
def test_an_enterprise_downloads_an_anchored_access_proof_that_the_verifier_accepts(
    world: World, visit: Visit, tmp_path: Path
) -> None:
    from ledger.wiring import anchor_worker

    world.grant(world.bank, TAX)
    released = world.release(categories=TAX)
    receipt = released["receipt"]
    page = as_enterprise(visit, world, tmp_path)
    open_page(page, "谁查询了我")
    entry = page.locator("ol.timeline li").first
    assert "锚定后可下载证明" in entry.inner_text() or entry.get_by_role("link", name="下载证明").count() == 0

    worker = anchor_worker(world.platform)  # a checkpoint now covers the entry
    try:
        worker.anchor_now(ACCESS_TRAIL_LOG)
    finally:
        worker.close()
    visit.goto("/portal/enterprise/accesses")
    link = page.locator("ol.timeline li").first.get_by_role("link", name="下载证明")
    with page.expect_download() as downloading:
        link.click()
    download = downloading.value
    assert download.suggested_filename == f"access-{receipt['index']}-proof.json"  # type: ignore[index]
    bundle_file = tmp_path / "proof.json"
    download.save_as(bundle_file)
    assert json.loads(bundle_file.read_text())["leaf_hash"] == receipt["leaf_hash"]  # type: ignore[index]
    axe(page)
    shoot(page, "enterprise-accesses-anchored")

    world.platform.deployment.save(world.platform.settings.manifest_path)
    env = {
        "LEDGER_DATA_DIR": str(world.platform.settings.data_dir),
        "LEDGER_RPC_URL": world.platform.chain.rpc_url,
        "LEDGER_FINALITY": "inclusion",  # the shared test chain: durability is tested on its own
    }
    runner = CliRunner()
    verify = ["release", "verify-proof", str(bundle_file)]
    ok = runner.invoke(cli, [*verify, "--response-hash", receipt["response_hash"]], env=env)  # type: ignore[index]
    assert ok.exit_code == 0, ok.output
    assert f"is access-trail entry {receipt['index']}, included in the checkpoint" in ok.output  # type: ignore[index]
    assert f"OK: the release of tax (credit_assessment) about {SUBJECT}" in ok.output
    tampered = json.loads(bundle_file.read_text())
    tampered["leaf_hash"] = "0x" + "11" * 32
    bundle_file.write_text(json.dumps(tampered))
    assert runner.invoke(cli, verify, env=env).exit_code == 1  # the verifier is not a rubber stamp
    secrets_kept(visit, world.enterprise)

"""The institution's, auditor's and operator's templates render full tables in both languages.

The browser tests reach these pages with a young platform (no loan, alert or holiday yet);
here each table is rendered with rows, so a template error in a row cannot hide.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from api.portal import words
from api.portal.i18n import environment
from api.portal.refusals import refusal_context
from ledger.audit.findings import Finding, Step
from ledger.domain.catalogue import newest_catalogue
from ledger.financing.eligibility import FIELDS
from ledger.financing.products import PRODUCT_KINDS
from ledger.portal.auditor import EntryView, report_view
from ledger.portal.operator import kpi_dashboard
from ledger.selfservice.workdays import DayKind
from tests.unit.portal.test_operator_views import _report

CATALOGUE = newest_catalogue()
AT = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def render(template: str, locale: str, **context: Any) -> str:
    user = SimpleNamespace(role="institution", address="0x" + "ab" * 20, locale=locale)
    common = {
        "request": SimpleNamespace(url=SimpleNamespace(path="/portal/x")),
        "user": user, "locale": locale, "html_lang": locale, "locales": {"zh_CN": "中文", "en": "English"},
        "csrf_token": "t", "csrf_field": "csrf_token", "csrf_header": "X-CSRF-Token",
        "asset": lambda name: f"/portal/assets/{name}", "role_names": {"institution": "Institution"},
        "partial": False, "fragment": False, "page": "x",
        "severity_words": words.SEVERITY_WORDS, "payload_words": words.PAYLOAD_WORDS,
        "finding_words": words.FINDING_WORDS,
    }  # fmt: skip
    return environment(locale).get_template(template).render(**common, **context)


def _loans() -> dict[str, Any]:
    rng = SimpleNamespace(min=1, max=2)
    product = SimpleNamespace(
        name="科技贷",
        key="p1",
        version=2,
        amount=rng,
        term_months=rng,
        annual_rate_percent=rng,
        withdrawn=False,
    )
    application = SimpleNamespace(
        created_at=AT, subject="91350200776049653A", product_key="p1", product_version=2, grant_id=3,
        demand={"amount": "500000"},
    )  # fmt: skip
    report = {"received_at": AT.isoformat(), "loan_ref": "L1", "kind": "decision", "version": 1,
              "content": {"subject": "91350200776049653A"}, "block": 9}  # fmt: skip
    agreement = SimpleNamespace(id=7)
    forms = {
        "agreements": [agreement], "product_kinds": PRODUCT_KINDS, "fields": FIELDS, "rule_rows": 2,
        "industries": ["A", "C"], "idempotency_key": "k1", "today": "2026-11-30", "subject": "",
        **refusal_context(),
    }  # fmt: skip
    return {"products": [(None, product)], "applications": [application], "reports": [report], **forms}


@pytest.mark.parametrize(
    ("locale", "words"),
    [("zh_CN", ["年利率（%）", "审批结果", "科技贷"]), ("en", ["Annual rate (%)", "decision"])],
)
def test_the_loans_page_renders_its_rows(locale: str, words: list[str]) -> None:
    html = render("institution/loans.html", locale, **_loans())
    assert all(w in html for w in words), words
    assert "500000" in html and "L1" in html


def test_the_alerts_page_renders_its_rows() -> None:
    alert = SimpleNamespace(at="2026-11-30T08:00:00Z", event="risk.tax_arrears", severity="high",
                            event_text="新增或更正的欠税或重大税收违法记录",
                            subject="91350200776049653A", categories=["纳税"], state="delivered", attempts=1,
                            trail_index=4)  # fmt: skip
    html = render("institution/alerts.html", "zh_CN", alerts=[alert])
    assert "已送达 (1)" in html and "纳税" in html and "risk.tax_arrears" in html
    assert "新增或更正的欠税或重大税收违法记录" in html and ">高<" in html  # the event and severity in words


def test_the_calendar_renders_its_days() -> None:
    day = SimpleNamespace(day=date(2026, 10, 1), kind=DayKind.HOLIDAY, name="国庆节", set_by="0x" + "0a" * 20)
    html = render("operator/calendar.html", "zh_CN", year=2026, days=[day], **refusal_context())
    assert "国庆节" in html and "节假日" in html and "2026 年工作日历" in html


def test_the_kpi_dashboard_renders_figures_and_charts_in_english() -> None:
    board = kpi_dashboard(_report(CATALOGUE), catalogue=CATALOGUE, locale="en", titles={})
    titles = {key: key for key, _svg, _bars in board.charts}
    html = render(
        "operator/kpis.html",
        "en",
        board=board,
        filter=SimpleNamespace(month=None, district=None),
        titles=titles,
    )
    assert "Average annual rate (%)" in html and "150,000.00" in html and html.count("<svg") == 4


def test_a_report_with_findings_links_each_to_its_entry_and_names_its_step() -> None:
    finding = Finding(
        Step.RECORD_VERSION, "credit-records", 5, "commitment differs", "0x01", "0x02"
    ).to_json()
    data = {
        "verdict": "findings", "generated_at": AT.isoformat(), "chain": {"chain_id": 31337, "head": 9},
        "logs": [
            {"name": "credit-records", "served": 6, "anchored_size": 6, "unanchored": 0, "checkpoints": [1]}
        ],
        "access": {"per_institution_purpose": []},
        "replay": {"replayed_locally": 0, "checked_both_ways": 0}, "records": {"stored_versions": 6},
        "findings": [finding],
    }  # fmt: skip
    report = report_view(data, catalogue=CATALOGUE, locale="zh_CN")
    run = SimpleNamespace(
        id="a" * 32, state="done", started_at=AT, error=None, progress=SimpleNamespace(steps=list)
    )
    html = render("auditor/run.html", "zh_CN", run=run, report=report, step_keys={})
    assert 'href="/portal/auditor/entries/credit-records/5"' in html
    assert "发现 1 个问题" in html and "5.1 记录版本" in html
    assert "某条已存储的记录版本与其日志条目不符。" in html  # the finding said by its step, in Chinese
    assert '<span class="mono muted" lang="en">commitment differs</span>' in html  # its detail beside


def test_an_entry_shows_its_proof() -> None:
    fields: list[tuple[str, Any]] = [("categories", "纳税"), ("request", {"a": 1})]
    proof = {"tree_size": 4, "root": "0x" + "22" * 32}
    entry = EntryView("access-trail", 3, "access", "0x" + "11" * 32, fields, proof)
    html = render("auditor/entry.html", "en", entry=entry)
    assert "Anchored in the checkpoint of size 4" in html and "纳税" in html and '{"a": 1}' in html
    assert "signed request" in html
    chinese = render("auditor/entry.html", "zh_CN", entry=entry)
    assert "数据类别" in chinese and "签名请求" in chinese  # each payload key in words, its key beside


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("zh_CN", "信用承诺：履行中 2 项，违背 1 项（链上读取）。"),
        ("en", "Credit commitments: 2 kept, 1 breached"),
    ],
)
def test_the_enterprise_evaluation_page_says_its_commitments_in_words(locale: str, words: str) -> None:
    evaluation = SimpleNamespace(
        status="scored", score=612, grade="B", model=SimpleNamespace(version=1), reasons=[],
        portrait={"values": {"commitments_kept": 2.0, "commitments_breached": 1.0}},
    )  # fmt: skip
    assert words in render("enterprise/evaluation.html", locale, evaluation=evaluation)
    evaluation.portrait = {"values": {}}  # an indicator file without them: nothing said
    assert "data-commitments" not in render("enterprise/evaluation.html", locale, evaluation=evaluation)

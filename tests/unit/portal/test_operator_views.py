"""The operator's views: proposals against the quorum, catalogue versions, the KPI dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledger.chain.membership import Action, InstitutionKind, Proposal, Role
from ledger.domain.catalogue import Catalogue, packaged_catalogues
from ledger.portal.charts import bar_chart
from ledger.portal.operator import catalogue_versions, kpi_dashboard, proposals

OPERATOR = "0x" + "0a" * 20
NOW = 1_800_000_000


def _proposal(pid: int, *, executed: bool = False, approvals: int = 1, expires: int = NOW + 60) -> Proposal:
    return Proposal(
        pid, Action.ADMIT, Role.INSTITUTION, InstitutionKind.BANK, executed, approvals, expires,
        "0x" + f"{pid:040x}", bytes(32), 0,
    )  # fmt: skip


class FakeMembership:
    def __init__(self) -> None:
        self.items = {
            1: _proposal(1, executed=True, approvals=2),
            2: _proposal(2, expires=NOW - 1),
            3: _proposal(3),
            4: _proposal(4),
        }
        self.approved = {(3, OPERATOR), (1, OPERATOR)}

    def quorum(self) -> int:
        return 2

    def proposal_count(self) -> int:
        return len(self.items)

    def proposal(self, proposal_id: int) -> Proposal:
        return self.items[proposal_id]

    def has_approved(self, proposal_id: int, operator: str) -> bool:
        return (proposal_id, operator) in self.approved


def test_proposals_newest_first_with_quorum_progress_and_what_this_operator_may_approve() -> None:
    views = proposals(FakeMembership(), OPERATOR, now=NOW)
    assert [(v.id, v.status, v.approved_by_me, v.approvable) for v in views] == [
        (4, "open", False, True),
        (3, "open", True, False),
        (2, "expired", False, False),
        (1, "executed", True, False),
    ]
    assert [v.percent for v in views] == [50, 50, 50, 100]
    assert (views[0].action, views[0].role, views[0].kind) == ("admit", "institution", "bank")


@dataclass(frozen=True)
class Published:
    version: int
    content_hash: bytes
    catalogue: Catalogue
    block_number: int | None


def test_catalogue_versions_newest_first_the_newest_in_force() -> None:
    published = [Published(c.version, c.content_hash(), c, 10 * c.version) for c in packaged_catalogues()]
    views = catalogue_versions(published, locale="zh-CN")
    assert [v.version for v in views] == sorted((c.version for c in packaged_catalogues()), reverse=True)
    assert [v.current for v in views] == [True] + [False] * (len(views) - 1)
    newest = max(packaged_catalogues(), key=lambda c: c.version)
    assert views[0].name == newest.name_zh
    assert views[0].public_categories == [c.name_zh for c in newest.categories if c.public_disclosure]


def _report(catalogue: Catalogue) -> dict[str, Any]:
    category = catalogue.categories[0].name
    loan = {
        "decisions": 3,
        "approved": 2,
        "volume_fen": 150_000_00,
        "credit_loans": 1,
        "first_time_borrowers": 1,
        "average_rate_percent": "3.8500",
        "average_decision_days": "4.00",
    }
    return {
        "records": {
            "collected": 10,
            "timely_share": "0.9000",
            "by_category": [{"key": category, "collected": 10, "timely": 9}],
            "by_month": [{"key": "2026-11", "collected": 10, "timely": 9}],
        },
        "enterprises": {"onboarded": 4, "onboarded_share": None, "with_loan": 2},
        "loans": {**loan, "by_month": [{"key": "2026-11", **loan}], "by_industry": [{"key": None, **loan}]},
    }


def test_the_kpi_dashboard_draws_its_figures_with_names_and_no_script() -> None:
    catalogue = max(packaged_catalogues(), key=lambda c: c.version)
    board = kpi_dashboard(
        _report(catalogue), catalogue=catalogue, locale="zh-CN", titles={"records_by_category": "按类别"}
    )
    figures = dict(board.figures)
    assert figures["loan_volume_yuan"] == "150,000.00"
    assert figures["records_timely_share"] == "0.9000"
    charts = {key: (svg, bars) for key, svg, bars in board.charts}
    svg, bars = charts["records_by_category"]
    assert bars == [(catalogue.categories[0].name_zh, 10)]
    assert catalogue.categories[0].name_zh in svg and 'aria-label="按类别"' in svg
    assert "<script" not in svg and "<?xml" not in svg
    assert charts["loans_by_industry"][1] == [("—", 2)]  # no industry reported: a dash, not "None"


def test_a_chart_escapes_its_labels_and_draws_nothing_without_bars() -> None:
    svg = bar_chart('<b>"x"</b>', [("<script>alert(1)</script>", 1)])
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert 'aria-label="&lt;b&gt;&quot;x&quot;&lt;/b&gt;"' in svg
    assert bar_chart("empty", []) == ""

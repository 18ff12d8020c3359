"""The snapshot's independent recomputation, on a hand-made export: figures checked by hand,
a changed row or figure named, the hash over the whole published document, the CSV form."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import rfc8785

from ledger.financing.kpi_snapshot import (
    InvalidSnapshot,
    check_export,
    check_export_document,
    recompute,
    report_csv,
    snapshot_hash,
)
from ledger.financing.kpis import ENTERPRISE_COLUMNS, LOAN_COLUMNS, RECORD_COLUMNS, KpiFilter, ratio


def export() -> dict[str, Any]:
    """A format 2 export: records and enterprises with the enterprise's industry (None: unknown)."""
    document: dict[str, Any] = {
        "format": "credit-ledger/kpi-snapshot",
        "format_version": 2,
        "month": "2026-11",
        "generated_at": "2026-12-01T00:00:00+00:00",
        "figures": {"settings": {"market_entities": 100, "timely_days": 7}},
        "inputs": {
            "records": {"columns": list(RECORD_COLUMNS), "rows": [
                ["tax", "0xP1", "410105", "C", 10, 9], ["tax", "0xP2", "410105", "C", 5, 1],
                ["registration", "0xP1", "410106", None, 5, 5],
            ]},
            "enterprises": {
                "columns": list(ENTERPRISE_COLUMNS), "rows": [["e1", "410105", "C"], ["e2", "410106", None]],
            },
            "loans": {"columns": list(LOAN_COLUMNS), "rows": [
                ["e1", "410105", "C", "2026-11", True, 100_000, 40_000, True, True, 4],
                ["e2", "410106", "F", "2026-11", False, None, None, False, False, 10],
                ["e2", "410106", "F", "2026-10", True, 50_000, 50_000, False, False, 2],
                ["e9", "410107", "C", "2026-11", True, 30_000, 35_000, False, True, 6],
            ]},
        },
    }  # fmt: skip
    document["figures"] = recompute(document)
    return document


def test_the_recomputed_figures_by_hand() -> None:
    figures = export()["figures"]
    assert figures["filter"] == KpiFilter("2026-11").to_json()
    assert (figures["records"]["collected"], figures["records"]["timely"]) == (20, 15)
    assert figures["records"]["timely_share"] == "0.7500"
    assert [(r["key"], r["collected"]) for r in figures["records"]["by_provider"]] == [
        ("0xP1", 15),
        ("0xP2", 5),
    ]
    # e9 borrowed but holds no records: not onboarded, so not counted among those with a loan
    assert figures["enterprises"] == {
        "onboarded": 2, "market_entities": 100, "onboarded_share": "0.0200", "with_loan": 2,
        "with_loan_share": "1.0000",
        "by_industry": [
            {"key": "C", "onboarded": 1, "with_loan": 1, "with_loan_share": "1.0000"},
            {"key": None, "onboarded": 1, "with_loan": 1, "with_loan_share": "1.0000"},
        ],
    }  # fmt: skip
    assert [(r["key"], r["collected"]) for r in figures["records"]["by_industry"]] == [("C", 15), (None, 5)]
    loans = figures["loans"]  # November only: three decisions, two approved
    assert (loans["decisions"], loans["approved"], loans["declined"]) == (3, 2, 1)
    assert (loans["volume_fen"], loans["credit_loans"], loans["credit_volume_fen"]) == (130_000, 1, 100_000)
    assert loans["first_time_borrowers"] == 2
    assert loans["average_rate_percent"] == "3.7500" and loans["average_decision_days"] == "6.67"
    assert [r["key"] for r in loans["by_industry"]] == ["C", "F"]


def test_a_format_1_export_recomputes_by_its_own_columns_and_figures() -> None:
    """Snapshots anchored before industries were added stay verifiable."""
    v1 = export()
    v1["format_version"] = 1
    for table in ("records", "enterprises"):
        columns = v1["inputs"][table]["columns"]
        at = columns.index("industry")
        v1["inputs"][table] = {
            "columns": [c for c in columns if c != "industry"],
            "rows": [row[:at] + row[at + 1 :] for row in v1["inputs"][table]["rows"]],
        }
    figures = recompute(v1)
    assert "by_industry" not in figures["records"] and "by_industry" not in figures["enterprises"]
    assert figures["records"]["collected"] == 20 and figures["enterprises"]["with_loan"] == 2
    v1["figures"] = figures
    assert check_export_document(v1) == []
    v1["inputs"]["records"]["columns"] = list(RECORD_COLUMNS)  # a v1 file with v2 columns: refused
    with pytest.raises(InvalidSnapshot):
        check_export_document(v1)


def test_a_changed_row_or_figure_is_named() -> None:
    document = export()
    assert check_export_document(document) == []
    changed = copy.deepcopy(document)
    changed["inputs"]["loans"]["rows"][0][5] += 1
    industry = copy.deepcopy(document)
    industry["inputs"]["enterprises"]["rows"][1][2] = "C"
    assert "figures.enterprises.by_industry" in " ".join(check_export_document(industry))
    assert any("volume_fen" in d for d in check_export_document(changed))
    figure = copy.deepcopy(document)
    figure["figures"]["enterprises"]["onboarded"] = 3
    assert check_export_document(figure) == ["figures.enterprises.onboarded: published 3, recomputed 2"]


def test_the_hash_covers_the_published_document_whole() -> None:
    published = {"key": "2026-11", "version": 1, "valid_from": "2026-12-01T00:00:00Z", "valid_until": None,
                 "body": export()}  # fmt: skip
    raw = bytes(rfc8785.dumps(published))
    digest = snapshot_hash(published)
    assert check_export(raw, digest).ok
    assert not check_export(raw, bytes(32)).ok
    relabelled = {**published, "version": 2}
    assert not check_export(json.dumps(relabelled).encode(), digest).hash_matches
    assert check_export(json.dumps(relabelled).encode(), digest).figures_match


def test_not_a_snapshot_is_refused() -> None:
    with pytest.raises(InvalidSnapshot):
        check_export(b"[1, 2]", None)
    broken = export()
    broken["inputs"]["loans"]["columns"] = ["enterprise"]
    with pytest.raises(InvalidSnapshot):
        check_export_document(broken)


def test_csv_and_ratio() -> None:
    lines = report_csv(export()["figures"]).splitlines()
    assert "enterprises,total,,with_loan_share,1.0000" in lines
    assert "loans,district,410105,approved,1" in lines
    assert (
        ratio(1, 3) == "0.3333"
        and ratio(2, 3, 2) == "0.67"
        and ratio(1, 0) is None
        and ratio(1, None) is None
    )

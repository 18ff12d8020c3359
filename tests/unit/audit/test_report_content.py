"""The JSON report says what a regulator needs: chain, logs and checkpoints, releases per
institution and purpose, how each was checked, refusals, and every finding in step order."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from ledger.audit.export import Refusal
from ledger.audit.findings import Finding, Step
from ledger.audit.onchain import OnChainCheck
from ledger.audit.report import REPORT_FORMAT, AuditReport, build_report, catalogue_labels
from ledger.audit.verifier import verify_offline
from ledger.logs.leaves import encode_leaf
from tests.unit.audit import world

NOW = "2025-06-01T00:00:00+00:00"


def _report(checks: list[OnChainCheck] | None = None, **kw: object) -> dict[str, object]:
    export = world.export()
    result = verify_offline(export, world.snapshot(), world.DEPLOYMENT)
    return build_report(export, result, world.DEPLOYMENT, checks or [], generated_at=NOW, **kw).to_json()  # type: ignore[arg-type]


def test_a_clean_report_holds_chain_logs_releases_records_and_refusals() -> None:
    export = world.export()
    result = verify_offline(export, world.snapshot(), world.DEPLOYMENT)
    result.seconds = {"merkle": 0.5, "leaves": 0.25, "examine": 0.5, "replay": 7.0, "chain": 1.23456}
    checks = [
        OnChainCheck(0, world.B, True, "ALLOWED"),
        OnChainCheck(1, world.B, None, "pruned"),
    ]
    report = build_report(export, result, world.DEPLOYMENT, checks, generated_at=NOW)
    assert report.clean and report.findings == []
    data = report.to_json()
    trail_root = world.snapshot().checkpoints["access-trail"][0].root
    assert data["format"] == REPORT_FORMAT == "credit-ledger/audit-report/1"
    assert (data["verdict"], data["generated_at"]) == ("clean", NOW)
    assert data["chain"] == {
        "chain_id": 31337,
        "head": world.HEAD,
        "deployment_block": 1,
        "contracts": world.ADDRESSES,
    }
    assert data["export"] == {
        "exported_at": "2025-01-01T00:00:00+00:00",
        "declared_logs": {"access-trail": 3, "credit-records": 2},
        "openings": True,
    }
    assert data["logs"][0] == {
        "name": "access-trail",
        "served": 3,
        "contiguous": 3,
        "anchored_size": 2,
        "unanchored": 1,
        "checkpoints": [
            {
                "previous_size": 0,
                "size": 1,
                "root": "0x" + trail_root.hex(),
                "block": 30,
                "transaction": "0x" + "00" * 32,
                "rebuilt": True,
                "consistent": True,
            },
            {
                "previous_size": 1,
                "size": 2,
                "root": "0x" + world.snapshot().checkpoints["access-trail"][1].root.hex(),
                "block": 31,
                "transaction": "0x" + "01" * 32,
                "rebuilt": True,
                "consistent": True,
            },
        ],
    }
    assert [log["name"] for log in data["logs"]] == ["access-trail", "credit-records"]  # type: ignore[index]
    assert data["access"] == {
        "entries": 3,
        "well_formed": 3,
        "evaluations_well_formed": 0,  # this world holds no evaluation
        "alerts_well_formed": 0,  # nor any alert
        "not_authorized": 0,
        "levels_checked": 3,
        "levels_not_checked": 0,
        "per_institution_purpose": [
            {
                "institution": world.BANK.address,
                "purpose": "1",
                "purpose_name": "credit_assessment",
                "releases": 3,
            }
        ],
    }
    assert data["replay"] == {
        "replayed_locally": 3,
        "checked_both_ways": 1,
        "checked_both_ways_entries": [0],
        "disagreements": [],
        "not_checked_on_chain": 1,
        "not_checked_on_chain_reasons": {"pruned": 1},
        "not_checked_on_chain_entries": [{"index": 1, "block": world.B, "reason": "pruned"}],
        "local_only": 1,
    }
    assert data["records"] == {"leaves": 2, "stored_versions": 2, "openings_checked": 2, "checked": True}
    assert data["refusals"] == {
        "count": 1,
        "by_event": {"release": 1},
        "items": [
            {
                "at": "2025-01-01T00:00:00+00:00",
                "actor": world.BANK.address,
                "event": "release",
                "outcome": "refused",
                "detail": "NO_COVERING_GRANT",
            }
        ],
    }
    assert (data["findings_by_step"], data["findings"]) == ({}, [])
    assert data["performance"] == {
        "seconds": {"merkle": 0.5, "leaves": 0.25, "examine": 0.5, "replay": 7.0, "chain": 1.235},
        "entries": 5,
        "releases": 3,
        "merkle_entries_per_second": 10.0,
        "leaf_decoding_entries_per_second": 20.0,
        "releases_examined_per_second": 6.0,
        "replay_entries_per_second": 0.4,  # 3 / 7, to one decimal
    }


def test_rates_of_steps_not_timed_or_timed_at_zero_are_not_given() -> None:
    export = world.export()
    result = verify_offline(export, world.snapshot(), world.DEPLOYMENT)
    for seconds in ({}, {"merkle": 0.0, "leaves": 0.0, "examine": 0.0, "replay": 0.0}):
        result.seconds = dict(seconds)
        performance = build_report(export, result, world.DEPLOYMENT, [], generated_at=NOW).to_json()[
            "performance"
        ]
        assert performance["seconds"] == seconds
        assert [v for k, v in performance.items() if k.endswith("_per_second")] == [None] * 4


def test_findings_are_listed_in_step_order_then_place_and_counted_by_step() -> None:
    export = world.export()
    result = verify_offline(export, world.snapshot(), world.DEPLOYMENT)
    result.findings = [
        Finding(Step.RECORD_VERSION, "credit-records", 1, "e"),
        Finding(Step.AUTHORIZATION, "access-trail", 2, "d"),
        Finding(Step.AUTHORIZATION, "access-trail", 1, "c+"),
        Finding(Step.AUTHORIZATION, "access-trail", None, "c-"),
        Finding(Step.AUTHORIZATION, "access-trail", 0, "c"),
        Finding(Step.AUTHORIZATION, "A-log", 0, "c1"),
        Finding(Step.AUTHORIZATION, None, None, "c0"),
        Finding(Step.CONSISTENCY, "b-log", None, "b"),
        Finding(Step.CONSISTENCY, "a-log", 3, "a"),
        Finding(Step.DEPLOYMENT, None, None, "z"),
    ]
    report = build_report(export, result, world.DEPLOYMENT, [], generated_at=NOW)
    assert not report.clean
    data = report.to_json()
    assert data["verdict"] == "findings"
    # within a step: findings without a log first, then by log and index (none as 0, in the order found)
    assert [f["what"] for f in data["findings"]] == ["z", "a", "b", "c0", "c1", "c-", "c", "c+", "d", "e"]
    assert data["findings"][0] == Finding(Step.DEPLOYMENT, None, None, "z").to_json()
    assert data["findings_by_step"] == {
        "1 deployment": 1,
        "3.4 consistency proofs": 2,
        "4.6 authorization replay": 6,
        "5.1 record version": 1,
    }
    assert [f.what for f in report.findings] == ["z", "a", "b", "c0", "c1", "c-", "c", "c+", "d", "e"]


def test_disagreements_and_unauthorized_releases_are_counted() -> None:
    access = world.access_leaves()
    access[2] = encode_leaf("access", 2, world.access_payload(2, grant_id=9))
    export = world.export(access=access)
    result = verify_offline(export, world.snapshot(), world.DEPLOYMENT)
    checks = [OnChainCheck(0, world.B, False, "x"), OnChainCheck(2, world.B, True, "y")]
    data = build_report(export, result, world.DEPLOYMENT, checks, generated_at=NOW).to_json()
    assert data["access"]["not_authorized"] == 1
    assert data["replay"]["disagreements"] == [0] and data["replay"]["checked_both_ways_entries"] == [2]


def test_long_lists_are_cut_at_a_thousand_items_but_counted_in_full() -> None:
    export = world.export()
    export.refusals = [
        Refusal(str(i), None, "release" if i % 2 else "other", "refused", None) for i in range(1_001)
    ]
    result = verify_offline(export, world.snapshot(), world.DEPLOYMENT)
    checks = [OnChainCheck(i, 1, True) for i in range(1_001)] + [
        OnChainCheck(i, 1, False) for i in range(1_001)
    ]
    checks += [OnChainCheck(i, 1, None, "gone") for i in range(1_001)]
    data = build_report(export, result, world.DEPLOYMENT, checks, generated_at=NOW).to_json()
    refusals = data["refusals"]
    assert refusals["count"] == 1_001 and len(refusals["items"]) == 1_000
    assert refusals["by_event"] == {"other": 501, "release": 500} and list(refusals["by_event"]) == [
        "other",
        "release",
    ]
    replay = data["replay"]
    assert replay["checked_both_ways"] == 1_001 and len(replay["checked_both_ways_entries"]) == 1_000
    assert len(replay["disagreements"]) == 1_000
    assert replay["not_checked_on_chain"] == 1_001 and len(replay["not_checked_on_chain_entries"]) == 1_000
    assert replay["not_checked_on_chain_reasons"] == {"gone": 1_001}
    assert replay["local_only"] == 3 - 3_003


def test_an_export_without_header_or_trail_is_reported_as_such() -> None:
    export = world.export(access=[])
    export.header = None
    export.catalogues = []
    result = verify_offline(export, world.snapshot(), world.DEPLOYMENT)
    data = build_report(export, result, world.DEPLOYMENT, [], generated_at=NOW).to_json()
    assert data["export"] is None
    assert data["access"]["entries"] == 0 and data["access"]["per_institution_purpose"] == []
    result.logs.pop("access-trail")
    data = build_report(export, result, world.DEPLOYMENT, [], generated_at=NOW).to_json()
    assert data["access"]["entries"] == 0


def test_purposes_are_named_from_the_labels_given_or_the_latest_catalogue_exported() -> None:
    per = _report()["access"]["per_institution_purpose"]  # type: ignore[index]
    assert per[0]["purpose_name"] == "credit_assessment"  # type: ignore[index]
    per = _report(labels={"purposes": {1: "given"}})["access"]["per_institution_purpose"]  # type: ignore[index]
    assert per[0]["purpose_name"] == "given"  # type: ignore[index]
    export = world.export()
    renamed = json.loads(json.dumps(world.DOCUMENT))
    renamed["purposes"][0]["name"] = "renamed"
    export.catalogues = [
        dataclasses.replace(export.catalogues[0], version=3, document=renamed),
        export.catalogues[0],
    ]
    result = verify_offline(export, world.snapshot(), world.DEPLOYMENT)
    data = build_report(export, result, world.DEPLOYMENT, [], generated_at=NOW).to_json()
    assert data["access"]["per_institution_purpose"][0]["purpose_name"] == "renamed"
    export.catalogues = []
    data = build_report(export, result, world.DEPLOYMENT, [], generated_at=NOW).to_json()
    assert data["access"]["per_institution_purpose"][0]["purpose_name"] == "bit 0"


def test_catalogue_labels_name_each_purpose_and_category_mask() -> None:
    labels = catalogue_labels(
        {
            "purposes": [{"bit": 0, "name": "a"}, {"bit": "2", "name": "b"}],
            "categories": [{"bit": 6, "name": 7}],
        }
    )
    assert labels == {"purposes": {1: "a", 4: "b"}, "categories": {64: "7"}}
    assert catalogue_labels({}) == {"purposes": {}, "categories": {}}


def test_a_mask_of_several_bits_names_each_and_an_empty_one_says_none() -> None:
    export = world.export()
    result = verify_offline(export, world.snapshot(), world.DEPLOYMENT)
    result.access.per_institution_purpose.clear()
    result.access.per_institution_purpose.update({("0xb", 5): 2, ("0xa", 0): 1, ("0xa", 2): 4})
    labels = {"purposes": {1: "one", 4: "four"}}
    data = build_report(export, result, world.DEPLOYMENT, [], generated_at=NOW, labels=labels).to_json()
    assert data["access"]["per_institution_purpose"] == [
        {"institution": "0xa", "purpose": "0", "purpose_name": "none", "releases": 1},
        {"institution": "0xa", "purpose": "2", "purpose_name": "bit 1", "releases": 4},
        {"institution": "0xb", "purpose": "5", "purpose_name": "one, four", "releases": 2},
    ]


def test_the_report_is_written_as_json_and_as_html(tmp_path: Path) -> None:
    report = AuditReport([], {"verdict": "clean", "名": "值"})
    report.write_json(tmp_path / "r.json")
    text = (tmp_path / "r.json").read_text(encoding="utf-8")
    assert text == '{\n  "verdict": "clean",\n  "名": "值"\n}\n'
    data = _report()
    full = AuditReport([], data)  # type: ignore[arg-type]
    full.write_html(tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and "CLEAN — no finding" in html


class _Recorded:
    """A path that keeps what is written to it and the encoding asked for."""

    def __init__(self) -> None:
        self.written: list[tuple[str, str | None]] = []

    def write_text(self, text: str, encoding: str | None = None) -> int:
        self.written.append((text, encoding))
        return len(text)


def test_both_forms_are_written_as_utf_8_whatever_the_locale() -> None:
    report = AuditReport([], _report())
    for write in (report.write_json, report.write_html):
        path = _Recorded()
        write(path)  # type: ignore[arg-type]
        ((_, encoding),) = path.written
        assert encoding is not None and encoding.lower() == "utf-8"


def test_the_report_and_its_html_count_the_evaluations_checked() -> None:
    from ledger.audit.evaluations import EvaluationsResult
    from ledger.audit.html import render_html

    export = world.export()
    result = verify_offline(export, world.snapshot(), world.DEPLOYMENT)
    offline = build_report(export, result, world.DEPLOYMENT, [], generated_at=NOW).to_json()
    assert offline["evaluations"] == {"run": False, "checked": 0, "recomputed": 0}
    assert "Not recomputed in this run" in render_html(offline)
    result.evaluations = EvaluationsResult(checked=7, recomputed=5, indices=list(range(7)))
    data = build_report(export, result, world.DEPLOYMENT, [], generated_at=NOW).to_json()
    assert data["evaluations"] == {"run": True, "checked": 7, "recomputed": 5}
    html = render_html(data)
    assert '<td>evaluations checked (step 6)</td><td class="num">7</td>' in html
    assert '<td>recomputed from their inputs, complete, with no finding</td><td class="num">5</td>' in html

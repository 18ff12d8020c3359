"""A clean trail verifies with no finding, every release checked both ways on a live node."""

from __future__ import annotations

from ledger.audit.export import AuditExport
from ledger.platform import Platform
from tests.integration.audit.conftest import export_of, verifier_for
from tests.integration.audit.trail import ACCESS_TRAIL, CREDIT_RECORDS, Trail


def test_clean_trail_has_no_finding(trail: Trail) -> None:
    platform: Platform = trail.platform
    export: AuditExport = export_of(platform, openings=True)
    report = verifier_for(platform).verify(export)
    assert [str(f) for f in report.findings] == []
    data = report.to_json()
    assert data["verdict"] == "clean"
    logs = {log["name"]: log for log in data["logs"]}
    assert [c["size"] for c in logs[ACCESS_TRAIL]["checkpoints"]] == trail.checkpoints[ACCESS_TRAIL]
    assert [c["size"] for c in logs[CREDIT_RECORDS]["checkpoints"]] == trail.checkpoints[CREDIT_RECORDS]
    assert all(c["rebuilt"] and c["consistent"] for log in logs.values() for c in log["checkpoints"])
    assert logs[ACCESS_TRAIL]["unanchored"] == 2
    assert data["access"]["well_formed"] == len(trail.releases)
    assert data["replay"]["checked_both_ways"] == len(trail.releases)  # the node keeps every state
    assert data["access"]["levels_checked"] == len(trail.releases)
    assert data["records"]["openings_checked"] == data["records"]["stored_versions"] == 17
    assert data["refusals"]["count"] == trail.refusals

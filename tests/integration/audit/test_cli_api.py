"""The auditor's entry points: `credit-ledger audit export|verify`, and the auditors' API."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from ledger.audit.api_source import ApiExportSource
from ledger.audit.errors import AuditError
from ledger.cli import app as cli
from ledger.request_auth import api_domain, sign_request
from tests.integration.audit.conftest import export_of, verifier_for
from tests.integration.audit.trail import ACCESS_TRAIL, Trail, key


def _env(trail: Trail) -> dict[str, str]:
    platform = trail.platform
    platform.deployment.save(platform.settings.manifest_path)
    return {
        "LEDGER_DATA_DIR": str(platform.settings.data_dir),
        "LEDGER_DATABASE_URL": platform.db.url,
        "LEDGER_RPC_URL": platform.chain.rpc_url,
        "LEDGER_FINALITY": "inclusion",  # the shared test chain: durability is tested on its own
        "LEDGER_MAX_BLOCK_AGE_SECONDS": str(platform.settings.max_block_age_seconds),
    }


def test_export_then_verify_exits_by_verdict(trail: Trail, tmp_path: Path) -> None:
    env = _env(trail)
    runner = CliRunner()
    export = tmp_path / "export.ndjson"
    done = runner.invoke(cli, ["audit", "export", "--out", str(export)], env=env)
    assert done.exit_code == 0, done.output
    assert f"{ACCESS_TRAIL} {len(trail.releases)}" in done.output

    report_json, report_html = tmp_path / "report.json", tmp_path / "report.html"
    args = [
        "audit",
        "verify",
        "--export",
        str(export),
        "--json",
        str(report_json),
        "--html",
        str(report_html),
    ]
    clean = runner.invoke(cli, [*args, "--sample", "all", "--quiet"], env=env)
    assert clean.exit_code == 0, clean.output
    assert "CLEAN" in clean.output
    data = json.loads(report_json.read_text())
    assert data["verdict"] == "clean"
    assert data["replay"]["checked_both_ways"] == len(trail.releases)
    html = report_html.read_text()
    assert "CLEAN" in html and "credit_assessment" in html and trail.banks[0].address in html

    lines = export.read_text().splitlines()
    tampered = tmp_path / "tampered.ndjson"
    tampered.write_text(
        "\n".join(line for line in lines if '"seq":3,' not in line or ACCESS_TRAIL not in line)
    )
    caught = runner.invoke(cli, ["audit", "verify", "--export", str(tampered), "--quiet"], env=env)
    assert caught.exit_code == 1, caught.output
    assert "step 3.1 sequence numbers access-trail[3]" in caught.output

    broken = runner.invoke(
        cli, ["audit", "verify", "--export", str(export), "--manifest", str(tmp_path / "none.json")], env=env
    )
    assert broken.exit_code == 2
    garbage = tmp_path / "garbage.ndjson"
    garbage.write_text("not json\n")
    assert runner.invoke(cli, ["audit", "verify", "--export", str(garbage)], env=env).exit_code == 2


def _signed_get(client: TestClient, trail: Trail, path: str, account_name: str = "auditor") -> int:
    deployment = trail.platform.deployment
    domain = api_domain(deployment.chain_id, deployment.addresses.membership)
    headers = sign_request(key(account_name).key, domain, "GET", path, b"")
    status: int = client.get(path, headers=headers).status_code
    return status


def test_auditor_pages_the_trail_through_the_api_and_verifies_it(trail: Trail) -> None:
    platform = trail.platform
    with TestClient(create_app(platform)) as client:
        assert _signed_get(client, trail, "/audit/header") == 200
        assert _signed_get(client, trail, "/audit/header", "bank-a") == 403  # institutions may not
        assert _signed_get(client, trail, "/audit/logs/access-trail/entries?start=0&limit=9999") == 422
        source = ApiExportSource(
            http=client, auditor=trail.auditor, deployment=platform.deployment, page_size=5
        )
        through_api = source.read()
        outsider = ApiExportSource(http=client, auditor=key("stranger"), deployment=platform.deployment)
        try:
            outsider.read()
            raise AssertionError("a non-member read the trail")
        except AuditError as exc:
            assert "403" in exc.message
    from_file = export_of(platform)
    assert through_api.entries == from_file.entries
    assert through_api.records == from_file.records
    assert through_api.catalogues == from_file.catalogues != []
    # the outsider's refused reads were audited after the auditor read the refusals
    assert from_file.refusals[: len(through_api.refusals)] == through_api.refusals
    assert from_file.refusals[-1].event == "GET /audit/header"
    report = verifier_for(platform, sample=0).verify(through_api)
    assert report.findings == []

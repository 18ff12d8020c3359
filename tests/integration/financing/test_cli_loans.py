"""`credit-ledger loans report|versions`, `kpi report|snapshot|verify` against the API over real
HTTP and a real anvil: a report sent twice (the same answer), a reused key refused (exit 1),
the KPIs as CSV, a month's snapshot written and verified against the chain."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ledger.cli import app as cli
from tests.integration.financing.test_loans_api import MONTH, applied, decision  # noqa: F401  (fixture)
from tests.integration.test_release import World, live_api, world  # noqa: F401  (fixtures)


def test_the_cli_reports_prints_the_kpis_and_anchors_a_snapshot(
    applied: World,  # noqa: F811
    live_api: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    w, runner = applied, CliRunner()
    env = {
        "OP_KEY": w.operators[0].key.hex(), "BANK_KEY": w.bank.key.hex(),
        "LEDGER_DATA_DIR": str(w.platform.settings.data_dir), "LEDGER_RPC_URL": w.platform.chain.rpc_url,
    }  # fmt: skip

    def run(who: str, *args: str) -> tuple[int, str]:
        result = runner.invoke(cli, [*args, "--api", live_api, "--key-env", who], env=env)
        return result.exit_code, result.output

    report = tmp_path / "report.json"
    report.write_text(json.dumps(decision(w, "cli-1")))
    code, out = run("BANK_KEY", "loans", "report", str(report))
    assert code == 0, out
    first = json.loads(out)
    code, out = run("BANK_KEY", "loans", "report", str(report))
    assert code == 0 and json.loads(out) == {**first, "replayed": True}
    report.write_text(json.dumps(decision(w, "cli-1", amount="1.00")))
    code, out = run("BANK_KEY", "loans", "report", str(report))
    assert code == 1 and "idempotency key 'cli-1' was used for other content" in out
    code, out = run("BANK_KEY", "loans", "versions", "ZZB-1")
    assert code == 0 and [v["version"] for v in json.loads(out)] == [1]

    code, out = run("OP_KEY", "kpi", "report", "--format", "csv", "--month", MONTH)
    assert code == 0 and "loans,total,,volume_fen,80000000" in out.splitlines()
    code, out = run("BANK_KEY", "kpi", "report", "--format", "csv", "--month", MONTH)
    assert code == 0 and "loans,total,,suppressed,True" in out.splitlines()  # one enterprise's loan
    code, out = run("BANK_KEY", "kpi", "report", "--district", "nope")
    assert code == 1 and "six-digit GB/T 2260 code" in out

    snapshot = tmp_path / "snapshot.json"
    code, out = run("OP_KEY", "kpi", "snapshot", "--month", MONTH, "--out", str(snapshot))
    assert code == 0, out
    assert json.loads(out)["version"] == 1 and snapshot.exists()
    verified = runner.invoke(
        cli,
        ["kpi", "verify", str(snapshot), "--rpc", w.platform.chain.rpc_url,
         "--publications", w.platform.deployment.addresses.publications],
    )  # fmt: skip
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout)["hash_matches"]

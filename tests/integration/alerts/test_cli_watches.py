"""`credit-ledger watch ...` against the API over real HTTP (anvil, SQLite and PostgreSQL): an
institution creates, lists and ends a watch, a watch the chain does not allow is refused by name
(exit 1), an operator's evasion flag alerts the watcher while an institution's is refused."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from ledger.cli import app as cli
from tests.integration.alerts.test_watches import DISHONESTY, POST_LOAN, outbox
from tests.integration.test_release import SUBJECT, World, live_api, world  # noqa: F401  (fixtures)


def test_the_cli_creates_lists_and_ends_a_watch_and_flags_evasion(world: World, live_api: str) -> None:  # noqa: F811
    runner = CliRunner()
    env = {
        "OP_KEY": world.operators[0].key.hex(), "BANK_KEY": world.bank.key.hex(),
        "LEDGER_DATA_DIR": str(world.platform.settings.data_dir),
        "LEDGER_RPC_URL": world.platform.chain.rpc_url, "LEDGER_FINALITY": "inclusion",
    }  # fmt: skip

    def run(who: str, *args: str) -> tuple[int, str]:
        result = runner.invoke(cli, ["watch", *args, "--api", live_api, "--key-env", who], env=env)
        return result.exit_code, result.output

    agreement = world.agreement_for(world.bank, DISHONESTY, POST_LOAN)
    code, out = run("BANK_KEY", "create", SUBJECT, "--categories", "tax", "--agreement", str(agreement))
    assert code == 1 and "category_out_of_scope" in out and "nothing stored" in out  # the chain refuses
    code, out = run("BANK_KEY", "create", SUBJECT, "--categories", "no_such", "--agreement", str(agreement))
    assert code == 1 and "no_such" in out
    code, out = run(
        "BANK_KEY",
        "create",
        SUBJECT,
        "--categories",
        "serious_dishonesty_list",
        "--agreement",
        str(agreement),
    )
    assert code == 0, out
    watch = json.loads(out)
    assert watch["subject"] == SUBJECT and watch["categories"] == ["serious_dishonesty_list"]
    assert watch["institution"] == world.bank.address and watch["ended_at"] is None

    code, out = run("BANK_KEY", "list", "--subject", SUBJECT)
    assert code == 0 and [w["id"] for w in json.loads(out)] == [watch["id"]]

    code, out = run("BANK_KEY", "flag-evasion", SUBJECT, "--reference", "（2026）豫01执9号")
    assert code == 1 and outbox(world) == []  # operators only
    code, out = run("OP_KEY", "flag-evasion", SUBJECT, "--reference", "（2026）豫01执9号")
    assert code == 0, out
    assert json.loads(out)["alerts"] == 1
    (alert,) = outbox(world)
    assert (alert.institution, alert.watch_id) == (world.bank.address, watch["id"])

    code, out = run("BANK_KEY", "end", watch["id"])
    assert code == 0, out
    code, out = run("BANK_KEY", "list")
    assert code == 0 and json.loads(out) == []
    code, out = run("BANK_KEY", "list", "--include-ended")
    assert code == 0 and json.loads(out)[0]["ended_at"] is not None
    code, out = run("BANK_KEY", "end", "watch_" + "0" * 32)
    assert code == 1

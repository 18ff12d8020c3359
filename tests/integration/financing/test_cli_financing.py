"""`credit-ledger financing ...` against the API over real HTTP: a district operator's white list with
a bad code refused (position named, exit 1), a product, a demand matched, an application."""

from __future__ import annotations

import json
from pathlib import Path

from eth_account.signers.local import LocalAccount
from typer.testing import CliRunner

from ledger.cli import app as cli
from tests.integration.financing.test_api_financing import (  # noqa: F401  (district: a fixture)
    LIST,
    OTHER,
    district,
    product,
    white_list,
)
from tests.integration.test_release import SUBJECT, World, live_api, world  # noqa: F401  (fixtures)


def test_the_cli_publishes_matches_and_applies(
    world: World,  # noqa: F811
    live_api: str,  # noqa: F811
    tmp_path: Path,
    district: LocalAccount,  # noqa: F811
) -> None:
    runner = CliRunner()
    env = {
        "DISTRICT_KEY": district.key.hex(), "BANK_KEY": world.bank.key.hex(),
        "ENT_KEY": world.enterprise.key.hex(), "LEDGER_DATA_DIR": str(world.platform.settings.data_dir),
        "LEDGER_RPC_URL": world.platform.chain.rpc_url, "LEDGER_FINALITY": "inclusion",
    }  # fmt: skip

    def run(who: str, *args: str) -> tuple[int, str]:
        result = runner.invoke(cli, ["financing", *args, "--api", live_api, "--key-env", who], env=env)
        return result.exit_code, result.output

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(white_list(1, [SUBJECT, SUBJECT[:-1] + "0"]), ensure_ascii=False))
    code, out = run("DISTRICT_KEY", "publish-white-list", str(bad))
    assert code == 1 and "enterprises[1]" in out and "check_char" in out

    good = tmp_path / "list.json"
    good.write_text(json.dumps(white_list(1, [SUBJECT, OTHER]), ensure_ascii=False))
    code, out = run("DISTRICT_KEY", "publish-white-list", str(good))
    assert code == 0, out
    assert json.loads(out)["version"] == 1

    bad_product = tmp_path / "bad-product.json"
    bad_product.write_text(json.dumps(product("cli-p", [{"field": "listed", "op": "equals", "value": True}])))
    code, out = run("BANK_KEY", "publish-product", str(bad_product))
    assert code == 1 and "unknown field 'listed'" in out
    good_product = tmp_path / "product.json"
    rules = [{"field": "white_lists", "op": "includes", "value": LIST}]
    good_product.write_text(json.dumps(product("cli-p", rules), ensure_ascii=False))
    code, out = run("BANK_KEY", "publish-product", str(good_product))
    assert code == 0, out

    code, out = run("ENT_KEY", "listings", SUBJECT)
    assert code == 0 and json.loads(out)[0]["on_list"]
    code, out = run(
        "ENT_KEY",
        "demand",
        "--subject",
        SUBJECT,
        "--amount",
        "500000",
        "--term-months",
        "12",
        "--use",
        "研发",
    )
    assert code == 0, out
    demand_id = json.loads(out)["id"]
    code, out = run("ENT_KEY", "match", demand_id, "--subject", SUBJECT)
    assert code == 0 and "== eligible / 符合: 1" in out and "cli-p v1" in out, out
    assert f"已列入白名单{LIST} / on white list {LIST}" in out
    code, out = run("BANK_KEY", "match", demand_id, "--subject", SUBJECT)
    assert code == 1 and "403" in out  # never to an institution

    code, out = run(
        "ENT_KEY", "apply", "--subject", SUBJECT, "--product", "cli-p", "--version", "1",
        "--categories", "registration,tax", "--demand", demand_id,
    )  # fmt: skip
    assert code == 0, out
    application = json.loads(out)
    code, out = run("BANK_KEY", "applications")
    assert code == 0 and [a["id"] for a in json.loads(out)] == [application["id"]]

"""A JavaScript client (ethers v6, tests/js/client.mjs) that knows only `GET /signing` signs against a
real platform: anvil, the API over real HTTP, SQLite.

It recomputes the worked examples, checks each contract's published domain against its own
`eip712Domain()`, signs a read, a grant and a revocation, makes a release and checks its
response hash over the exact bytes, and is refused on a foreign chain id with a refusal that
names the type and domain it was verified under. Node 20 and ethers come from tests/js
(package-lock.json; `npm ci --prefix tests/js` in scripts/bootstrap).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from api.openapi import DESCRIPTION
from ledger.release.request import DOMAIN_NAME as DATA_REQUEST_DOMAIN
from tests.integration.test_release import CREDIT, SUBJECT, TAX, World, live_api, world  # noqa: F401

JS_DIR = Path(__file__).resolve().parents[1] / "js"


def run_client(world: World, api: str) -> dict[str, Any]:  # noqa: F811
    node = shutil.which("node")
    assert node is not None, "Node 20 is needed (see scripts/bootstrap)"
    assert (JS_DIR / "node_modules" / "ethers").is_dir(), "run `npm ci --prefix tests/js` (scripts/bootstrap)"
    arguments = {
        "api": api,
        "rpc": world.platform.chain.rpc_url,
        "bank_key": world.bank.key.hex(),
        "enterprise_key": world.enterprise.key.hex(),
        "subject": SUBJECT,
        "categories": str(TAX),
        "purpose": str(CREDIT),
        "agreement_id": world.agreement,
    }
    done = subprocess.run(
        [node, str(JS_DIR / "client.mjs"), json.dumps(arguments)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=JS_DIR,
    )
    assert done.stdout, f"the client printed nothing; stderr:\n{done.stderr}"
    report: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    failed = [c for c in report["checks"] if not c["ok"]]
    assert failed == [] and done.returncode == 0, f"{failed}\n{done.stderr}"
    return report


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_javascript_client_signs_from_the_published_specification_alone(
    world: World,  # noqa: F811
    live_api: str,  # noqa: F811
) -> None:
    report = run_client(world, live_api)
    names = {c["name"] for c in report["checks"]}
    # the README's worked examples, reproduced with ethers
    for example in ("api_request_with_body", "api_request_path_as_sent", "data_request", "grant"):
        assert f"{example}: digest" in names
    assert "response_hash: sha256" in names and "grant: usccHash" in names
    # every contract's published domain is the one its eip712Domain() reports
    assert {"domain Consents: eip712Domain() agrees", "domain Membership: eip712Domain() agrees"} <= names
    steps = report["steps"]
    assert steps["read"] == 200
    assert steps["grant"] == 201 and steps["grant_id"] >= 1
    assert steps["release"] == 200 and steps["response_hash"] is True and steps["records"] >= 1
    assert steps["revoke"] == 200
    assert steps["release_after_revoke"] == 403
    chain_id = world.platform.deployment.chain_id
    read = steps["foreign_read"]
    assert read["status"] == 401 and "not by the claimed signer" in read["detail"]
    assert (
        f"EIP-712 ApiRequest under domain name 'credit-ledger API', version '1', chainId {chain_id}"
        in (read["detail"])
    )
    release = steps["foreign_release"]
    assert release["status"] == 401 and "not by the institution" in release["detail"]
    assert f"DataRequest under domain name '{DATA_REQUEST_DOMAIN}'" in release["detail"]
    grant = steps["foreign_grant"]
    assert grant["status"] == 403 and "InvalidSigner" in grant["detail"]
    assert (
        f"EIP-712 Grant under domain name 'credit-ledger Consents', version '1', chainId {chain_id}"
        in (grant["detail"])
    )
    number = steps["big_json_integer"]
    assert number["status"] == 422 and "categories" in json.dumps(number["body"])
    assert "decimal string" in json.dumps(number["body"])
    assert run_documented_snippet(world, live_api) == 200


def run_documented_snippet(world: World, api: str, tmp_name: str = ".openapi-snippet.mjs") -> int:  # noqa: F811
    """The JavaScript snippet of the OpenAPI description, run as written: the status it got."""
    snippet = DESCRIPTION.split("```js\n", 1)[1].split("```", 1)[0]
    assert 'api = "http://127.0.0.1:8000"' in snippet
    source = (
        f"const privateKey = {json.dumps(world.bank.key.hex())};\n"
        + snippet.replace("http://127.0.0.1:8000", api)
        + "console.log(answer.status);\n"
    )
    script = JS_DIR / tmp_name  # beside node_modules, so `ethers` resolves
    script.write_text(source, encoding="utf-8")
    try:
        done = subprocess.run(["node", str(script)], capture_output=True, text=True, timeout=60, cwd=JS_DIR)
    finally:
        script.unlink()
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip())

"""The API's front door: health, request authentication and governance through the SDK."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable

import pytest
from alembic.script import ScriptDirectory
from eth_account import Account
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.chain.client import ChainClient
from ledger.chain.membership import Action, InstitutionKind, MembershipContract, Role
from ledger.devnet import devnet_key
from ledger.platform import Platform
from ledger.request_auth import HEADER_SIGNER, HEADER_TIMESTAMP, sign_request
from ledger.sdk import ApiError, LedgerClient
from ledger.services import audit_events
from ledger.storage.database import alembic_config

SdkFor = Callable[[LocalAccount], LedgerClient]


def _membership(platform: Platform) -> MembershipContract:
    return MembershipContract(platform.chain, platform.deployment.addresses.membership)


def _state(platform: Platform) -> tuple[int, int, int]:
    """What a refused request must leave unchanged: members, proposals, chain height."""
    m = _membership(platform)
    return m.member_count(), m.proposal_count(), platform.chain.block_number()


def _signed_get(api: TestClient, account: LocalAccount, path: str, **kw: object) -> dict[str, str]:
    domain = api.get("/chain").json()["api_domain"]
    return sign_request(account.key, domain, "GET", path, b"", **kw)  # type: ignore[arg-type]


def test_healthz_reports_chain_and_database(api: TestClient, platform: Platform) -> None:
    body = api.get("/healthz").json()
    assert body["ready"] is True
    assert body["chain"]["chain_id"] == 31337
    assert set(body["chain"]["contracts"]) == set(platform.deployment.addresses.by_name())
    head = ScriptDirectory.from_config(alembic_config(platform.db.url)).get_current_head()
    assert body["database"]["revision"] == head


def test_healthz_is_503_when_the_chain_is_gone(platform: Platform) -> None:
    gone = ChainClient.connect("http://127.0.0.1:9", devnet_key(0), artifacts=platform.chain.artifacts)
    with TestClient(create_app(dataclasses.replace(platform, chain=gone))) as api:
        response = api.get("/healthz")
    assert response.status_code == 503
    assert response.json()["chain"]["ready"] is False
    assert "unavailable" in response.json()["chain"]["error"]


def test_unsigned_request_is_401_and_audited(api: TestClient, platform: Platform) -> None:
    before = _state(platform)
    response = api.get("/members")
    assert response.status_code == 401
    assert "missing header" in response.json()["detail"]
    assert _state(platform) == before
    assert audit_events.recent(platform.db, 1)[0].outcome == "refused"


def test_wrong_signer_is_401(api: TestClient, operators: list[LocalAccount]) -> None:
    headers = _signed_get(api, operators[0], "/members")
    headers[HEADER_SIGNER] = operators[1].address  # claim to be someone else
    response = api.get("/members", headers=headers)
    assert response.status_code == 401
    assert "not by the claimed signer" in response.json()["detail"]


def test_replayed_nonce_is_409(api: TestClient, operators: list[LocalAccount]) -> None:
    headers = _signed_get(api, operators[0], "/members")
    assert api.get("/members", headers=headers).status_code == 200
    replay = api.get("/members", headers=headers)
    assert replay.status_code == 409
    assert "replayed" in replay.json()["detail"]


def test_stale_timestamp_is_401(api: TestClient, operators: list[LocalAccount]) -> None:
    headers = _signed_get(api, operators[0], "/members", timestamp=int(time.time()) - 3600)
    response = api.get("/members", headers=headers)
    assert response.status_code == 401
    assert "stale" in response.json()["detail"]


def test_malformed_timestamp_header_is_422(api: TestClient, operators: list[LocalAccount]) -> None:
    headers = _signed_get(api, operators[0], "/members")
    headers[HEADER_TIMESTAMP] = "yesterday"
    response = api.get("/members", headers=headers)
    assert response.status_code == 422
    assert HEADER_TIMESTAMP in response.json()["detail"]


def test_tampered_path_is_401(api: TestClient, operators: list[LocalAccount]) -> None:
    headers = _signed_get(api, operators[0], "/members")
    response = api.get(f"/members/{operators[1].address}", headers=headers)
    assert response.status_code == 401


def test_unknown_member_is_403(api: TestClient, platform: Platform) -> None:
    stranger = Account.create()
    response = api.get("/members", headers=_signed_get(api, stranger, "/members"))
    assert response.status_code == 403
    assert "not a member" in response.json()["detail"]


def test_malformed_body_is_422_naming_the_field(
    api: TestClient, platform: Platform, operators: list[LocalAccount]
) -> None:
    before = _state(platform)
    body = json.dumps({"action": "admit", "account": "0x1234", "proposer": operators[0].address}).encode()
    domain = api.get("/chain").json()["api_domain"]
    headers = sign_request(operators[0].key, domain, "POST", "/governance/proposals", body)
    response = api.post(
        "/governance/proposals", content=body, headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    fields = {p["field"] for p in response.json()["detail"]}
    assert {"account", "nonce", "deadline", "signature"} <= fields
    assert _state(platform) == before


def test_governance_through_the_sdk(
    sdk: SdkFor, platform: Platform, operators: list[LocalAccount], dev_accounts: list[LocalAccount]
) -> None:
    bank = dev_accounts[5]
    first = sdk(operators[0]).propose(
        Action.ADMIT, account=bank.address, role=Role.INSTITUTION, kind=InstitutionKind.BANK, name="郑州银行"
    )
    assert first["executed"] is False and first["approvals"] == 1
    second = sdk(operators[1]).approve(first["proposal_id"])
    assert second["executed"] is True
    listed = {m["account"]: m for m in sdk(bank).members()}
    assert listed[bank.address]["role"] == "institution"
    assert listed[bank.address]["kind"] == "bank"
    assert listed[bank.address]["status"] == "active"


def test_non_operator_cannot_propose(
    sdk: SdkFor, platform: Platform, operators: list[LocalAccount], dev_accounts: list[LocalAccount]
) -> None:
    enterprise = dev_accounts[6]
    sdk(operators[0]).register_enterprise(enterprise.address, "91350200776049653A", "厦门某企业")
    before = _state(platform)
    with pytest.raises(ApiError) as refused:
        sdk(enterprise).propose(Action.SET_QUORUM, new_quorum=1)
    assert refused.value.status == 403
    assert "needs operator" in refused.value.message
    assert _state(platform) == before


def test_register_enterprise_with_bad_check_character_is_422(
    sdk: SdkFor, platform: Platform, operators: list[LocalAccount], dev_accounts: list[LocalAccount]
) -> None:
    before = _state(platform)
    with pytest.raises(ApiError) as refused:
        sdk(operators[0]).register_enterprise(dev_accounts[6].address, "91350200776049653B", "某企业")
    assert refused.value.status == 422
    assert "check" in refused.value.message
    assert _state(platform) == before


def test_suspended_enterprise_is_refused(
    sdk: SdkFor, operators: list[LocalAccount], dev_accounts: list[LocalAccount]
) -> None:
    enterprise = dev_accounts[6]
    sdk(operators[0]).register_enterprise(enterprise.address, "91350200776049653A", "厦门某企业")
    assert sdk(enterprise).member(enterprise.address)["status"] == "active"
    sdk(operators[0]).set_enterprise_suspended("91350200776049653A", True)
    with pytest.raises(ApiError) as refused:
        sdk(enterprise).members()
    assert refused.value.status == 403
    assert "suspended" in refused.value.message


def test_enterprise_rotates_its_key(
    sdk: SdkFor, operators: list[LocalAccount], dev_accounts: list[LocalAccount]
) -> None:
    old, new = dev_accounts[6], dev_accounts[7]
    sdk(operators[0]).register_enterprise(old.address, "91110000600037341L", "北京某企业")
    sdk(old).rotate_key("91110000600037341L", new.address)
    assert sdk(new).member(new.address)["role"] == "enterprise"
    with pytest.raises(ApiError) as refused:
        sdk(old).members()
    assert refused.value.status == 403


def test_act_signed_by_another_operator_is_refused(
    api: TestClient, platform: Platform, operators: list[LocalAccount]
) -> None:
    # operator 1 authenticates the request but the act inside is signed by operator 0
    chain = api.get("/chain").json()
    membership = _membership(platform)
    signed = membership.sign_propose(operators[0], Action.SET_QUORUM, new_quorum=3)
    m = signed.message
    body = json.dumps({
        "action": "set_quorum", "new_quorum": 3, "proposer": m.proposer, "nonce": m.nonce,
        "deadline": m.deadline, "signature": "0x" + signed.signature.hex(),
    }).encode()  # fmt: skip
    headers = sign_request(operators[1].key, chain["api_domain"], "POST", "/governance/proposals", body)
    before = _state(platform)
    response = api.post(
        "/governance/proposals", content=body, headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 403
    assert _state(platform) == before


@pytest.mark.parametrize("path", ["/governance/proposals", "/releases", "/acts/Grant"])
def test_deeply_nested_json_is_a_4xx_not_a_crash(api: TestClient, path: str) -> None:
    body = "[" * 200_000 + "]" * 200_000  # would overflow the C stack at web3's recursion limit
    response = api.post(path, content=body, headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500
    assert api.get("/healthz").status_code == 200  # the worker is alive

"""Agreements, commitments and consents through the API, signed by each member via the SDK."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from fastapi.testclient import TestClient

from ledger.chain.agreements import (
    AgreementsContract,
    AgreementStatus,
    CommitmentKind,
    CommitMessage,
    CountersignMessage,
    ProposeAgreementMessage,
)
from ledger.chain.consents import AuthorizationQuery, ConsentsContract, GrantMessage, Reason, RevokeMessage
from ledger.chain.membership import InstitutionKind, Role, uscc_hash
from ledger.domain.catalogue import default_catalogue
from ledger.platform import Platform
from ledger.request_auth import sign_request
from ledger.sdk import ApiError, LedgerClient
from tests.integration.conftest import Onboarding

SdkFor = Callable[[LocalAccount], LedgerClient]
USCC = "91350200776049653A"


@pytest.fixture
def members(onboarding: Onboarding, dev_accounts: list[LocalAccount]) -> dict[str, LocalAccount]:
    return {
        "bank": onboarding.admit(dev_accounts[5], Role.INSTITUTION, InstitutionKind.BANK, "郑州银行"),
        "guarantor": onboarding.admit(
            dev_accounts[6], Role.INSTITUTION, InstitutionKind.GUARANTOR, "郑州担保"
        ),
        "enterprise": onboarding.enterprise(dev_accounts[7], USCC, "厦门某企业"),
    }


def _agreement(sdk: SdkFor, bank: LocalAccount, operator: LocalAccount, now: int) -> tuple[int, int]:
    catalogue = default_catalogue()
    commitment = sdk(bank).act(
        CommitMessage, kind=CommitmentKind.INSTITUTION_USAGE, document_hash=keccak(text="usage commitment")
    )
    proposed = sdk(bank).act(
        ProposeAgreementMessage,
        categories=catalogue.category_mask(["tax", "registration"]),
        purposes=catalogue.purpose_mask(["credit_assessment"]),
        max_level=4,
        valid_from=now - 60,
        valid_until=now + 86400,
        document_hash=keccak(text="agreement document"),
        commitment_id=commitment["created_id"],
    )
    sdk(operator).act(CountersignMessage, agreement_id=proposed["created_id"])
    return commitment["created_id"], proposed["created_id"]


def test_agreement_consent_and_revocation_through_the_api(
    sdk: SdkFor, platform: Platform, members: dict[str, LocalAccount], operators: list[LocalAccount]
) -> None:
    bank, enterprise = members["bank"], members["enterprise"]
    catalogue = default_catalogue()
    now = int(platform.chain.w3.eth.get_block("latest")["timestamp"])  # chain time, not wall time
    _, agreement_id = _agreement(sdk, bank, operators[0], now)
    agreements = AgreementsContract(platform.chain, platform.deployment.addresses.agreements)
    assert agreements.status(agreement_id) is AgreementStatus.ACTIVE

    tax = catalogue.category_mask(["tax"])
    purpose = catalogue.purpose_mask(["credit_assessment"])
    granted = sdk(enterprise).act(
        GrantMessage, uscc_hash=uscc_hash(USCC), institution=bank.address, agreement_id=agreement_id,
        categories=tax, purposes=purpose, raw_categories=0, expires_at=now + 3600,
    )  # fmt: skip
    assert granted["created_id"] >= 1

    consents = ConsentsContract(platform.chain, platform.deployment.addresses.consents)
    query = AuthorizationQuery(bank.address, uscc_hash(USCC), tax, purpose, agreement_id, 3)
    decision = consents.authorize(query)
    assert decision.allowed and decision.grant_id == granted["created_id"]

    sdk(enterprise).act(RevokeMessage, grant_id=granted["created_id"])
    refused = consents.authorize(query)
    assert not refused.allowed and refused.reason is Reason.NO_COVERING_GRANT


def test_act_of_the_wrong_role_is_403(sdk: SdkFor, members: dict[str, LocalAccount]) -> None:
    with pytest.raises(ApiError) as refused:
        sdk(members["enterprise"]).act(
            CommitMessage, kind=CommitmentKind.INSTITUTION_USAGE, document_hash=bytes(32)
        )  # enterprises commit, but a usage commitment is an institution's: the contract refuses
    assert refused.value.status == 403
    assert refused.value.body["contract_error"] == "NotActiveMember"
    with pytest.raises(ApiError) as forbidden:
        sdk(members["enterprise"]).act(CountersignMessage, agreement_id=1)
    assert forbidden.value.status == 403
    assert "act of a operator" in forbidden.value.message


def test_relaying_another_members_act_is_403(
    api: TestClient, platform: Platform, members: dict[str, LocalAccount]
) -> None:
    bank, guarantor = members["bank"], members["guarantor"]
    agreements = AgreementsContract(platform.chain, platform.deployment.addresses.agreements)
    signed = agreements.sign_commit(bank, CommitmentKind.INSTITUTION_USAGE, keccak(text="doc"))
    m = signed.message
    body = json.dumps({
        "kind": int(m.kind), "document_hash": "0x" + m.document_hash.hex(), "member": m.member,
        "nonce": m.nonce, "deadline": m.deadline, "signature": "0x" + signed.signature.hex(),
    }).encode()  # fmt: skip
    domain = api.get("/chain").json()["api_domain"]
    headers = sign_request(guarantor.key, domain, "POST", "/acts/Commit", body)
    response = api.post("/acts/Commit", content=body, headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 403
    assert agreements.commitment_count() == 0


def test_replayed_act_signature_is_409(
    api: TestClient, platform: Platform, members: dict[str, LocalAccount]
) -> None:
    bank = members["bank"]
    agreements = AgreementsContract(platform.chain, platform.deployment.addresses.agreements)
    signed = agreements.sign_commit(bank, CommitmentKind.INSTITUTION_USAGE, keccak(text="doc"))
    m = signed.message
    body = json.dumps({
        "kind": int(m.kind), "document_hash": "0x" + m.document_hash.hex(), "member": m.member,
        "nonce": m.nonce, "deadline": m.deadline, "signature": "0x" + signed.signature.hex(),
    }).encode()  # fmt: skip
    domain = api.get("/chain").json()["api_domain"]
    statuses = []
    for _ in range(2):  # a fresh request signature each time: only the act is replayed
        headers = sign_request(bank.key, domain, "POST", "/acts/Commit", body)
        statuses.append(
            api.post("/acts/Commit", content=body, headers={**headers, "Content-Type": "application/json"})
        )
    assert statuses[0].status_code == 201
    assert statuses[1].status_code == 409
    assert statuses[1].json()["contract_error"] == "InvalidAccountNonce"
    assert agreements.commitment_count() == 1


def test_act_with_a_malformed_field_is_422(
    sdk: SdkFor, api: TestClient, members: dict[str, LocalAccount]
) -> None:
    bank = members["bank"]
    body = json.dumps({"kind": 0, "document_hash": "0x1234", "member": bank.address, "nonce": 0,
                       "deadline": 1, "signature": "0x00"}).encode()  # fmt: skip
    domain = api.get("/chain").json()["api_domain"]
    headers = sign_request(bank.key, domain, "POST", "/acts/Commit", body)
    response = api.post("/acts/Commit", content=body, headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 422
    assert {p["field"] for p in response.json()["detail"]} == {"document_hash", "signature"}

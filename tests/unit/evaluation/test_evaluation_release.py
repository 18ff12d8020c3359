"""The evaluation request (EIP-712) and the auditor's own application of a published model."""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest
from eth_account import Account

from ledger.audit.evaluations import apply_model
from ledger.errors import InvalidInput
from ledger.evaluation.model import ModelDocument
from ledger.evaluation.scoring import Scorer
from ledger.evaluation_release.request import (
    check_evaluation_fields,
    evaluation_domain,
    evaluation_request_from_json,
    evaluation_request_to_json,
    sign_evaluation_request,
    verify_evaluation_request,
)
from ledger.request_auth import Unauthenticated

from .conftest import model_dict

DOMAIN = evaluation_domain(31337, "0x" + "ab" * 20)
SUBJECT = "91350200776049653A"


def signed(**changes: Any) -> dict[str, Any]:
    account = Account.from_key("0x" + "11" * 32)
    body = evaluation_request_to_json(
        sign_evaluation_request(account, DOMAIN, subject=SUBJECT, model_version=1, purpose=1, agreement_id=2)
    )
    return body | changes


def test_a_request_survives_its_wire_form_and_verifies() -> None:
    parsed = evaluation_request_from_json(signed())
    verify_evaluation_request(parsed, DOMAIN, now=time.time())
    check_evaluation_fields(parsed.message, now=time.time(), max_lifetime=3600)
    assert evaluation_request_to_json(parsed) == signed() | {
        "nonce": evaluation_request_to_json(parsed)["nonce"],
        "deadline": parsed.message.deadline,
        "signature": evaluation_request_to_json(parsed)["signature"],
    }


def test_the_direct_digest_recovers_as_eth_account_does() -> None:
    from ledger.chain.eip712 import recover_typed_data
    from ledger.evaluation_release.request import recover_evaluation_request

    for _ in range(5):
        parsed = evaluation_request_from_json(signed())
        m = parsed.message
        expected = recover_typed_data(DOMAIN, m.types(), m.PRIMARY_TYPE, m.message(), parsed.signature)
        assert recover_evaluation_request(parsed, DOMAIN) == expected == m.institution


@pytest.mark.parametrize(
    "field,value", [("model_version", 2), ("purpose", "2"), ("subject", "91110000600037341L")]
)
def test_a_changed_field_is_not_the_institution_s_signature(field: str, value: Any) -> None:
    body = signed()
    with pytest.raises(Unauthenticated, match="signed by"):
        verify_evaluation_request(
            evaluation_request_from_json(body | {field: value}), DOMAIN, now=time.time()
        )
    other = evaluation_domain(31337, "0x" + "cd" * 20)  # another deployment's registry
    with pytest.raises(Unauthenticated):
        verify_evaluation_request(evaluation_request_from_json(body), other, now=time.time())


def test_bad_input_is_refused_by_name() -> None:
    with pytest.raises(InvalidInput, match="missing field nonce"):
        evaluation_request_from_json({k: v for k, v in signed().items() if k != "nonce"})
    with pytest.raises(InvalidInput, match="nonce must be 32 bytes"):
        evaluation_request_from_json(signed(nonce="0x00"))
    parsed = evaluation_request_from_json(signed(subject=SUBJECT.lower()))
    with pytest.raises(InvalidInput, match="subject"):
        check_evaluation_fields(parsed.message, now=time.time(), max_lifetime=3600)
    parsed = evaluation_request_from_json(signed(model_version=0))
    with pytest.raises(InvalidInput, match="model_version"):
        check_evaluation_fields(parsed.message, now=time.time(), max_lifetime=3600)


def test_the_auditor_applies_a_model_as_the_platform_does(model: ModelDocument) -> None:
    scorer = Scorer(model)
    values = (None, 0, 1, 1.5, 3.49, 3.5, 12)
    for grade, penalties, patents in itertools.product(values, repeat=3):
        portrait = {"tax_credit_grade": grade, "penalties": penalties, "patents": patents}
        expected = scorer.score(portrait)
        assert apply_model(model_dict(), portrait) == (expected.score, expected.grade)

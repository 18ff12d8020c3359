"""`ModelRegistry` against a real node: model versions proposed, activated and retired by
operator quorum (the membership's, read at each act), and every refusal by name.

Each test deploys `Membership` (operators 1-3, quorum 2, proposals live an hour) and a
`ModelRegistry` bound to it inside the `chain` fixture's snapshot.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from ledger.chain.client import ChainClient
from ledger.chain.eip712 import sign
from ledger.chain.errors import ContractRevert
from ledger.chain.membership import Action, InstitutionKind, MembershipContract, Role, name_hash
from ledger.chain.model_registry import (
    MESSAGES,
    ModelAction,
    ModelRegistryContract,
    ModelStatus,
    ModelVersion,
)
from ledger.paths import CONTRACTS_DIR

MODEL, CARD = keccak(text="model.json"), keccak(text="card.json")
INPUTS = 0b1011


@contextmanager
def reverts(error_name: str, **error_args: Any) -> Iterator[None]:
    """Expect a `ContractRevert` named `error_name` whose arguments include `error_args`."""
    with pytest.raises(ContractRevert) as caught:
        yield
    error = caught.value
    assert error.error_name == error_name, error.message
    for key, value in error_args.items():
        actual = error.error_args[key]
        assert (actual.lower() if isinstance(actual, str) else actual) == (
            value.lower() if isinstance(value, str) else value
        ), (key, error.message)


@dataclass
class Gov:
    chain: ChainClient
    membership: MembershipContract
    models: ModelRegistryContract
    operators: list[LocalAccount]
    bank: LocalAccount
    stranger: LocalAccount

    def propose(self, operator: LocalAccount, model_hash: bytes = MODEL, inputs: int = INPUTS) -> int:
        r = self.models.propose(self.models.sign_propose(operator, model_hash, CARD, 1, inputs))
        return int(self.models.events("ModelProposed", r)[0]["version"])

    def retire(self, operator: LocalAccount, version: int) -> int:
        r = self.models.propose_retirement(self.models.sign_retire(operator, version))
        return int(self.models.events("ModelProposalCreated", r)[0]["id"])

    def approve(self, operator: LocalAccount, proposal_id: int) -> dict[str, list[dict[str, Any]]]:
        r = self.models.approve(self.models.sign_approve(operator, proposal_id))
        return {e: self.models.events(e, r) for e in ("ModelActivated", "ModelRetired")}


@pytest.fixture
def gov(chain: ChainClient, dev_accounts: list[LocalAccount]) -> Gov:
    operators = dev_accounts[1:4]
    m = MembershipContract.deploy(chain, [o.address for o in operators], 2, 3600, dev_accounts[9].address)
    bank = dev_accounts[4]
    proposal = m.propose(
        m.sign_propose(
            operators[0], Action.ADMIT, account=bank.address, role=Role.INSTITUTION,
            kind=InstitutionKind.BANK, name_hash=name_hash("bank"),
        )
    )  # fmt: skip
    m.approve(m.sign_approve(operators[1], proposal.proposal_id))
    return Gov(chain, m, ModelRegistryContract.deploy(chain, m.address), operators, bank, dev_accounts[8])


def typehashes(path: str) -> set[str]:
    return set(re.findall(r'keccak256\(\s*"([^"]+)"\s*\)', (CONTRACTS_DIR / path).read_text()))


def test_type_strings_match_the_contract_typehashes() -> None:
    assert {m.type_string() for m in MESSAGES} == typehashes("models/ModelRegistry.sol")


def test_a_model_is_active_only_once_the_quorum_approved_it(gov: Gov) -> None:
    op1, op2, _ = gov.operators
    version = gov.propose(op1)
    assert version == 1
    assert gov.models.model(1) == ModelVersion(1, MODEL, CARD, 1, INPUTS, ModelStatus.PROPOSED)
    with reverts("ModelNotActive", version=1, status=ModelStatus.PROPOSED):
        gov.models.active_model(1)
    events = gov.approve(op2, 1)
    assert events["ModelActivated"] == [{"version": 1, "id": 1}]
    assert gov.models.active_model(1).status is ModelStatus.ACTIVE
    proposal = gov.models.proposal(1)
    assert (proposal.action, proposal.executed, proposal.approvals) == (ModelAction.ACTIVATE, True, 2)


def test_retirement_by_quorum_takes_effect_in_its_block(gov: Gov) -> None:
    op1, op2, op3 = gov.operators
    gov.approve(op2, gov.propose(op1))
    retire = gov.retire(op3, 1)
    assert gov.models.active_model(1).status is ModelStatus.ACTIVE  # one approval: still active
    receipt = gov.models.approve(gov.models.sign_approve(op1, retire))
    block = receipt["blockNumber"]
    assert gov.models.events("ModelRetired", receipt) == [{"version": 1, "id": retire}]
    with reverts("ModelNotActive", version=1, status=ModelStatus.RETIRED):
        gov.models.active_model(1, block)
    assert gov.models.active_model(1, block - 1).status is ModelStatus.ACTIVE
    with reverts("ModelNotActive", version=1, status=ModelStatus.RETIRED):
        gov.retire(op1, 1)


def test_quorum_one_activates_at_once_and_follows_the_membership(gov: Gov) -> None:
    op1, op2, _ = gov.operators
    m = gov.membership
    p = m.propose(m.sign_propose(op1, Action.SET_QUORUM, new_quorum=1))
    assert m.approve(m.sign_approve(op2, p.proposal_id)).executed
    gov.propose(op1)
    assert gov.models.active_model(1).status is ModelStatus.ACTIVE


def test_refusals(gov: Gov, advance_time: Callable[[int], None]) -> None:
    op1, op2, op3 = gov.operators
    models = gov.models
    with reverts("NotActiveMember", account=gov.bank.address, role=Role.OPERATOR):
        gov.propose(gov.bank)
    with reverts("EmptyModelHash"):
        gov.propose(op1, model_hash=bytes(32))
    with reverts("NoModelInputs"):
        gov.propose(op1, inputs=0)
    with reverts("NonexistentModelVersion", version=1):
        models.model(1)
    with reverts("NonexistentModelVersion", version=7):
        gov.retire(op1, 7)
    version = gov.propose(op1)
    with reverts("DuplicateModel", modelHash=MODEL, version=version):
        gov.propose(op2)
    with reverts("DuplicateModelApproval", id=1, approver=op1.address):
        gov.approve(op1, 1)
    with reverts("NonexistentModelProposal", id=9):
        gov.approve(op2, 9)
    with reverts("NotActiveMember", account=gov.stranger.address, role=Role.OPERATOR):
        gov.approve(gov.stranger, 1)
    with reverts("ModelNotActive", version=1, status=ModelStatus.PROPOSED):
        gov.retire(op1, 1)
    signed = models.sign_approve(op2, 1)
    forged = sign(gov.stranger, models.domain, signed.message)
    with reverts("InvalidSigner", expected=op2.address, recovered=gov.stranger.address):
        models.approve(forged)
    gov.approve(op2, 1)
    with reverts("ModelProposalAlreadyExecuted", id=1):
        gov.approve(op3, 1)
    # an unapproved proposal expires with the membership's proposal lifetime
    late = gov.propose(op1, model_hash=keccak(text="other"))
    advance_time(3601)
    with reverts("ModelProposalExpired", id=2):
        gov.approve(op2, 2)
    assert models.model(late).status is ModelStatus.PROPOSED

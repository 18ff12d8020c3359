"""The `Membership` contract against a real node: every governance path and every refusal.

Accounts: dev account 0 relays every transaction and holds no role; 1, 2 and 3 are the
operators (quorum 2 of 3); 4 is the platform; 5 to 9 are candidates and strangers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from web3.types import TxReceipt

from ledger.chain.client import ChainClient
from ledger.chain.eip712 import Signed, sign
from ledger.chain.errors import ContractRevert
from ledger.chain.membership import (
    ZERO_ADDRESS,
    Action,
    ApproveMessage,
    InstitutionKind,
    MembershipContract,
    ProposeMessage,
    RegisterEnterpriseMessage,
    ReinstateEnterpriseMessage,
    Role,
    RotateKeyMessage,
    Status,
    SuspendEnterpriseMessage,
    name_hash,
    uscc_hash,
)
from ledger.paths import CONTRACTS_DIR

LIFETIME = 3600
USCC = "91110000100000000A"


@contextmanager
def reverts(error_name: str, **error_args: Any) -> Iterator[pytest.ExceptionInfo[ContractRevert]]:
    """Expect a `ContractRevert` named `error_name` with exactly `error_args`."""
    with pytest.raises(ContractRevert) as info:
        yield info
    assert info.value.error_name == error_name, info.value.message
    assert _norm(info.value.error_args) == _norm(error_args)


def _norm(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.lower() if isinstance(v, str) else v for k, v in values.items()}


def events(m: MembershipContract, receipt: TxReceipt, name: str) -> list[dict[str, Any]]:
    return [_norm(e) for e in m.events(name, receipt)]


# -- fixtures -----------------------------------------------------------------------------


@pytest.fixture
def operators(dev_accounts: list[LocalAccount]) -> list[LocalAccount]:
    return dev_accounts[1:4]


@pytest.fixture
def platform(dev_accounts: list[LocalAccount]) -> LocalAccount:
    return dev_accounts[4]


@pytest.fixture
def m(chain: ChainClient, operators: list[LocalAccount], platform: LocalAccount) -> MembershipContract:
    return MembershipContract.deploy(chain, [o.address for o in operators], 2, LIFETIME, platform.address)


def admit(
    m: MembershipContract,
    operators: list[LocalAccount],
    account: str,
    role: Role,
    kind: InstitutionKind = InstitutionKind.NONE,
) -> TxReceipt:
    """Admit `account` with two operator signatures; returns the executing receipt."""
    proposed = m.propose(
        m.sign_propose(
            operators[0], Action.ADMIT, account=account, role=role, kind=kind, name_hash=name_hash("n")
        )
    )
    return m.approve(m.sign_approve(operators[1], proposed.proposal_id)).receipt


def govern(m: MembershipContract, operators: list[LocalAccount], action: Action, **fields: Any) -> TxReceipt:
    proposed = m.propose(m.sign_propose(operators[0], action, **fields))
    return m.approve(m.sign_approve(operators[1], proposed.proposal_id)).receipt


# -- deployment ---------------------------------------------------------------------------


def test_constructor_admits_operators_and_platform(
    m: MembershipContract, operators: list[LocalAccount], platform: LocalAccount
) -> None:
    assert m.quorum() == 2
    assert m.operator_count() == 3
    assert m.proposal_lifetime() == LIFETIME
    assert m.proposal_count() == 0
    members = m.members()
    assert [x.account for x in members] == [o.address for o in operators] + [platform.address]
    assert [x.role for x in members] == [Role.OPERATOR] * 3 + [Role.PLATFORM]
    assert all(x.status is Status.ACTIVE for x in members)
    assert m.member_count() == 4 and m.member_at(3) == platform.address
    assert m.is_active(platform.address, Role.PLATFORM)
    assert not m.is_active(platform.address, Role.OPERATOR)
    assert m.domain["name"] == "credit-ledger Membership" and m.domain["version"] == "1"


def test_constructor_events(
    chain: ChainClient, operators: list[LocalAccount], platform: LocalAccount
) -> None:
    address = chain.deploy("Membership", [o.address for o in operators], 3, LIFETIME, platform.address)
    m = MembershipContract(chain, address)
    [deployment] = chain.w3.eth.get_block("latest")["transactions"]
    receipt = chain.w3.eth.get_transaction_receipt(deployment)  # type: ignore[arg-type]
    admitted = events(m, receipt, "MemberAdmitted")
    assert [(e["account"], e["role"]) for e in admitted] == [
        (o.address.lower(), Role.OPERATOR) for o in operators
    ] + [(platform.address.lower(), Role.PLATFORM)]
    assert events(m, receipt, "QuorumChanged") == [{"oldQuorum": 0, "newQuorum": 3}]


@pytest.mark.parametrize(
    ("quorum", "lifetime", "error", "args"),
    [
        (0, LIFETIME, "InvalidQuorum", {"quorum": 0, "operators": 3}),
        (4, LIFETIME, "InvalidQuorum", {"quorum": 4, "operators": 3}),
        (2, 0, "InvalidProposalLifetime", {"lifetime": 0}),
    ],
)
def test_constructor_refusals(
    chain: ChainClient,
    operators: list[LocalAccount],
    platform: LocalAccount,
    quorum: int,
    lifetime: int,
    error: str,
    args: dict[str, Any],
) -> None:
    with reverts(error, **args):
        chain.deploy("Membership", [o.address for o in operators], quorum, lifetime, platform.address)


def test_constructor_refuses_duplicate_and_zero_accounts(
    chain: ChainClient, operators: list[LocalAccount], platform: LocalAccount
) -> None:
    ops = [o.address for o in operators]
    with reverts("AlreadyMember", account=ops[0], role=Role.OPERATOR):
        chain.deploy("Membership", [*ops, ops[0]], 2, LIFETIME, platform.address)
    with reverts("AlreadyMember", account=ops[1], role=Role.OPERATOR):
        chain.deploy("Membership", ops, 2, LIFETIME, ops[1])
    with reverts("InvalidAccount", account=ZERO_ADDRESS):
        chain.deploy("Membership", ops, 2, LIFETIME, ZERO_ADDRESS)


# -- admission by quorum --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "kind"),
    [
        (Role.OPERATOR, InstitutionKind.NONE),
        (Role.PROVIDER, InstitutionKind.NONE),
        (Role.INSTITUTION, InstitutionKind.BANK),
        (Role.INSTITUTION, InstitutionKind.CREDIT_SERVICE_AGENCY),
        (Role.AUDITOR, InstitutionKind.NONE),
        (Role.PLATFORM, InstitutionKind.NONE),
        (Role.DISTRICT_OPERATOR, InstitutionKind.NONE),
    ],
)
def test_admit_each_role(
    m: MembershipContract,
    operators: list[LocalAccount],
    dev_accounts: list[LocalAccount],
    role: Role,
    kind: InstitutionKind,
) -> None:
    candidate = dev_accounts[5].address
    signed = m.sign_propose(
        operators[0], Action.ADMIT, account=candidate, role=role, kind=kind, name_hash=name_hash("Acme")
    )
    proposed = m.propose(signed)
    assert (proposed.proposal_id, proposed.approvals, proposed.executed) == (1, 1, False)
    [created] = events(m, proposed.receipt, "ProposalCreated")
    expires_at = m.proposal(1).expires_at
    assert created == {
        "id": 1, "proposer": operators[0].address.lower(), "action": Action.ADMIT,
        "account": candidate.lower(), "role": role, "kind": kind, "nameHash": name_hash("Acme"),
        "newQuorum": 0, "expiresAt": expires_at,
    }  # fmt: skip
    assert events(m, proposed.receipt, "ProposalApproved") == [
        {"id": 1, "approver": operators[0].address.lower(), "approvals": 1}
    ]
    assert not m.is_active(candidate, role)

    approved = m.approve(m.sign_approve(operators[1], 1))
    assert (approved.proposal_id, approved.approvals, approved.executed) == (1, 2, True)
    assert events(m, approved.receipt, "ProposalApproved") == [
        {"id": 1, "approver": operators[1].address.lower(), "approvals": 2}
    ]
    assert events(m, approved.receipt, "MemberAdmitted") == [
        {"account": candidate.lower(), "role": role, "kind": kind, "nameHash": name_hash("Acme")}
    ]
    assert events(m, approved.receipt, "ProposalExecuted") == [{"id": 1}]

    member = m.member_of(candidate)
    assert (member.role, member.status, member.kind) == (role, Status.ACTIVE, kind)
    assert member.since == approved.receipt["blockNumber"]
    assert member.name_hash == name_hash("Acme") and member.uscc_hash == bytes(32)
    assert m.is_active(candidate, role)
    assert m.operator_count() == (4 if role is Role.OPERATOR else 3)
    proposal = m.proposal(1)
    assert proposal.executed and proposal.approvals == 2 and proposal.account == candidate
    assert m.has_approved(1, operators[0].address) and m.has_approved(1, operators[1].address)
    assert not m.has_approved(1, operators[2].address)


def test_quorum_of_one_executes_on_proposal(
    chain: ChainClient,
    operators: list[LocalAccount],
    platform: LocalAccount,
    dev_accounts: list[LocalAccount],
) -> None:
    m = MembershipContract.deploy(chain, [operators[0].address], 1, LIFETIME, platform.address)
    proposed = m.propose(
        m.sign_propose(operators[0], Action.ADMIT, account=dev_accounts[5].address, role=Role.AUDITOR)
    )
    assert proposed.executed and proposed.approvals == 1
    assert events(m, proposed.receipt, "ProposalExecuted") == [{"id": 1}]
    assert m.is_active(dev_accounts[5].address, Role.AUDITOR)


@pytest.mark.parametrize(
    ("role", "kind", "error", "args"),
    [
        (Role.ENTERPRISE, InstitutionKind.NONE, "InvalidRole", {"role": Role.ENTERPRISE}),
        (Role.NONE, InstitutionKind.NONE, "InvalidRole", {"role": Role.NONE}),
        (Role.INSTITUTION, InstitutionKind.NONE, "InvalidInstitutionKind",
         {"role": Role.INSTITUTION, "kind": InstitutionKind.NONE}),
        (Role.PROVIDER, InstitutionKind.BANK, "InvalidInstitutionKind",
         {"role": Role.PROVIDER, "kind": InstitutionKind.BANK}),
        (Role.DISTRICT_OPERATOR, InstitutionKind.BANK, "InvalidInstitutionKind",
         {"role": Role.DISTRICT_OPERATOR, "kind": InstitutionKind.BANK}),
    ],
)  # fmt: skip
def test_admit_refuses_invalid_role_or_kind(
    m: MembershipContract,
    operators: list[LocalAccount],
    dev_accounts: list[LocalAccount],
    role: Role,
    kind: InstitutionKind,
    error: str,
    args: dict[str, Any],
) -> None:
    signed = m.sign_propose(operators[0], Action.ADMIT, account=dev_accounts[5].address, role=role, kind=kind)
    with reverts(error, **args):
        m.propose(signed)


def test_admit_refuses_members_and_the_zero_address(
    m: MembershipContract, operators: list[LocalAccount], platform: LocalAccount
) -> None:
    with reverts("AlreadyMember", account=platform.address, role=Role.PLATFORM):
        m.propose(m.sign_propose(operators[0], Action.ADMIT, account=platform.address, role=Role.AUDITOR))
    with reverts("InvalidAccount", account=ZERO_ADDRESS):
        m.propose(m.sign_propose(operators[0], Action.ADMIT, account=ZERO_ADDRESS, role=Role.AUDITOR))


def test_admission_is_rechecked_at_execution(
    m: MembershipContract, operators: list[LocalAccount], dev_accounts: list[LocalAccount]
) -> None:
    candidate = dev_accounts[5].address
    first = m.propose(m.sign_propose(operators[0], Action.ADMIT, account=candidate, role=Role.PROVIDER))
    second = m.propose(m.sign_propose(operators[0], Action.ADMIT, account=candidate, role=Role.AUDITOR))
    m.approve(m.sign_approve(operators[1], first.proposal_id))
    with reverts("AlreadyMember", account=candidate, role=Role.PROVIDER):
        m.approve(m.sign_approve(operators[1], second.proposal_id))
    assert not m.proposal(second.proposal_id).executed


# -- suspension, reinstatement, removal ---------------------------------------------------------


def test_suspend_reinstate_remove(
    m: MembershipContract, operators: list[LocalAccount], dev_accounts: list[LocalAccount]
) -> None:
    provider = dev_accounts[5].address
    admit(m, operators, provider, Role.PROVIDER)

    receipt = govern(m, operators, Action.SUSPEND, account=provider)
    assert events(m, receipt, "MemberSuspended") == [{"account": provider.lower(), "role": Role.PROVIDER}]
    assert events(m, receipt, "ProposalExecuted") == [{"id": 2}]
    assert m.member_of(provider).status is Status.SUSPENDED
    assert not m.is_active(provider, Role.PROVIDER)

    receipt = govern(m, operators, Action.REINSTATE, account=provider)
    assert events(m, receipt, "MemberReinstated") == [{"account": provider.lower(), "role": Role.PROVIDER}]
    assert m.is_active(provider, Role.PROVIDER)

    receipt = govern(m, operators, Action.REMOVE, account=provider)
    assert events(m, receipt, "MemberRemoved") == [{"account": provider.lower(), "role": Role.PROVIDER}]
    assert m.member_of(provider).status is Status.REMOVED
    assert not m.is_active(provider, Role.PROVIDER)

    # removal is for good: no reinstatement, no readmission under any role
    with reverts(
        "InvalidStatusTransition", account=provider, **{"from": Status.REMOVED, "to": Status.ACTIVE}
    ):
        m.propose(m.sign_propose(operators[0], Action.REINSTATE, account=provider))
    with reverts("AlreadyMember", account=provider, role=Role.PROVIDER):
        m.propose(m.sign_propose(operators[0], Action.ADMIT, account=provider, role=Role.AUDITOR))


def test_removing_a_suspended_member(
    m: MembershipContract, operators: list[LocalAccount], dev_accounts: list[LocalAccount]
) -> None:
    auditor = dev_accounts[5].address
    admit(m, operators, auditor, Role.AUDITOR)
    govern(m, operators, Action.SUSPEND, account=auditor)
    receipt = govern(m, operators, Action.REMOVE, account=auditor)
    assert events(m, receipt, "MemberRemoved") == [{"account": auditor.lower(), "role": Role.AUDITOR}]


@pytest.mark.parametrize(
    ("action", "from_", "to"),
    [
        (Action.SUSPEND, Status.NONE, Status.SUSPENDED),
        (Action.REINSTATE, Status.NONE, Status.ACTIVE),
        (Action.REMOVE, Status.NONE, Status.REMOVED),
        (Action.REINSTATE, Status.ACTIVE, Status.ACTIVE),
    ],
)
def test_status_change_refuses_invalid_transitions(
    m: MembershipContract,
    operators: list[LocalAccount],
    dev_accounts: list[LocalAccount],
    action: Action,
    from_: Status,
    to: Status,
) -> None:
    account = dev_accounts[5].address
    if from_ is Status.ACTIVE:
        admit(m, operators, account, Role.PROVIDER)
    with reverts("InvalidStatusTransition", account=account, **{"from": from_, "to": to}):
        m.propose(m.sign_propose(operators[0], action, account=account))


def test_suspension_is_effective_from_its_block(
    m: MembershipContract,
    operators: list[LocalAccount],
    dev_accounts: list[LocalAccount],
    mine: Callable[[], None],
) -> None:
    institution = dev_accounts[5].address
    admit(m, operators, institution, Role.INSTITUTION, InstitutionKind.INSURER)
    mine()
    receipt = govern(m, operators, Action.SUSPEND, account=institution)
    block = receipt["blockNumber"]
    assert m.is_active(institution, Role.INSTITUTION, block_identifier=block - 1)
    assert not m.is_active(institution, Role.INSTITUTION, block_identifier=block)
    assert m.member_of(institution, block_identifier=block - 1).status is Status.ACTIVE
    assert m.member_of(institution, block_identifier=block).status is Status.SUSPENDED


def test_suspended_operator_cannot_act(
    m: MembershipContract, operators: list[LocalAccount], dev_accounts: list[LocalAccount]
) -> None:
    suspended = operators[2]
    receipt = govern(m, operators, Action.SUSPEND, account=suspended.address)
    assert events(m, receipt, "MemberSuspended") == [
        {"account": suspended.address.lower(), "role": Role.OPERATOR}
    ]
    assert m.operator_count() == 2

    proposed = m.propose(
        m.sign_propose(operators[0], Action.ADMIT, account=dev_accounts[5].address, role=Role.AUDITOR)
    )
    with reverts("NotActiveMember", account=suspended.address, role=Role.OPERATOR):
        m.approve(m.sign_approve(suspended, proposed.proposal_id))
    with reverts("NotActiveMember", account=suspended.address, role=Role.OPERATOR):
        m.propose(m.sign_propose(suspended, Action.ADMIT, account=dev_accounts[6].address, role=Role.AUDITOR))

    govern(m, operators, Action.REINSTATE, account=suspended.address)
    assert m.operator_count() == 3
    assert m.approve(m.sign_approve(suspended, proposed.proposal_id)).executed


# -- quorum -----------------------------------------------------------------------------------


def test_quorum_change_by_quorum(m: MembershipContract, operators: list[LocalAccount]) -> None:
    receipt = govern(m, operators, Action.SET_QUORUM, new_quorum=3)
    assert events(m, receipt, "QuorumChanged") == [{"oldQuorum": 2, "newQuorum": 3}]
    assert events(m, receipt, "ProposalExecuted") == [{"id": 1}]
    assert m.quorum() == 3

    # now two approvals are no longer enough
    proposed = m.propose(m.sign_propose(operators[0], Action.SET_QUORUM, new_quorum=1))
    approved = m.approve(m.sign_approve(operators[1], proposed.proposal_id))
    assert not approved.executed and m.quorum() == 3
    approved = m.approve(m.sign_approve(operators[2], proposed.proposal_id))
    assert approved.executed and approved.approvals == 3
    assert events(m, approved.receipt, "QuorumChanged") == [{"oldQuorum": 3, "newQuorum": 1}]


def test_quorum_change_without_quorum_does_not_execute(
    m: MembershipContract, operators: list[LocalAccount]
) -> None:
    proposed = m.propose(m.sign_propose(operators[0], Action.SET_QUORUM, new_quorum=1))
    assert not proposed.executed
    assert events(m, proposed.receipt, "QuorumChanged") == []
    assert m.quorum() == 2
    assert not m.proposal(proposed.proposal_id).executed


@pytest.mark.parametrize("new_quorum", [0, 4])
def test_quorum_must_be_reachable(
    m: MembershipContract, operators: list[LocalAccount], new_quorum: int
) -> None:
    with reverts("InvalidQuorum", quorum=new_quorum, operators=3):
        m.propose(m.sign_propose(operators[0], Action.SET_QUORUM, new_quorum=new_quorum))


@pytest.mark.parametrize("action", [Action.SUSPEND, Action.REMOVE])
def test_operator_departure_cannot_make_quorum_unreachable(
    m: MembershipContract, operators: list[LocalAccount], action: Action
) -> None:
    govern(m, operators, Action.SET_QUORUM, new_quorum=3)
    with reverts("InvalidQuorum", quorum=3, operators=2):
        m.propose(m.sign_propose(operators[0], action, account=operators[2].address))


def test_quorum_reachability_is_rechecked_at_execution(
    m: MembershipContract, operators: list[LocalAccount]
) -> None:
    # both proposals are valid when made (3 operators, quorum 2), only one can execute
    first = m.propose(m.sign_propose(operators[0], Action.REMOVE, account=operators[2].address))
    second = m.propose(m.sign_propose(operators[0], Action.SUSPEND, account=operators[1].address))
    receipt = m.approve(m.sign_approve(operators[1], first.proposal_id)).receipt
    assert events(m, receipt, "MemberRemoved") == [
        {"account": operators[2].address.lower(), "role": Role.OPERATOR}
    ]
    assert m.operator_count() == 2
    with reverts("InvalidQuorum", quorum=2, operators=1):
        m.approve(m.sign_approve(operators[1], second.proposal_id))
    assert m.is_active(operators[1].address, Role.OPERATOR)


# -- proposal life cycle refusals ---------------------------------------------------------------


def test_non_member_cannot_propose(
    m: MembershipContract, operators: list[LocalAccount], dev_accounts: list[LocalAccount]
) -> None:
    stranger = dev_accounts[7]
    with reverts("NotActiveMember", account=stranger.address, role=Role.OPERATOR):
        m.propose(m.sign_propose(stranger, Action.ADMIT, account=stranger.address, role=Role.AUDITOR))
    with reverts("NotActiveMember", account=stranger.address, role=Role.OPERATOR):
        m.approve(m.sign_approve(stranger, 1))


def test_provider_cannot_propose_or_approve(
    m: MembershipContract, operators: list[LocalAccount], dev_accounts: list[LocalAccount]
) -> None:
    provider = dev_accounts[5]
    admit(m, operators, provider.address, Role.PROVIDER)
    with reverts("NotActiveMember", account=provider.address, role=Role.OPERATOR):
        m.propose(m.sign_propose(provider, Action.ADMIT, account=dev_accounts[6].address, role=Role.PROVIDER))
    proposed = m.propose(m.sign_propose(operators[0], Action.SET_QUORUM, new_quorum=3))
    with reverts("NotActiveMember", account=provider.address, role=Role.OPERATOR):
        m.approve(m.sign_approve(provider, proposed.proposal_id))


def test_duplicate_approval(m: MembershipContract, operators: list[LocalAccount]) -> None:
    govern(m, operators, Action.SET_QUORUM, new_quorum=3)
    proposed = m.propose(m.sign_propose(operators[0], Action.SET_QUORUM, new_quorum=2))
    with reverts("DuplicateApproval", id=proposed.proposal_id, approver=operators[0].address):
        m.approve(m.sign_approve(operators[0], proposed.proposal_id))
    m.approve(m.sign_approve(operators[1], proposed.proposal_id))
    with reverts("DuplicateApproval", id=proposed.proposal_id, approver=operators[1].address):
        m.approve(m.sign_approve(operators[1], proposed.proposal_id))


def test_approval_after_execution(m: MembershipContract, operators: list[LocalAccount]) -> None:
    govern(m, operators, Action.SET_QUORUM, new_quorum=3)
    with reverts("ProposalAlreadyExecuted", id=1):
        m.approve(m.sign_approve(operators[2], 1))


def test_expired_proposal(
    m: MembershipContract,
    operators: list[LocalAccount],
    dev_accounts: list[LocalAccount],
    advance_time: Callable[[int], None],
) -> None:
    proposed = m.propose(
        m.sign_propose(operators[0], Action.ADMIT, account=dev_accounts[5].address, role=Role.AUDITOR)
    )
    expires_at = m.proposal(proposed.proposal_id).expires_at
    created_at = m.client.w3.eth.get_block(proposed.receipt["blockNumber"])["timestamp"]
    assert expires_at == created_at + LIFETIME
    advance_time(LIFETIME + 1)
    with reverts("ProposalExpired", id=proposed.proposal_id, expiresAt=expires_at):
        m.approve(m.sign_approve(operators[1], proposed.proposal_id))
    assert not m.is_active(dev_accounts[5].address, Role.AUDITOR)


def test_unknown_proposal(m: MembershipContract, operators: list[LocalAccount]) -> None:
    with reverts("UnknownProposal", id=7):
        m.approve(m.sign_approve(operators[1], 7))
    with reverts("UnknownProposal", id=7):
        m.proposal(7)


# -- signatures: replay, deadline, domain ---------------------------------------------------------


def test_replayed_signature_is_refused(
    m: MembershipContract, operators: list[LocalAccount], dev_accounts: list[LocalAccount]
) -> None:
    signed = m.sign_propose(operators[0], Action.ADMIT, account=dev_accounts[5].address, role=Role.AUDITOR)
    m.propose(signed)
    with reverts("InvalidAccountNonce", account=operators[0].address, currentNonce=1):
        m.propose(signed)
    registration = m.sign_register_enterprise(operators[1], dev_accounts[6].address, USCC, "Acme Ltd")
    m.register_enterprise(registration)
    with reverts("InvalidAccountNonce", account=operators[1].address, currentNonce=1):
        m.register_enterprise(registration)


def test_expired_deadline_is_refused(
    m: MembershipContract, operators: list[LocalAccount], dev_accounts: list[LocalAccount]
) -> None:
    now = int(m.client.w3.eth.get_block("latest")["timestamp"])
    signed = m.sign_propose(
        operators[0], Action.ADMIT, account=dev_accounts[5].address, role=Role.AUDITOR, deadline=now - 1
    )
    with pytest.raises(ContractRevert) as info:
        m.propose(signed)
    assert info.value.error_name == "SignatureExpired"
    assert info.value.error_args["deadline"] == now - 1
    assert info.value.error_args["timestamp"] > now - 1
    assert m.nonce(operators[0].address) == 0


def test_signature_is_bound_to_chain_and_contract(
    chain: ChainClient,
    m: MembershipContract,
    operators: list[LocalAccount],
    platform: LocalAccount,
    dev_accounts: list[LocalAccount],
) -> None:
    proposer = operators[0]
    message = ProposeMessage(
        Action.ADMIT, dev_accounts[5].address, Role.AUDITOR, InstitutionKind.NONE, bytes(32), 0,
        proposer.address, 0, 2**63,
    )  # fmt: skip
    other = MembershipContract.deploy(chain, [o.address for o in operators], 2, LIFETIME, platform.address)
    for domain in (
        {**m.domain, "chainId": 1},
        {**m.domain, "verifyingContract": other.address},
        {**m.domain, "name": "credit-ledger Agreements"},
    ):
        signed = sign(proposer, domain, message)
        with pytest.raises(ContractRevert) as info:
            m.propose(signed)
        assert info.value.error_name == "InvalidSigner"
        assert info.value.error_args["expected"].lower() == proposer.address.lower()
        assert info.value.error_args["recovered"].lower() != proposer.address.lower()
    # the very same message is good under the right domain, once
    assert m.propose(sign(proposer, m.domain, message)).proposal_id == 1


def test_signature_by_someone_else_is_refused(
    m: MembershipContract, operators: list[LocalAccount], dev_accounts: list[LocalAccount]
) -> None:
    impostor = dev_accounts[7]
    message = ApproveMessage(1, operators[1].address, 0, 2**63)
    m.propose(m.sign_propose(operators[0], Action.SET_QUORUM, new_quorum=3))
    with reverts("InvalidSigner", expected=operators[1].address, recovered=impostor.address):
        m.approve(sign(impostor, m.domain, message))


# -- enterprises ----------------------------------------------------------------------------------


def test_register_enterprise(
    m: MembershipContract, operators: list[LocalAccount], dev_accounts: list[LocalAccount]
) -> None:
    enterprise = dev_accounts[5].address
    receipt = m.register_enterprise(m.sign_register_enterprise(operators[2], enterprise, USCC, "Acme Ltd"))
    assert events(m, receipt, "EnterpriseRegistered") == [{
        "account": enterprise.lower(), "usccHash": uscc_hash(USCC), "nameHash": name_hash("Acme Ltd"),
        "operator": operators[2].address.lower(),
    }]  # fmt: skip
    member = m.member_of(enterprise)
    assert (member.role, member.status, member.kind) == (Role.ENTERPRISE, Status.ACTIVE, InstitutionKind.NONE)
    assert member.uscc_hash == uscc_hash(USCC) and member.name_hash == name_hash("Acme Ltd")
    assert m.enterprise_by_uscc(USCC) == enterprise
    assert m.enterprise_by_uscc("91110000100000001X") is None
    assert m.is_active(enterprise, Role.ENTERPRISE)


def test_register_enterprise_refusals(
    m: MembershipContract,
    operators: list[LocalAccount],
    dev_accounts: list[LocalAccount],
    platform: LocalAccount,
) -> None:
    first, second = dev_accounts[5].address, dev_accounts[6].address
    m.register_enterprise(m.sign_register_enterprise(operators[0], first, USCC, "Acme Ltd"))
    with reverts("UsccAlreadyRegistered", usccHash=uscc_hash(USCC), account=first):
        m.register_enterprise(m.sign_register_enterprise(operators[0], second, USCC, "Acme Ltd"))
    with reverts("AlreadyMember", account=first, role=Role.ENTERPRISE):
        m.register_enterprise(m.sign_register_enterprise(operators[0], first, "91110000100000001X", "Other"))
    with reverts("AlreadyMember", account=platform.address, role=Role.PLATFORM):
        m.register_enterprise(m.sign_register_enterprise(operators[0], platform.address, "9111X", "Other"))
    with reverts("NotActiveMember", account=platform.address, role=Role.OPERATOR):
        m.register_enterprise(m.sign_register_enterprise(platform, second, "9111X", "Other"))
    nonce = m.nonce(operators[0].address)
    zero = RegisterEnterpriseMessage(second, bytes(32), bytes(32), operators[0].address, nonce, 2**63)
    with reverts("InvalidUsccHash", usccHash=bytes(32)):
        m.register_enterprise(sign(operators[0], m.domain, zero))


def test_operator_suspends_and_reinstates_enterprise(
    m: MembershipContract, operators: list[LocalAccount], dev_accounts: list[LocalAccount]
) -> None:
    enterprise = dev_accounts[5].address
    m.register_enterprise(m.sign_register_enterprise(operators[0], enterprise, USCC, "Acme Ltd"))
    receipt = m.suspend_enterprise(m.sign_suspend_enterprise(operators[1], USCC))
    assert events(m, receipt, "MemberSuspended") == [{"account": enterprise.lower(), "role": Role.ENTERPRISE}]
    assert not m.is_active(enterprise, Role.ENTERPRISE)
    assert m.is_active(enterprise, Role.ENTERPRISE, block_identifier=receipt["blockNumber"] - 1)
    with reverts(
        "InvalidStatusTransition", account=enterprise, **{"from": Status.SUSPENDED, "to": Status.SUSPENDED}
    ):
        m.suspend_enterprise(m.sign_suspend_enterprise(operators[1], USCC))

    receipt = m.reinstate_enterprise(m.sign_reinstate_enterprise(operators[2], USCC))
    assert events(m, receipt, "MemberReinstated") == [
        {"account": enterprise.lower(), "role": Role.ENTERPRISE}
    ]
    assert m.is_active(enterprise, Role.ENTERPRISE)

    with reverts("UnknownUscc", usccHash=uscc_hash("nobody")):
        m.suspend_enterprise(m.sign_suspend_enterprise(operators[1], "nobody"))
    with reverts("NotActiveMember", account=enterprise, role=Role.OPERATOR):
        m.suspend_enterprise(m.sign_suspend_enterprise(dev_accounts[5], USCC))
    # the suspend and reinstate messages are distinct types: one cannot stand for the other
    fields = (uscc_hash(USCC), operators[1].address, m.nonce(operators[1].address), 2**63)
    reinstate = sign(operators[1], m.domain, ReinstateEnterpriseMessage(*fields))
    with pytest.raises(ContractRevert) as info:
        m.suspend_enterprise(Signed(SuspendEnterpriseMessage(*fields), reinstate.signature))
    assert info.value.error_name == "InvalidSigner"
    assert m.is_active(enterprise, Role.ENTERPRISE)


def test_enterprise_can_be_suspended_by_quorum_too(
    m: MembershipContract, operators: list[LocalAccount], dev_accounts: list[LocalAccount]
) -> None:
    enterprise = dev_accounts[5].address
    m.register_enterprise(m.sign_register_enterprise(operators[0], enterprise, USCC, "Acme Ltd"))
    receipt = govern(m, operators, Action.REMOVE, account=enterprise)
    assert events(m, receipt, "MemberRemoved") == [{"account": enterprise.lower(), "role": Role.ENTERPRISE}]
    with reverts("UsccAlreadyRegistered", usccHash=uscc_hash(USCC), account=enterprise):
        m.register_enterprise(m.sign_register_enterprise(operators[0], dev_accounts[6].address, USCC, "Acme"))


def test_rotate_enterprise_key(
    m: MembershipContract, operators: list[LocalAccount], dev_accounts: list[LocalAccount]
) -> None:
    old, new = dev_accounts[5], dev_accounts[6]
    registered = m.register_enterprise(
        m.sign_register_enterprise(operators[0], old.address, USCC, "Acme Ltd")
    )
    receipt = m.rotate_key(m.sign_rotate_key(old, USCC, new.address))
    assert events(m, receipt, "EnterpriseKeyRotated") == [
        {"usccHash": uscc_hash(USCC), "oldAccount": old.address.lower(), "newAccount": new.address.lower()}
    ]
    assert m.enterprise_by_uscc(USCC) == new.address
    before, after = m.member_of(old.address), m.member_of(new.address)
    assert (before.role, before.status) == (Role.ENTERPRISE, Status.REMOVED)
    assert (after.role, after.status) == (Role.ENTERPRISE, Status.ACTIVE)
    assert after.uscc_hash == before.uscc_hash == uscc_hash(USCC)
    assert after.name_hash == name_hash("Acme Ltd")
    assert before.since == registered["blockNumber"] and after.since == receipt["blockNumber"]
    assert not m.is_active(old.address, Role.ENTERPRISE)
    assert m.member_count() == 6

    # the old key can no longer act for the enterprise; the new one can
    with reverts("InvalidSigner", expected=new.address, recovered=old.address):
        m.rotate_key(m.sign_rotate_key(old, USCC, dev_accounts[7].address, nonce=0))
    m.rotate_key(m.sign_rotate_key(new, USCC, dev_accounts[7].address))
    assert m.enterprise_by_uscc(USCC) == dev_accounts[7].address


def test_rotate_key_signed_by_a_stranger_is_refused(
    m: MembershipContract, operators: list[LocalAccount], dev_accounts: list[LocalAccount]
) -> None:
    owner, stranger = dev_accounts[5], dev_accounts[7]
    m.register_enterprise(m.sign_register_enterprise(operators[0], owner.address, USCC, "Acme Ltd"))
    with reverts("InvalidSigner", expected=owner.address, recovered=stranger.address):
        m.rotate_key(m.sign_rotate_key(stranger, USCC, stranger.address))
    # an operator cannot move an enterprise's key either
    operator_signed = sign(
        operators[0], m.domain, RotateKeyMessage(uscc_hash(USCC), stranger.address, 0, 2**63)
    )
    with reverts("InvalidSigner", expected=owner.address, recovered=operators[0].address):
        m.rotate_key(operator_signed)
    assert m.enterprise_by_uscc(USCC) == owner.address


def test_rotate_key_refusals(
    m: MembershipContract,
    operators: list[LocalAccount],
    dev_accounts: list[LocalAccount],
    platform: LocalAccount,
) -> None:
    owner = dev_accounts[5]
    with reverts("UnknownUscc", usccHash=uscc_hash(USCC)):
        m.rotate_key(m.sign_rotate_key(owner, USCC, dev_accounts[6].address))
    m.register_enterprise(m.sign_register_enterprise(operators[0], owner.address, USCC, "Acme Ltd"))
    with reverts("AlreadyMember", account=platform.address, role=Role.PLATFORM):
        m.rotate_key(m.sign_rotate_key(owner, USCC, platform.address))
    with reverts("InvalidAccount", account=ZERO_ADDRESS):
        m.rotate_key(m.sign_rotate_key(owner, USCC, ZERO_ADDRESS))
    m.suspend_enterprise(m.sign_suspend_enterprise(operators[0], USCC))
    with reverts("NotActiveMember", account=owner.address, role=Role.ENTERPRISE):
        m.rotate_key(m.sign_rotate_key(owner, USCC, dev_accounts[6].address))


# -- the Python mirror of the typehashes ------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        ProposeMessage, ApproveMessage, RegisterEnterpriseMessage, SuspendEnterpriseMessage,
        ReinstateEnterpriseMessage, RotateKeyMessage,
    ],
)  # fmt: skip
def test_type_strings_mirror_the_contract(message: Any) -> None:
    source = (CONTRACTS_DIR / "membership" / "Membership.sol").read_text()
    declared = re.findall(r'keccak256\(\s*"([A-Za-z]+\([^"]*\))"\s*\)', source)
    assert message.type_string() in declared

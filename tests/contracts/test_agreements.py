"""`Agreements` against a real node: commitments, agreements, every transition and refusal.

The deployed ledger and its cast of accounts are described in `authorization_world`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from authorization_world import (
    CATEGORIES,
    DAY,
    PUBLIC,
    PURPOSES,
    World,
    around,
    doc,
    reverts,
)

from ledger.chain.agreements import (
    MESSAGES,
    AgreementsContract,
    AgreementStatus,
    CommitmentKind,
    TerminateMessage,
)
from ledger.chain.consents import Reason
from ledger.chain.eip712 import sign
from ledger.chain.errors import ContractRevert
from ledger.chain.membership import Action, Role
from ledger.paths import CONTRACTS_DIR

pytest_plugins = ["authorization_world"]

STATUS_BIT = {s: (1 << s).to_bytes(32, "big") for s in AgreementStatus}
NOT_TERMINATED = (
    (1 << AgreementStatus.PROPOSED)
    | (1 << AgreementStatus.ACTIVE)
    | (1 << AgreementStatus.SUSPENDED)
    | (1 << AgreementStatus.EXPIRED)
).to_bytes(32, "big")


# -- the contract's surface ---------------------------------------------------------------


def test_type_strings_match_the_contract_typehashes() -> None:
    source = (CONTRACTS_DIR / "agreements" / "Agreements.sol").read_text()
    declared = set(re.findall(r'keccak256\(\s*"([^"]+)"\s*\)', source))
    assert {m.type_string() for m in MESSAGES} == declared


def test_terms_cannot_change_after_proposal(world: World) -> None:
    """The only state-changing functions are the acts: none edits scope or purposes."""
    acts = {
        entry["name"]
        for entry in world.agreements.contract.abi
        if entry["type"] == "function" and entry["stateMutability"] not in ("view", "pure")
    }
    assert acts == {"commit", "markBreached", "propose", "countersign", "suspend", "reinstate", "terminate"}


# -- commitments --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "member"),
    [
        (CommitmentKind.INSTITUTION_USAGE, "bank"),
        (CommitmentKind.ENTERPRISE_TRUTHFULNESS, "enterprise"),
        (CommitmentKind.REPAIR_APPLICANT, "enterprise"),
    ],
)
def test_commit(world: World, kind: CommitmentKind, member: str) -> None:
    signer = getattr(world, member)
    a = world.agreements
    signed = a.sign_commit(signer, kind, doc("letter"))
    receipt = a.relay("commit", signed)
    [event] = a.events("CommitmentMade", receipt)
    assert event == {"id": 3, "member": signer.address, "kind": kind, "documentHash": doc("letter")}
    commitment = a.commitment(3)
    assert commitment is not None
    assert (commitment.member, commitment.kind, commitment.breached) == (signer.address, kind, False)
    assert commitment.document_hash == doc("letter")
    assert commitment.breach_evidence_hash == bytes(32)
    assert a.commitment_count() == 3


@pytest.mark.parametrize(
    ("kind", "member", "role"),
    [
        (CommitmentKind.INSTITUTION_USAGE, "enterprise", Role.INSTITUTION),
        (CommitmentKind.ENTERPRISE_TRUTHFULNESS, "bank", Role.ENTERPRISE),
        (CommitmentKind.REPAIR_APPLICANT, "stranger", Role.ENTERPRISE),
        (CommitmentKind.INSTITUTION_USAGE, "operator", Role.INSTITUTION),
    ],
)
def test_commit_refuses_the_wrong_role(world: World, kind: CommitmentKind, member: str, role: Role) -> None:
    signer = getattr(world, member)
    with reverts("NotActiveMember", account=signer.address, role=role):
        world.agreements.commit(world.agreements.sign_commit(signer, kind, doc("letter")))


def test_commit_refuses_a_suspended_institution(world: World) -> None:
    world.govern(Action.SUSPEND, world.bank.address)
    with reverts("NotActiveMember", account=world.bank.address, role=Role.INSTITUTION):
        world.commit(world.bank)


def test_unknown_commitment_reads_as_none(world: World) -> None:
    assert world.agreements.commitment(99) is None


def test_mark_breached(world: World) -> None:
    a = world.agreements
    receipt = a.mark_breached(a.sign_mark_breached(world.operator, 1, doc("evidence")))
    assert a.events("CommitmentBreached", receipt) == [
        {"id": 1, "operator": world.operator.address, "evidenceHash": doc("evidence")}
    ]
    commitment = a.commitment(1)
    assert commitment is not None
    assert commitment.breached
    assert commitment.breach_evidence_hash == doc("evidence")


def test_mark_breached_refusals(world: World) -> None:
    a = world.agreements
    with reverts("NotActiveMember", account=world.bank2.address, role=Role.OPERATOR):
        a.mark_breached(a.sign_mark_breached(world.bank2, 1, doc("evidence")))
    with reverts("NonexistentCommitment", id=99):
        a.mark_breached(a.sign_mark_breached(world.operator, 99, doc("evidence")))
    a.mark_breached(a.sign_mark_breached(world.operator, 1, doc("evidence")))
    with reverts("CommitmentAlreadyBreached", id=1):
        a.mark_breached(a.sign_mark_breached(world.operator2, 1, doc("again")))


def test_breach_suspends_every_agreement_relying_on_the_commitment(world: World) -> None:
    second = world.activate(commitment_id=1)
    other_commitment = world.commit(world.bank)
    unaffected = world.activate(commitment_id=other_commitment)
    for agreement_id in (1, second, unaffected):
        assert world.consents.authorize(world.query(categories=PUBLIC, agreement_id=agreement_id)).allowed

    a = world.agreements
    a.mark_breached(a.sign_mark_breached(world.operator, 1, doc("evidence")))

    reasons = {
        agreement_id: world.consents.authorize(
            world.query(categories=PUBLIC, agreement_id=agreement_id)
        ).reason
        for agreement_id in (1, second, unaffected)
    }
    assert reasons == {
        1: Reason.COMMITMENT_BREACHED,
        second: Reason.COMMITMENT_BREACHED,
        unaffected: Reason.ALLOWED,
    }
    # recorded on the commitment only: the agreements keep their own state
    assert a.status(1) is AgreementStatus.ACTIVE
    # a reinstated agreement stays refused while its commitment is breached
    a.suspend(a.sign_suspend(world.operator, second))
    a.reinstate(a.sign_reinstate(world.operator, second))
    decision = world.consents.authorize(world.query(categories=PUBLIC, agreement_id=second))
    assert decision.reason is Reason.COMMITMENT_BREACHED


# -- proposal -------------------------------------------------------------------------------


def test_propose(world: World) -> None:
    a = world.agreements
    terms = world.base_terms
    receipt = a.relay("propose", a.sign_propose(world.bank, terms))
    [event] = a.events("AgreementProposed", receipt)
    assert event == {
        "id": 3, "institution": world.bank.address, "commitmentId": 1, "categories": terms.categories,
        "purposes": terms.purposes, "maxLevel": terms.max_level, "validFrom": terms.valid_from,
        "validUntil": terms.valid_until, "documentHash": terms.document_hash,
    }  # fmt: skip
    agreement = a.agreement(3)
    assert agreement is not None
    assert (agreement.institution, agreement.state, agreement.terms) == (
        world.bank.address,
        AgreementStatus.PROPOSED,
        terms,
    )
    assert a.status(3) is AgreementStatus.PROPOSED
    assert a.agreement_count() == 3


@pytest.mark.parametrize(
    ("changes", "error", "args"),
    [
        ({"categories": 0}, "EmptyAgreementScope", {"categories": 0, "purposes": PURPOSES}),
        ({"purposes": 0}, "EmptyAgreementScope", {"categories": CATEGORIES, "purposes": 0}),
        ({"max_level": 0}, "InvalidMaxLevel", {"maxLevel": 0}),
        ({"max_level": 6}, "InvalidMaxLevel", {"maxLevel": 6}),
        ({"commitment_id": 99}, "NonexistentCommitment", {"id": 99}),
    ],
)
def test_propose_refuses_bad_terms(
    world: World, changes: dict[str, Any], error: str, args: dict[str, Any]
) -> None:
    with reverts(error, **args):
        world.propose(**changes)


def test_propose_refuses_bad_validity(world: World) -> None:
    now = world.now()
    with reverts("InvalidValidity", validFrom=now + 10, validUntil=now + 5, timestamp=around(now)):
        world.propose(valid_from=now + 10, valid_until=now + 5)
    now = world.now()
    with reverts("InvalidValidity", validFrom=now - 100, validUntil=now - 1, timestamp=around(now)):
        world.propose(valid_from=now - 100, valid_until=now - 1)


def test_propose_refuses_a_commitment_it_cannot_rely_on(world: World) -> None:
    with reverts("CommitmentNotOwned", id=2, member=world.bank2.address, institution=world.bank.address):
        world.propose(commitment_id=2)
    truthfulness = world.commit(world.enterprise, CommitmentKind.ENTERPRISE_TRUTHFULNESS)
    with reverts(
        "CommitmentNotOwned", id=truthfulness, member=world.enterprise.address, institution=world.bank.address
    ):
        world.propose(commitment_id=truthfulness)
    a = world.agreements
    a.mark_breached(a.sign_mark_breached(world.operator, 1, doc("evidence")))
    with reverts("CommitmentAlreadyBreached", id=1):
        world.propose(commitment_id=1)


def test_propose_refuses_non_institutions(world: World) -> None:
    with reverts("NotActiveMember", account=world.enterprise.address, role=Role.INSTITUTION):
        world.propose(world.enterprise, commitment_id=1)
    world.govern(Action.SUSPEND, world.bank.address)
    with reverts("NotActiveMember", account=world.bank.address, role=Role.INSTITUTION):
        world.propose()


# -- signatures -----------------------------------------------------------------------------


def test_signature_by_another_key_is_refused(world: World) -> None:
    a = world.agreements
    signed = a.sign_propose(world.bank, world.base_terms)
    forged = sign(world.stranger, a.domain, signed.message)
    with reverts("InvalidSigner", expected=world.bank.address, recovered=world.stranger.address):
        a.propose(forged)


def test_replayed_signature_is_refused(world: World) -> None:
    a = world.agreements
    signed = a.sign_countersign(world.operator, world.propose())
    a.countersign(signed)
    nonce = signed.message.nonce
    with reverts("InvalidAccountNonce", account=world.operator.address, currentNonce=nonce + 1):
        a.countersign(signed)


def test_expired_signature_is_refused(world: World, advance_time: Callable[[int], None]) -> None:
    a = world.agreements
    deadline = world.now() + 60
    signed = a.sign_countersign(world.operator, world.propose(), deadline=deadline)
    advance_time(120)
    with reverts("SignatureExpired", deadline=deadline, timestamp=around(world.now())):
        a.countersign(signed)


def test_signature_for_another_contract_is_refused(world: World) -> None:
    """The domain binds the contract: a consent-contract signature does not verify here."""
    a = world.agreements
    message = a.sign_countersign(world.operator, world.propose()).message
    elsewhere = sign(world.operator, world.consents.domain, message)
    operator = world.operator.address.lower()
    with reverts("InvalidSigner", expected=operator, recovered=lambda r: r.lower() != operator):
        a.countersign(elsewhere)


# -- life cycle -----------------------------------------------------------------------------


def test_countersign_activates(world: World) -> None:
    a = world.agreements
    agreement_id = world.propose()
    receipt = a.countersign(a.sign_countersign(world.operator, agreement_id))
    assert a.events("AgreementCountersigned", receipt) == [
        {"id": agreement_id, "operator": world.operator.address}
    ]
    assert a.status(agreement_id) is AgreementStatus.ACTIVE


def test_countersign_refusals(world: World, advance_time: Callable[[int], None]) -> None:
    a = world.agreements
    agreement_id = world.propose()
    with reverts("NotActiveMember", account=world.bank.address, role=Role.OPERATOR):
        a.countersign(a.sign_countersign(world.bank, agreement_id))
    with reverts("NonexistentAgreement", id=99):
        a.countersign(a.sign_countersign(world.operator, 99))
    with reverts(
        "UnexpectedAgreementStatus",
        id=1,
        current=AgreementStatus.ACTIVE,
        expectedStatuses=STATUS_BIT[AgreementStatus.PROPOSED],
    ):
        a.countersign(a.sign_countersign(world.operator, 1))
    a.mark_breached(a.sign_mark_breached(world.operator, 1, doc("evidence")))
    with reverts("CommitmentAlreadyBreached", id=1):
        a.countersign(a.sign_countersign(world.operator, agreement_id))


def test_countersign_refuses_an_expired_proposal(world: World, advance_time: Callable[[int], None]) -> None:
    a = world.agreements
    agreement_id = world.propose(valid_until=world.now() + DAY)
    advance_time(2 * DAY)
    with reverts(
        "UnexpectedAgreementStatus",
        id=agreement_id,
        current=AgreementStatus.EXPIRED,
        expectedStatuses=STATUS_BIT[AgreementStatus.PROPOSED],
    ):
        a.countersign(a.sign_countersign(world.operator, agreement_id))


def test_suspend_and_reinstate(world: World) -> None:
    a = world.agreements
    receipt = a.suspend(a.sign_suspend(world.operator, 1))
    assert a.events("AgreementSuspended", receipt) == [{"id": 1, "operator": world.operator.address}]
    assert a.status(1) is AgreementStatus.SUSPENDED
    assert world.consents.authorize(world.query()).reason is Reason.AGREEMENT_NOT_ACTIVE

    receipt = a.reinstate(a.sign_reinstate(world.operator2, 1))
    assert a.events("AgreementReinstated", receipt) == [{"id": 1, "operator": world.operator2.address}]
    assert a.status(1) is AgreementStatus.ACTIVE


def test_suspend_and_reinstate_refusals(world: World) -> None:
    a = world.agreements
    proposed = world.propose()
    with reverts(
        "UnexpectedAgreementStatus", id=proposed, current=AgreementStatus.PROPOSED,
        expectedStatuses=STATUS_BIT[AgreementStatus.ACTIVE],
    ):  # fmt: skip
        a.suspend(a.sign_suspend(world.operator, proposed))
    with reverts(
        "UnexpectedAgreementStatus", id=1, current=AgreementStatus.ACTIVE,
        expectedStatuses=STATUS_BIT[AgreementStatus.SUSPENDED],
    ):  # fmt: skip
        a.reinstate(a.sign_reinstate(world.operator, 1))
    with reverts("NotActiveMember", account=world.bank.address, role=Role.OPERATOR):
        a.suspend(a.sign_suspend(world.bank, 1))
    a.suspend(a.sign_suspend(world.operator, 1))
    with reverts("NotActiveMember", account=world.bank.address, role=Role.OPERATOR):
        a.reinstate(a.sign_reinstate(world.bank, 1))


@pytest.mark.parametrize("by", ["operator", "bank"])
@pytest.mark.parametrize("state", ["proposed", "active", "suspended", "expired"])
def test_terminate(world: World, advance_time: Callable[[int], None], by: str, state: str) -> None:
    a = world.agreements
    agreement_id = world.propose(valid_until=world.now() + DAY)
    if state != "proposed":
        a.countersign(a.sign_countersign(world.operator, agreement_id))
    if state == "suspended":
        a.suspend(a.sign_suspend(world.operator, agreement_id))
    if state == "expired":
        advance_time(2 * DAY)
    signer = getattr(world, by)
    receipt = a.terminate(a.sign_terminate(signer, agreement_id))
    assert a.events("AgreementTerminated", receipt) == [{"id": agreement_id, "signer": signer.address}]
    assert a.status(agreement_id) is AgreementStatus.TERMINATED
    with reverts(
        "UnexpectedAgreementStatus", id=agreement_id, current=AgreementStatus.TERMINATED,
        expectedStatuses=NOT_TERMINATED,
    ):  # fmt: skip
        a.terminate(a.sign_terminate(world.operator, agreement_id))


def test_terminate_refusals(world: World) -> None:
    a = world.agreements
    for signer in (world.bank2, world.enterprise, world.stranger):
        with reverts("UnauthorizedTerminator", id=1, signer=signer.address):
            a.terminate(a.sign_terminate(signer, 1))
    world.govern(Action.SUSPEND, world.bank.address)
    with reverts("UnauthorizedTerminator", id=1, signer=world.bank.address):
        a.terminate(a.sign_terminate(world.bank, 1))
    with reverts("NonexistentAgreement", id=99):
        a.terminate(a.sign_terminate(world.operator, 99))


def test_terminated_is_final(world: World) -> None:
    a = world.agreements
    a.terminate(a.sign_terminate(world.bank, 1))
    for act in ("countersign", "suspend", "reinstate"):
        signed = getattr(a, f"sign_{act}")(world.operator, 1)
        with pytest.raises(ContractRevert) as info:
            getattr(a, act)(signed)
        assert info.value.error_name == "UnexpectedAgreementStatus"
        assert info.value.error_args["current"] == AgreementStatus.TERMINATED
    assert world.consents.authorize(world.query()).reason is Reason.AGREEMENT_NOT_ACTIVE


def test_expired_is_derived_from_time(world: World, advance_time: Callable[[int], None]) -> None:
    a = world.agreements
    until = world.now() + DAY
    agreement_id = world.activate(valid_until=until)
    terminated = world.activate(valid_until=until)
    a.terminate(a.sign_terminate(world.operator, terminated))

    advance_time(until - world.now())  # the block at `until` is still inside the period
    assert world.now() == until
    assert a.status(agreement_id) is AgreementStatus.ACTIVE
    advance_time(1)
    assert a.status(agreement_id) is AgreementStatus.EXPIRED
    assert a.status(terminated) is AgreementStatus.TERMINATED
    stored = a.agreement(agreement_id)
    assert stored is not None
    assert stored.state is AgreementStatus.ACTIVE
    assert stored.status_at(world.now()) is AgreementStatus.EXPIRED


def test_unknown_agreement(world: World) -> None:
    assert world.agreements.agreement(99) is None
    assert world.agreements.agreement(0) is None
    with reverts("NonexistentAgreement", id=99):
        world.agreements.status(99)


def test_terminate_message_names_its_signer(world: World) -> None:
    signed = world.agreements.sign_terminate(world.bank, 1, nonce=7, deadline=123)
    assert signed.message == TerminateMessage(1, world.bank.address, 7, 123)


def test_binding_round_trip(world: World) -> None:
    """A second binding on the same address reads the same agreement."""
    other = AgreementsContract(world.chain, world.agreements.address)
    assert other.agreement(1) == world.agreements.agreement(1)
    assert other.domain["name"] == "credit-ledger Agreements"
    assert other.domain["version"] == "1"

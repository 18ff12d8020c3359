"""`Publications` against a real node: versioned white lists, loan products and KPI
snapshots anchored by their publishers' signatures, the kind's role read from the
membership, and every refusal by name.

Each test deploys `Membership` (operators 1-3, quorum 2) with two banks and two district
operators, and a `Publications` bound to it, inside the `chain` fixture's snapshot.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from ledger.chain.client import ChainClient
from ledger.chain.eip712 import sign
from ledger.chain.errors import ContractRevert
from ledger.chain.membership import Action, InstitutionKind, MembershipContract, Role, Status, name_hash
from ledger.chain.publications import (
    MESSAGES,
    PublicationKind,
    PublicationsContract,
    document_id,
)
from ledger.paths import CONTRACTS_DIR

WL, PRODUCT, KPI = PublicationKind.WHITE_LIST, PublicationKind.LOAN_PRODUCT, PublicationKind.KPI_SNAPSHOT
H1, H2 = keccak(text="v1"), keccak(text="v2")


@contextmanager
def reverts(error_name: str, **error_args: Any) -> Iterator[None]:
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
class World:
    pubs: PublicationsContract
    membership: MembershipContract
    operators: list[LocalAccount]
    districts: list[LocalAccount]
    bank: LocalAccount
    bank2: LocalAccount
    stranger: LocalAccount

    def publish(
        self, who: LocalAccount, kind: PublicationKind, key: str, version: int, content: bytes = H1,
        valid_from: int = 1_700_000_000, valid_until: int = 0,
    ) -> dict[str, Any]:  # fmt: skip
        signed = self.pubs.sign_publish(
            who, kind, document_id(kind, key), version, content, valid_from, valid_until
        )
        return self.pubs.events("Published", self.pubs.publish(signed))[0]


def _admit(
    m: MembershipContract, ops: list[LocalAccount], account: str, label: str, role: Role = Role.INSTITUTION
) -> None:
    kind = InstitutionKind.BANK if role is Role.INSTITUTION else InstitutionKind.NONE
    p = m.propose(
        m.sign_propose(
            ops[0], Action.ADMIT, account=account, role=role, kind=kind, name_hash=name_hash(label)
        )
    )
    m.approve(m.sign_approve(ops[1], p.proposal_id))


@pytest.fixture
def world(chain: ChainClient, dev_accounts: list[LocalAccount]) -> World:
    operators = dev_accounts[1:4]
    m = MembershipContract.deploy(chain, [o.address for o in operators], 2, 3600, dev_accounts[9].address)
    _admit(m, operators, dev_accounts[4].address, "bank")
    _admit(m, operators, dev_accounts[5].address, "bank2")
    districts = dev_accounts[6:8]
    for n, district in enumerate(districts):
        _admit(m, operators, district.address, f"金水区-{n}", Role.DISTRICT_OPERATOR)
    pubs = PublicationsContract.deploy(chain, m.address)
    return World(pubs, m, operators, districts, dev_accounts[4], dev_accounts[5], dev_accounts[8])


def test_type_strings_match_the_contract_typehash() -> None:
    source = (CONTRACTS_DIR / "financing/Publications.sol").read_text()
    assert {m.type_string() for m in MESSAGES} == set(re.findall(r'keccak256\(\s*"([^"]+)"\s*\)', source))


def test_versions_are_anchored_in_order_and_read_back(world: World) -> None:
    op1, _, _ = world.operators
    d1, d2 = world.districts
    doc = document_id(WL, "金水区-科技型")
    assert world.pubs.latest(WL, doc) is None
    event = world.publish(d1, WL, "金水区-科技型", 1, H1, 100, 200)
    assert (event["version"], event["contentHash"], event["publisher"]) == (1, H1, d1.address)
    world.publish(d2, WL, "金水区-科技型", 2, H2)  # any district operator continues a list
    assert world.pubs.version_count(WL, doc) == 2
    first = world.pubs.publication(WL, doc, 1)
    assert (first.content_hash, first.publisher, first.valid_from, first.valid_until) == (
        H1,
        d1.address,
        100,
        200,
    )
    latest = world.pubs.latest(WL, doc)
    assert latest is not None and (latest.version, latest.content_hash) == (2, H2)
    assert world.pubs.latest(WL, doc, first.block_number) == first
    assert world.pubs.owner_of(WL, doc) == d1.address
    # the same key of another kind is another document
    assert world.pubs.version_count(KPI, document_id(KPI, "金水区-科技型")) == 0
    world.publish(op1, KPI, "2026-11", 1)
    world.publish(world.bank, PRODUCT, "科技贷-1", 1)
    world.publish(world.bank, PRODUCT, "科技贷-1", 2, H2)


def test_refusals(world: World) -> None:
    op1, _, _ = world.operators
    d1, d2 = world.districts
    with reverts("NotActiveMember", account=world.bank.address, role=Role.DISTRICT_OPERATOR):
        world.publish(world.bank, WL, "list", 1)
    # white lists are the districts': a platform operator publishes none
    with reverts("NotActiveMember", account=op1.address, role=Role.DISTRICT_OPERATOR):
        world.publish(op1, WL, "list", 1)
    # nor does a district operator publish KPI snapshots or products
    with reverts("NotActiveMember", account=d1.address, role=Role.OPERATOR):
        world.publish(d1, KPI, "2026-11", 1)
    with reverts("NotActiveMember", account=d1.address, role=Role.INSTITUTION):
        world.publish(d1, PRODUCT, "p", 1)
    with reverts("NotActiveMember", account=world.bank.address, role=Role.OPERATOR):
        world.publish(world.bank, KPI, "2026-11", 1)
    with reverts("NotActiveMember", account=op1.address, role=Role.INSTITUTION):
        world.publish(op1, PRODUCT, "p", 1)
    with reverts("NotActiveMember", account=world.stranger.address, role=Role.DISTRICT_OPERATOR):
        world.publish(world.stranger, WL, "list", 1)
    with reverts("InvalidPublicationKind", kind=0):
        world.publish(d1, PublicationKind.NONE, "list", 1)
    with reverts("EmptyPublication"):
        world.publish(d1, WL, "list", 1, bytes(32))
    with reverts("StalePublicationVersion", version=2, expected=1):
        world.publish(d1, WL, "list", 2)
    with reverts("InvalidValidity", validFrom=200, validUntil=200):
        world.publish(d1, WL, "list", 1, H1, 200, 200)
    world.publish(d1, WL, "list", 1)
    with reverts("StalePublicationVersion", version=1, expected=2):
        world.publish(d2, WL, "list", 1)
    world.publish(world.bank, PRODUCT, "p", 1)
    with reverts("NotDocumentOwner", owner=world.bank.address, publisher=world.bank2.address):
        world.publish(world.bank2, PRODUCT, "p", 2)
    doc = document_id(WL, "list")
    with reverts("NonexistentPublication", version=5):
        world.pubs.publication(WL, doc, 5)
    signed = world.pubs.sign_publish(d1, WL, doc, 2, H2, 0)
    forged = sign(world.stranger, world.pubs.domain, signed.message)
    with reverts("InvalidSigner", expected=d1.address, recovered=world.stranger.address):
        world.pubs.publish(forged)
    world.pubs.publish(signed)
    with reverts("InvalidAccountNonce"):
        world.pubs.publish(signed)  # a signature is good once


def test_a_district_operator_is_admitted_by_quorum_and_refused_once_suspended(world: World) -> None:
    d1, _ = world.districts
    m = world.membership
    member = m.member_of(d1.address)
    assert (member.role, member.status) == (Role.DISTRICT_OPERATOR, Status.ACTIVE)
    world.publish(d1, WL, "list", 1)
    op1, op2, _ = world.operators
    p = m.propose(m.sign_propose(op1, Action.SUSPEND, account=d1.address))
    m.approve(m.sign_approve(op2, p.proposal_id))
    with reverts("NotActiveMember", account=d1.address, role=Role.DISTRICT_OPERATOR):
        world.publish(d1, WL, "list", 2)

"""A deployed ledger for the agreement, consent and authorization tests (a pytest plugin).

Deployed once per test module from its own client: the real `Membership`, `Agreements`,
`CatalogueRegistry` and `Consents`, wired as `ledger.chain.deploy` wires them, with
members admitted by the real governance. Each test then runs inside the `chain`
fixture's snapshot, through bindings on that test's client, so nothing a test does
leaks into the next.

Accounts: 0 relays every transaction and holds no role; 1 and 2 are operators
(quorum 1); 3 and 4 are banks; 5 and 6 are enterprises; 7 is a spare key; 8 is a
stranger; 9 is the platform.

State at the start of each test: catalogue v1 published (REGISTRATION and PENALTIES
public); each bank has one usage commitment (ids 1 and 2) and one active agreement
(ids 1 and 2) over every test category, for CREDIT_ASSESSMENT and LOAN_MONITORING, up
to level 3, valid from an hour ago for 30 days. No grants.

PYTEST_DONT_REWRITE: the test modules import their helpers from this plugin before
pytest loads it, so it is not assertion-rewritten; its asserts carry their own messages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from ledger.chain.agreements import AgreementsContract, AgreementTerms, CommitmentKind
from ledger.chain.catalogue_registry import CatalogueRegistryContract, CatalogueVersion
from ledger.chain.client import ChainClient
from ledger.chain.compile import CompiledContract
from ledger.chain.consents import AuthorizationQuery, ConsentsContract, GrantTerms
from ledger.chain.errors import ContractRevert
from ledger.chain.membership import Action, InstitutionKind, MembershipContract, Role, name_hash, uscc_hash
from ledger.devnet import Devnet, devnet_key

USCC = "91350200776049653A"
USCC2 = "91110000600037341L"
UNKNOWN_USCC = "91110000100000000A"

# catalogue bits of the tests (the real assignment lives in the catalogue)
REGISTRATION, PENALTIES, TAX, SOCIAL_INSURANCE, UTILITIES = (1 << i for i in range(5))
CATEGORIES = REGISTRATION | PENALTIES | TAX | SOCIAL_INSURANCE | UTILITIES
PUBLIC = REGISTRATION | PENALTIES
CREDIT_ASSESSMENT, LOAN_MONITORING, INSURANCE_UNDERWRITING = (1 << i for i in range(3))
PURPOSES = CREDIT_ASSESSMENT | LOAN_MONITORING
MAX_LEVEL = 3
CATALOGUE_V1 = CatalogueVersion(1, keccak(text="catalogue-v1"), PUBLIC)

DAY = 86_400


def doc(text: str) -> bytes:
    return keccak(text=text)


@dataclass(frozen=True)
class Deployed:
    membership: str
    agreements: str
    catalogue: str
    consents: str
    valid_from: int
    valid_until: int


@contextmanager
def reverts(error_name: str, **error_args: Any) -> Iterator[pytest.ExceptionInfo[ContractRevert]]:
    """Expect a `ContractRevert` named `error_name` with exactly `error_args`.

    Addresses compare in any case; an expected value may be a predicate, for arguments
    such as a block timestamp that the test can only bound.
    """
    with pytest.raises(ContractRevert) as info:
        yield info
    error = info.value
    assert error.error_name == error_name, error.message
    assert set(error.error_args) == set(error_args), error.message
    for name, expected in error_args.items():
        actual = error.error_args[name]
        ok = expected(actual) if callable(expected) else _norm(actual) == _norm(expected)
        assert ok, f"{error.message}: {name} is not {expected}"


def _norm(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def around(timestamp: int) -> Callable[[int], bool]:
    """A block timestamp of the next block after one at `timestamp` (or of that block)."""
    return lambda actual: timestamp <= actual <= timestamp + 2


class World:
    """The deployed contracts seen through one test's client, with the cast of accounts."""

    def __init__(self, chain: ChainClient, deployed: Deployed, accounts: list[LocalAccount]) -> None:
        self.chain = chain
        self.deployed = deployed
        self.membership = MembershipContract(chain, deployed.membership)
        self.agreements = AgreementsContract(chain, deployed.agreements)
        self.catalogue = CatalogueRegistryContract(chain, deployed.catalogue)
        self.consents = ConsentsContract(chain, deployed.consents)
        self.accounts = accounts
        self.operator, self.operator2 = accounts[1], accounts[2]
        self.bank, self.bank2 = accounts[3], accounts[4]
        self.enterprise, self.enterprise2 = accounts[5], accounts[6]
        self.spare, self.stranger, self.platform = accounts[7], accounts[8], accounts[9]
        self.uscc, self.uscc2 = uscc_hash(USCC), uscc_hash(USCC2)
        self.base_terms = AgreementTerms(
            CATEGORIES, PURPOSES, MAX_LEVEL, deployed.valid_from, deployed.valid_until, doc("agreement"), 1
        )

    # -- chain ----------------------------------------------------------------------

    def rpc(self, method: str, params: list[Any]) -> Any:
        return self.chain.w3.provider.make_request(method, params)  # type: ignore[arg-type]

    def now(self) -> int:
        return int(self.chain.w3.eth.get_block("latest")["timestamp"])

    def block(self) -> int:
        return self.chain.block_number()

    def timestamp(self, block: int | str = "latest") -> int:
        return int(self.chain.w3.eth.get_block(block)["timestamp"])

    # -- membership -----------------------------------------------------------------

    def govern(self, action: Action, account: str) -> None:
        """Apply a membership action by the (single-operator) quorum."""
        m = self.membership
        assert m.propose(m.sign_propose(self.operator, action, account=account)).executed

    # -- agreements -----------------------------------------------------------------

    def commit(self, member: LocalAccount, kind: CommitmentKind = CommitmentKind.INSTITUTION_USAGE) -> int:
        return self.agreements.commit(self.agreements.sign_commit(member, kind, doc("commitment")))

    def propose(self, institution: LocalAccount | None = None, **changes: Any) -> int:
        """A proposed agreement of `institution` (bank): the base terms with `changes`."""
        institution = institution or self.bank
        if "commitment_id" not in changes:
            changes["commitment_id"] = 1 if institution == self.bank else self.commit(institution)
        terms = replace(self.base_terms, **changes)
        return self.agreements.propose(self.agreements.sign_propose(institution, terms))

    def activate(self, institution: LocalAccount | None = None, **changes: Any) -> int:
        """An agreement proposed as in `propose` and countersigned."""
        agreement_id = self.propose(institution, **changes)
        self.agreements.countersign(self.agreements.sign_countersign(self.operator, agreement_id))
        return agreement_id

    # -- consents -------------------------------------------------------------------

    def grant_terms(self, **changes: Any) -> GrantTerms:
        base = GrantTerms(
            self.uscc, self.bank.address, 0, TAX | SOCIAL_INSURANCE, PURPOSES, TAX, self.now() + 10 * DAY
        )
        return replace(base, **changes)

    def grant(self, enterprise: LocalAccount | None = None, **changes: Any) -> int:
        """A grant by `enterprise` (the first one) of the default terms with `changes`."""
        signed = self.consents.sign_grant(enterprise or self.enterprise, self.grant_terms(**changes))
        return self.consents.grant(signed)

    def query(self, **changes: Any) -> AuthorizationQuery:
        """Bank asks for TAX of the first enterprise for CREDIT_ASSESSMENT under agreement 1, level 2."""
        base = AuthorizationQuery(self.bank.address, self.uscc, TAX, CREDIT_ASSESSMENT, 1, 2)
        return replace(base, **changes)


def _deploy(chain: ChainClient, accounts: list[LocalAccount]) -> Deployed:
    operator, operator2 = accounts[1], accounts[2]
    m = MembershipContract.deploy(chain, [operator.address, operator2.address], 1, 3600, accounts[9].address)
    for bank in accounts[3:5]:
        signed = m.sign_propose(
            operator,
            Action.ADMIT,
            account=bank.address,
            role=Role.INSTITUTION,
            kind=InstitutionKind.BANK,
            name_hash=name_hash(f"bank {bank.address}"),
        )
        assert m.propose(signed).executed
    for enterprise, uscc in ((accounts[5], USCC), (accounts[6], USCC2)):
        m.register_enterprise(m.sign_register_enterprise(operator, enterprise.address, uscc, uscc))
    agreements = AgreementsContract.deploy(chain, m.address)
    catalogue = CatalogueRegistryContract.deploy(chain, m.address)
    consents = ConsentsContract.deploy(chain, m.address, agreements.address, catalogue.address)
    catalogue.publish(catalogue.sign_publish(operator, CATALOGUE_V1))
    now = int(chain.w3.eth.get_block("latest")["timestamp"])
    deployed = Deployed(
        m.address, agreements.address, catalogue.address, consents.address, now - 3600, now + 30 * DAY
    )
    world = World(chain, deployed, accounts)
    for bank in (world.bank, world.bank2):
        world.commit(bank)
    assert world.activate(world.bank, commitment_id=1) == 1
    assert world.activate(world.bank2, commitment_id=2) == 2
    return deployed


@pytest.fixture(scope="module")
def module_client(devnet: Devnet, artifacts: dict[str, CompiledContract]) -> ChainClient:
    """A client for module-scoped setup, which runs before any test's snapshot is taken."""
    return ChainClient.connect(devnet.url, devnet_key(0), artifacts=artifacts)


@pytest.fixture(scope="module")
def deployed(module_client: ChainClient, dev_accounts: list[LocalAccount]) -> Deployed:
    return _deploy(module_client, dev_accounts)


@pytest.fixture
def world(chain: ChainClient, deployed: Deployed, dev_accounts: list[LocalAccount]) -> World:
    return World(chain, deployed, dev_accounts)


@pytest.fixture
def fresh_client(devnet: Devnet, artifacts: dict[str, CompiledContract]) -> Callable[[], ChainClient]:
    """A new client each call: after an `evm_revert` a client's cached relayer nonce is stale."""
    return lambda: ChainClient.connect(devnet.url, devnet_key(0), artifacts=artifacts)

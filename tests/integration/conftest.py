"""A real platform per test: contracts freshly deployed on anvil, SQLite or PostgreSQL."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from ledger.chain.client import ChainClient
from ledger.chain.deploy import Governance, deploy_all
from ledger.chain.membership import Action, InstitutionKind, MembershipContract, Role, name_hash
from ledger.platform import Platform
from ledger.sdk import LedgerClient
from ledger.settings import Settings
from ledger.storage.database import Database, migrate
from ledger.storage.models import Base

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


@contextlib.contextmanager
def new_database(kind: str, directory: Path) -> Iterator[str]:
    """The URL of a new, empty database of `kind` (sqlite: a file in `directory`), dropped after."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / f'new-{uuid.uuid4().hex[:8]}.db'}"
        return
    name = f"ledger_new_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    """A database of its own on the local PostgreSQL, dropped at the end of the session."""
    name = f"ledger_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    migrate(url)
    yield url
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'ledger.db'}"
    migrate(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> Iterator[Database]:
    url = request.getfixturevalue(f"{request.param}_url")
    db = Database(url)
    yield db
    with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(text(f"DELETE FROM {table.name}"))
    db.engine.dispose()


#: the block-age bound on the shared, snapshot-reverted test chain: a year
SHARED_CHAIN_MAX_BLOCK_AGE = 365 * 24 * 3600


@pytest.fixture
def operators(dev_accounts: list[LocalAccount]) -> list[LocalAccount]:
    """Three operators with a quorum of two (devnet accounts 1-3)."""
    return dev_accounts[1:4]


@pytest.fixture
def platform(
    chain: ChainClient, database: Database, operators: list[LocalAccount], tmp_path: Path
) -> Platform:
    governance = Governance(
        operators=[o.address for o in operators],
        quorum=2,
        proposal_lifetime_seconds=3600,
        platform=chain.relayer.address,
    )
    deployment = deploy_all(chain, governance)
    settings = Settings(
        data_dir=tmp_path,
        database_url=database.url,
        rpc_url=chain.rpc_url,
        # The shared test chain mines only on transactions and is reverted to a snapshot
        # after each test, so its latest block's age says nothing about staleness here;
        # the tests of the bound (test_release_freshness.py) run on a chain of their own.
        max_block_age_seconds=SHARED_CHAIN_MAX_BLOCK_AGE,
    )
    return Platform(settings, database, chain, deployment)


@pytest.fixture
def api(platform: Platform) -> Iterator[TestClient]:
    with TestClient(create_app(platform)) as client:
        yield client


@pytest.fixture
def sdk(api: TestClient) -> Callable[[LocalAccount], LedgerClient]:
    def _for(account: LocalAccount) -> LedgerClient:
        return LedgerClient(str(api.base_url), account, http=api)

    return _for


class Onboarding:
    """Admits members straight through the Membership contract (the API path is tested elsewhere)."""

    def __init__(self, platform: Platform, operators: list[LocalAccount]) -> None:
        self.membership = MembershipContract(platform.chain, platform.deployment.addresses.membership)
        self.operators = operators

    def admit(
        self,
        account: LocalAccount,
        role: Role,
        kind: InstitutionKind = InstitutionKind.NONE,
        name: str = "member",
    ) -> LocalAccount:
        proposal = self.membership.propose(
            self.membership.sign_propose(
                self.operators[0],
                Action.ADMIT,
                account=account.address,
                role=role,
                kind=kind,
                name_hash=name_hash(name),
            )
        )
        self.membership.approve(self.membership.sign_approve(self.operators[1], proposal.proposal_id))
        return account

    def enterprise(self, account: LocalAccount, uscc: str, name: str = "enterprise") -> LocalAccount:
        self.membership.register_enterprise(
            self.membership.sign_register_enterprise(self.operators[0], account.address, uscc, name)
        )
        return account

    def suspend(self, account: LocalAccount) -> None:
        proposal = self.membership.propose(
            self.membership.sign_propose(self.operators[0], Action.SUSPEND, account=account.address)
        )
        self.membership.approve(self.membership.sign_approve(self.operators[1], proposal.proposal_id))


@pytest.fixture
def onboarding(platform: Platform, operators: list[LocalAccount]) -> Onboarding:
    return Onboarding(platform, operators)

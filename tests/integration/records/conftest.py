"""Fixtures for the credit-record tests: a data provider and the catalogue published on chain."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from eth_account.signers.local import LocalAccount

from ledger.chain.catalogue_registry import CatalogueRegistryContract, CatalogueVersion
from ledger.chain.membership import Action, MembershipContract, Role, name_hash
from ledger.domain.catalogue import Catalogue, default_catalogue
from ledger.platform import Platform
from ledger.sdk import LedgerClient

SdkFor = Callable[[LocalAccount], LedgerClient]


def admit(platform: Platform, operators: list[LocalAccount], account: str, role: Role, name: str) -> None:
    """Admit `account` with `role` by two operators' signatures, straight on chain."""
    membership = MembershipContract(platform.chain, platform.deployment.addresses.membership)
    outcome = membership.propose(
        membership.sign_propose(
            operators[0], Action.ADMIT, account=account, role=role, name_hash=name_hash(name)
        )
    )
    membership.approve(membership.sign_approve(operators[1], outcome.proposal_id))


def publish_on_chain(platform: Platform, operator: LocalAccount, catalogue: Catalogue) -> None:
    """Anchor `catalogue` on chain directly (the packaged one needs no database row)."""
    registry = CatalogueRegistryContract(platform.chain, platform.deployment.addresses.catalogue_registry)
    version = CatalogueVersion(catalogue.version, catalogue.content_hash(), catalogue.public_mask())
    registry.publish(registry.sign_publish(operator, version))


@pytest.fixture
def provider(
    platform: Platform, operators: list[LocalAccount], dev_accounts: list[LocalAccount]
) -> LocalAccount:
    account = dev_accounts[4]
    admit(platform, operators, account.address, Role.PROVIDER, "郑州市市场监督管理局")
    return account


@pytest.fixture
def other_provider(
    platform: Platform, operators: list[LocalAccount], dev_accounts: list[LocalAccount]
) -> LocalAccount:
    account = dev_accounts[5]
    admit(platform, operators, account.address, Role.PROVIDER, "国家税务总局郑州市税务局")
    return account


@pytest.fixture
def catalogue_v1(platform: Platform, operators: list[LocalAccount]) -> Catalogue:
    catalogue = default_catalogue()
    publish_on_chain(platform, operators[0], catalogue)
    return catalogue

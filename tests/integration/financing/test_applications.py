"""Publications stored and anchored, and loan applications backed by a consent grant,
against a real anvil and SQLite/PostgreSQL (the domain layer, without HTTP)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from eth_account.signers.local import LocalAccount
from sqlalchemy import func, select

from ledger.chain.consents import GrantMessage
from ledger.chain.eip712 import sign
from ledger.chain.errors import ContractRevert
from ledger.chain.membership import InstitutionKind, Role, uscc_hash
from ledger.chain.publications import PublicationKind
from ledger.domain.catalogue import default_catalogue
from ledger.errors import NotAuthorized
from ledger.financing.applications import (
    ApplicationInvalid,
    Applications,
    GrantAlreadyUsed,
    has_application,
)
from ledger.financing.documents import DocumentMismatch, KpiSnapshotDocument
from ledger.financing.models import ApplicationRow, FinancingDocumentRow
from ledger.financing.products import LoanProductDocument
from ledger.financing.store import DocumentStore, VersionConflict
from ledger.platform import Platform
from ledger.selfservice.errors import NotTheSubject
from tests.integration.conftest import Onboarding

USCC = "91350200776049653A"
START = datetime(2026, 12, 1, tzinfo=UTC)


def product(version: int = 1, **changes: object) -> LoanProductDocument:
    base: dict[str, object] = {
        "key": "zz-bank-科技贷", "version": version, "valid_from": START, "name": "科技贷",
        "product_kind": "科技贷", "amount": {"min": 100_000, "max": 3_000_000},
        "term_months": {"min": 6, "max": 36}, "annual_rate_percent": {"min": 3.2, "max": 4.5},
        "guarantee": "credit",
    }  # fmt: skip
    return LoanProductDocument.model_validate({**base, **changes})


@pytest.fixture
def store(platform: Platform) -> DocumentStore:
    return DocumentStore(platform.db, platform.contracts.publications)


@pytest.fixture
def people(onboarding: Onboarding, dev_accounts: list[LocalAccount]) -> dict[str, LocalAccount]:
    return {
        "bank": onboarding.admit(dev_accounts[5], Role.INSTITUTION, InstitutionKind.BANK, "郑州银行"),
        "bank2": onboarding.admit(dev_accounts[6], Role.INSTITUTION, InstitutionKind.BANK, "另一银行"),
        "enterprise": onboarding.enterprise(dev_accounts[7], USCC, "厦门某企业"),
    }


def publish(store: DocumentStore, who: LocalAccount, doc: LoanProductDocument | KpiSnapshotDocument):  # type: ignore[no-untyped-def]
    pubs = store.publications
    signed = pubs.sign_publish(
        who, doc.KIND, doc.document_id(), doc.version, doc.content_hash(),
        doc.valid_from_seconds(), doc.valid_until_seconds(),
    )  # fmt: skip
    return store.publish(who.address, doc, signed)


def test_a_document_is_anchored_then_stored_and_a_replay_answers_the_same(
    store: DocumentStore, people: dict[str, LocalAccount], operators: list[LocalAccount]
) -> None:
    bank = people["bank"]
    stored = publish(store, bank, product())
    on_chain = store.publications.latest(PublicationKind.LOAN_PRODUCT, product().document_id())
    assert on_chain is not None and on_chain.content_hash == stored.content_hash == product().content_hash()
    assert stored.block_number == on_chain.block_number and stored.publisher == bank.address
    assert publish(store, bank, product()) == stored  # identical again: answered, nothing anchored twice
    assert store.publications.version_count(PublicationKind.LOAN_PRODUCT, product().document_id()) == 1
    with pytest.raises(VersionConflict):
        publish(store, bank, product(name="其他"))  # same version, other content
    with pytest.raises(ContractRevert) as caught:
        publish(store, people["bank2"], product(2))  # another institution's product
    assert caught.value.error_name == "NotDocumentOwner"
    kpi = KpiSnapshotDocument(key="2026-11", version=1, valid_from=START, body={"loans": 3})
    assert publish(store, operators[0], kpi).kind is PublicationKind.KPI_SNAPSHOT
    with store.db.session() as session:
        assert session.scalar(select(func.count()).select_from(FinancingDocumentRow)) == 2


def test_an_act_about_another_document_or_by_another_signer_is_refused(
    store: DocumentStore, people: dict[str, LocalAccount]
) -> None:
    bank = people["bank"]
    doc = product()
    pubs = store.publications
    other = pubs.sign_publish(
        bank, doc.KIND, doc.document_id(), 1, product(name="x").content_hash(), doc.valid_from_seconds()
    )
    with pytest.raises(DocumentMismatch, match="content_hash"):
        store.publish(bank.address, doc, other)
    signed = pubs.sign_publish(
        bank, doc.KIND, doc.document_id(), 1, doc.content_hash(), doc.valid_from_seconds()
    )
    with pytest.raises(NotAuthorized):
        store.publish(people["bank2"].address, doc, signed)
    assert pubs.version_count(doc.KIND, doc.document_id()) == 0


def test_a_version_anchored_but_not_stored_is_stored_when_sent_again(
    store: DocumentStore, people: dict[str, LocalAccount]
) -> None:
    bank, doc = people["bank"], product()
    pubs = store.publications
    signed = pubs.sign_publish(
        bank, doc.KIND, doc.document_id(), 1, doc.content_hash(), doc.valid_from_seconds()
    )
    pubs.publish(signed)  # the crash: anchored, never stored
    again = pubs.sign_publish(
        bank, doc.KIND, doc.document_id(), 1, doc.content_hash(), doc.valid_from_seconds()
    )
    stored = store.publish(bank.address, doc, again)
    assert stored.version == 1 and pubs.version_count(doc.KIND, doc.document_id()) == 1


def _grant(platform: Platform, enterprise: LocalAccount, institution: str, purposes: int) -> object:
    consents = platform.contracts.consents
    catalogue = default_catalogue()
    now = int(platform.chain.w3.eth.get_block("latest")["timestamp"])
    message = GrantMessage(
        uscc_hash(USCC), institution, 0, catalogue.category_mask(["tax", "registration"]), purposes, 0,
        now + 86400, enterprise.address, consents.nonce(enterprise.address), now + 3600,
    )  # fmt: skip
    return sign(enterprise, consents.domain, message)


def test_applying_relays_one_grant_and_the_institution_holds_the_application(
    platform: Platform, store: DocumentStore, people: dict[str, LocalAccount]
) -> None:
    bank, enterprise = people["bank"], people["enterprise"]
    stored = publish(store, bank, product())
    catalogue = default_catalogue()
    apps = Applications(platform.db, platform.contracts.consents, catalogue)
    member = platform.contracts.membership.member_of(enterprise.address)
    purpose = catalogue.purpose_mask(["credit_assessment"])
    assert not apps.holds_application(bank.address, USCC)

    wrong_purpose = _grant(
        platform, enterprise, bank.address, catalogue.purpose_mask(["post_loan_monitoring"])
    )
    with pytest.raises(ApplicationInvalid, match="purposes"):
        apps.apply(enterprise.address, member, USCC, stored, grant=wrong_purpose)  # type: ignore[arg-type]
    wrong_bank = _grant(platform, enterprise, people["bank2"].address, purpose)
    with pytest.raises(ApplicationInvalid, match="institution"):
        apps.apply(enterprise.address, member, USCC, stored, grant=wrong_bank)  # type: ignore[arg-type]
    bank_member = platform.contracts.membership.member_of(bank.address)
    with pytest.raises(NotTheSubject):
        apps.apply(bank.address, bank_member, USCC, stored, grant=wrong_bank)  # type: ignore[arg-type]
    assert platform.contracts.consents.grants_of(uscc_hash(USCC)) == []  # nothing relayed

    application = apps.apply(
        enterprise.address,
        member,
        USCC,
        stored,
        grant=_grant(platform, enterprise, bank.address, purpose),  # type: ignore[arg-type]
    )
    grant = platform.contracts.consents.get_grant(application.grant_id)
    assert grant is not None and grant.terms.institution == bank.address and grant.terms.purposes == purpose
    assert apps.holds_application(bank.address, USCC)
    assert not apps.holds_application(people["bank2"].address, USCC)
    with platform.db.session() as session:
        assert has_application(session, bank.address.lower(), USCC)
    assert [a.id for a in apps.of_institution(bank.address)] == [application.id]
    assert apps.of_enterprise(USCC)[0].product_key == stored.key

    with pytest.raises(GrantAlreadyUsed):  # the recovery path cannot make a second application
        apps.apply(enterprise.address, member, USCC, stored, grant_id=application.grant_id)
    with platform.db.session() as session:
        assert session.scalar(select(func.count()).select_from(ApplicationRow)) == 1
    assert application.created_at - datetime.now(UTC) < timedelta(minutes=1)

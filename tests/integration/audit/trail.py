"""A realistic trail to audit, built with the real pieces: contracts on anvil, the real log
store and records service, real signed requests and real grants.

`build_trail` runs a short history in phases, anchoring both logs between them so the
logs have several checkpoints and a tail not yet anchored:

1. two banks with usage commitments and countersigned agreements, three enterprises,
   catalogue v1 on chain; grants; records ingested; releases (masked, raw, public-only);
2. an enterprise revokes a grant and grants anew; a refused request; more records;
3. an operator suspends the second bank; its next request is refused;
4. more releases, left unanchored.

Releases go through the platform's own release service (`ledger.release`): the
institution signs its `DataRequest`, the service asks the contract at block B and
either appends the access-trail entry or records the refusal in the MLPS audit records.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from ledger.chain.agreements import AgreementsContract, AgreementTerms, CommitmentKind
from ledger.chain.catalogue_registry import CatalogueRegistryContract, CatalogueVersion
from ledger.chain.checkpoints import CheckpointsContract
from ledger.chain.consents import ConsentsContract, GrantTerms
from ledger.chain.membership import Action, InstitutionKind, MembershipContract, Role, name_hash, uscc_hash
from ledger.domain.catalogue import Catalogue, default_catalogue
from ledger.logs.anchor_worker import AnchorPolicy, AnchorWorker
from ledger.platform import Platform
from ledger.records.samples import sample_records, sample_uscc
from ledger.records.submission import Mode, parse_submission
from ledger.release.request import request_domain, sign_data_request
from ledger.release.service import ReleaseRefused
from ledger.wiring import records_service, release_service

ACCESS_TRAIL = "access-trail"
CREDIT_RECORDS = "credit-records"
DAY = 86_400


def key(name: str) -> LocalAccount:
    """A deterministic test key (no funds needed: members only sign, the platform relays)."""
    account: LocalAccount = Account.from_key(keccak(text=f"credit-ledger audit drill {name}"))
    return account


@dataclass
class Trail:
    platform: Platform
    catalogue: Catalogue
    banks: list[LocalAccount]
    enterprises: list[LocalAccount]
    usccs: list[str]
    auditor: LocalAccount
    provider: LocalAccount
    agreements: list[int]
    releases: list[int] = field(default_factory=list)  # access-trail indices
    refusals: int = 0
    checkpoints: dict[str, list[int]] = field(default_factory=dict)
    suspended_at: int = 0  # a block at which banks[1] is suspended

    @property
    def anchored(self) -> dict[str, int]:
        return {log: sizes[-1] if sizes else 0 for log, sizes in self.checkpoints.items()}


class Releaser:
    """Releases through the platform's own release service (signed request in, entry appended)."""

    def __init__(self, platform: Platform) -> None:
        self.service = release_service(platform)
        addresses = platform.deployment.addresses
        self.domain = request_domain(platform.deployment.chain_id, addresses.consents)

    def release(
        self,
        institution: LocalAccount,
        subject: str,
        categories: int,
        purpose: int,
        agreement_id: int,
        *,
        raw: bool = False,
    ) -> int | None:
        """The trail index of the release, or None when the chain refused it (audited as such)."""
        signed = sign_data_request(
            institution,
            self.domain,
            subject=subject,
            categories=categories,
            purpose=purpose,
            agreement_id=agreement_id,
            raw=raw,
        )
        try:
            return self.service.release(signed).receipt.index
        except ReleaseRefused:
            return None

    def close(self) -> None:
        self.service.close()


def _admit(
    membership: MembershipContract, operators: list[LocalAccount], account: str, role: Role, **kw: object
) -> None:
    outcome = membership.propose(
        membership.sign_propose(operators[0], Action.ADMIT, account=account, role=role, **kw)  # type: ignore[arg-type]
    )
    membership.approve(membership.sign_approve(operators[1], outcome.proposal_id))


def build_trail(platform: Platform, operators: list[LocalAccount]) -> Trail:
    chain = platform.chain
    addresses = platform.deployment.addresses
    membership = MembershipContract(chain, addresses.membership)
    agreements = AgreementsContract(chain, addresses.agreements)
    consents = ConsentsContract(chain, addresses.consents)
    registry = CatalogueRegistryContract(chain, addresses.catalogue_registry)
    catalogue = default_catalogue()
    c = catalogue.category_mask
    p = catalogue.purpose_mask

    banks = [key("bank-a"), key("bank-b")]
    enterprises = [key(f"enterprise-{i}") for i in range(3)]
    usccs = [sample_uscc(i) for i in range(3)]
    auditor, provider = key("auditor"), key("provider")
    for i, bank in enumerate(banks):
        _admit(
            membership, operators, bank.address, Role.INSTITUTION,
            kind=InstitutionKind.BANK, name_hash=name_hash(f"bank {i}"),
        )  # fmt: skip
    _admit(membership, operators, auditor.address, Role.AUDITOR, name_hash=name_hash("auditor"))
    _admit(membership, operators, provider.address, Role.PROVIDER, name_hash=name_hash("provider"))
    for account, uscc in zip(enterprises, usccs, strict=True):
        membership.register_enterprise(
            membership.sign_register_enterprise(operators[0], account.address, uscc, uscc)
        )
    registry.publish(
        registry.sign_publish(
            operators[0],
            CatalogueVersion(catalogue.version, catalogue.content_hash(), catalogue.public_mask()),
        )
    )
    now = int(chain.w3.eth.get_block("latest")["timestamp"])
    scope = c(["tax", "social_insurance", "registration", "administrative_penalty"])
    agreement_ids = []
    for bank, categories, purposes in (
        (banks[0], scope, p(["credit_assessment", "post_loan_monitoring"])),
        (banks[1], c(["tax", "registration"]), p(["credit_assessment"])),
    ):
        commitment = agreements.commit(
            agreements.sign_commit(bank, CommitmentKind.INSTITUTION_USAGE, keccak(text="usage"))
        )
        terms = AgreementTerms(
            categories, purposes, 4, now - 60, now + 30 * DAY, keccak(text="agreement"), commitment
        )
        agreement_id = agreements.propose(agreements.sign_propose(bank, terms))
        agreements.countersign(agreements.sign_countersign(operators[0], agreement_id))
        agreement_ids.append(agreement_id)

    def grant(
        enterprise: int, bank: int, categories: int, purposes: int, raw: int, agreement: int = 0
    ) -> int:
        terms = GrantTerms(
            uscc_hash(usccs[enterprise]),
            banks[bank].address,
            agreement,
            categories,
            purposes,
            raw,
            now + 10 * DAY,
        )
        return consents.grant(consents.sign_grant(enterprises[enterprise], terms))

    e1_bank_a = grant(
        0, 0, c(["tax", "social_insurance"]), p(["credit_assessment", "post_loan_monitoring"]), c(["tax"])
    )
    grant(1, 0, c(["tax"]), p(["credit_assessment"]), 0, agreement_ids[0])
    grant(0, 1, c(["tax"]), p(["credit_assessment"]), c(["tax"]))

    trail = Trail(platform, catalogue, banks, enterprises, usccs, auditor, provider, agreement_ids)
    releaser = Releaser(platform)
    records = records_service(platform)
    worker = AnchorWorker(
        db=platform.db,
        checkpoints=CheckpointsContract(chain, addresses.checkpoints),
        logs=[CREDIT_RECORDS, ACCESS_TRAIL],
        policy=AnchorPolicy(),
        from_block=platform.deployment.block,
    )
    trail.checkpoints = {CREDIT_RECORDS: [], ACCESS_TRAIL: []}

    def ingest(start: int, count: int) -> None:
        items = [
            (i + 1, parse_submission(r))
            for i, r in enumerate(sample_records(count, start=start, prefix="AUD"))
        ]
        records.ingest(provider.address, items, Mode.ALL_OR_NOTHING)

    def release(bank: int, enterprise: int, categories: int, purpose: int, *, raw: bool = False) -> None:
        seq = releaser.release(
            banks[bank], usccs[enterprise], categories, purpose, agreement_ids[bank], raw=raw
        )
        if seq is None:
            trail.refusals += 1
        else:
            trail.releases.append(seq)

    def anchor() -> None:
        for log in (CREDIT_RECORDS, ACCESS_TRAIL):
            result = worker.anchor_now(log)
            if result is not None:
                trail.checkpoints[log].append(result.size)

    credit, monitoring = p(["credit_assessment"]), p(["post_loan_monitoring"])
    tax, social, registration = c(["tax"]), c(["social_insurance"]), c(["registration"])
    try:
        # 1. grants in force
        ingest(0, 6)
        for i in range(3):
            release(0, 0, tax | social, credit, raw=i == 0)
            release(0, 0, tax, monitoring)
            release(0, 1, tax, credit)
            release(0, 2, registration, credit)  # public only: no grant needed
            release(1, 0, tax, credit, raw=True)
        anchor()
        # 2. a revocation and a new grant; a refused request
        consents.revoke(consents.sign_revoke(enterprises[0], e1_bank_a))
        grant(0, 0, tax, credit | monitoring, 0)
        release(0, 0, tax | social, credit)  # refused: no grant covers social insurance any more
        ingest(6, 6)
        for _ in range(2):
            release(0, 0, tax, credit, raw=True)  # the new grant releases tax masked only
            release(0, 1, tax | registration, credit)
        anchor()
        # 3. the second bank is suspended
        outcome = membership.propose(
            membership.sign_propose(operators[0], Action.SUSPEND, account=banks[1].address)
        )
        membership.approve(membership.sign_approve(operators[1], outcome.proposal_id))
        trail.suspended_at = chain.block_number()
        release(1, 0, tax, credit)  # refused
        for _ in range(3):
            release(0, 2, registration | tax, credit)  # refused (no grant of E3 to bank A for tax)
            release(0, 0, tax, monitoring)
        ingest(12, 3)
        anchor()
        # 4. an unanchored tail
        for _ in range(2):
            release(0, 1, tax, credit)
        ingest(15, 2)
    finally:
        worker.close()
        releaser.close()
    return trail

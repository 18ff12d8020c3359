"""Property: `Consents.authorize` answers as a plain Python model of the rules, now and at
every earlier block.

Hypothesis draws sequences of acts (grants, revocations, suspensions and
reinstatements of institutions through `Membership` and of agreements through
`Agreements`, commitment breaches, catalogue publications, and time advances). Each act
is sent to the chain and applied to the model; after each one, a fixed set of queries
is asked through one JSON-RPC batch and compared with the model. At the end of each
sequence, every earlier block is asked again and must answer as it did then.

Each example runs from an `evm_snapshot` of the deployed ledger and is reverted after.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace

import pytest
from authorization_world import (
    CATEGORIES,
    CREDIT_ASSESSMENT,
    DAY,
    INSURANCE_UNDERWRITING,
    LOAN_MONITORING,
    PENALTIES,
    PUBLIC,
    REGISTRATION,
    SOCIAL_INSURANCE,
    TAX,
    UTILITIES,
    Deployed,
    World,
    doc,
)
from eth_account.signers.local import LocalAccount
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ledger.chain.agreements import AgreementStatus, AgreementTerms
from ledger.chain.authorize_call import AuthorizeCaller
from ledger.chain.catalogue_registry import CatalogueVersion
from ledger.chain.client import ChainClient
from ledger.chain.consents import AuthorizationQuery, Decision, GrantTerms, Reason
from ledger.chain.errors import ContractRevert
from ledger.chain.membership import Action

pytest_plugins = ["authorization_world"]

ALL_PURPOSES = CREDIT_ASSESSMENT | LOAN_MONITORING | INSURANCE_UNDERWRITING
NARROW = AgreementTerms(TAX | PENALTIES | REGISTRATION, CREDIT_ASSESSMENT, 2, 0, 0, doc("narrow"), 1)


# -- the model ----------------------------------------------------------------------------------


@dataclass
class ModelAgreement:
    institution: str
    state: AgreementStatus
    terms: AgreementTerms


@dataclass
class ModelGrant:
    id: int
    terms: GrantTerms
    revoked: bool = False


@dataclass
class Model:
    """The rules of `authorize`, written as plainly as possible."""

    active_institutions: set[str]
    enterprises: set[bytes]
    agreements: dict[int, ModelAgreement]
    breached_commitments: set[int] = field(default_factory=set)
    grants: list[ModelGrant] = field(default_factory=list)
    public: int = PUBLIC

    def status(self, agreement_id: int, now: int) -> AgreementStatus:
        a = self.agreements[agreement_id]
        if a.state is not AgreementStatus.TERMINATED and a.terms.valid_until < now:
            return AgreementStatus.EXPIRED
        return a.state

    def decide(self, q: AuthorizationQuery, now: int) -> tuple[Reason, int, int]:
        if q.requester not in self.active_institutions:
            return Reason.REQUESTER_NOT_ACTIVE_INSTITUTION, 0, 0
        if q.uscc_hash not in self.enterprises:
            return Reason.SUBJECT_UNKNOWN, 0, 0
        a = self.agreements.get(q.agreement_id)
        if a is None:
            return Reason.AGREEMENT_UNKNOWN, 0, 0
        t = a.terms
        expiry = max(q.at, now)  # expiries at the release's time when it is later than the block's
        checks = [
            (a.institution == q.requester, Reason.AGREEMENT_NOT_OWNED),
            (a.state is AgreementStatus.ACTIVE, Reason.AGREEMENT_NOT_ACTIVE),
            (t.valid_from <= now, Reason.AGREEMENT_NOT_YET_VALID),
            (expiry <= t.valid_until, Reason.AGREEMENT_EXPIRED),
            (t.commitment_id not in self.breached_commitments, Reason.COMMITMENT_BREACHED),
            (q.categories != 0 and q.categories & ~t.categories == 0, Reason.CATEGORY_OUT_OF_SCOPE),
            (q.purpose.bit_count() == 1 and q.purpose & ~t.purposes == 0, Reason.PURPOSE_NOT_ALLOWED),
            (q.level <= t.max_level, Reason.LEVEL_ABOVE_MAXIMUM),
        ]
        for ok, reason in checks:
            if not ok:
                return reason, 0, 0
        needed = q.categories & ~self.public
        if needed == 0:
            return Reason.ALLOWED, 0, 0
        for g in reversed(self.grants):  # newest first
            gt = g.terms
            if (
                (gt.uscc_hash, gt.institution) == (q.uscc_hash, q.requester)
                and not g.revoked
                and expiry <= gt.expires_at
                and gt.agreement_id in (0, q.agreement_id)
                and needed & ~gt.categories == 0
                and q.purpose & ~gt.purposes == 0
            ):
                return Reason.ALLOWED, g.id, gt.raw_categories & q.categories
        return Reason.NO_COVERING_GRANT, 0, 0


# -- acts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrantAct:
    enterprise: int
    institution: int
    agreement_id: int
    categories: int
    purposes: int
    raw_mask: int
    lifetime: int


@dataclass(frozen=True)
class RevokeAct:
    pick: int


@dataclass(frozen=True)
class ToggleInstitution:
    institution: int


@dataclass(frozen=True)
class ToggleAgreement:
    agreement_id: int


@dataclass(frozen=True)
class BreachCommitment:
    commitment_id: int


@dataclass(frozen=True)
class PublishCatalogue:
    public: int


@dataclass(frozen=True)
class AdvanceTime:
    seconds: int


Act = (
    GrantAct
    | RevokeAct
    | ToggleInstitution
    | ToggleAgreement
    | BreachCommitment
    | PublishCatalogue
    | AdvanceTime
)

grants = st.builds(
    GrantAct,
    enterprise=st.sampled_from([0, 0, 0, 1]),
    institution=st.sampled_from([0, 0, 1]),
    agreement_id=st.sampled_from([0, 0, 1, 2, 3, 4]),
    categories=st.sampled_from([TAX, SOCIAL_INSURANCE, TAX | SOCIAL_INSURANCE, CATEGORIES & ~REGISTRATION]),
    purposes=st.sampled_from(
        [CREDIT_ASSESSMENT, LOAN_MONITORING, CREDIT_ASSESSMENT | LOAN_MONITORING, ALL_PURPOSES]
    ),
    raw_mask=st.integers(min_value=0, max_value=CATEGORIES),
    lifetime=st.one_of(
        st.sampled_from([3600, DAY, 5 * DAY]), st.integers(min_value=3600, max_value=12 * DAY)
    ),
)
revocations = st.builds(RevokeAct, pick=st.integers(min_value=0, max_value=20))
time_advances = st.builds(
    AdvanceTime,
    seconds=st.one_of(
        st.sampled_from([60, DAY, 3 * DAY, 6 * DAY]), st.integers(min_value=1, max_value=4 * DAY)
    ),
)
#: weighted towards grants, revocations and time, which most change the answers
acts = st.one_of(
    *[grants] * 4,
    *[revocations] * 3,
    *[time_advances] * 2,
    st.builds(ToggleInstitution, institution=st.sampled_from([0, 1])),
    st.builds(ToggleAgreement, agreement_id=st.sampled_from([1, 2, 3, 4])),
    st.builds(PublishCatalogue, public=st.sampled_from([PUBLIC, PUBLIC | TAX, REGISTRATION])),
    st.builds(BreachCommitment, commitment_id=st.sampled_from([1, 2])),
)


@contextmanager
def refused(error_name: str) -> Iterator[None]:
    with pytest.raises(ContractRevert) as info:
        yield
    assert info.value.error_name == error_name, info.value.message


class Run:
    """One example: the world on a fresh client, the model, and the decisions seen."""

    def __init__(self, world: World, model: Model, catalogue_version: int) -> None:
        self.w = world
        self.model = model
        self.catalogue_version = catalogue_version
        self.banks = [world.bank, world.bank2]
        self.enterprises = [(world.enterprise, world.uscc), (world.enterprise2, world.uscc2)]
        bank, bank2 = world.bank.address, world.bank2.address
        # each institution under its own agreements, in every combination (the level
        # matters only under agreement 3, whose maximum is 2) ...
        self.queries = [
            AuthorizationQuery(requester, uscc, categories, purpose, agreement_id, level)
            for (requester, agreement_id, level), uscc, categories, purpose in itertools.product(
                [(bank, 1, 3), (bank, 3, 2), (bank, 3, 3), (bank2, 2, 3), (bank2, 4, 3)],
                [world.uscc, world.uscc2],
                [TAX, SOCIAL_INSURANCE, TAX | SOCIAL_INSURANCE, PUBLIC, UTILITIES | REGISTRATION],
                [CREDIT_ASSESSMENT, LOAN_MONITORING, INSURANCE_UNDERWRITING],
            )
        ]
        # ... and a few requests refused whatever happens
        self.queries += [
            AuthorizationQuery(requester, world.uscc, TAX, CREDIT_ASSESSMENT, agreement_id, 2)
            for requester, agreement_id in [(bank, 2), (bank, 0), (world.stranger.address, 1)]
        ]
        # ... and some asked for a release a day ahead of the chain's clock, as from a
        # platform whose chain was idle: expiries are judged at that time, not the block's
        ahead = world.now() + 86_400
        self.queries += [replace(q, at=ahead) for q in self.queries[:40]]
        self.seen: list[tuple[int, list[Decision]]] = []

    def apply(self, act: Act) -> None:
        w, m = self.w, self.model
        now = w.now()
        if isinstance(act, GrantAct):
            enterprise, uscc = self.enterprises[act.enterprise]
            institution = self.banks[act.institution].address
            terms = w.grant_terms(
                uscc_hash=uscc,
                institution=institution,
                agreement_id=act.agreement_id,
                categories=act.categories,
                purposes=act.purposes,
                raw_categories=act.categories & act.raw_mask,
                expires_at=now + act.lifetime,
            )
            if institution not in m.active_institutions:
                with refused("NotActiveMember"):
                    w.consents.grant(w.consents.sign_grant(enterprise, terms))
                return
            grant_id = w.consents.grant(w.consents.sign_grant(enterprise, terms))
            m.grants.append(ModelGrant(grant_id, terms))
        elif isinstance(act, RevokeAct):
            live = [g for g in m.grants if not g.revoked]
            candidates = live if live and act.pick % 4 else m.grants  # now and then, a revoked one
            if not candidates:
                return
            grant = candidates[act.pick % len(candidates)]
            enterprise = self.enterprises[0 if grant.terms.uscc_hash == w.uscc else 1][0]
            signed = w.consents.sign_revoke(enterprise, grant.id)
            if grant.revoked:
                with refused("GrantAlreadyRevoked"):
                    w.consents.revoke(signed)
                return
            w.consents.revoke(signed)
            grant.revoked = True
        elif isinstance(act, ToggleInstitution):
            bank = self.banks[act.institution].address
            if bank in m.active_institutions:
                w.govern(Action.SUSPEND, bank)
                m.active_institutions.remove(bank)
            else:
                w.govern(Action.REINSTATE, bank)
                m.active_institutions.add(bank)
        elif isinstance(act, ToggleAgreement):
            a = w.agreements
            status = m.status(act.agreement_id, now + 1)  # the act's block is at least a second later
            if status is AgreementStatus.SUSPENDED:
                a.reinstate(a.sign_reinstate(w.operator, act.agreement_id))
                m.agreements[act.agreement_id].state = AgreementStatus.ACTIVE
            elif status is AgreementStatus.ACTIVE:
                a.suspend(a.sign_suspend(w.operator, act.agreement_id))
                m.agreements[act.agreement_id].state = AgreementStatus.SUSPENDED
            else:
                with refused("UnexpectedAgreementStatus"):
                    a.suspend(a.sign_suspend(w.operator, act.agreement_id))
        elif isinstance(act, BreachCommitment):
            a = w.agreements
            signed = a.sign_mark_breached(w.operator, act.commitment_id, doc("evidence"))
            if act.commitment_id in m.breached_commitments:
                with refused("CommitmentAlreadyBreached"):
                    a.mark_breached(signed)
                return
            a.mark_breached(signed)
            m.breached_commitments.add(act.commitment_id)
        elif isinstance(act, PublishCatalogue):
            self.catalogue_version += 1
            c = w.catalogue
            version = CatalogueVersion(self.catalogue_version, doc(f"v{self.catalogue_version}"), act.public)
            c.publish(c.sign_publish(w.operator, version))
            m.public = act.public
        else:
            w.rpc("evm_increaseTime", [act.seconds])
            w.rpc("evm_mine", [])

    def check(self, fast: AuthorizeCaller) -> None:
        """The decisions of the latest block equal the model's; remembered for later."""
        block = self.w.chain.w3.eth.get_block("latest")
        number, now = int(block["number"]), int(block["timestamp"])
        decisions = fast.authorize_many(self.queries, number)
        for query, decision in zip(self.queries, decisions, strict=True):
            reason, grant_id, raw = self.model.decide(query, now)
            assert decision == Decision(reason is Reason.ALLOWED, reason, grant_id, raw, number, now), query
        self.seen.append((number, decisions))

    def recheck_history(self, fast: AuthorizeCaller) -> None:
        for number, decisions in self.seen:
            assert fast.authorize_many(self.queries, number) == decisions, f"block {number}"


# -- the property -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def more_agreements(deployed: Deployed, module_client: ChainClient, dev_accounts: list[LocalAccount]) -> None:
    """Agreement 3: the first bank's, narrower in scope, purpose and level, for 5 days.
    Agreement 4: the second bank's, like its first, valid from 2 days on for 10 days."""
    world = World(module_client, deployed, dev_accounts)
    now = world.now()
    narrow = replace(NARROW, valid_from=now - 60, valid_until=now + 5 * DAY)
    assert world.activate(world.bank, **asdict(narrow)) == 3
    later = replace(world.base_terms, valid_from=now + 2 * DAY, valid_until=now + 12 * DAY, commitment_id=2)
    assert world.activate(world.bank2, **asdict(later)) == 4


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=st.lists(acts, min_size=3, max_size=12))
# the paths that matter most, every run: expiry, revocation (twice), binding to an
# agreement, suspensions, breach, catalogue change, and validity periods opening and closing
@example(
    sequence=[
        GrantAct(0, 0, 0, TAX, CREDIT_ASSESSMENT, TAX, DAY),
        GrantAct(0, 0, 3, TAX | SOCIAL_INSURANCE, ALL_PURPOSES, 0, 10 * DAY),
        AdvanceTime(DAY),
        AdvanceTime(1),
        RevokeAct(1),
        RevokeAct(1),
        AdvanceTime(5 * DAY),
    ]
)
@example(
    sequence=[
        GrantAct(0, 0, 1, TAX, CREDIT_ASSESSMENT, 0, 10 * DAY),
        GrantAct(1, 1, 4, CATEGORIES & ~REGISTRATION, ALL_PURPOSES, TAX, 10 * DAY),
        ToggleInstitution(0),
        GrantAct(0, 0, 0, TAX, CREDIT_ASSESSMENT, 0, DAY),
        ToggleInstitution(0),
        ToggleAgreement(1),
        ToggleAgreement(1),
        PublishCatalogue(PUBLIC | TAX),
        AdvanceTime(2 * DAY),
        BreachCommitment(2),
    ]
)
def test_authorize_matches_the_model(
    chain: ChainClient,
    deployed: Deployed,
    more_agreements: None,
    dev_accounts: list[LocalAccount],
    fresh_client: Callable[[], ChainClient],
    sequence: list[Act],
) -> None:
    snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    try:
        world = World(fresh_client(), deployed, dev_accounts)
        agreements = {}
        for agreement_id in (1, 2, 3, 4):
            stored = world.agreements.agreement(agreement_id)
            assert stored is not None
            agreements[agreement_id] = ModelAgreement(stored.institution, stored.state, stored.terms)
        model = Model(
            active_institutions={world.bank.address, world.bank2.address},
            enterprises={world.uscc, world.uscc2},
            agreements=agreements,
        )
        run = Run(world, model, world.catalogue.current().version)
        with AuthorizeCaller(world.chain.rpc_url, world.consents.address) as fast:
            run.check(fast)
            for act in sequence:
                run.apply(act)
                run.check(fast)
            run.recheck_history(fast)
    finally:
        chain.w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]

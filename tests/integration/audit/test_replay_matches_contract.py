"""Fast replay is the contract: at every block of a random history, the local rules decide
each of a random set of queries exactly as `Consents.authorize` does at that block.

The history: members admitted and suspended and reinstated, enterprises registered and
rotating keys, agreements proposed, countersigned, suspended, reinstated, terminated,
expiring or not yet valid, commitments breached, catalogue versions changing the public
mask, grants given, revoked and expiring, and time passing. The local state is rebuilt
only from the contracts' events (`ChainReader.snapshot`).
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from ledger.audit.chain import ChainReader
from ledger.audit.rules import AuthorizationState, Query
from ledger.chain.agreements import AgreementsContract, AgreementTerms, CommitmentKind
from ledger.chain.authorize_call import AuthorizeCaller
from ledger.chain.catalogue_registry import CatalogueRegistryContract, CatalogueVersion
from ledger.chain.consents import AuthorizationQuery, ConsentsContract, GrantTerms
from ledger.chain.errors import ContractRevert
from ledger.chain.membership import Action, InstitutionKind, MembershipContract, Role, name_hash, uscc_hash
from ledger.platform import Platform
from tests.integration.audit.test_random_tamper import database  # noqa: F401  (SQLite only)

ACTS = 45
QUERIES_PER_BLOCK = 120
DAY = 86_400
TAX, SOCIAL, REGISTRATION, UTILITIES = 1 << 6, 1 << 7, 1 << 0, 1 << 9
CATEGORY_SETS = [TAX, TAX | SOCIAL, REGISTRATION, REGISTRATION | TAX, SOCIAL | UTILITIES, 0]
PURPOSES = [1, 2, 4, 3, 0]


def _key(name: str) -> LocalAccount:
    account: LocalAccount = Account.from_key(keccak(text=f"replay drill {name}"))
    return account


@pytest.mark.slow
def test_local_replay_decides_as_the_contract_at_every_block(
    platform: Platform, operators: list[LocalAccount]
) -> None:
    rng = random.Random(7)
    chain = platform.chain
    a = platform.deployment.addresses
    membership = MembershipContract(chain, a.membership)
    agreements = AgreementsContract(chain, a.agreements)
    consents = ConsentsContract(chain, a.consents)
    registry = CatalogueRegistryContract(chain, a.catalogue_registry)

    def govern(action: Action, account: str, **kw: object) -> None:
        outcome = membership.propose(membership.sign_propose(operators[0], action, account=account, **kw))  # type: ignore[arg-type]
        membership.approve(membership.sign_approve(operators[1], outcome.proposal_id))

    def now() -> int:
        return int(chain.w3.eth.get_block("latest")["timestamp"])

    banks = [_key("bank-a"), _key("bank-b")]
    for bank in banks:
        govern(
            Action.ADMIT,
            bank.address,
            role=Role.INSTITUTION,
            kind=InstitutionKind.BANK,
            name_hash=name_hash("b"),
        )
    enterprises = {f"9135020077604965{i}X": _key(f"e{i}") for i in range(3)}
    unknown = "91350200776049659X"
    for uscc, account in enterprises.items():
        membership.register_enterprise(
            membership.sign_register_enterprise(operators[0], account.address, uscc, uscc)
        )
    registry.publish(
        registry.sign_publish(operators[0], CatalogueVersion(1, keccak(text="v1"), REGISTRATION))
    )
    commitments = [
        agreements.commit(agreements.sign_commit(bank, CommitmentKind.INSTITUTION_USAGE, bytes(32)))
        for bank in banks
    ]
    t = now()
    agreement_ids = []
    for bank, commitment, (start, end) in [
        (banks[0], commitments[0], (t - 60, t + 30 * DAY)),
        (banks[0], commitments[0], (t + 2 * DAY, t + 30 * DAY)),  # not yet valid
        (banks[1], commitments[1], (t - 60, t + 3_000)),  # expires as time passes
        (banks[1], commitments[1], (t - 60, t + 30 * DAY)),
    ]:
        terms = AgreementTerms(
            TAX | SOCIAL | REGISTRATION | UTILITIES, 3, 3, start, end, bytes(32), commitment
        )
        agreement_id = agreements.propose(agreements.sign_propose(bank, terms))
        if agreement_id != 4:  # agreement 4 stays proposed until an act countersigns it
            agreements.countersign(agreements.sign_countersign(operators[0], agreement_id))
        agreement_ids.append(agreement_id)
    grants: list[tuple[int, str]] = []
    catalogue_version = 1
    suspended: set[str] = set()

    def grant() -> None:
        uscc = rng.choice(list(enterprises))
        bank = rng.choice(banks)
        categories = rng.choice([TAX, TAX | SOCIAL, SOCIAL | UTILITIES, TAX | SOCIAL | UTILITIES])
        raw = categories & rng.choice([0, TAX, SOCIAL, UTILITIES])
        terms = GrantTerms(
            uscc_hash(uscc), bank.address, rng.choice([0, 0, *agreement_ids]), categories,
            rng.choice([1, 2, 3]), raw, now() + rng.choice([400, 1_500, 20 * DAY]),
        )  # fmt: skip
        grants.append((consents.grant(consents.sign_grant(enterprises[uscc], terms)), uscc))

    def revoke() -> None:
        if grants:
            grant_id, uscc = grants.pop(rng.randrange(len(grants)))
            consents.revoke(consents.sign_revoke(enterprises[uscc], grant_id))

    def toggle_bank() -> None:
        bank = rng.choice(banks).address
        govern(Action.REINSTATE if bank in suspended else Action.SUSPEND, bank)
        suspended.symmetric_difference_update({bank})

    def agreement_act() -> None:
        agreement_id = rng.choice(agreement_ids)
        act = rng.choice(["countersign", "suspend", "reinstate", "terminate"])
        signer = operators[0]
        sign: Callable[..., object] = getattr(agreements, f"sign_{act}")
        getattr(agreements, act)(sign(signer, agreement_id))

    def breach() -> None:
        agreements.mark_breached(
            agreements.sign_mark_breached(operators[0], rng.choice(commitments), bytes(32))
        )

    def publish() -> None:
        nonlocal catalogue_version
        catalogue_version += 1
        public = rng.choice([REGISTRATION, REGISTRATION | TAX, 0, UTILITIES])
        registry.publish(
            registry.sign_publish(
                operators[0], CatalogueVersion(catalogue_version, keccak(text=str(public)), public)
            )
        )

    def advance() -> None:
        chain.w3.provider.make_request("evm_increaseTime", [rng.choice([200, 900, 2_500])])  # type: ignore[arg-type]
        chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    def rotate() -> None:
        uscc = rng.choice(list(enterprises))
        new = _key(f"{uscc}-{rng.random()}")
        membership.rotate_key(membership.sign_rotate_key(enterprises[uscc], uscc, new.address))
        enterprises[uscc] = new

    acts = (
        [grant] * 5
        + [revoke] * 2
        + [toggle_bank, agreement_act, agreement_act, publish, advance, advance, rotate]
    )
    first = chain.block_number()
    breached = False
    for i in range(ACTS):
        if i == ACTS - 8 and not breached:
            breach()
            breached = True
        else:
            with contextlib.suppress(ContractRevert):  # e.g. a grant to a suspended bank: nothing changed
                rng.choice(acts)()
    head = chain.block_number()

    reader = ChainReader.connect(chain.rpc_url, platform.deployment)
    snapshot = reader.snapshot(logs=[], blocks=range(first, head + 1))
    caller = AuthorizeCaller(chain.rpc_url, a.consents)
    state = AuthorizationState()
    events = list(snapshot.events)
    grid = [
        (bank, uscc, categories, purpose, agreement_id, level)
        for bank in banks
        for uscc in [*enterprises, unknown]
        for categories in CATEGORY_SETS
        for purpose in PURPOSES
        for agreement_id in [*agreement_ids, 99]
        for level in (1, 3, 4)
    ]
    compared = 0
    reasons: set[str] = set()
    for block in range(first, head + 1):
        while events and events[0].block <= block:
            state.apply(events.pop(0))
        chosen = rng.sample(grid, QUERIES_PER_BLOCK)
        sealed = snapshot.timestamps[block]
        # the release's own time: the block's (0), or later by up to 40 days (an idle chain)
        ats = [rng.choice([0, sealed + rng.randrange(40 * 86_400)]) for _ in chosen]
        calls = [
            AuthorizationQuery(b.address, uscc_hash(u), c, p, ag, lv, at)
            for (b, u, c, p, ag, lv), at in zip(chosen, ats, strict=True)
        ]
        for call, decision in zip(calls, caller.authorize_many(calls, block), strict=True):
            query = Query(
                call.requester.lower(),
                call.uscc_hash,
                call.categories,
                call.purpose,
                call.agreement_id,
                call.level,
                call.at,
            )
            local = state.decide(query, sealed)
            expected = (decision.allowed, int(decision.reason), decision.grant_id, decision.raw_categories)
            assert (local.allowed, int(local.reason), local.grant_id, local.raw_categories) == expected, (
                f"block {block}: {call} local {local} contract {decision}"
            )
            reasons.add(local.reason.name)
            compared += 1
    assert compared == (head - first + 1) * QUERIES_PER_BLOCK
    assert len(reasons) >= 10, reasons  # the history exercised most of the rules

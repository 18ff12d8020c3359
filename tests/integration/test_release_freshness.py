"""The release path decides at the present and gives each release its own fate (issue 14, items 1 and 4).

A chain mines only when something happens: its latest block can be sealed long before
the release asks. These tests hold the release's own time apart from the chain's by
passing `now` to the service (what an idle chain does to the wall clock), on SQLite and
PostgreSQL, against a real anvil.
"""

# ruff: noqa: F811  (`world` is test_release's fixture, imported so pytest finds it here)
from __future__ import annotations

import secrets
from collections.abc import Iterator
from concurrent.futures import Future
from datetime import datetime

import pytest
from eth_account.signers.local import LocalAccount

from ledger.chain.agreements import AgreementsContract
from ledger.chain.eip712 import Signed, sign
from ledger.chain.errors import ChainStale
from ledger.domain.log_names import ACCESS_TRAIL_LOG
from ledger.errors import InvalidInput
from ledger.logs.leaves import decode_leaf
from ledger.logs.models import LogEntry
from ledger.platform import Platform
from ledger.release.request import DataRequestMessage, request_domain
from ledger.release.service import Release, ReleaseRefused, ReleaseService
from ledger.release.trail import ReplayedDataRequest
from ledger.request_auth import Unauthenticated
from ledger.wiring import release_service
from tests.integration.test_release import CREDIT, SUBJECT, TAX, World, trail_size, world  # noqa: F401

#: the bound on a decision block's age these tests run with (the platform's default)
MAX_AGE = 30


def chain_time(platform: Platform) -> int:
    return int(platform.chain.w3.eth.get_block("latest")["timestamp"])


@pytest.fixture
def service(world: World) -> Iterator[ReleaseService]:
    svc = release_service(world.platform)
    svc.max_block_age_seconds = MAX_AGE
    yield svc
    svc.close()


def request(
    world: World, now: int, *, institution: LocalAccount | None = None, **changes: object
) -> Signed[DataRequestMessage]:
    """A data request by the bank, valid at `now`, signed after `changes`."""
    who = institution or world.bank
    deployment = world.platform.deployment
    fields: dict[str, object] = {
        "institution": who.address, "subject": SUBJECT, "categories": TAX, "purpose": CREDIT,
        "agreement_id": world.agreement, "raw": False, "nonce": secrets.token_bytes(32), "deadline": now + 60,
    }  # fmt: skip
    fields.update(changes)
    domain = request_domain(deployment.chain_id, deployment.addresses.consents)
    return sign(who, domain, DataRequestMessage(**fields))  # type: ignore[arg-type]


# -- 1. a decision is made at the present ---------------------------------------------------------


def test_an_expired_grant_is_refused_while_the_chain_is_idle(world: World, service: ReleaseService) -> None:
    """Reproduction 1: no block since the grant expired; the release's time decides."""
    world.grant(world.bank, TAX, seconds=20)
    sealed = chain_time(world.platform)
    assert service.release(request(world, sealed + 5), now=sealed + 5).receipt.index == 0
    late = sealed + 21  # one second past the grant's last second, still no new block
    with pytest.raises(ReleaseRefused) as refused:
        service.release(request(world, late), now=late)
    assert refused.value.reason.name == "NO_COVERING_GRANT"
    assert trail_size(world.platform) == 1


def test_an_expired_agreement_is_refused_while_the_chain_is_idle(
    world: World, service: ReleaseService
) -> None:
    agreement = world.agreement_for(world.bank, TAX, CREDIT, seconds=20)
    world.grant(world.bank, TAX, seconds=10 * 86_400)
    sealed = chain_time(world.platform)
    terms = AgreementsContract(world.platform.chain, world.platform.deployment.addresses.agreements)
    valid_until = terms.agreement(agreement).terms.valid_until  # type: ignore[union-attr]
    assert service.release(request(world, sealed, agreement_id=agreement), now=sealed).receipt.index == 0
    until = valid_until + 1  # past the agreement's last second, still no new block
    with pytest.raises(ReleaseRefused) as refused:
        service.release(request(world, until, agreement_id=agreement), now=until)
    assert refused.value.reason.name == "AGREEMENT_EXPIRED"
    assert trail_size(world.platform) == 1


def test_a_block_older_than_the_bound_refuses_the_batch_and_keeps_its_nonce(
    world: World, service: ReleaseService
) -> None:
    world.grant(world.bank, TAX)
    sealed = chain_time(world.platform)
    signed = request(world, sealed + MAX_AGE + 1, deadline=sealed + MAX_AGE + 60)
    with pytest.raises(ChainStale) as stale:
        service.release(signed, now=sealed + MAX_AGE + 1)
    assert f"{MAX_AGE + 1} s old" in stale.value.message and stale.value.code == "chain_stale"
    assert trail_size(world.platform) == 0
    # nothing was spent: the same request is released once the chain is fresh enough
    assert service.release(signed, now=sealed + MAX_AGE).receipt.index == 0


def test_the_trail_records_the_release_time_the_chain_judged_at(
    world: World, service: ReleaseService
) -> None:
    world.grant(world.bank, TAX)
    now = chain_time(world.platform) + 7.25
    release = service.release(request(world, int(now)), now=now)
    with world.platform.db.session() as session:
        row = session.get(LogEntry, (ACCESS_TRAIL_LOG, release.receipt.index))
        assert row is not None
        payload = decode_leaf(bytes(row.leaf)).payload
    assert datetime.fromisoformat(payload["released_at"]).timestamp() == now


# -- 4. each release has its own fate -------------------------------------------------------------


def test_a_poisoned_batch_fails_only_the_poison(world: World, service: ReleaseService) -> None:
    """Reproduction 4: 80 legitimate releases among malformed, out-of-range and refused ones."""
    world.grant(world.bank, TAX)
    guarantor_agreement = world.agreement_for(world.guarantor, TAX, CREDIT)
    now = chain_time(world.platform)
    replayed = request(world, now)
    assert service.release(replayed, now=now).receipt.index == 0  # spent: sent again below
    high_s = request(world, now)
    r, s, v = high_s.signature[:32], int.from_bytes(high_s.signature[32:64], "big"), high_s.signature[64]
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    twin = r + (n - s).to_bytes(32, "big") + bytes([55 - v])  # the same signer's malleable twin
    poison: list[tuple[str, Signed[DataRequestMessage], type[Exception]]] = [
        ("deadline 2**60", request(world, now, deadline=2**60), InvalidInput),
        ("agreement 2**200", request(world, now, agreement_id=2**200), InvalidInput),
        ("lower-case subject", request(world, now, subject=SUBJECT.lower()), InvalidInput),
        ("padded subject", request(world, now, subject=f" {SUBJECT}"), InvalidInput),
        ("unknown category bit", request(world, now, categories=1 << 90), InvalidInput),
        ("two purposes", request(world, now, purpose=CREDIT | (CREDIT << 1)), InvalidInput),
        ("forged", Signed(request(world, now).message, bytes(64) + b"\x1b"), Unauthenticated),
        ("v = 0", _with_v(request(world, now), 0), Unauthenticated),
        ("high s", Signed(high_s.message, twin), Unauthenticated),
        ("no grant", request(world, now, institution=world.guarantor, agreement_id=guarantor_agreement),
         ReleaseRefused),
        ("replayed", replayed, ReplayedDataRequest),
    ]  # fmt: skip
    futures: list[Future[Release]] = []
    legit = [request(world, now) for _ in range(80)]
    mixed: list[tuple[str, Future[Release]]] = []
    for i, signed in enumerate(legit):
        futures.append(service.submit(signed, now=now))
        if i % 7 == 0 and poison:
            name, bad, _ = poison[len(mixed) % len(poison)]
            mixed.append((name, service.submit(bad, now=now)))
    for name, bad, _ in poison[len(mixed) :]:
        mixed.append((name, service.submit(bad, now=now)))
    released = [f.result(60) for f in futures]
    assert sorted(r.receipt.index for r in released) == list(range(1, 81))
    expected = {name: kind for name, _, kind in poison}
    for name, future in mixed:
        error = future.exception(60)
        assert isinstance(error, expected[name]), (name, error)
    assert trail_size(world.platform) == 81


def _with_v(signed: Signed[DataRequestMessage], v: int) -> Signed[DataRequestMessage]:
    return Signed(signed.message, signed.signature[:64] + bytes([v]))

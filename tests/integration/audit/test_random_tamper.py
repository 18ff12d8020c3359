"""1,000 random tamperings of a real trail's export, each caught with the right finding.

The trail is built once with the real pieces (anvil, log store, records, signed
requests, grants); the chain is read once into a snapshot holding every block's
timestamp; each tampering then re-runs the pure steps (1-4.6, 5) of the verifier on
a tampered copy of the export.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest
from eth_account.signers.local import LocalAccount

from ledger.audit.chain import ChainReader
from ledger.audit.verifier import log_names, verify_offline
from ledger.platform import Platform
from tests.integration.audit.conftest import export_of
from tests.integration.audit.tamper import TAMPERINGS, Context, consistent_header
from tests.integration.audit.trail import Trail, build_trail, key

ROUNDS = 1_000


@pytest.fixture(params=["sqlite"])
def database(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """One database is enough here: the tampering happens to the export, in memory."""
    from sqlalchemy import text

    from ledger.storage.database import Database
    from ledger.storage.models import Base

    db = Database(request.getfixturevalue("sqlite_url"))
    yield db
    with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(text(f"DELETE FROM {table.name}"))
    db.engine.dispose()


def test_every_random_tampering_is_caught_with_the_right_finding(
    platform: Platform, operators: list[LocalAccount]
) -> None:
    trail: Trail = build_trail(platform, operators)
    clean = export_of(platform, openings=True)
    max_age = platform.settings.max_block_age_seconds  # the platform's bound, as the auditor holds it
    reader = ChainReader.connect(platform.chain.rpc_url, platform.deployment)
    head = platform.chain.block_number()
    snapshot = reader.snapshot(logs=log_names(clean), blocks=range(platform.deployment.block, head + 1))
    assert verify_offline(clean, snapshot, platform.deployment, max_block_age=max_age).findings == []
    ctx = Context(
        anchored=trail.anchored,
        banks=trail.banks,
        stranger=key("stranger"),
        usccs=trail.usccs,
        agreements=trail.agreements,
        chain_id=platform.deployment.chain_id,
        consents=platform.deployment.addresses.consents,
        head=head,
        suspended_bank_block=trail.suspended_at,
    )
    rng = random.Random(20251126)
    kinds: Counter[str] = Counter()
    for round_ in range(ROUNDS):
        tamper = TAMPERINGS[round_ % len(TAMPERINGS)]
        tampered, expect = tamper(clean, rng, ctx)
        findings = verify_offline(
            consistent_header(tampered), snapshot, platform.deployment, max_block_age=max_age
        ).findings
        matching = [
            f
            for f in findings
            if f.step is expect.step
            and (expect.log is None or f.log == expect.log)
            and (expect.index is None or f.index == expect.index)
        ]
        assert matching, (
            f"round {round_}, {tamper.__name__}: expected step {expect.step.value} at "
            f"{expect.log}[{expect.index}], got {[str(f) for f in findings]}"
        )
        kinds[tamper.__name__] += 1
    assert sum(kinds.values()) == ROUNDS
    assert set(kinds) == {t.__name__ for t in TAMPERINGS}

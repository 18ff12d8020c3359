"""Tamper drills: the database is changed behind the platform's back, the platform exports
as usual, and the independent verifier catches each change with the right finding.

One trail is built per database (SQLite and PostgreSQL); each drill runs against it and
the tables are restored afterwards, so every drill starts from the clean trail.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import rfc8785
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from ledger.audit.findings import Step
from ledger.chain.eip712 import sign
from ledger.logs.models import LogEntry, LogHead
from ledger.merkle.rfc9162 import hash_leaf
from ledger.platform import Platform
from ledger.records.models import CreditRecord
from ledger.release.request import DataRequestMessage, request_domain, request_to_json
from tests.integration.audit.conftest import export_of, verifier_for
from tests.integration.audit.trail import ACCESS_TRAIL, CREDIT_RECORDS, Trail, key

Expected = list[tuple[Step, str, int | None]]
Drill = Callable[[Session, Trail], Expected]
TABLES = (LogEntry, LogHead, CreditRecord)


def _leaf(session: Session, log: str, seq: int) -> dict[str, Any]:
    row = session.get(LogEntry, (log, seq))
    assert row is not None
    value: dict[str, Any] = json.loads(row.leaf)
    return value


def _write(session: Session, log: str, seq: int, value: dict[str, Any]) -> None:
    leaf = rfc8785.dumps(value)
    session.execute(
        update(LogEntry)
        .where(LogEntry.log_name == log, LogEntry.seq == seq)
        .values(leaf=leaf, leaf_hash=hash_leaf(leaf))
    )


# -- the drills -------------------------------------------------------------------------------


def edit_anchored_field(session: Session, trail: Trail) -> Expected:
    value = _leaf(session, ACCESS_TRAIL, 3)
    value["categories"] = str(int(value["categories"]) | 1 << 7)  # add social insurance
    _write(session, ACCESS_TRAIL, 3, value)
    return [(Step.ROOT, ACCESS_TRAIL, 0), (Step.REQUEST_MATCH, ACCESS_TRAIL, 3)]


def edit_unanchored_field(session: Session, trail: Trail) -> Expected:
    tail = trail.anchored[ACCESS_TRAIL]
    value = _leaf(session, ACCESS_TRAIL, tail)
    value["subject"] = trail.usccs[2]
    _write(session, ACCESS_TRAIL, tail, value)
    return [(Step.REQUEST_MATCH, ACCESS_TRAIL, tail)]


def delete_entry(session: Session, trail: Trail) -> Expected:
    session.execute(delete(LogEntry).where(LogEntry.log_name == ACCESS_TRAIL, LogEntry.seq == 5))
    return [(Step.SEQUENCE, ACCESS_TRAIL, 5)]


def reorder_entries(session: Session, trail: Trail) -> Expected:
    a, b = (session.get(LogEntry, (ACCESS_TRAIL, seq)) for seq in (2, 3))
    assert a is not None and b is not None
    leaf_a, leaf_b = bytes(a.leaf), bytes(b.leaf)
    a.leaf, a.leaf_hash, b.leaf, b.leaf_hash = leaf_b, hash_leaf(leaf_b), leaf_a, hash_leaf(leaf_a)
    return [(Step.LEAF, ACCESS_TRAIL, 2), (Step.LEAF, ACCESS_TRAIL, 3)]


def truncate_log(session: Session, trail: Trail) -> Expected:
    keep = trail.anchored[ACCESS_TRAIL] - 3
    session.execute(delete(LogEntry).where(LogEntry.log_name == ACCESS_TRAIL, LogEntry.seq >= keep))
    session.execute(update(LogHead).where(LogHead.name == ACCESS_TRAIL).values(size=keep))
    return [(Step.COMPLETENESS, ACCESS_TRAIL, keep)]


def change_grant(session: Session, trail: Trail) -> Expected:
    value = _leaf(session, ACCESS_TRAIL, 1)
    value["grant_id"] = 2  # a grant of another enterprise
    _write(session, ACCESS_TRAIL, 1, value)
    return [(Step.ROOT, ACCESS_TRAIL, 0), (Step.AUTHORIZATION, ACCESS_TRAIL, 1)]


def forge_entry(session: Session, trail: Trail) -> Expected:
    """A release that never happened, appended as bank A, signed by someone else."""
    seq = len(trail.releases)
    value = _leaf(session, ACCESS_TRAIL, 0)
    stranger = key("stranger")
    deployment = trail.platform.deployment
    message = DataRequestMessage(
        trail.banks[0].address, trail.usccs[1], 1 << 6, 1, trail.agreements[0], False, b"\x07" * 32, 2**40
    )
    signed = sign(stranger, request_domain(deployment.chain_id, deployment.addresses.consents), message)
    value.update({"seq": seq, "subject": trail.usccs[1], "request": request_to_json(signed)})
    value["request"]["institution"] = trail.banks[0].address
    leaf = rfc8785.dumps(value)
    session.execute(
        insert(LogEntry).values(log_name=ACCESS_TRAIL, seq=seq, leaf=leaf, leaf_hash=hash_leaf(leaf))
    )
    session.execute(update(LogHead).where(LogHead.name == ACCESS_TRAIL).values(size=seq + 1))
    return [(Step.SIGNATURE, ACCESS_TRAIL, seq)]


def alter_signature(session: Session, trail: Trail) -> Expected:
    tail = trail.anchored[ACCESS_TRAIL]
    value = _leaf(session, ACCESS_TRAIL, tail)
    signature = value["request"]["signature"]
    value["request"]["signature"] = signature[:10] + ("0" if signature[10] != "0" else "1") + signature[11:]
    _write(session, ACCESS_TRAIL, tail, value)
    return [(Step.SIGNATURE, ACCESS_TRAIL, tail)]


def change_block(session: Session, trail: Trail) -> Expected:
    """Claim an earlier authorization block: before the grant existed."""
    tail = trail.anchored[ACCESS_TRAIL]
    value = _leaf(session, ACCESS_TRAIL, tail)
    value["block"] = trail.platform.deployment.block + 1
    _write(session, ACCESS_TRAIL, tail, value)
    return [(Step.AUTHORIZATION, ACCESS_TRAIL, tail)]


def release_long_after_block(session: Session, trail: Trail) -> Expected:
    """Record the release as made long after its block B: past the bound, and past the agreement."""
    tail = trail.anchored[ACCESS_TRAIL]
    value = _leaf(session, ACCESS_TRAIL, tail)
    platform = trail.platform
    sealed = int(platform.chain.w3.eth.get_block(value["block"])["timestamp"])
    late = sealed + platform.settings.max_block_age_seconds + 1
    value["released_at"] = datetime.fromtimestamp(late, UTC).isoformat()
    _write(session, ACCESS_TRAIL, tail, value)
    # judged at the release's time, the agreement (30 days) had expired too
    return [(Step.BLOCK, ACCESS_TRAIL, tail), (Step.AUTHORIZATION, ACCESS_TRAIL, tail)]


def understate_level(session: Session, trail: Trail) -> Expected:
    """Ask authorization at a lower sensitivity level than what was requested carries."""
    tail = trail.anchored[ACCESS_TRAIL]
    value = _leaf(session, ACCESS_TRAIL, tail)
    value["level"] = 1
    _write(session, ACCESS_TRAIL, tail, value)
    return [(Step.LEVEL, ACCESS_TRAIL, tail)]


def _record(session: Session, log_seq: int) -> CreditRecord:
    row = session.execute(select(CreditRecord).where(CreditRecord.log_seq == log_seq)).scalar_one()
    return row


def change_record_commitment(session: Session, trail: Trail) -> Expected:
    _record(session, 4).commitment = bytes(32)
    return [(Step.RECORD_VERSION, CREDIT_RECORDS, 4)]


def delete_record(session: Session, trail: Trail) -> Expected:
    session.delete(_record(session, 7))
    return [(Step.RECORD_COMPLETENESS, CREDIT_RECORDS, 7)]


def edit_record_field(session: Session, trail: Trail) -> Expected:
    row = _record(session, 2)
    fields = json.loads(row.public_fields)
    name = sorted(fields)[0]
    fields[name] = "altered"
    row.public_fields = json.dumps(fields, ensure_ascii=False, sort_keys=True)
    return [(Step.RECORD_OPENING, CREDIT_RECORDS, 2)]


def edit_record_leaf(session: Session, trail: Trail) -> Expected:
    value = _leaf(session, CREDIT_RECORDS, 1)
    value["version"] = 2
    _write(session, CREDIT_RECORDS, 1, value)
    return [(Step.ROOT, CREDIT_RECORDS, 0), (Step.RECORD_VERSION, CREDIT_RECORDS, 1)]


DRILLS: list[Drill] = [
    edit_anchored_field,
    edit_unanchored_field,
    delete_entry,
    reorder_entries,
    truncate_log,
    change_grant,
    forge_entry,
    alter_signature,
    change_block,
    release_long_after_block,
    understate_level,
    change_record_commitment,
    delete_record,
    edit_record_field,
    edit_record_leaf,
]


@contextmanager
def restored(platform: Platform) -> Iterator[None]:
    """Put the tables back as they were after the block."""
    with platform.db.session() as session:
        saved = {
            model: [
                {c.key: getattr(row, c.key) for c in model.__table__.columns}
                for row in session.scalars(select(model))
            ]
            for model in TABLES
        }
    try:
        yield
    finally:
        with platform.db.session() as session:
            for model, rows in saved.items():
                session.execute(delete(model))
                if rows:
                    session.execute(insert(model), rows)


def test_each_drill_is_caught_with_the_right_finding(trail: Trail) -> None:
    platform = trail.platform
    verifier = verifier_for(platform, sample=0)
    assert verifier.verify(export_of(platform, openings=True)).findings == []
    for drill in DRILLS:
        with restored(platform):
            with platform.db.session() as session:
                expected = drill(session, trail)
            report = verifier.verify(export_of(platform, openings=True))
        got = {(f.step, f.log, f.index) for f in report.findings}
        for step, log, index in expected:
            assert (step, log, index) in got, (
                f"{drill.__name__}: expected step {step.value} at {log}[{index}], "
                f"got {[str(f) for f in report.findings]}"
            )
        assert not report.clean
    assert verifier.verify(export_of(platform, openings=True)).findings == []  # restored: clean again

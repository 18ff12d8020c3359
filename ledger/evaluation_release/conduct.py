"""Conduct facts an evaluation reads: the subject's objections, repair applications and
credit commitments.

The rule (issue 17): a fact about a record is covered by that record's category. It is
read only when its record is among the records the evaluation reads - the subject's
current records of the model's input categories - and, as the portrait drops the facts
about records it does not read (`ledger.evaluation.facts.RECORD_LINK`), only when the
record itself is released (not repaired, not past its publicity).

Both facts are the self-service cases' own state, which changes only under the
credit-record log's lock (each change is a leaf of that log): read in the evaluation's
transaction with that log held still (`ledger.logs.store.held_size`), they are the state
its first n entries give, which the auditor re-derives from those leaves
(`ledger.audit.evaluation_inputs`). The trail entry names each fact read (kind, id,
status, record, filing date: identifiers and dates only, as the leaves carry them).

Credit commitments are public on chain, about the enterprise rather than a record: read
whenever the indicator file reads them, from the chain at the evaluation's block B
(`ledger.chain.commitment_events`: every commitment any account of the enterprise ever
made, key rotations followed, kept or breached as of B), never from the database, so the
evaluation is reproducible from the chain alone. A commitment's date is the business day
of its `CommitmentMade` block's timestamp. The trail entry names each (`commitment_json`:
id, kind, account, transaction, block, block time and day, breached as of B and where),
and the auditor replays the same events up to B (`ledger.audit.evaluation_commitments`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from ledger.chain.commitment_events import OnChainCommitment
from ledger.domain.business_day import business_day
from ledger.evaluation.facts import COMMITMENT, OBJECTION, RECORD_LINK, REPAIR
from ledger.evaluation.records import PlainRecord, RecordView
from ledger.selfservice.models import Objection
from ledger.storage import driver_sql

__all__ = [
    "COMMITMENT_PREFIX",
    "commitment_fact",
    "commitment_json",
    "conduct_facts",
    "conduct_facts_of",
    "fact_json",
]

#: a commitment's id among the portrait's inputs (record ids are UUIDs, so never clash)
COMMITMENT_PREFIX = "commitment-"

_FACTS = (
    "SELECT o.subject, 'objection', o.id, o.record_id, o.status, o.filed_on FROM objections o"
    " WHERE o.subject IN {subjects}"
    " UNION ALL"
    " SELECT a.subject, 'repair', a.id, a.record_id, a.status, a.filed_on FROM repair_applications a"
    " WHERE a.subject IN {subjects}"
)


def conduct_facts(session: Session, subject: str, records: Iterable[RecordView]) -> list[PlainRecord]:
    """The objection and repair facts about `records` (the subject's records being read)."""
    return conduct_facts_of(session, {subject: list(records)}).get(subject, [])


def conduct_facts_of(
    session: Session, records: Mapping[str, Iterable[RecordView]]
) -> dict[str, list[PlainRecord]]:
    """Per subject, the objection and repair facts about its records being read, in one statement."""
    category = {(s, r.record_id): r.category for s, rs in records.items() for r in rs}
    if not records:
        return {}
    as_date = driver_sql.from_driver(session, Objection.__table__.c.filed_on.type)
    subjects_sql, params = driver_sql.in_list("subject", sorted(records))
    facts: dict[str, list[PlainRecord]] = {}
    for subject, kind, case_id, record_id, status, filed_on in driver_sql.query(
        session, _FACTS.format(subjects=subjects_sql), params
    ):
        read = category.get((subject, record_id))
        if read is None:
            continue  # a fact about a record of a category the evaluation does not read
        fields: dict[str, Any] = {"status": status, RECORD_LINK: record_id}
        if kind == "repair":
            fields["category"] = read
        fact = PlainRecord(
            str(case_id), OBJECTION if kind == "objection" else REPAIR, as_date(filed_on), fields
        )
        facts.setdefault(subject, []).append(fact)
    return facts


def fact_json(fact: RecordView) -> Mapping[str, Any]:
    """A fact as the trail entry names it."""
    return {
        "kind": fact.category,
        "id": fact.record_id,
        "status": fact.fields["status"],
        "record_id": fact.fields[RECORD_LINK],
        "filed_on": fact.event_date.isoformat(),
    }


def commitment_fact(commitment: OnChainCommitment, utc_offset_minutes: int) -> PlainRecord:
    """A commitment as the portrait reads it: dated the business day of its block's time."""
    made_on = business_day(datetime.fromtimestamp(commitment.made_at, UTC), utc_offset_minutes)
    fields = {"kind": commitment.kind.name.lower(), "breached": commitment.breached}
    return PlainRecord(f"{COMMITMENT_PREFIX}{commitment.id}", COMMITMENT, made_on, fields)


def commitment_json(commitment: OnChainCommitment, utc_offset_minutes: int) -> Mapping[str, Any]:
    """A commitment as the trail entry names it: where on chain, and kept or breached as of B."""
    fact = commitment_fact(commitment, utc_offset_minutes)
    return {
        "id": commitment.id,
        "kind": fact.fields["kind"],
        "member": commitment.member,
        "tx": "0x" + commitment.transaction_hash.hex(),
        "block": commitment.block,
        "made_at": commitment.made_at,
        "made_on": fact.event_date.isoformat(),
        "breached": commitment.breached,
        "breached_block": commitment.breached_block,
    }

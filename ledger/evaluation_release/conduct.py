"""Conduct facts an evaluation reads: the subject's objections and repair applications.

The rule (issue 17): a fact about a record is covered by that record's category. It is
read only when its record is among the records the evaluation reads - the subject's
current records of the model's input categories - and, as the portrait drops the facts
about records it does not read (`ledger.evaluation.facts.RECORD_LINK`), only when the
record itself is released (not repaired, not past its publicity). Credit commitments are
public information on chain; they are not read here yet (see the README, issue 17).

Both facts are the self-service cases' own state, which changes only under the
credit-record log's lock (each change is a leaf of that log): read in the evaluation's
transaction with that log held still (`ledger.logs.store.held_size`), they are the state
its first n entries give, which the auditor re-derives from those leaves
(`ledger.audit.evaluation_inputs`). The trail entry names each fact read (kind, id,
status, record, filing date: identifiers and dates only, as the leaves carry them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from ledger.evaluation.facts import OBJECTION, RECORD_LINK, REPAIR
from ledger.evaluation.records import PlainRecord, RecordView
from ledger.selfservice.models import Objection
from ledger.storage import driver_sql

__all__ = ["conduct_facts", "fact_json"]

_FACTS = (
    "SELECT 'objection', o.id, o.record_id, o.status, o.filed_on FROM objections o WHERE o.subject = :subject"
    " UNION ALL"
    " SELECT 'repair', a.id, a.record_id, a.status, a.filed_on FROM repair_applications a"
    " WHERE a.subject = :subject"
)


def conduct_facts(session: Session, subject: str, records: Iterable[RecordView]) -> list[PlainRecord]:
    """The objection and repair facts about `records` (the subject's records being read)."""
    category = {r.record_id: r.category for r in records}
    as_date = driver_sql.from_driver(session, Objection.__table__.c.filed_on.type)
    facts = []
    for kind, case_id, record_id, status, filed_on in driver_sql.query(session, _FACTS, {"subject": subject}):
        if record_id not in category:
            continue  # a fact about a record of a category the evaluation does not read
        fields: dict[str, Any] = {"status": status, RECORD_LINK: record_id}
        if kind == "repair":
            fields["category"] = category[record_id]
        facts.append(PlainRecord(str(case_id), OBJECTION if kind == "objection" else REPAIR,
                                 as_date(filed_on), fields))  # fmt: skip
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

"""What the release path needs to know about a record: disputed? repaired?

Both are SQL predicates correlated to a record id, so the release path reads them in the
same statement as the records themselves (one indexed round trip per batch of releases).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Exists, exists
from sqlalchemy.orm import QueryableAttribute

from ledger.selfservice.models import Objection, RepairApplication

__all__ = ["OPEN_OBJECTION", "disputed", "repaired"]

#: objection states in which the record is disputed
OPEN_OBJECTION = ("open", "forwarded")


def disputed(record_id: QueryableAttribute[Any]) -> Exists:
    """An objection to the record is open: every release of it carries the flag."""
    return exists().where(Objection.record_id == record_id, Objection.status.in_(OPEN_OBJECTION))


def repaired(record_id: QueryableAttribute[Any]) -> Exists:
    """Credit repair of the record was approved: it is never published or shared again."""
    return exists().where(RepairApplication.record_id == record_id, RepairApplication.status == "approved")

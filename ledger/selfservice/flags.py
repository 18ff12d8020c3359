"""What the release path needs to know about records: disputed? repaired?

`record_flags` answers for any number of records in one query (chunked only beyond
hundreds of records), so the release hot path pays one indexed round trip.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import literal, select, union_all
from sqlalchemy.orm import Session

from ledger.selfservice.models import Objection, RepairApplication

__all__ = ["NO_FLAGS", "OPEN_OBJECTION", "Flags", "record_flags"]

#: objection states in which the record is disputed
OPEN_OBJECTION = ("open", "forwarded")
_CHUNK = 500


@dataclass(frozen=True)
class Flags:
    disputed: bool = False  # an objection is open: every release carries the flag
    repaired: bool = False  # credit repair approved: never published or shared again


NO_FLAGS = Flags()


def record_flags(session: Session, record_ids: Collection[str]) -> dict[str, Flags]:
    """Flags of the records among `record_ids` that have any; the others have `NO_FLAGS`."""
    ids = sorted(set(record_ids))
    disputed: set[str] = set()
    repaired: set[str] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        query = union_all(
            select(Objection.record_id, literal("d").label("flag")).where(
                Objection.record_id.in_(chunk), Objection.status.in_(OPEN_OBJECTION)
            ),
            select(RepairApplication.record_id, literal("r").label("flag")).where(
                RepairApplication.record_id.in_(chunk), RepairApplication.status == "approved"
            ),
        )
        for record_id, flag in session.execute(query):
            (disputed if flag == "d" else repaired).add(record_id)
    return {rid: Flags(rid in disputed, rid in repaired) for rid in disputed | repaired}

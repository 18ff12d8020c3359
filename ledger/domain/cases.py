"""The states of a record's objection and repair cases that the release path reads.

A record with an objection in one of `OPEN_OBJECTION` is disputed: every release of it
carries the flag. A record with an `APPROVED` repair is no longer published or shared.
The workflows that move cases between these states are `ledger.selfservice.objections`
and `ledger.selfservice.repairs`; `ledger.release.reader` reads the states with the records.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["OPEN_OBJECTION", "RepairStatus"]

#: objection states in which the record is disputed
OPEN_OBJECTION = ("open", "forwarded")


class RepairStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"

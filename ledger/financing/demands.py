"""Financing demands (融资需求): what an enterprise wants - amount, term, use, collateral.

A demand is the enterprise's private business: only the enterprise posts and reads its
demands; matching runs over them for the enterprise alone.
"""

from __future__ import annotations

import uuid
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.errors import InvalidInput, NotFound
from ledger.financing.models import DemandRow
from ledger.storage.database import Database

MAX_AMOUNT = 10**12  # yuan
MAX_TERM_MONTHS = 360
MAX_TEXT = 2000


class DemandInvalid(InvalidInput):
    code = "demand_invalid"


class DemandUnknown(NotFound):
    code = "demand_unknown"


@dataclass(frozen=True)
class DemandRecord:
    """A financing demand, as its enterprise sees it."""

    id: str
    subject: Annotated[str, Field(description="the enterprise's 统一社会信用代码")]
    amount: Annotated[int, Field(description="yuan", examples=[800_000])]
    term_months: Annotated[int, Field(examples=[12])]
    use: Annotated[str, Field(examples=["研发设备采购"])]
    collateral: str
    created_at: datetime


def _record(row: DemandRow) -> DemandRecord:
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
    return DemandRecord(row.id, row.subject, row.amount, row.term_months, row.use, row.collateral, created)


def check_demand(amount: int, term_months: int, use: str, collateral: str) -> None:
    """Refuse (422 `demand_invalid`, naming the field) a demand out of range."""
    if isinstance(amount, bool) or not 0 < amount <= MAX_AMOUNT:
        raise DemandInvalid(f"amount: a whole number of yuan between 1 and {MAX_AMOUNT}")
    if isinstance(term_months, bool) or not 0 < term_months <= MAX_TERM_MONTHS:
        raise DemandInvalid(f"term_months: between 1 and {MAX_TERM_MONTHS}")
    if not 0 < len(use.strip()) <= MAX_TEXT:
        raise DemandInvalid(f"use: say what the money is for, in at most {MAX_TEXT} characters")
    if len(collateral) > MAX_TEXT:
        raise DemandInvalid(f"collateral: at most {MAX_TEXT} characters")


class Demands:
    def __init__(self, db: Database) -> None:
        self.db = db

    def post(
        self, subject: str, enterprise: str, amount: int, term_months: int, use: str, collateral: str
    ) -> DemandRecord:
        check_demand(amount, term_months, use, collateral)
        row = DemandRow(
            id=str(uuid.uuid4()), subject=subject, enterprise=enterprise, amount=amount,
            term_months=term_months, use=use.strip(), collateral=collateral.strip(),
            created_at=datetime.now(UTC),
        )  # fmt: skip
        with self.db.session() as session:
            session.add(row)
        return _record(row)

    def get(self, subject: str, demand_id: str, *, session: Session | None = None) -> DemandRecord:
        """Demand `demand_id` of `subject`; another enterprise's is answered as none (404)."""
        with nullcontext(session) if session is not None else self.db.session() as session:
            row = session.get(DemandRow, demand_id)
        if row is None or row.subject != subject:
            raise DemandUnknown(f"no demand {demand_id}")
        return _record(row)

    def of(self, subject: str) -> list[DemandRecord]:
        with self.db.session() as session:
            rows = session.scalars(
                select(DemandRow).where(DemandRow.subject == subject).order_by(DemandRow.created_at.desc())
            ).all()
        return [_record(r) for r in rows]

"""SYNTHETIC rows of the tables the KPIs read, for tests and `bench/kpi.py`.

Rows as `ledger.storage.bulk.bulk_insert` takes them (COPY on PostgreSQL): credit records
with placeholder sealed content (the KPIs read only who, what, when) and loans in their
current state. Deterministic for a seed; no real enterprise, record or loan.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ledger.records.samples import sample_uscc

__all__ = ["loan_rows", "record_rows"]

CATEGORIES = ("registration", "tax", "social_insurance", "administrative_penalty", "utilities", "judicial")
INDUSTRIES = "ACEFGHIMO"
_ZERO32 = bytes(32)


def record_rows(
    count: int,
    *,
    enterprises: int,
    providers: Sequence[str],
    start: datetime = datetime(2026, 1, 1, tzinfo=UTC),
    days: int = 330,
    seed: int = 1,
    first_id: int = 0,
) -> Iterator[dict[str, Any]]:
    """`count` first-version credit records over `enterprises` subjects, received over `days`.

    Registration records of six subjects in seven carry an industry (catalogue v2, its
    `industry` field in the clear public fields, as ingestion stores a level-1 field); the
    seventh's are catalogue v1, with none (unclassified in the KPIs).
    """
    rng = random.Random(seed)
    subjects = [sample_uscc(k) for k in range(enterprises)]
    for n in range(first_id, first_id + count):
        received = start + timedelta(seconds=rng.randrange(days * 86400))
        lag = rng.choice((0, 1, 2, 3, 5, 8, 15, 40))
        k = rng.randrange(enterprises)  # drawn in the same order as before industries were added
        category = CATEGORIES[n % len(CATEGORIES)]
        classified = category == "registration" and k % 7 != 6
        yield {
            "record_id": f"{n:036d}",
            "version": 1,
            "provider": providers[n % len(providers)],
            "source_ref": f"S-{n}",
            "category": category,
            "subject": subjects[k],
            "event_date": (received - timedelta(days=lag)).date(),
            "severity": None,
            "catalogue_version": 2 if classified else 1,
            "public_fields": f'{{"industry": "{INDUSTRIES[k % len(INDUSTRIES)]}39"}}' if classified else "{}",
            "sealed": b"",
            "key_id": "synthetic",
            "content_mac": _ZERO32,
            "commitment": _ZERO32,
            "log_seq": n,
            "leaf_hash": _ZERO32,
            "warnings": None,
            "created_at": received,
        }


def loan_rows(
    count: int,
    *,
    enterprises: int,
    institutions: Sequence[str],
    start: date = date(2026, 1, 1),
    days: int = 330,
    seed: int = 2,
) -> Iterator[dict[str, Any]]:
    """`count` loans in their current state: about four in five approved, a third on credit."""
    rng = random.Random(seed)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    subjects = [sample_uscc(k) for k in range(enterprises)]
    for n in range(count):
        subject = subjects[rng.randrange(enterprises)]
        applied = start + timedelta(days=rng.randrange(days))
        decided = applied + timedelta(days=rng.randrange(1, 30))
        approved = rng.random() < 0.8
        yield {
            "institution": institutions[n % len(institutions)],
            "loan_ref": f"L-{n}",
            "subject": subject,
            "district": subject[2:8],
            "industry": rng.choice(INDUSTRIES),
            "approved": approved,
            "amount_fen": rng.randrange(100, 50_000) * 10_000 if approved else None,
            "rate_ppm": rng.randrange(30_000, 60_000) if approved else None,
            "term_months": rng.choice((6, 12, 24, 36)) if approved else None,
            "credit": rng.random() < 0.35,
            "first_loan": rng.random() < 0.25,
            "applied_on": applied,
            "decided_on": decided,
            "decided_month": decided.strftime("%Y-%m"),
            "decision_days": (decided - applied).days,
            "decision_version": 1,
            "days_overdue": None,
            "status_as_of": None,
            "repayment_version": 0,
            "updated_at": now,
        }

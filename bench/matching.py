"""Matching one financing demand against 1,000 loan products, beside a baseline from the same run.

A fresh PostgreSQL database (migrated) holds 1,000 published loan products (each with 3-6
eligibility rules over the platform's fields, rows written directly: anchoring is not what
is measured), one white list naming the enterprise, and the enterprise's demand. Then
`FinancingService.match` - the whole domain path the route calls: the caller checked as
the subject, the demand read, the profile built (white lists read, the evaluation grade
asked), the newest version of every product read, every criterion checked with its
reasons, the served audit record written, and the answer's JSON built - is timed, against
two baselines in the same run: one demand row read by its key, and one read of the 1,000
newest product rows (`DocumentStore.all_latest`).

Products are kept in memory by the service and read again only when their count changes
(`FinancingService.offered`); the second baseline shows what reading them on every match
would cost. The enterprise's records come from a fixed in-memory reader (the record read and its
decryption are the release path's, measured in bench/release.py); its grade is fixed.
The target (issue 18): under 50 ms per match.

Needs PostgreSQL on 127.0.0.1:5432.
Run: .venv/bin/python bench/matching.py [--products 1000] [--rounds 50]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Collection
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger.chain.membership import InstitutionKind, Member, Role, Status, uscc_hash
from ledger.chain.publications import PublicationKind
from ledger.domain.catalogue import default_catalogue
from ledger.financing.applications import Applications
from ledger.financing.matching import matches_json
from ledger.financing.models import FinancingDocumentRow, WhiteListEntryRow
from ledger.financing.products import PRODUCT_KINDS, parse_product
from ledger.financing.service import FinancingService
from ledger.financing.store import DocumentStore
from ledger.financing.whitelist_document import parse_white_list
from ledger.records.samples import sample_uscc
from ledger.release.reader import CurrentRecord
from ledger.storage.database import Database, migrate

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
SUBJECT = sample_uscc(0)
ENTERPRISE = "0x" + "11" * 20
LIST = "bench-list"
START = datetime(2026, 1, 1, tzinfo=UTC)


class FixedReader:
    """The enterprise's current records, fixed (see the module docstring)."""

    def __init__(self) -> None:
        self.records = [
            CurrentRecord("r1", 1, SUBJECT, "registration", date(2020, 3, 1), None, False, False, {
                "established_on": "2020-03-01", "registered_capital": "5000000",
                "entity_type": "limited_liability_company",
            }),
            CurrentRecord("r2", 1, SUBJECT, "social_insurance", date(2026, 10, 1), None, False, False, {
                "period": "2026-10-01", "insured_headcount": 45,
            }),
            CurrentRecord("r3", 1, SUBJECT, "tax", date(2026, 4, 1), None, False, False, {
                "tax_year": 2025, "credit_grade": "A",
            }),
            CurrentRecord("r4", 1, SUBJECT, "rnd", date(2026, 4, 1), None, False, False, {
                "fiscal_year": 2025, "high_tech_enterprise": True,
            }),
        ]  # fmt: skip

    def current(
        self, session: Session, subjects: Collection[str], categories: Collection[str]
    ) -> dict[str, list[CurrentRecord]]:
        return {SUBJECT: [r for r in self.records if r.category in categories]}


RULES: list[dict[str, Any]] = [
    {"field": "years_in_operation", "op": "min", "value": 2},
    {"field": "registered_capital", "op": "min", "value": 1_000_000},
    {"field": "employees", "op": "max", "value": 300},
    {"field": "size", "op": "in", "value": ["micro", "small"]},
    {"field": "high_tech_enterprise", "op": "equals", "value": True},
    {"field": "tax_credit_grade", "op": "min", "value": "B"},
    {"field": "evaluation_grade", "op": "min", "value": "C"},
    {"field": "no_dishonesty_record", "op": "equals", "value": True},
    {"field": "no_abnormal_operation", "op": "equals", "value": True},
    {"field": "white_lists", "op": "includes", "value": LIST},
    {"field": "region", "op": "in", "value": ["410100", "410105", "110000"]},
]


def product(n: int, rng: random.Random) -> dict[str, Any]:
    low = rng.choice([100_000, 200_000, 500_000])
    return {
        "key": f"bank{n % 20}-p{n:04d}", "version": 1, "valid_from": START.isoformat(),
        "name": f"产品{n}", "product_kind": PRODUCT_KINDS[n % len(PRODUCT_KINDS)],
        "amount": {"min": low, "max": low * rng.choice([5, 10, 20])},
        "term_months": {"min": 3, "max": rng.choice([12, 24, 36])},
        "annual_rate_percent": {"min": round(rng.uniform(3, 4), 2), "max": round(rng.uniform(4, 6), 2)},
        "guarantee": "credit", "eligibility": rng.sample(RULES, rng.randint(3, 6)),
    }  # fmt: skip


def seed(db: Database, products: int) -> None:
    rng = random.Random(18)
    now = datetime.now(UTC)
    rows: list[Any] = []
    for n in range(products):
        doc = parse_product(product(n, rng))
        rows.append(FinancingDocumentRow(
            kind="loan_product", document_key=doc.key, version=1, content=doc.canonical().decode(),
            content_hash=doc.content_hash(), publisher="0x" + f"{n % 20 + 1:040x}", valid_from=START,
            valid_until=None, block_number=1, transaction="", stored_at=now,
        ))  # fmt: skip
    wl = parse_white_list({
        "key": LIST, "version": 1, "valid_from": START.isoformat(), "name": "白名单", "district": "金水区",
        "criteria": "bench", "enterprises": [SUBJECT, sample_uscc(1)],
    })  # fmt: skip
    rows.append(FinancingDocumentRow(
        kind="white_list", document_key=LIST, version=1, content=wl.canonical().decode(),
        content_hash=wl.content_hash(), publisher="0x" + "01" * 20, valid_from=START, valid_until=None,
        block_number=1, transaction="", stored_at=now,
    ))  # fmt: skip
    rows.extend(WhiteListEntryRow(list_key=LIST, version=1, uscc=code) for code in wl.enterprises)
    with db.session() as session:
        session.add_all(rows)


def timed(fn: Any, rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    name = f"ledger_bench_match_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        migrate(url)
        db = Database(url)
        seed(db, args.products)
        store = DocumentStore(db, publications=None)  # type: ignore[arg-type]  (reads only)
        catalogue = default_catalogue()
        service = FinancingService(
            store, Applications.__new__(Applications), reader=FixedReader(),  # type: ignore[arg-type]
            catalogue=catalogue, grade_of=lambda caller, member, subject: "B",
        )  # fmt: skip
        member = Member(
            ENTERPRISE, Role.ENTERPRISE, Status.ACTIVE, InstitutionKind.NONE, 1, b"", uscc_hash(SUBJECT)
        )
        demand = service.post_demand(
            ENTERPRISE, member, SUBJECT, amount=800_000, term_months=12, use="设备采购", collateral=""
        )
        _, results = service.match(ENTERPRISE, member, SUBJECT, demand.id)  # warm: parse cache, pool
        eligible = sum(1 for r in results if r.eligible)
        criteria = sum(len(r.criteria) for r in results)
        for _ in range(3):
            store.all_latest(PublicationKind.LOAN_PRODUCT)

        def one_match() -> None:
            _, found = service.match(ENTERPRISE, member, SUBJECT, demand.id)
            matches_json(found)  # the answer as the route builds it

        # interleaved, so that all three see the same machine load
        row: list[float] = []
        base: list[float] = []
        match: list[float] = []
        for _ in range(args.rounds):
            row += timed(lambda: service.demands.get(SUBJECT, demand.id), 1)
            base += timed(lambda: store.all_latest(PublicationKind.LOAN_PRODUCT), 1)
            match += timed(one_match, 1)
        db.engine.dispose()
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stats(xs: list[float]) -> str:
        xs = sorted(xs)
        return f"median {statistics.median(xs):6.2f} ms  p90 {xs[int(len(xs) * 0.9) - 1]:6.2f} ms"

    print(f"products: {len(results)} in force ({args.products} published), {criteria} criteria checked, "
          f"{eligible} eligible; rounds: {args.rounds}; PostgreSQL")  # fmt: skip
    print(f"baseline  one demand row read by key       : {stats(row)}")
    print(f"baseline  the newest product rows, uncached: {stats(base)}")
    print(f"matching  one demand, whole domain path    : {stats(match)}")
    m = statistics.median(match)
    print(f"ratio matching / one-row read (medians)    : {m / statistics.median(row):.1f}")
    print(f"ratio matching / uncached product read     : {m / statistics.median(base):.2f}")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"target: under 50 ms per match -> {'met' if m < 50 else 'NOT met'}")


if __name__ == "__main__":
    main()

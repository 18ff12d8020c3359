"""The indicators of 四(四), computed by the database: records, enterprises, loans.

- **Records collected** (first versions of credit records) by category, provider,
  district (the USCC's region code, GB/T 2260), industry and month of receipt, with their
  **timeliness**: a record is timely when received within `timely_days` of its event.
- **Enterprises onboarded**: those the platform holds records on, against the city's
  market-entity total (`LEDGER_KPI_MARKET_ENTITIES`), and how many of them got a loan;
  by industry.

An enterprise's industry (records, enterprises) is the GB/T 4754 section of the `industry`
field of its latest registration record received by then (`industries`): a public field
(level 1), so it is in the record's clear `public_fields`, not sealed. Catalogue v1
registration records have no such field: their enterprises are counted under the key
null (unclassified). A loan's industry is the section its report names.
- **Loans**: decisions, approvals and volume; credit loans (信用贷款) by count and volume;
  first-time borrowers (首贷); average annual rate and decision time (application to
  decision); by district, industry (GB/T 4754 section) and month of decision.

With a month, flows (records received, loans decided) are that month's and stocks
(onboarded, with a loan) stand at its end. A district or industry filter applies to
everything (records and enterprises by the enterprise's industry, loans by the loan's).
Every figure is one SQL
aggregate (GROUP BY and conditional sums) on PostgreSQL and SQLite alike; Python only
divides the sums it gets back, exactly, in decimals. Money is in fen and rates in parts
per million, as stored: no float anywhere, so a snapshot's export hashes reproducibly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import CTE, and_, case, distinct, func, literal, select, text, tuple_
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from ledger.chain.membership import Role
from ledger.errors import InvalidInput
from ledger.financing.kpi_disclosure import DEFAULT_MIN_ENTERPRISES, protect
from ledger.financing.loan_models import LoanRow
from ledger.financing.sql_dates import days_after, district_of, industry_section_of, month_text, year_month
from ledger.records.models import CreditRecord
from ledger.storage.database import Database

__all__ = [
    "LOAN_METRICS",
    "KpiFilter",
    "KpiService",
    "enterprise_breakdown",
    "industries",
    "loan_metrics",
    "ratio",
]

#: who sees exact figures and a snapshot's rows (pseudonymised, one per loan): the roles that
#: publish and check them; every other member sees small cells suppressed
EXACT_FIGURES_ROLES = (Role.OPERATOR, Role.AUDITOR)

#: the columns of a snapshot's input rows (format 2: with the enterprise's industry)
RECORD_COLUMNS = ("category", "provider", "district", "industry", "collected", "timely")
ENTERPRISE_COLUMNS = ("enterprise", "district", "industry")
LOAN_COLUMNS = (
    "enterprise", "district", "industry", "month", "approved", "amount_fen", "rate_ppm", "credit",
    "first_loan", "decision_days",
)  # fmt: skip

#: the loan figures, in the order each breakdown row gives them
LOAN_METRICS = (
    "decisions",
    "approved",
    "declined",
    "volume_fen",
    "credit_loans",
    "credit_volume_fen",
    "first_time_borrowers",
    "average_rate_percent",
    "average_decision_days",
)


class InvalidKpiFilter(InvalidInput):
    code = "invalid_kpi_filter"


@dataclass(frozen=True)
class KpiFilter:
    month: str | None = None  # YYYY-MM
    district: str | None = None  # six digits, GB/T 2260
    industry: str | None = None  # GB/T 4754-2017 section letter

    def __post_init__(self) -> None:
        if self.month is not None and not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", self.month):
            raise InvalidKpiFilter(f"month: {self.month!r} is not YYYY-MM")
        if self.district is not None and not re.fullmatch(r"[0-9]{6}", self.district):
            raise InvalidKpiFilter(f"district: {self.district!r} is not a six-digit GB/T 2260 code")
        if self.industry is not None and not re.fullmatch(r"[A-T]", self.industry):
            raise InvalidKpiFilter(f"industry: {self.industry!r} is not a GB/T 4754-2017 section A-T")

    def month_end(self) -> datetime | None:
        """The first instant after the month (UTC), or None without a month."""
        if self.month is None:
            return None
        year, month = (int(p) for p in self.month.split("-"))
        return datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)

    def month_start(self) -> datetime | None:
        if self.month is None:
            return None
        year, month = (int(p) for p in self.month.split("-"))
        return datetime(year, month, 1, tzinfo=UTC)

    def to_json(self) -> dict[str, str | None]:
        return {"month": self.month, "district": self.district, "industry": self.industry}


TOTAL = ""


def analytic(session: Session) -> None:
    """Settings of this transaction for scanning aggregates (PostgreSQL; nothing elsewhere).

    JIT compilation of these expression-heavy aggregates cost about 2 s a query when
    measured (bench/kpi.py) and saved less; a larger `work_mem` lets the groupings hash
    in memory instead of sorting a million rows through temporary files.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))
        session.execute(text("SET LOCAL work_mem = '64MB'"))
        session.execute(text("SET LOCAL TimeZone = 'UTC'"))


def grouped_sets(
    session: Session,
    dimensions: dict[str, ColumnElement[Any]],
    measures: Sequence[ColumnElement[Any]],
    where: Sequence[ColumnElement[bool]],
) -> dict[str, list[tuple[Any, tuple[Any, ...]]]]:
    """`measures` grouped by each dimension alone and in total: {dimension or TOTAL: [(key, measures)]}.

    PostgreSQL computes every grouping in one scan (GROUP BY GROUPING SETS, each row
    telling its set by GROUPING()); SQLite, which has no grouping sets, runs one
    GROUP BY per dimension. The same figures either way.
    """
    names = list(dimensions)
    found: dict[str, list[tuple[Any, tuple[Any, ...]]]] = {name: [] for name in [*names, TOTAL]}
    if session.get_bind().dialect.name == "postgresql":
        columns = [dimensions[n] for n in names]
        flags = [func.grouping(c) for c in columns]
        sets = func.grouping_sets(*(tuple_(c) for c in columns), tuple_())
        q = select(*flags, *columns, *measures).where(*where).group_by(sets)
        width = len(names)
        for row in session.execute(q):
            grouped = [n for n, flag in zip(names, row[:width], strict=True) if flag == 0]
            name = grouped[0] if grouped else TOTAL
            key = row[width + names.index(name)] if grouped else None
            found[name].append((key, tuple(row[2 * width :])))
        return found
    for name in names:
        q = select(dimensions[name], *measures).where(*where).group_by(dimensions[name])
        found[name] = [(row[0], tuple(row[1:])) for row in session.execute(q)]
    found[TOTAL] = [(None, tuple(session.execute(select(*measures).where(*where)).one()))]
    return found


def by_key(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Breakdown rows ordered by key in code-point order (a database's collation may differ);
    the null key (unclassified) last."""
    return sorted(rows, key=lambda r: (r["key"] is None, str(r["key"])))


def industries(session: Session, before: datetime | None) -> CTE:
    """(subject, industry): each enterprise's GB/T 4754 section from its latest registration
    record received before `before` (all, without), NULL where that record has no industry.

    One pass over the registration records: `DISTINCT ON` on PostgreSQL, whose estimate of
    the rows (one per enterprise) lets the planner hash this side of the join; a window on
    SQLite. Materialized, so each enterprise's JSON is read once, not once per record joined
    (measured: the section computed after the join cost 4x the report's CPU).
    """
    where: list[ColumnElement[bool]] = [CreditRecord.category == "registration"]
    if before is not None:
        where.append(CreditRecord.created_at < before)
    section = industry_section_of(CreditRecord.public_fields).label("industry")
    if session.get_bind().dialect.name == "postgresql":
        latest = (
            select(CreditRecord.subject.label("subject"), section)
            .where(*where)
            .distinct(CreditRecord.subject)
            .order_by(CreditRecord.subject, CreditRecord.id.desc())
        )
        return latest.cte("industries").prefix_with("MATERIALIZED")
    newest_first = func.row_number().over(partition_by=CreditRecord.subject, order_by=CreditRecord.id.desc())
    ranked = select(CreditRecord.subject, section, newest_first.label("rank")).where(*where).subquery()
    return select(ranked.c.subject, ranked.c.industry).where(ranked.c.rank == 1).cte("industries")


def ratio(numerator: int, denominator: int | None, places: int = 4) -> str | None:
    """`numerator / denominator` as a decimal string rounded half-even, None when undefined."""
    if not denominator:
        return None
    q = Decimal(1).scaleb(-places)
    return str((Decimal(numerator) / Decimal(denominator)).quantize(q, rounding=ROUND_HALF_EVEN))


def enterprise_breakdown(counts: Iterable[tuple[str | None, Sequence[int]]]) -> list[dict[str, Any]]:
    """Rows of (key, onboarded, with a loan) as the report gives them (also used by `kpi verify`)."""
    return by_key(
        [{"key": k, "onboarded": o, "with_loan": w, "with_loan_share": ratio(w, o)} for k, (o, w) in counts]
    )


def loan_metrics(sums: Sequence[int]) -> dict[str, Any]:
    """The loan figures from the eight sums the aggregate returns (also used by `kpi verify`).

    sums: decisions, approved, volume_fen, credit_loans, credit_volume_fen,
    first_time_borrowers, rate_ppm_sum, decision_days_sum.
    """
    decisions, approved, volume, credit, credit_volume, first, rate_sum, days_sum = (
        int(s or 0) for s in sums
    )
    rate = ratio(rate_sum, approved * 10_000, 4)  # ppm / 10^4 = percent
    return {
        "decisions": decisions,
        "approved": approved,
        "declined": decisions - approved,
        "volume_fen": volume,
        "credit_loans": credit,
        "credit_volume_fen": credit_volume,
        "first_time_borrowers": first,
        "average_rate_percent": rate,
        "average_decision_days": ratio(days_sum, decisions, 2),
    }


def _loan_sums() -> list[ColumnElement[Any]]:
    approved = LoanRow.approved.is_(True)
    return [
        func.count(),
        func.sum(case((approved, 1), else_=0)),
        func.sum(case((approved, LoanRow.amount_fen), else_=0)),
        func.sum(case((and_(approved, LoanRow.credit.is_(True)), 1), else_=0)),
        func.sum(case((and_(approved, LoanRow.credit.is_(True)), LoanRow.amount_fen), else_=0)),
        func.count(distinct(case((and_(approved, LoanRow.first_loan.is_(True)), LoanRow.subject)))),
        func.sum(case((approved, LoanRow.rate_ppm), else_=0)),
        func.sum(LoanRow.decision_days),
    ]


class KpiService:
    """The KPI report over the platform database."""

    def __init__(
        self, db: Database, *, market_entities: int | None, timely_days: int,
        min_cell_enterprises: int = DEFAULT_MIN_ENTERPRISES,
    ) -> None:  # fmt: skip
        self.db = db
        self.market_entities = market_entities
        self.timely_days = timely_days
        self.min_cell_enterprises = min_cell_enterprises

    def report_for(self, role: Role, f: KpiFilter) -> dict[str, Any]:
        """The figures a member holding `role` sees: exact for operators and auditors (who may
        read the snapshot's rows), small cells suppressed for everyone else."""
        exact = role in EXACT_FIGURES_ROLES
        return self.report(f, min_enterprises=None if exact else self.min_cell_enterprises)

    def report(self, f: KpiFilter, *, min_enterprises: int | None = None) -> dict[str, Any]:
        """The figures under `f`; with `min_enterprises`, small cells suppressed
        (`ledger.financing.kpi_disclosure`: what members other than operators and auditors see)."""
        with self.db.session() as session:
            analytic(session)
            loans, sizes = self._loans(session, f, cell_sizes=min_enterprises is not None)
            report = {
                "filter": f.to_json(),
                "settings": {"market_entities": self.market_entities, "timely_days": self.timely_days},
                "records": self._records(session, f),
                "enterprises": self._enterprises(session, f),
                "loans": loans,
            }
        return report if min_enterprises is None else protect(report, sizes, min_enterprises)

    def snapshot_inputs(self, month: str, pseudonym: Callable[[str], str]) -> dict[str, Any]:
        """The rows a month's figures are recomputed from (`ledger.financing.kpi_snapshot`).

        Records received in the month, grouped by category, provider and district (their
        finest grain without naming an enterprise); every enterprise onboarded by the
        month's end; every loan decided by then. Enterprises appear under `pseudonym`
        only (keyed per snapshot, so they are consistent within one export and nowhere else).
        """
        f = KpiFilter(month)
        lag = days_after(CreditRecord.event_date, CreditRecord.created_at)
        timely = func.sum(case((lag <= self.timely_days, 1), else_=0))
        district = district_of(CreditRecord.subject)
        with self.db.session() as session:
            analytic(session)
            ind = industries(session, f.month_end())
            grouped = session.execute(
                select(
                    CreditRecord.category,
                    CreditRecord.provider,
                    district,
                    ind.c.industry,
                    func.count(),
                    timely,
                )
                .outerjoin(ind, ind.c.subject == CreditRecord.subject)
                .where(*self._record_where(f, ind))
                .group_by(CreditRecord.category, CreditRecord.provider, district, ind.c.industry)
            ).all()
            subjects = session.execute(
                select(CreditRecord.subject, ind.c.industry)
                .distinct()
                .outerjoin(ind, ind.c.subject == CreditRecord.subject)
                .where(CreditRecord.created_at < f.month_end())
            ).all()
            loans = session.execute(
                select(
                    LoanRow.subject, LoanRow.district, LoanRow.industry, LoanRow.decided_month,
                    LoanRow.approved, LoanRow.amount_fen, LoanRow.rate_ppm, LoanRow.credit,
                    LoanRow.first_loan, LoanRow.decision_days,
                ).where(LoanRow.decided_month <= month)
            ).all()  # fmt: skip
        records = sorted(
            ([c, p, d, i, int(n), int(t or 0)] for c, p, d, i, n, t in grouped),
            key=lambda row: ["" if v is None else str(v) for v in row],
        )
        enterprises = sorted([pseudonym(s), s[2:8], i] for s, i in subjects)
        loan_rows = sorted(
            (
                [pseudonym(subj), dist, ind, m, bool(ok), amount, rate, bool(cr), bool(first), days]
                for subj, dist, ind, m, ok, amount, rate, cr, first, days in loans
            ),
            key=lambda row: ["" if v is None else str(v) for v in row],
        )
        return {
            "records": {"columns": list(RECORD_COLUMNS), "rows": records},
            "enterprises": {"columns": list(ENTERPRISE_COLUMNS), "rows": enterprises},
            "loans": {"columns": list(LOAN_COLUMNS), "rows": loan_rows},
        }

    # -- records -----------------------------------------------------------------------------

    def _record_where(self, f: KpiFilter, ind: CTE) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = [CreditRecord.version == 1]
        if f.industry is not None:  # the enterprises of that industry (rare: a lookup per record)
            where.append(CreditRecord.subject.in_(select(ind.c.subject).where(ind.c.industry == f.industry)))
        if f.month is not None:
            where += [
                CreditRecord.created_at >= f.month_start(),
                CreditRecord.created_at < f.month_end(),
            ]
        if f.district is not None:
            where.append(district_of(CreditRecord.subject) == f.district)
        return where

    def _records(self, session: Session, f: KpiFilter) -> dict[str, Any]:
        lag = days_after(CreditRecord.event_date, CreditRecord.created_at)
        timely = func.sum(case((lag <= self.timely_days, 1), else_=0))
        ind = industries(session, f.month_end())
        dimensions: dict[str, ColumnElement[Any]] = {
            "category": CreditRecord.category.expression,
            "provider": CreditRecord.provider.expression,
            "district": district_of(CreditRecord.subject),
            "month": year_month(CreditRecord.created_at),
        }
        # one scan of the records to their finest grain; the groupings sum that small result
        fine = (
            select(
                *(column.label(name) for name, column in dimensions.items()),
                func.count().label("collected"),
                timely.label("timely"),
            )
            .where(*self._record_where(f, ind))
            .group_by(*dimensions.values())
            .cte("fine")
        )
        found = grouped_sets(
            session,
            {name: fine.c[name] for name in dimensions},
            [func.sum(fine.c.collected), func.sum(fine.c.timely)],
            [],
        )
        found["month"] = [(month_text(k), sums) for k, sums in found["month"]]
        # by industry: the records summed per enterprise first (one row each), then joined to
        # the enterprises' industries - joining every record cost 8x the report's CPU
        per_subject = (
            select(CreditRecord.subject, func.count().label("collected"), timely.label("timely"))
            .where(*self._record_where(f, ind))
            .group_by(CreditRecord.subject)
            .subquery()
        )
        found["industry"] = [
            (k, (n, t))
            for k, n, t in session.execute(
                select(ind.c.industry, func.sum(per_subject.c.collected), func.sum(per_subject.c.timely))
                .select_from(per_subject)
                .outerjoin(ind, ind.c.subject == per_subject.c.subject)
                .group_by(ind.c.industry)
            )
        ]
        rows = {
            name: by_key(
                [{"key": k, "collected": int(n or 0), "timely": int(t or 0)} for k, (n, t) in groups]
            )
            for name, groups in found.items()
        }
        (_, (total, on_time)), *_ = found[TOTAL] or [(None, (0, 0))]
        names = ("category", "provider", "district", "industry", "month")
        return {
            "collected": int(total or 0),
            "timely": int(on_time or 0),
            "timely_share": ratio(int(on_time or 0), int(total or 0)),
            **{f"by_{name}": rows[name] for name in names},
        }

    # -- enterprises -------------------------------------------------------------------------

    def _enterprises(self, session: Session, f: KpiFilter) -> dict[str, Any]:
        where: list[ColumnElement[bool]] = []
        end = f.month_end()
        if end is not None:
            where.append(CreditRecord.created_at < end)
        if f.district is not None:
            where.append(district_of(CreditRecord.subject) == f.district)
        subjects = select(CreditRecord.subject).where(*where).group_by(CreditRecord.subject).subquery()
        loan_where: list[ColumnElement[bool]] = [LoanRow.approved.is_(True)]
        if f.month is not None:
            loan_where.append(LoanRow.decided_month <= f.month)
        borrowers = select(LoanRow.subject).where(*loan_where).group_by(LoanRow.subject).subquery()
        ind = industries(session, end)
        # one statement: each onboarded enterprise, its industry, and whether it borrowed
        q = (
            select(ind.c.industry, func.count(), func.count(borrowers.c.subject))
            .select_from(subjects)
            .outerjoin(ind, ind.c.subject == subjects.c.subject)
            .outerjoin(borrowers, borrowers.c.subject == subjects.c.subject)
            .group_by(ind.c.industry)
        )
        if f.industry is not None:
            q = q.where(ind.c.industry == f.industry)
        per_industry = {industry: [int(n), int(w)] for industry, n, w in session.execute(q)}
        onboarded = sum(o for o, _ in per_industry.values())
        with_loan = sum(w for _, w in per_industry.values())
        city_wide = f.district is None and f.industry is None  # the setting is the city's total
        total = self.market_entities if city_wide else None
        return {
            "onboarded": onboarded,
            "market_entities": total,
            "onboarded_share": ratio(onboarded, total),
            "with_loan": with_loan,
            "with_loan_share": ratio(with_loan, onboarded),
            "by_industry": enterprise_breakdown(per_industry.items()),
        }

    # -- loans -------------------------------------------------------------------------------

    def _loans(
        self, session: Session, f: KpiFilter, *, cell_sizes: bool = False
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The loan figures, and with `cell_sizes` the distinct enterprises each cell's
        decisions concern (a distinct count per grouping: asked only when cells are checked)."""
        where: list[ColumnElement[bool]] = []
        if f.month is not None:
            where.append(LoanRow.decided_month == f.month)
        if f.district is not None:
            where.append(LoanRow.district == f.district)
        if f.industry is not None:
            where.append(LoanRow.industry == f.industry)
        dimensions: dict[str, ColumnElement[Any]] = {
            "district": LoanRow.district.expression,
            "industry": LoanRow.industry.expression,
            "month": LoanRow.decided_month.expression,
        }
        enterprises = func.count(distinct(LoanRow.subject)) if cell_sizes else literal(0)
        found = grouped_sets(session, dimensions, [*_loan_sums(), enterprises], where)
        (_, total), *_ = found[TOTAL] or [(None, (0,) * 9)]
        sizes: dict[str, Any] = {
            TOTAL: int(total[8] or 0),
            **{f"by_{name}": {k: int(sums[8]) for k, sums in found[name]} for name in dimensions},
        }
        figures = {
            **loan_metrics(total[:8]),
            **{
                f"by_{name}": by_key([{"key": k, **loan_metrics(sums[:8])} for k, sums in found[name]])
                for name in dimensions
            },
        }
        return figures, sizes

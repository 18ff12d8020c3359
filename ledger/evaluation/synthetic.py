"""A synthetic SME cohort: generated enterprises, their records, and a default label.

SYNTHETIC DATA. No SME data set with outcomes exists in any package, and institutions'
loan outcomes are not on the platform yet, so the scorecard is trained on a cohort made
here. Nothing in it is about a real enterprise; every figure derived from it says so.

Enterprise n of a cohort depends only on (seed, n) (its own `random.Random`), so a
cohort can be generated in any order or in pieces and is the same every time.

*Records.* Each enterprise draws hidden traits: health h ~ N(0, 1) (how well it is run),
innovation i ~ N(0, 1) (correlated 0.3 with h), headcount (log-normal, median ~12),
age (3 months plus an exponential with mean 70 months, at most 30 years). From them:
a registration record (in business unless h is very low); tax records for up to the
last two years (grade better with h; overdue tax and major violations likelier with
low h); monthly social insurance (70%) for up to the last 12 months, headcount growing
with h, months in arrears likelier with low h; housing fund (25%) and monthly
electricity bills (40%) alike; administrative penalties, court cases, listings on the serious-dishonesty
and abnormal-operation lists, each likelier with low h, dated within their publicity
periods (records past publicity are withheld by the release path); patents and
trademarks (more with i), R&D and high-tech status for the innovative; and conduct
facts: a truthfulness commitment (15%, breached more with low h), an objection (3%,
to one of its records; an open one marks that record disputed) and a repair
application (10% of those penalised; an approved one marks the penalty repaired).
Records fit the catalogue version the indicator file reads (a test holds every one to it).

*The 专精特新 qualification* (only for an indicator file reading catalogue v2 or later, whose
`rnd` category carries it; drawn from a stream of its own, so every other record and the v1
cohort are the same as without it): an enterprise with an R&D record is certified with
probability sigmoid(-1.4 + 0.8 (i - 0.8) + 0.6 h) - about a third of them, the better run
and more innovative likelier; the level is national (10%), provincial (40%) or municipal
(50%), a notch higher with probability sigmoid(h + i - 2); it was certified 0 to 5 years
before the R&D record and is valid 3 years (so about two in five have lapsed by `as_of`).

*Label.* The default flag is drawn once the portrait is computed, with probability
sigmoid(z) where z = -3.15 - 0.35 ln(1 + age/12) - 0.12 ln(1 + insured headcount)
- 0.45 (tax grade - 2) [+0.3 without a grade] + 2.5 (1 - in business)
- 0.9 clip(headcount trend, -1, 1) - 1.2 (social insurance continuity - 0.75)
+ 0.6 [overdue tax] + 1.0 major tax violation + 0.25 min(arrears months, 6)
+ 0.12 min(overdue utility bills, 6) + 0.6 min(enforcement cases, 3)
+ 0.2 min(penalties, 5) + 1.8 serious-dishonesty listed + 0.9 abnormal-operation listed
- 0.08 min(patents, 6) - 0.25 high-tech + 0.8 min(commitments breached, 2)
- 0.2 (专精特新 level in force: national 3, provincial 2, municipal 1, none 0)
- 0.4 u, with u = 0.6 e + 0.4 h and e ~ N(0, 1) drawn apart: a part of the risk the
records do not show.
So risk depends on the indicators in the directions one expects, not on any one alone,
and about 6-8% of the cohort defaults. The qualification's term is plausible rather than
measured: a qualified SME has passed a vetting of its finances and markets and gets policy
support (subsidies, guaranteed loans), worth -0.6 on the log-odds for a national one; it
only enters where the portrait has the indicator (indicator file v2), so v1 labels are
unchanged.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ledger.evaluation.facts import COMMITMENT, OBJECTION, REPAIR
from ledger.evaluation.indicators import IndicatorFile
from ledger.evaluation.portrait import Portrait, PortraitEvaluator, months_before
from ledger.evaluation.records import PlainRecord
from ledger.records.samples import sample_uscc

__all__ = ["GENERATOR", "GENERATOR_VERSION", "Labelled", "SyntheticCohort", "SyntheticEnterprise"]

GENERATOR = "ledger.evaluation.synthetic"
GENERATOR_VERSION = 1
_LABEL_STREAM = 0x5EED  # a second stream per enterprise, for the label alone
_QUALIFICATION_STREAM = 0x5E1F  # a third, for the 专精特新 qualification alone
_QUALIFICATION_LEVELS = ("municipal", "provincial", "national")
_QUALIFICATION_YEARS = 3  # a qualification's validity

_SURNAMES = "王李张刘陈杨赵黄周吴"
_INDUSTRIES = ("科技", "贸易", "制造", "餐饮", "物流", "建筑", "咨询", "电子")


@dataclass(frozen=True, slots=True)
class SyntheticEnterprise:
    n: int
    subject: str  # a valid synthetic USCC
    records: tuple[PlainRecord, ...]
    health: float  # hidden traits, kept for tests of the generator
    innovation: float


@dataclass(frozen=True, slots=True)
class Labelled:
    subject: str
    portrait: Portrait
    default: int  # 1: defaulted within the synthetic horizon
    enterprise: SyntheticEnterprise


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def _poisson(rng: random.Random, lam: float) -> int:
    """Knuth's method; the rates here are small."""
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


class SyntheticCohort:
    """SYNTHETIC enterprises as of `as_of`, reproducible from `seed`."""

    def __init__(self, seed: int, as_of: date, indicators: IndicatorFile) -> None:
        self.seed = seed
        self.as_of = as_of
        self.evaluator = PortraitEvaluator(indicators)
        self.first_of_month = as_of.replace(day=1)
        #: catalogue v2 carries the 专精特新 qualification in `rnd`
        self.qualifications = indicators.catalogue_version >= 2

    def description(self, count: int) -> dict[str, Any]:
        return {
            "synthetic": True,
            "generator": GENERATOR,
            "generator_version": GENERATOR_VERSION,
            "seed": self.seed,
            "as_of": self.as_of.isoformat(),
            "enterprises": count,
            "indicator_version": self.evaluator.indicators.version,
            "indicator_sha256": self.evaluator.indicators.content_hash().hex(),
        }

    # ------------------------------------------------------------------ enterprises

    def enterprise(self, n: int) -> SyntheticEnterprise:
        rng = random.Random(self.seed * 1_000_003 + n)
        g = _Gen(self, n, rng)
        return SyntheticEnterprise(n, g.subject, tuple(g.records()), g.health, g.innovation)

    def labelled(self, start: int, count: int) -> Iterator[Labelled]:
        for n in range(start, start + count):
            e = self.enterprise(n)
            portrait = self.evaluator.evaluate(e.records, self.as_of)
            p = self.default_probability(portrait.values, e.health, n)
            label_rng = random.Random((self.seed * 1_000_003 + n) ^ (_LABEL_STREAM << 40))
            yield Labelled(e.subject, portrait, int(label_rng.random() < p), e)

    def default_probability(self, v: Mapping[str, float | None], health: float, n: int) -> float:
        """The synthetic truth: see the module docstring."""
        hidden = random.Random((self.seed * 1_000_003 + n) ^ (_LABEL_STREAM << 41)).gauss(0.0, 1.0)
        u = 0.6 * hidden + 0.4 * health

        def x(name: str) -> float:
            value = v.get(name)
            return 0.0 if value is None else value

        grade = v.get("tax_credit_grade")
        z = -3.15
        z -= 0.35 * math.log1p(x("registration_age_months") / 12)
        z -= 0.12 * math.log1p(x("social_insurance_headcount"))
        z += 0.3 if grade is None else -0.45 * (grade - 2)
        z += 2.5 * (1 - (v.get("registration_in_business") or 0.0))
        z -= 0.9 * max(-1.0, min(1.0, x("social_insurance_headcount_trend")))
        z -= 1.2 * (x("social_insurance_continuity") - 0.75)
        z += 0.6 * (x("tax_overdue_amount") > 0)
        z += 1.0 * x("major_tax_violation")
        z += 0.25 * min(x("social_insurance_arrears_months"), 6)
        z += 0.12 * min(x("utilities_overdue_bills"), 6)
        z += 0.6 * min(x("judicial_enforcement"), 3)
        z += 0.2 * min(x("penalties"), 5)
        z += 1.8 * x("serious_dishonesty_listed")
        z += 0.9 * x("abnormal_operation_listed")
        z -= 0.08 * min(x("patents"), 6)
        z -= 0.25 * x("high_tech_enterprise")
        z += 0.8 * min(x("commitments_breached"), 2)
        z -= 0.2 * x("specialized_sme_level")
        z -= 0.4 * u
        return _sigmoid(z)


class _Gen:
    """The records of one enterprise (one call of `records`)."""

    def __init__(self, cohort: SyntheticCohort, n: int, rng: random.Random) -> None:
        self.c, self.n, self.rng = cohort, n, rng
        self.subject = sample_uscc(n + cohort.seed * 10_000_000)
        self.health = rng.gauss(0.0, 1.0)
        self.innovation = 0.3 * self.health + math.sqrt(1 - 0.09) * rng.gauss(0.0, 1.0)
        self.headcount = max(1, int(math.exp(rng.gauss(2.5, 1.0))))
        self.age_months = min(360, 3 + int(rng.expovariate(1 / 70)))
        self._k = 0
        self._out: list[PlainRecord] = []

    def _add(
        self, category: str, when: date, fields: dict[str, Any], severity: str | None = None
    ) -> PlainRecord:
        self._k += 1
        r = PlainRecord(f"syn-{self.n}-{self._k}", category, when, fields, 1, severity)
        self._out.append(r)
        return r

    def _days_ago(self, most: int) -> date:
        return self.c.as_of - timedelta(days=self.rng.randint(1, max(1, most)))

    def records(self) -> list[PlainRecord]:
        rng, h = self.rng, self.health
        established = months_before(self.c.as_of, self.age_months)
        self._registration(established)
        months = min(12, self.age_months)
        if rng.random() < 0.9 and self.age_months >= 6:
            self._tax()
        if rng.random() < 0.7:
            self._monthly_social_insurance(months)
        if rng.random() < 0.25:
            self._monthly_housing_fund(months)
        if rng.random() < 0.4:
            self._monthly_utilities(months)
        penalties = [self._penalty() for _ in range(_poisson(rng, 0.25 * math.exp(-0.6 * h)))]
        for _ in range(_poisson(rng, 0.12 * math.exp(-0.9 * h))):
            self._judicial()
        if rng.random() < 0.01 * math.exp(-1.2 * h):
            self._dishonesty()
        if rng.random() < 0.04 * math.exp(-0.8 * h):
            self._abnormal()
        for _ in range(_poisson(rng, 0.8 * math.exp(0.5 * self.innovation))):
            self._ip()
        if self.innovation > 0.8:
            self._rnd()
        self._conduct(penalties)
        return self._out

    def _registration(self, established: date) -> None:
        rng = self.rng
        status = "in_business"
        if self.health < -2.2 and rng.random() < 0.5:
            status = rng.choice(("revoked", "cancelled"))
        elif rng.random() < 0.01:
            status = "moved_out"
        self._add("registration", established, {
            "enterprise_name": f"样例{rng.choice(_INDUSTRIES)}{self.n}有限公司",
            "uscc": self.subject,
            "entity_type": "limited_liability_company",
            "legal_representative": rng.choice(_SURNAMES) + "某",
            "registered_capital": rng.randint(1, 1000) * 10_000,
            "established_on": established.isoformat(),
            "address": f"河南省郑州市金水区样例路{self.n % 500 + 1}号",
            "registration_authority": "郑州市市场监督管理局",
            "status": status,
        })  # fmt: skip

    def _tax(self) -> None:
        rng, h = self.rng, self.health
        years = min(2, self.age_months // 12 + 1)
        for k in range(years):
            year = self.c.as_of.year - 1 - k
            grade = ("D", "C", "M", "B", "A")[max(0, min(4, round(2.4 + 0.9 * h + rng.gauss(0, 0.7))))]
            fields: dict[str, Any] = {
                "tax_year": year,
                "credit_grade": grade,
                "taxpayer_type": "general_taxpayer" if self.headcount > 20 else "small_scale_taxpayer",
                "annual_tax_paid": round(self.headcount * rng.uniform(5_000, 30_000) * math.exp(0.3 * h), 2),
            }
            if rng.random() < _sigmoid(-2.5 - 1.2 * h):
                fields["overdue_tax_amount"] = rng.randint(1, 200) * 1000
            if rng.random() < 0.01 * math.exp(-h):
                fields["major_tax_violation"] = True
            when = min(date(year + 1, 4, 30), self.c.as_of - timedelta(days=1))
            self._add("tax", when, fields)

    def _months(self, count: int) -> list[date]:
        return [months_before(self.c.first_of_month, k) for k in range(count, 0, -1)]

    def _monthly_social_insurance(self, months: int) -> None:
        rng, h = self.rng, self.health
        growth = rng.gauss(0.03 + 0.08 * h, 0.1)  # per half-year
        arrears = _sigmoid(-3.0 - 1.3 * h)
        for k, period in enumerate(self._months(months)):
            drift = (1 + growth) ** ((k - months) / 6)
            headcount = max(1, round(self.headcount * drift * rng.uniform(0.97, 1.03)))
            status = "in_arrears" if rng.random() < arrears else "normal"
            fields: dict[str, Any] = {
                "period": period.isoformat(),
                "insured_headcount": headcount,
                "monthly_contribution": round(headcount * 1_200.0, 2),
                "payment_status": status,
            }
            if status == "in_arrears":
                fields["arrears_amount"] = round(headcount * 1_200.0, 2)
            self._add("social_insurance", period + timedelta(days=14), fields)

    def _monthly_housing_fund(self, months: int) -> None:
        rng, h = self.rng, self.health
        late = _sigmoid(-3.5 - 1.0 * h)
        staff = max(1, round(self.headcount * 0.6))
        for period in self._months(months):
            status = "in_arrears" if rng.random() < late else "normal"
            self._add("housing_fund", period + timedelta(days=14), {
                "period": period.isoformat(),
                "deposit_headcount": staff,
                "deposit_status": status,
            })  # fmt: skip

    def _monthly_utilities(self, months: int) -> None:
        rng, h = self.rng, self.health
        late = _sigmoid(-2.8 - 1.1 * h)
        for period in self._months(months):
            due = round(self.headcount * rng.uniform(150, 400), 2)
            status = "overdue" if rng.random() < late else "paid"
            self._add("utilities", period + timedelta(days=20), {
                "utility_type": "electricity",
                "period": period.isoformat(),
                "amount_due": due,
                "amount_paid": due if status == "paid" else 0,
                "payment_status": status,
            })  # fmt: skip

    def _penalty(self) -> PlainRecord:
        rng = self.rng
        severity, days = rng.choice((("minor", 90), ("general", 365), ("general", 365), ("serious", 1095)))
        when = self._days_ago(min(days, self.age_months * 30))
        return self._add("administrative_penalty", when, {
            "decision_number": f"郑市监罚〔{when.year}〕{self.n % 9000 + 1}号",
            "decision_date": when.isoformat(),
            "authority": "郑州市市场监督管理局",
            "penalty_type": rng.choice(("warning", "fine", "fine")),
            "violation": "虚假宣传",
            "reason": "发布与实际不符的产品宣传内容",
            "legal_basis": "《中华人民共和国反不正当竞争法》第二十条",
            "amount": rng.randint(1, 100) * 1000,
        }, severity)  # fmt: skip

    def _judicial(self) -> None:
        rng = self.rng
        case_type = rng.choice(
            ("civil_judgment", "civil_judgment", "enforcement", "dishonest_judgment_debtor")
        )
        severity, days = ("serious", 1095) if case_type == "dishonest_judgment_debtor" else ("general", 365)
        when = self._days_ago(min(days, self.age_months * 30))
        amount = rng.randint(1, 500) * 1000
        status = rng.choice(("fulfilled", "partially_fulfilled", "unfulfilled"))
        fields: dict[str, Any] = {
            "case_number": f"（{when.year}）豫0105执{self.n % 9000 + 1}号",
            "court": "郑州市金水区人民法院",
            "case_type": case_type,
            "filed_on": when.isoformat(),
            "amount_involved": amount,
            "performance_status": status,
        }
        if status != "fulfilled":
            fields["outstanding_amount"] = amount if status == "unfulfilled" else amount // 2
        self._add("judicial", when, fields, severity)

    def _dishonesty(self) -> None:
        when = self._days_ago(min(1095, self.age_months * 30))
        self._add("serious_dishonesty_list", when, {
            "list_name": "严重失信主体名单",
            "listing_authority": "郑州市发展和改革委员会",
            "decision_number": f"郑失信〔{when.year}〕{self.n % 9000 + 1}号",
            "listed_on": when.isoformat(),
            "reason": "拒不履行法定义务",
        }, "serious")  # fmt: skip

    def _abnormal(self) -> None:
        rng = self.rng
        severity, days = rng.choice((("minor", 90), ("general", 365)))
        when = self._days_ago(min(days, self.age_months * 30))
        fields: dict[str, Any] = {
            "listing_reason": rng.choice(("annual_report_not_filed", "unreachable_at_registered_address")),
            "listed_on": when.isoformat(),
            "listing_authority": "郑州市市场监督管理局",
        }
        if rng.random() < 0.4 and when < self.c.as_of - timedelta(days=2):
            fields["removed_on"] = (when + timedelta(days=1)).isoformat()
        self._add("abnormal_operation_list", when, fields, severity)

    def _ip(self) -> None:
        rng = self.rng
        ip_type = rng.choice(
            ("invention_patent", "utility_model", "utility_model", "design_patent", "trademark")
        )
        when = self._days_ago(min(3650, self.age_months * 30))
        self._add("intellectual_property", when, {
            "ip_type": ip_type,
            "registration_number": f"ZL{when.year}{self.n:08d}{self._k}",
            "title": "一种样例装置",
            "granted_on": when.isoformat(),
            "status": "valid" if rng.random() < 0.85 else rng.choice(("expired", "pledged")),
        })  # fmt: skip

    def _rnd(self) -> None:
        rng = self.rng
        year = self.c.as_of.year - 1
        when = min(date(year + 1, 3, 31), self.c.as_of - timedelta(days=1))
        fields: dict[str, Any] = {
            "fiscal_year": year,
            "high_tech_enterprise": rng.random() < 0.6,
            "rnd_expense": round(self.headcount * rng.uniform(10_000, 80_000), 2),
            "rnd_staff_count": max(1, self.headcount // 5),
        }
        if self.c.qualifications:
            fields |= self._qualification(when)
        self._add("rnd", when, fields)

    def _qualification(self, reported: date) -> dict[str, Any]:
        """The 专精特新 qualification on the R&D record, if any (see the module docstring)."""
        rng = random.Random((self.c.seed * 1_000_003 + self.n) ^ (_QUALIFICATION_STREAM << 40))
        h, i = self.health, self.innovation
        if rng.random() >= _sigmoid(-1.4 + 0.8 * (i - 0.8) + 0.6 * h):
            return {}
        draw = rng.random()
        level = 2 if draw < 0.1 else 1 if draw < 0.5 else 0
        if level < 2 and rng.random() < _sigmoid(h + i - 2):
            level += 1
        certified = reported - timedelta(days=rng.randint(0, 5 * 365))
        until = date(certified.year + _QUALIFICATION_YEARS, certified.month, min(certified.day, 28))
        return {
            "specialized_sme_level": _QUALIFICATION_LEVELS[level],
            "specialized_sme_certified_on": certified.isoformat(),
            "specialized_sme_valid_until": (until - timedelta(days=1)).isoformat(),
        }

    def _conduct(self, penalties: list[PlainRecord]) -> None:
        rng, h = self.rng, self.health
        if rng.random() < 0.15:
            breached = rng.random() < 0.05 * math.exp(-h)
            self._add(
                COMMITMENT, self._days_ago(720), {"kind": "enterprise_truthfulness", "breached": breached}
            )
        if rng.random() < 0.03 and len(self._out) > 1:
            k = rng.randrange(1, len(self._out))  # not the registration
            target = self._out[k]
            status = rng.choice(("open", "upheld", "upheld", "corrected", "withdrawn"))
            if status == "open":
                self._out[k] = _replace(target, disputed=True)
            self._add(OBJECTION, self._days_ago(300), {"status": status, "record_id": target.record_id})
        if penalties and rng.random() < 0.1:
            target = penalties[0]
            status = rng.choice(("pending", "approved", "rejected"))
            if status == "approved":
                k = next(k for k, r in enumerate(self._out) if r.record_id == target.record_id)
                self._out[k] = _replace(self._out[k], repaired=True)
            self._add(REPAIR, self._days_ago(60), {
                "status": status, "record_id": target.record_id, "category": target.category,
            })  # fmt: skip


def _replace(r: PlainRecord, *, disputed: bool = False, repaired: bool = False) -> PlainRecord:
    return PlainRecord(
        r.record_id,
        r.category,
        r.event_date,
        r.fields,
        r.version,
        r.severity,
        disputed or r.disputed,
        repaired,
    )

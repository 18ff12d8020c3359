"""Matching a financing demand against loan products: pure, and the enterprise's own view.

For each product in force and not withdrawn, every criterion is checked - the demand's
amount and term against the product's ranges, then each eligibility rule against the
enterprise's profile - and reported met or not met with a zh/en reason. A product is
eligible when every criterion is met.

The result is computed from the enterprise's private data, so it is shown to the
enterprise only (like its own evaluation): no institution sees it, and applying shares
nothing but what the enterprise's own consent grant covers.

Speed: within one match, equal criteria have equal outcomes (same profile, same demand),
so each distinct criterion is checked once and its outcome shared (`memo`); each product
carries the keys of its criteria, computed once per stored version (`OfferedProduct`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any

from ledger.financing.eligibility import Outcome, Profile, Rule, check_rule, rule_key
from ledger.financing.products import LoanProductDocument, Range

_MET = itemgetter(1)


@dataclass(frozen=True)
class Demand:
    amount: int  # yuan
    term_months: int


class OfferedProduct:
    """A product version as matching sees it: the document, who offers it, and what matching
    needs of it precomputed once (a stored version never changes): its criteria's keys and
    its public description."""

    __slots__ = ("document", "institution", "keys", "rules", "summary")

    def __init__(self, document: LoanProductDocument, institution: str) -> None:
        d = document
        self.document = document
        self.institution = institution
        self.rules: dict[Any, Rule | Range] = {
            ("amount", d.amount.min, d.amount.max): d.amount,
            ("term_months", d.term_months.min, d.term_months.max): d.term_months,
        }
        for rule in d.eligibility:
            self.rules[rule_key(rule)] = rule
        self.keys = (
            ("amount", d.amount.min, d.amount.max),
            ("term_months", d.term_months.min, d.term_months.max),
            *(rule_key(r) for r in d.eligibility),
        )
        self.summary: dict[str, Any] = {
            "key": d.key, "version": d.version, "name": d.name, "kind": d.product_kind,
            "institution": institution, "amount": d.amount.model_dump(),
            "term_months": d.term_months.model_dump(),
            "annual_rate_percent": d.annual_rate_percent.model_dump(), "guarantee": d.guarantee,
        }  # fmt: skip


class ProductMatch:
    __slots__ = ("criteria", "eligible", "product")

    def __init__(self, product: OfferedProduct, eligible: bool, criteria: tuple[Outcome, ...]) -> None:
        self.product = product
        self.eligible = eligible
        self.criteria = criteria

    def to_json(self, memo: dict[int, dict[str, Any]] | None = None) -> dict[str, Any]:
        """The match as JSON; `memo` shares the JSON of outcomes shared between products."""
        memo = {} if memo is None else memo
        criteria = []
        for c in self.criteria:
            j = memo.get(id(c))
            if j is None:
                j = memo[id(c)] = c.to_json()
            criteria.append(j)
        return {"product": self.product.summary, "eligible": self.eligible, "criteria": criteria}


def matches_json(results: Iterable[ProductMatch]) -> list[dict[str, Any]]:
    memo: dict[int, dict[str, Any]] = {}
    return [r.to_json(memo) for r in results]


def _fit(name: str, value: float, offered: Range) -> Outcome:
    zh, en, unit_zh, unit_en = (
        ("金额", "amount", "元", "yuan") if name == "amount" else ("期限", "term", "个月", "months")
    )
    low, high = offered.min, offered.max
    return Outcome(
        name, low <= value <= high, True,
        f"需求{zh}{value:g}{unit_zh}，产品范围{low:g}-{high:g}{unit_zh}",
        f"demanded {en} {value:g} {unit_en}; the product offers {low:g}-{high:g} {unit_en}",
    )  # fmt: skip


def _outcome(key: Any, spec: Rule | Range, demand: Demand, profile: Profile) -> Outcome:
    if isinstance(spec, Range):
        return _fit(key[0], demand.amount if key[0] == "amount" else demand.term_months, spec)
    return check_rule(spec, profile)


def match_product(
    product: OfferedProduct, demand: Demand, profile: Profile, memo: dict[Any, Outcome] | None = None
) -> ProductMatch:
    """`product` against `demand` and `profile`; `memo` shares the outcomes of equal criteria."""
    memo = {} if memo is None else memo
    try:
        criteria = tuple(map(memo.__getitem__, product.keys))
    except KeyError:  # a criterion not seen yet in this match: check the missing ones
        for key, spec in product.rules.items():
            if key not in memo:
                memo[key] = _outcome(key, spec, demand, profile)
        criteria = tuple(map(memo.__getitem__, product.keys))
    return ProductMatch(product, all(map(_MET, criteria)), criteria)


def match(
    demand: Demand, profile: Profile, products: Iterable[OfferedProduct], at: datetime
) -> list[ProductMatch]:
    """Every product in force at `at` and not withdrawn, matched; eligible ones first
    (then by lowest minimum rate, then key)."""
    memo: dict[Any, Outcome] = {}
    results = [
        match_product(p, demand, profile, memo)
        for p in products
        if not p.document.withdrawn and p.document.in_force(at)
    ]
    results.sort(
        key=lambda m: (not m.eligible, m.product.document.annual_rate_percent.min, m.product.document.key)
    )
    return results

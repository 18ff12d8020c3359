"""Matching a financing demand against loan products: pure, and the enterprise's own view.

For each product in force and not withdrawn, every criterion is checked - the demand's
amount and term against the product's ranges, then each eligibility rule against the
enterprise's profile - and reported met or not met with a zh/en reason. A product is
eligible when every criterion is met.

The result is computed from the enterprise's private data, so it is shown to the
enterprise only (like its own evaluation): no institution sees it, and applying shares
nothing but what the enterprise's own consent grant covers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.financing.eligibility import Outcome, Profile, check_rule
from ledger.financing.products import LoanProductDocument


@dataclass(frozen=True)
class Demand:
    amount: int  # yuan
    term_months: int


@dataclass(frozen=True)
class OfferedProduct:
    """A product version as matching sees it: the document and who offers it."""

    document: LoanProductDocument
    institution: str


@dataclass(frozen=True)
class ProductMatch:
    product: OfferedProduct
    eligible: bool
    criteria: tuple[Outcome, ...]

    def to_json(self) -> dict[str, Any]:
        d = self.product.document
        return {
            "product": {
                "key": d.key, "version": d.version, "name": d.name, "kind": d.product_kind,
                "institution": self.product.institution,
                "amount": d.amount.model_dump(), "term_months": d.term_months.model_dump(),
                "annual_rate_percent": d.annual_rate_percent.model_dump(), "guarantee": d.guarantee,
            },
            "eligible": self.eligible,
            "criteria": [c.to_json() for c in self.criteria],
        }  # fmt: skip


def _fit(
    name: str, zh: str, en: str, value: float, low: float, high: float, unit_zh: str, unit_en: str
) -> Outcome:
    met = low <= value <= high
    return Outcome(
        name, met, True,
        f"需求{zh}{value:g}{unit_zh}，产品范围{low:g}-{high:g}{unit_zh}",
        f"demanded {en} {value:g} {unit_en}; the product offers {low:g}-{high:g} {unit_en}",
    )  # fmt: skip


def match_product(product: OfferedProduct, demand: Demand, profile: Profile) -> ProductMatch:
    d = product.document
    amount, term = d.amount, d.term_months
    criteria = [
        _fit("amount", "金额", "amount", demand.amount, amount.min, amount.max, "元", "yuan"),
        _fit("term_months", "期限", "term", demand.term_months, term.min, term.max, "个月", "months"),
    ]
    criteria.extend(check_rule(rule, profile) for rule in d.eligibility)
    return ProductMatch(product, all(c.met for c in criteria), tuple(criteria))


def match(
    demand: Demand, profile: Profile, products: Iterable[OfferedProduct], at: datetime
) -> list[ProductMatch]:
    """Every product in force at `at` and not withdrawn, matched; eligible ones first
    (then by lowest minimum rate), each group in product-key order otherwise."""
    results = [
        match_product(p, demand, profile)
        for p in products
        if not p.document.withdrawn and p.document.in_force(at)
    ]
    results.sort(
        key=lambda m: (not m.eligible, m.product.document.annual_rate_percent.min, m.product.document.key)
    )
    return results

"""Loan products (二(六)): versioned documents published by the institution that offers them.

A product names its kind (科技贷, 创业担保贷, 专精特新贷 …), amount and term ranges, rate
range, guarantee and its eligibility rules (`ledger.financing.eligibility`). Every rule
is checked at publication: a rule over a field the platform does not hold is refused
with the field named (422 `eligibility_invalid`), before anything is anchored or stored.
Withdrawing a product is a new version with `withdrawn: true`.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ledger.chain.publications import PublicationKind
from ledger.errors import InvalidInput
from ledger.financing.documents import PublishedDocument
from ledger.financing.eligibility import Rule, RuleInvalid


class ProductInvalid(InvalidInput):
    """A loan product document does not fit the schema (the field named)."""

    code = "product_invalid"


#: the catalogue purpose a loan application's consent grant is for (授信审批)
LOAN_APPLICATION_PURPOSE = "credit_assessment"

#: the product kinds named by the work plan, and others
PRODUCT_KINDS = ("科技贷", "创业担保贷", "专精特新贷", "信用贷", "税易贷", "知识产权质押贷", "其他")


class Range(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min: float = Field(ge=0)
    max: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.max < self.min:
            raise ValueError("max must be at least min")
        return self

    def covers(self, value: float) -> bool:
        return self.min <= value <= self.max


class LoanProductDocument(PublishedDocument):
    """One version of a loan product."""

    KIND: ClassVar[PublicationKind] = PublicationKind.LOAN_PRODUCT

    name: str = Field(min_length=1, max_length=200)
    product_kind: str = Field(description=f"one of {', '.join(PRODUCT_KINDS)}")
    amount: Range = Field(description="yuan")
    term_months: Range
    annual_rate_percent: Range
    guarantee: Literal["credit", "guaranteed", "collateral", "pledge", "mixed"]
    description: str = Field(default="", max_length=4000)
    eligibility: list[Rule] = Field(default_factory=list, max_length=50)
    withdrawn: bool = False

    @model_validator(mode="after")
    def _kind(self) -> LoanProductDocument:
        if self.product_kind not in PRODUCT_KINDS:
            raise ValueError(f"product_kind must be one of {', '.join(PRODUCT_KINDS)}")
        return self


def parse_product(document: object) -> LoanProductDocument:
    """The product document, every rule checked; refusals name the field (422).

    An unknown eligibility field is `RuleInvalid` (`eligibility_invalid`) naming it; any
    other schema error is `ProductInvalid` with pydantic's locations.
    """
    if isinstance(document, dict):
        for i, rule in enumerate(document.get("eligibility") or []):
            if isinstance(rule, dict):
                try:
                    Rule.model_validate(rule)
                except ValidationError as exc:
                    raise RuleInvalid(f"eligibility[{i}]: {_first(exc)}") from None
    try:
        product = LoanProductDocument.model_validate(document)
    except ValidationError as exc:
        raise ProductInvalid(f"loan product: {_first(exc)}") from None
    for i, rule in enumerate(product.eligibility):
        try:
            rule.check()
        except RuleInvalid as exc:
            raise RuleInvalid(f"eligibility[{i}]: {exc.message}") from None
    return product


def _first(exc: ValidationError) -> str:
    errors = exc.errors()
    parts = [f"{'.'.join(str(p) for p in e['loc']) or 'document'}: {e['msg']}" for e in errors[:5]]
    return "; ".join(parts)

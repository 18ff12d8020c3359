"""A loan product as an institution fills it in on its page, checked before it is signed.

The institution's product form sends plain strings (ranges, dates, up to `RULE_ROWS`
eligibility rules as field, operator and value); `product_draft` makes them the product
document (`ledger.financing.products`), each rule's value typed as its field takes it, and
checks it with `parse_product`, the very function `POST /financing/publications` refuses
with: an unknown eligibility field is refused here, named, before anything is signed.
A document that passes is answered in its RFC 8785 form, which the browser hashes itself,
signs (`Publish`) and sends to the API, where it is checked again and anchored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from ledger.domain.business_day import BUSINESS_UTC_OFFSET_MINUTES
from ledger.financing.eligibility import FIELDS, FieldType
from ledger.financing.products import LoanProductDocument, parse_product

__all__ = ["BUSINESS_TZ", "RULE_ROWS", "ProductDraft", "RuleView", "product_draft", "rule_value"]

#: how many eligibility rules the form offers
RULE_ROWS = 4
#: validity dates are business days: they start at midnight Beijing time
BUSINESS_TZ = timezone(timedelta(minutes=BUSINESS_UTC_OFFSET_MINUTES))
_TRUE = {"true", "yes", "1", "是", "y"}
_FALSE = {"false", "no", "0", "否", "n"}


@dataclass(frozen=True)
class RuleView:
    """One rule in words: its field's names, the operator, the value as shown."""

    field: str
    name_zh: str
    name_en: str
    op: str
    value: Any  # a number, a flag, a text or a list of texts


@dataclass(frozen=True)
class ProductDraft:
    """A product that passed the platform's checks: the document, its canonical text, its rules in words."""

    document: LoanProductDocument
    canonical: str
    rules: list[RuleView]


def rule_value(field: str, op: str, text: str) -> Any:
    """The value of a rule over `field` typed as the field takes it (a list for `in`).

    A field the platform does not hold keeps the text: the check refuses the rule by its field.
    """
    text = text.strip()
    if op == "in":
        return [part.strip() for part in re.split(r"[,，、]", text) if part.strip()]
    spec = FIELDS.get(field)
    if spec is None:
        return text
    if spec.type is FieldType.NUMBER:
        try:
            number = float(text)
        except ValueError:
            return text  # refused by the check, naming the field
        return int(number) if number.is_integer() else number
    if spec.type is FieldType.FLAG:
        low = text.lower()
        return True if low in _TRUE else False if low in _FALSE else text
    return text


def _day(text: str) -> str | None:
    if not text.strip():
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return text  # refused by the check, naming valid_from or valid_until
    return datetime.combine(day, time(0), BUSINESS_TZ).isoformat()


def _number(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


def product_draft(form: dict[str, str]) -> ProductDraft:
    """The product document of `form`, checked (`RuleInvalid` or `ProductInvalid`, named, if not).

    `form` holds key, version, name, product_kind, amount_min/max, term_min/max, rate_min/max,
    guarantee, description, valid_from and valid_until (dates), withdrawn ("true" or absent),
    and rule_field_N, rule_op_N, rule_value_N for N below `RULE_ROWS` (a row without a field
    is no rule).
    """

    def get(name: str) -> str:
        return form.get(name, "").strip()

    rules = []
    for n in range(RULE_ROWS):
        field, op = get(f"rule_field_{n}"), get(f"rule_op_{n}")
        if field:
            rules.append({"field": field, "op": op, "value": rule_value(field, op, get(f"rule_value_{n}"))})
    version = get("version")
    document: dict[str, Any] = {
        "key": get("key"),
        "version": int(version) if version.isdigit() else version,
        "valid_from": _day(get("valid_from")),
        "valid_until": _day(get("valid_until")),
        "name": get("name"),
        "product_kind": get("product_kind"),
        "amount": {"min": _number(get("amount_min")), "max": _number(get("amount_max"))},
        "term_months": {"min": _number(get("term_min")), "max": _number(get("term_max"))},
        "annual_rate_percent": {"min": _number(get("rate_min")), "max": _number(get("rate_max"))},
        "guarantee": get("guarantee"),
        "description": get("description"),
        "eligibility": rules,
        "withdrawn": get("withdrawn") == "true",
    }
    product = parse_product(document)
    views = [
        RuleView(r.field, FIELDS[r.field].zh, FIELDS[r.field].en, r.op, r.value) for r in product.eligibility
    ]
    return ProductDraft(product, product.canonical().decode(), views)

"""The enterprise's eligibility profile: the facts of `eligibility.FIELDS`, from what the platform holds.

`profile_of` is pure: the enterprise's current records (repaired ones never read), the
white lists it is on and its evaluation grade in, the profile out. Where each fact comes
from:

- years_in_operation, registered_capital, entity_type: the registration record;
- industry: the registration record's GB/T 4754 division (`C39`), a field of catalogue v2
  onwards; absent from v1 registration records, so unknown for them;
- region: positions 3-8 of the 统一社会信用代码 (the registering authority's area code);
- employees: insured headcount of the latest social-insurance period; size from it by
  the headcount bands of 工信部联企业〔2011〕300号 for industry (micro < 20, small < 300,
  medium < 1000) - a simplification: the standard's bands differ by industry, and
  industry is known only for enterprises registered under catalogue v2;
- high_tech_enterprise: the latest R&D year's flag; tax_credit_grade: the latest tax year's;
- no_dishonesty_record: no serious-dishonesty listing still published (not removed, not
  past its publicity, not repaired); no_abnormal_operation: no abnormal-operation listing
  not removed;
- white_lists: the lists naming it whose latest version is in force;
- evaluation_grade: the grade of its own evaluation with the latest active model, when
  there is one and the data suffice.

A fact the records do not give stays unknown (absent), and a rule over it is not met.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from ledger.domain.catalogue import Catalogue
from ledger.domain.publicity import publication_ended
from ledger.financing.eligibility import Profile
from ledger.release.reader import CurrentRecord

#: the record categories the profile reads
PROFILE_CATEGORIES = (
    "registration", "social_insurance", "rnd", "tax", "serious_dishonesty_list", "abnormal_operation_list",
)  # fmt: skip

#: (upper bound exclusive, size): headcount bands for industry, 工信部联企业〔2011〕300号
SIZE_BANDS = ((20, "micro"), (300, "small"), (1000, "medium"))


def size_of(employees: int) -> str:
    for bound, size in SIZE_BANDS:
        if employees < bound:
            return size
    return "large"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _latest(records: Iterable[CurrentRecord], key: str) -> CurrentRecord | None:
    best: CurrentRecord | None = None
    for r in records:
        if best is None or (str(r.fields.get(key)), r.event_date) > (
            str(best.fields.get(key)),
            best.event_date,
        ):
            best = r
    return best


def profile_of(
    subject: str,
    records: Iterable[CurrentRecord],
    *,
    today: date,
    catalogue: Catalogue,
    white_lists: set[str],
    evaluation_grade: str | None,
) -> Profile:
    """The profile of enterprise `subject` on `today` (see the module docstring)."""
    by_category: dict[str, list[CurrentRecord]] = {}
    for r in records:
        if not r.repaired:  # a repaired record is never used again
            by_category.setdefault(r.category, []).append(r)
    values: dict[str, Any] = {"region": subject[2:8], "white_lists": frozenset(white_lists)}
    registration = _latest(by_category.get("registration", []), "established_on")
    if registration is not None:
        established = _date(registration.fields.get("established_on"))
        if established is not None:
            values["years_in_operation"] = round(max((today - established).days, 0) / 365.25, 2)
        capital = _number(registration.fields.get("registered_capital"))
        if capital is not None:
            values["registered_capital"] = capital
        if registration.fields.get("entity_type"):
            values["entity_type"] = str(registration.fields["entity_type"])
        industry = registration.fields.get("industry")
        if isinstance(industry, str) and industry:  # validated on ingestion (catalogue v2)
            values["industry"] = industry
    social = _latest(by_category.get("social_insurance", []), "period")
    if social is not None:
        headcount = _number(social.fields.get("insured_headcount"))
        if headcount is not None:
            values["employees"] = headcount
            values["size"] = size_of(int(headcount))
    rnd = _latest(by_category.get("rnd", []), "fiscal_year")
    if rnd is not None and isinstance(rnd.fields.get("high_tech_enterprise"), bool):
        values["high_tech_enterprise"] = rnd.fields["high_tech_enterprise"]
    tax = _latest(by_category.get("tax", []), "tax_year")
    if tax is not None and tax.fields.get("credit_grade"):
        values["tax_credit_grade"] = str(tax.fields["credit_grade"])
    values["no_dishonesty_record"] = not any(
        not r.fields.get("removal_date")
        and not publication_ended(catalogue, r.category, r.severity, r.event_date, today)
        for r in by_category.get("serious_dishonesty_list", [])
    )
    values["no_abnormal_operation"] = not any(
        not r.fields.get("removed_on") for r in by_category.get("abnormal_operation_list", [])
    )
    if evaluation_grade is not None:
        values["evaluation_grade"] = evaluation_grade
    return Profile(subject, values)


#: the evaluation grade of an enterprise, or None (no active model, data short)
GradeSource = Callable[[str], str | None]

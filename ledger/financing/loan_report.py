"""A loan report as an institution submits it: parsed, checked and put in its canonical form.

Two kinds share one envelope (`idempotency_key`, `loan_ref`, `subject`, `agreement_id`):

- **decision**: approved or declined; for an approved loan the amount (yuan, at most two
  decimals), the annual rate (percent, at most four decimals), the term in months; the
  application and decision dates, credit (信用贷款: neither collateral nor guarantee) or
  secured, whether it is the enterprise's first loan (首贷), the industry it goes to
  (GB/T 4754-2017 section letter).
- **repayment**: the status of an approved loan on a date: days overdue (0: current).

Money and rates are decimal strings, never floats, and are stored as integers (fen, and
parts per million of the annual rate), so every aggregate is exact. The canonical form is
RFC 8785 JSON of the parsed report: its SHA-256 is what "the same content" means for an
idempotent re-submission.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

import rfc8785
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ledger.domain.identifiers import InvalidIdentifierError, validate_uscc
from ledger.errors import InvalidInput

__all__ = [
    "INDUSTRY_SECTIONS",
    "InvalidLoanReport",
    "LoanDecision",
    "LoanReport",
    "Repayment",
    "parse_loan_report",
]

#: GB/T 4754-2017 sections (门类) A-T
INDUSTRY_SECTIONS = frozenset("ABCDEFGHIJKLMNOPQRST")
_KEY = r"^[A-Za-z0-9._:\-]{1,80}$"
#: the most a single reported loan may be: 10 billion yuan, in fen (fits BIGINT many times over)
MAX_AMOUNT_FEN = 10**12
#: an annual rate above 100 % is a typo, not a loan
MAX_RATE_PPM = 1_000_000


class InvalidLoanReport(InvalidInput):
    """The loan report is malformed: each problem with its field and rule (HTTP 422)."""

    code = "invalid_loan_report"

    def __init__(self, problems: list[dict[str, str]]) -> None:
        super().__init__("invalid loan report: " + "; ".join(f"{p['field']}: {p['rule']}" for p in problems))
        self.body_extra = {"errors": problems}


def _decimal_units(value: str, places: int, field: str) -> int:
    """`value` (a decimal string with at most `places` decimals) as an integer of 10^-places units."""
    if not re.fullmatch(r"[0-9]{1,13}(\.[0-9]+)?", value):
        raise ValueError(f"{field}: a non-negative decimal string, e.g. '1000000.00'")
    try:
        d = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{field}: not a decimal") from None
    scaled = d.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{field}: at most {places} decimals")
    return int(scaled)


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    idempotency_key: Annotated[str, Field(pattern=_KEY)]
    loan_ref: Annotated[str, Field(pattern=_KEY, description="the institution's own loan reference")]
    subject: Annotated[str, Field(description="the enterprise's 统一社会信用代码")]
    agreement_id: Annotated[int, Field(ge=1, lt=2**256)]

    @field_validator("subject")
    @classmethod
    def _uscc(cls, value: str) -> str:
        try:
            validate_uscc(value, field="subject")
        except InvalidIdentifierError as exc:
            raise ValueError(exc.message) from None
        return value


class LoanDecision(_Envelope):
    kind: Literal["decision"]
    outcome: Literal["approved", "declined"]
    amount: str | None = Field(default=None, description="yuan, decimal string, at most 2 decimals")
    annual_rate: str | None = Field(default=None, description="percent, decimal string, at most 4 decimals")
    term_months: Annotated[int, Field(ge=1, le=600)] | None = None
    applied_on: date
    decided_on: date
    guarantee: Literal["credit", "secured"]
    first_loan: bool
    industry: Annotated[str, Field(pattern=r"^[A-T]$", description="GB/T 4754-2017 section letter")]

    @model_validator(mode="after")
    def _consistent(self) -> LoanDecision:
        if self.decided_on < self.applied_on:
            raise ValueError("decided_on: before applied_on")
        if self.outcome == "approved":
            missing = [f for f in ("amount", "annual_rate", "term_months") if getattr(self, f) is None]
            if missing:
                raise ValueError(f"an approved loan needs {', '.join(missing)}")
        elif self.annual_rate is not None or self.term_months is not None:
            raise ValueError("a declined application has no annual_rate or term_months")
        if self.amount is not None and not 0 < self.amount_fen <= MAX_AMOUNT_FEN:
            raise ValueError(f"amount: above 0 and at most {MAX_AMOUNT_FEN // 100} yuan")
        if self.annual_rate is not None and not 0 < self.rate_ppm <= MAX_RATE_PPM:
            raise ValueError("annual_rate: above 0 and at most 100 (percent)")
        return self

    @property
    def amount_fen(self) -> int:
        return 0 if self.amount is None else _decimal_units(self.amount, 2, "amount")

    @property
    def rate_ppm(self) -> int:
        return 0 if self.annual_rate is None else _decimal_units(self.annual_rate, 4, "annual_rate")


class Repayment(_Envelope):
    kind: Literal["repayment"]
    as_of: date
    days_overdue: Annotated[int, Field(ge=0, le=36_500)]


class _Report(BaseModel):
    report: Annotated[LoanDecision | Repayment, Field(discriminator="kind")]


@dataclass(frozen=True)
class LoanReport:
    """A parsed report, its canonical content and that content's SHA-256."""

    report: LoanDecision | Repayment
    content: bytes
    content_hash: bytes

    @property
    def kind(self) -> str:
        return self.report.kind


def _canonical(report: LoanDecision | Repayment) -> bytes:
    body: dict[str, Any] = report.model_dump(mode="json", exclude={"idempotency_key"})
    body["agreement_id"] = str(report.agreement_id)  # beyond 2^53 as a string
    if isinstance(report, LoanDecision):  # the exact units the ledger keeps
        body["amount"] = None if report.amount is None else str(Decimal(report.amount_fen).scaleb(-2))
        body["annual_rate"] = None if report.annual_rate is None else str(Decimal(report.rate_ppm).scaleb(-4))
    return bytes(rfc8785.dumps(body))


def parse_loan_report(body: bytes | str | dict[str, Any]) -> LoanReport:
    """Parse a report; refuse it with every problem named (`InvalidLoanReport`).

    The idempotency key is not part of the canonical content: the same report sent under
    another key is a new submission (a correction), not the same one.
    """
    try:
        if isinstance(body, dict):
            parsed = _Report.model_validate({"report": body}).report
        else:
            text = body.decode() if isinstance(body, bytes) else body
            parsed = _Report.model_validate_json('{"report":' + text + "}").report
    except (ValidationError, UnicodeDecodeError) as exc:
        raise InvalidLoanReport(_problems(exc)) from None
    content = _canonical(parsed)
    return LoanReport(parsed, content, hashlib.sha256(content).digest())


def _problems(exc: ValidationError | UnicodeDecodeError) -> list[dict[str, str]]:
    if isinstance(exc, UnicodeDecodeError):
        return [{"field": "body", "rule": "utf8", "message": "the body is not UTF-8"}]
    problems = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"] if p not in ("report", "decision", "repayment")]
        message = str(err["msg"]).removeprefix("Value error, ")
        problems.append({"field": ".".join(loc) or "report", "rule": str(err["type"]), "message": message})
    return problems

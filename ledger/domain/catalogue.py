"""The public credit information catalogue (公共信用信息目录) as versioned data.

Which categories exist, what fields they carry, how sensitive each field is, how it is
masked, which categories are publicly disclosed and how long dishonesty records stay
published are policy that regulators revise; so they live in a JSON file, not in code.
The file is validated on load so a bad edit fails at start-up rather than leaking or
losing data at release time.

Category and purpose `bit`s are positions in the on-chain bitmasks of agreements and
grants. They are stable forever: a bit, once published, is never reused for something
else, or old grants would authorise new data.

`content_hash()` pins the exact catalogue an agreement was signed against.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Self

import rfc8785
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic import Field as Constraint

from ledger.domain.identifiers import InvalidIdentifierError, validate_resident_id, validate_uscc
from ledger.domain.industry import InvalidIndustryCode, check_industry
from ledger.errors import InvalidInput, LedgerError

__all__ = [
    "DEFAULT_CATALOGUE",
    "Catalogue",
    "CatalogueError",
    "Category",
    "DishonestyPolicy",
    "Field",
    "FieldError",
    "FieldType",
    "MaskingPolicy",
    "MaskingRule",
    "PublicityPeriod",
    "Purpose",
    "RecordCheck",
    "RecordValidationError",
    "Severity",
    "default_catalogue",
    "is_chinese",
    "load_catalogue",
    "localized_name",
    "newest_catalogue",
    "packaged_catalogues",
]

DEFAULT_CATALOGUE = "catalogue-v1.json"
#: every catalogue version shipped with the platform, oldest first. The default stays v1
#: (approved indicator files and models pin it); later versions take effect for new
#: records once an operator publishes them on chain (`credit-ledger catalogue publish`).
PACKAGED_CATALOGUES = ("catalogue-v1.json", "catalogue-v2.json")
MAX_BIT = 255
_NAME = r"^[a-z][a-z0-9_]*$"


class CatalogueError(LedgerError):
    """The catalogue file is unreadable or inconsistent, or a name is not in it."""

    code = "catalogue_error"


@dataclass(frozen=True, slots=True)
class FieldError:
    """One broken rule in a submitted record: which field, which rule, and why."""

    field: str
    rule: str
    message: str


class RecordValidationError(InvalidInput, ValueError):
    """A record does not fit its category; carries every error, not just the first,
    so a data provider can fix a batch in one round trip."""

    code = "invalid_record"

    def __init__(self, category: str, errors: list[FieldError]) -> None:
        summary = "; ".join(f"{e.field}: {e.rule}" for e in errors)
        super().__init__(f"record of category {category!r} is invalid: {summary}")
        self.category = category
        self.errors = errors


class FieldType(StrEnum):
    STRING = "string"
    DATE = "date"
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    ENUM = "enum"
    USCC = "uscc"
    RESIDENT_ID = "resident_id"
    INDUSTRY = "industry"  # GB/T 4754-2017 section letter + division, e.g. C39 (catalogue v2)


class MaskingRule(StrEnum):
    """Rule names of domain-rules.md §2; `ledger.domain.masking` implements each."""

    PUBLIC = "public"
    PERSON_NAME = "person_name"
    RESIDENT_ID = "resident_id"
    MOBILE = "mobile"
    BANK_CARD = "bank_card"
    ADDRESS = "address"
    LANDLINE = "landline"
    EMAIL = "email"
    NEVER = "never"
    AMOUNT_BAND = "amount_band"
    GRADE = "grade"
    REDACTED = "redacted"


#: Rules with no masked form: public values are shown as they are, never values not at all.
_UNMASKED = frozenset({MaskingRule.PUBLIC, MaskingRule.NEVER})


class Severity(StrEnum):
    MINOR = "minor"
    GENERAL = "general"
    SERIOUS = "serious"


_Frozen = ConfigDict(frozen=True, extra="forbid")
Name = Annotated[str, Constraint(pattern=_NAME, max_length=64)]
Bit = Annotated[int, Constraint(ge=0, le=MAX_BIT)]
Level = Annotated[int, Constraint(ge=1, le=5)]


class Field(BaseModel):
    """One field of a category. `level` is the JR/T 0197 data security level (1 public
    ... 5 important data) of the raw value; `masking` names how it is desensitised.

    The load-time checks catch edits that would otherwise misbehave only at release
    time: a band on a text field, or a level 3+ value marked `public` (shown unmasked
    to every authorised institution, which the level says it must not be).
    """

    model_config = _Frozen

    name: Name
    name_zh: str
    type: FieldType
    required: bool = False
    level: Level
    masking: MaskingRule
    enum_values: tuple[str, ...] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.type is FieldType.ENUM) != (self.enum_values is not None):
            raise ValueError(f"field {self.name}: enum_values are required for, and only for, enums")
        if self.enum_values is not None and len(set(self.enum_values)) != len(self.enum_values):
            raise ValueError(f"field {self.name}: duplicate enum values")
        if self.masking is MaskingRule.AMOUNT_BAND and self.type not in (
            FieldType.INTEGER,
            FieldType.DECIMAL,
        ):
            raise ValueError(f"field {self.name}: amount_band needs an integer or decimal field")
        if self.masking is MaskingRule.GRADE and self.type not in (FieldType.ENUM, FieldType.STRING):
            raise ValueError(f"field {self.name}: grade needs an enum or string field")
        if self.masking is MaskingRule.PUBLIC and self.level > 2:
            raise ValueError(f"field {self.name}: a level {self.level} field cannot be shown unmasked")
        return self


class PublicityPeriod(BaseModel):
    """How long a dishonesty record of one severity stays published, in days."""

    model_config = _Frozen

    min_days: int = Constraint(ge=0)
    max_days: int = Constraint(ge=1)
    may_be_unpublished: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min_days > self.max_days:
            raise ValueError(f"publicity period min_days {self.min_days} > max_days {self.max_days}")
        return self


class DishonestyPolicy(BaseModel):
    """Publicity periods per severity (国办发〔2025〕22号), kept as data because sector
    regulators may classify differently and the rules change (NDRC Order 36, 2026)."""

    model_config = _Frozen

    periods: dict[Severity, PublicityPeriod]
    clock_starts: str = "decision_date"
    sector_min_days: dict[str, int] = {}
    source: str = ""

    @model_validator(mode="after")
    def _non_empty(self) -> Self:
        if not self.periods:
            raise ValueError("a dishonesty category needs at least one publicity period")
        longest = max(p.max_days for p in self.periods.values())
        for sector, days in self.sector_min_days.items():
            if not 0 <= days <= longest:
                raise ValueError(f"sector {sector}: minimum {days} days is outside 0..{longest}")
        return self


class Category(BaseModel):
    model_config = _Frozen

    name: Name
    bit: Bit
    name_zh: str
    name_en: str
    public_disclosure: bool
    dishonesty: DishonestyPolicy | None = None
    fields: tuple[Field, ...]

    @model_validator(mode="after")
    def _unique_fields(self) -> Self:
        names = [f.name for f in self.fields]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"category {self.name}: duplicate fields {dupes}")
        if not self.fields:
            raise ValueError(f"category {self.name}: no fields")
        return self

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise CatalogueError(f"category {self.name!r} has no field {name!r}")


class Purpose(BaseModel):
    model_config = _Frozen

    name: Name
    bit: Bit
    name_zh: str
    name_en: str


def is_chinese(locale: str) -> bool:
    """Whether `locale` (as a reader's language is negotiated: "zh-CN", "zh_CN", "zh", "en" …)
    reads Chinese."""
    return locale.lower().startswith("zh")


def localized_name(item: Category | Purpose | Catalogue, locale: str) -> str:
    """The catalogue's own name of a category, a purpose or itself in `locale`'s language."""
    return item.name_zh if is_chinese(locale) else item.name_en


class MaskingPolicy(BaseModel):
    """Parameters of the masking rules, kept in the catalogue so they are versioned with it.

    `masked_levels`: the security level a value still carries once masked by that rule
    (the effective level is the lower of this and the field's own level).
    `amount_bands`: band edges in yuan, strictly increasing, for `amount_band`.
    """

    model_config = _Frozen

    amount_bands: tuple[int, ...]
    masked_levels: dict[MaskingRule, Level]

    @model_validator(mode="after")
    def _bands(self) -> Self:
        edges = self.amount_bands
        if len(edges) < 2 or any(b <= a for a, b in itertools.pairwise(edges)):
            raise ValueError("amount_bands must have at least two strictly increasing edges")
        missing = sorted(set(MaskingRule) - _UNMASKED - set(self.masked_levels))
        if missing:
            raise ValueError(f"masked_levels lacks rules {missing}")
        return self


@dataclass(frozen=True, slots=True)
class RecordCheck:
    """Errors reject the record; warnings (e.g. an odd embedded organization code) are
    kept with it so a reviewer can look."""

    errors: list[FieldError]
    warnings: list[FieldError]


def _unique(items: Iterable[tuple[str, int]], what: str) -> None:
    names: set[str] = set()
    bits: set[int] = set()
    for name, bit in items:
        if name in names:
            raise ValueError(f"duplicate {what} name {name!r}")
        if bit in bits:
            raise ValueError(f"duplicate {what} bit {bit} ({name!r})")
        names.add(name)
        bits.add(bit)


class Catalogue(BaseModel):
    model_config = _Frozen

    version: int = Constraint(ge=1)
    name_zh: str
    name_en: str
    masking: MaskingPolicy
    categories: tuple[Category, ...]
    purposes: tuple[Purpose, ...]

    @model_validator(mode="after")
    def _unique_bits(self) -> Self:
        _unique(((c.name, c.bit) for c in self.categories), "category")
        _unique(((p.name, p.bit) for p in self.purposes), "purpose")
        return self

    # -- lookups ---------------------------------------------------------------------------

    def category(self, name: str) -> Category:
        for c in self.categories:
            if c.name == name:
                return c
        raise CatalogueError(f"unknown category {name!r}")

    def purpose(self, name: str) -> Purpose:
        for p in self.purposes:
            if p.name == name:
                return p
        raise CatalogueError(f"unknown purpose {name!r}")

    def content_hash(self) -> bytes:
        """SHA-256 of the RFC 8785 canonical JSON of the whole catalogue (with defaults
        filled in), so formatting and key order in the file do not change it."""
        return hashlib.sha256(rfc8785.dumps(self.model_dump(mode="json"))).digest()

    # -- bitmasks --------------------------------------------------------------------------

    def category_mask(self, names: Iterable[str]) -> int:
        """The on-chain bitmask for these categories; unknown names raise."""
        mask = 0
        for name in names:
            mask |= 1 << self.category(name).bit
        return mask

    def public_mask(self) -> int:
        """Bit mask of the categories released without consent (public disclosure), as anchored on chain."""
        return self.category_mask(c.name for c in self.categories if c.public_disclosure)

    def purpose_mask(self, names: Iterable[str]) -> int:
        mask = 0
        for name in names:
            mask |= 1 << self.purpose(name).bit
        return mask

    def categories_in_mask(self, mask: int) -> list[str]:
        """Names of the categories whose bits are set, in catalogue order.

        Bits no category uses raise: a mask from chain that names unknown data means
        the catalogue versions disagree, and guessing would release the wrong thing.
        """
        known = 0
        out: list[str] = []
        for c in self.categories:
            known |= 1 << c.bit
            if mask >> c.bit & 1:
                out.append(c.name)
        if mask & ~known:
            raise CatalogueError(f"mask {mask:#x} sets bits no category uses")
        return out

    def names_in_mask(self, mask: int, *, purposes: bool = False, locale: str | None = None) -> list[str]:
        """Names of the categories (or purposes) whose bits `mask` sets, in catalogue order.

        Without `locale`: the catalogue's names (``tax``), as data carries them; bits this
        catalogue does not know are left out, not refused (unlike `categories_in_mask`): the
        mask itself stays beside the names. With `locale` ("zh-CN", "zh_CN", "en" …): each
        one's own name in that language (`name_zh` or `name_en`), for a person to read in
        place of the mask, so a bit the catalogue does not name is shown as such ("#5"),
        not hidden: a mask that names unknown data is itself worth seeing."""
        items: Sequence[Category | Purpose] = self.purposes if purposes else self.categories
        if locale is None:
            return [i.name for i in items if mask >> i.bit & 1]
        known = {i.bit for i in items}
        named = [localized_name(i, locale) for i in items if mask >> i.bit & 1]
        return named + [f"#{bit}" for bit in range(mask.bit_length()) if mask >> bit & 1 and bit not in known]

    # -- sensitivity -----------------------------------------------------------------------

    def effective_level(self, f: Field, raw: bool) -> int:
        """The level a field's value carries as released: its own when raw or public,
        otherwise the level left after masking (never higher than its own)."""
        if raw or f.masking is MaskingRule.PUBLIC:
            return f.level
        return min(f.level, self.masking.masked_levels[f.masking])

    def max_level(self, categories: Iterable[str], raw: bool) -> int:
        """The highest level a release of these categories exposes; an agreement's
        maximum sensitivity must be at least this. `never` fields are not released and
        do not count. Unknown categories raise; no categories gives 1."""
        level = 1
        for name in categories:
            for f in self.category(name).fields:
                if f.masking is not MaskingRule.NEVER:
                    level = max(level, self.effective_level(f, raw))
        return level

    # -- records ---------------------------------------------------------------------------

    def check_record(
        self, category: str, fields: Mapping[str, object], severity: str | None = None
    ) -> RecordCheck:
        """Check a record against its category, collecting every error and warning."""
        cat = self.category(category)
        errors: list[FieldError] = []
        warnings: list[FieldError] = []
        known = {f.name for f in cat.fields}
        for name in fields:
            if name not in known:
                errors.append(FieldError(name, "unknown_field", f"not a field of {category}"))
        for f in cat.fields:
            value = fields.get(f.name)
            if value is None or value == "":
                if f.required:
                    errors.append(FieldError(f.name, "required", "a value is required"))
                continue
            _check_value(f, value, errors, warnings)
        _check_severity(cat, severity, errors)
        return RecordCheck(errors, warnings)

    def validate_record(
        self, category: str, fields: Mapping[str, object], severity: str | None = None
    ) -> list[FieldError]:
        """Every error in the record (type, required, enum, unknown field, identifiers,
        severity); empty when it may be stored."""
        return self.check_record(category, fields, severity).errors

    def ensure_valid_record(
        self, category: str, fields: Mapping[str, object], severity: str | None = None
    ) -> list[FieldError]:
        """Raise RecordValidationError unless the record is valid; return its warnings."""
        result = self.check_record(category, fields, severity)
        if result.errors:
            raise RecordValidationError(category, result.errors)
        return result.warnings


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")


def _check_value(f: Field, value: object, errors: list[FieldError], warnings: list[FieldError]) -> None:
    def bad(rule: str, message: str) -> None:
        errors.append(FieldError(f.name, rule, message))

    t = f.type
    if t is FieldType.STRING:
        if not isinstance(value, str):
            bad("type", f"expected a string, got {type(value).__name__}")
    elif t is FieldType.DATE:
        if isinstance(value, date):
            return  # datetime is a date too; callers storing timestamps get the date part
        if not isinstance(value, str) or not _DATE.match(value):
            bad("type", "expected an ISO date YYYY-MM-DD")
            return
        try:
            date.fromisoformat(value)
        except ValueError:
            bad("date", f"{value} is not a calendar date")
    elif t is FieldType.INTEGER:
        if isinstance(value, bool) or not isinstance(value, int):
            bad("type", f"expected an integer, got {type(value).__name__}")
    elif t is FieldType.DECIMAL:
        if not _is_decimal(value):
            bad("type", "expected a finite number (int, Decimal, float or numeric string)")
    elif t is FieldType.BOOLEAN:
        if not isinstance(value, bool):
            bad("type", f"expected a boolean, got {type(value).__name__}")
    elif t is FieldType.ENUM:
        if value not in (f.enum_values or ()):
            bad("enum", f"{value!r} is not one of {list(f.enum_values or ())}")
    elif not isinstance(value, str):  # the identifier types
        bad("type", f"expected a string, got {type(value).__name__}")
    elif t is FieldType.INDUSTRY:
        try:
            check_industry(value)
        except InvalidIndustryCode as e:
            bad(f"industry.{e.rule}", e.detail)
    elif t is FieldType.USCC:
        try:
            check = validate_uscc(value, field=f.name)
        except InvalidIdentifierError as e:
            bad(f"uscc.{e.rule}", e.detail)
        else:
            warnings.extend(FieldError(f.name, f"uscc.{w.rule}", w.message) for w in check.warnings)
    else:
        try:
            validate_resident_id(value, field=f.name)
        except InvalidIdentifierError as e:
            bad(f"resident_id.{e.rule}", e.detail)


def _is_decimal(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float | Decimal):
        return Decimal(value).is_finite()
    if isinstance(value, str) and _DECIMAL.match(value):
        try:
            Decimal(value)
        except InvalidOperation:
            return False
        return True
    return False


def _check_severity(cat: Category, severity: str | None, errors: list[FieldError]) -> None:
    policy = cat.dishonesty
    if policy is None:
        if severity is not None:
            errors.append(
                FieldError("severity", "severity_not_applicable", f"{cat.name} is not dishonesty data")
            )
        return
    if severity is None:
        errors.append(FieldError("severity", "severity_required", f"{cat.name} records need a severity"))
    elif severity not in {s.value for s in policy.periods}:
        allowed = [s.value for s in policy.periods]
        errors.append(FieldError("severity", "severity_unknown", f"{severity!r} is not one of {allowed}"))


# --------------------------------------------------------------------------- loading


def load_catalogue(path: str | Path | None = None, *, packaged: str = DEFAULT_CATALOGUE) -> Catalogue:
    """Load and validate a catalogue file; None loads the packaged file `packaged` (the default v1).

    Every failure (missing file, bad JSON, inconsistent content) is a CatalogueError,
    so start-up code has one thing to catch.
    """
    try:
        if path is None:
            text = resources.files("ledger").joinpath("catalogue", packaged).read_text("utf-8")
        else:
            text = Path(path).read_text("utf-8")
        data: Any = json.loads(text)
        return Catalogue.model_validate(data)
    except (OSError, ValueError) as e:  # json and pydantic errors are ValueErrors
        where = path or packaged
        detail = _describe(e) if isinstance(e, ValidationError) else str(e)
        raise CatalogueError(f"catalogue {where}: {detail}") from e


def _describe(e: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, err['loc'])) or '<root>'}: {err['msg']}" for err in e.errors())


@cache
def default_catalogue() -> Catalogue:
    """The packaged catalogue, loaded once: it is immutable and read on every release."""
    return load_catalogue()


@cache
def packaged_catalogues() -> tuple[Catalogue, ...]:
    """Every catalogue version shipped with the platform, oldest first (v1, v2, ...).

    Shipping a version does not put it in force: the chain's `CatalogueRegistry` does.
    The platform counts a shipped version as known content when its hash is the one the
    chain anchored for that version number.
    """
    return tuple(
        default_catalogue() if name == DEFAULT_CATALOGUE else load_catalogue(packaged=name)
        for name in PACKAGED_CATALOGUES
    )


def newest_catalogue() -> Catalogue:
    """The newest packaged version. Each version only adds fields and categories to the one
    before (same bits, same field definitions), so it describes records of every version."""
    return packaged_catalogues()[-1]

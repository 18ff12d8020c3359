"""The alert rules as data: which state changes become alerts, how severe, said how.

`rules-v1.json` (beside this module and the catalogue's version it names) lists rules of
five triggers:

* ``record``: a new or corrected record (``on``) of one of the rule's ``categories``,
  optionally only when one of ``where_any``'s conditions holds on its fields
  (``gt``/``gte``/``eq``/``in`` on a field of the category);
* ``objection_upheld`` / ``repair_approved``: an enterprise's objection to a record of
  one of the ``categories`` was upheld, or its credit repair approved (good news is news);
* ``grade_drop``: an institution's evaluation of a subject graded lower than its previous
  one (the alert is about the model's input categories, so it names no ``categories``);
* ``evasion_flag``: an operator flagged the subject for malicious debt evasion (恶意逃废债);
  the alert is about the rule's ``categories`` (consent rules apply to them).

Each rule has an ``event`` name, a ``severity`` and its text in zh and en. The loader
refuses a malformed file with the place named (``rules[2] (tax.arrears).where_any[0].field:
tax has no field 'overdue'``): unknown keys, unknown categories or fields, a condition
whose value does not fit the field's type, duplicate ids, a trigger missing its categories.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ledger.domain.catalogue import Catalogue, FieldType, default_catalogue
from ledger.errors import InvalidInput

__all__ = [
    "DEFAULT_RULES_PATH",
    "Condition",
    "Rule",
    "RuleSet",
    "RulesError",
    "Trigger",
    "default_rules",
    "load_rules",
    "parse_rules",
]

DEFAULT_RULES_PATH = Path(__file__).with_name("rules-v1.json")

_Frozen = ConfigDict(frozen=True, extra="forbid")
_Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:\-]{1,64}$")]


class RulesError(InvalidInput):
    """The rules file is malformed; the message names the place (`rules[i] (id).field: why`)."""

    code = "alert_rules_invalid"


class Trigger(StrEnum):
    RECORD = "record"
    OBJECTION_UPHELD = "objection_upheld"
    REPAIR_APPROVED = "repair_approved"
    GRADE_DROP = "grade_drop"
    EVASION_FLAG = "evasion_flag"


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Text(BaseModel):
    model_config = _Frozen
    zh: Annotated[str, Field(min_length=1, max_length=500)]
    en: Annotated[str, Field(min_length=1, max_length=500)]


class Condition(BaseModel):
    """`field op value` on a record's fields; a missing field never holds."""

    model_config = _Frozen
    field: _Name
    op: Literal["gt", "gte", "eq", "in"]
    value: bool | int | str | list[str]

    def holds(self, fields: Mapping[str, Any]) -> bool:
        if self.field not in fields or fields[self.field] is None:
            return False
        got = fields[self.field]
        if self.op == "in":
            return isinstance(self.value, list) and got in self.value
        if self.op == "eq":
            return bool(got == self.value)
        try:
            number, bound = Decimal(str(got)), Decimal(str(self.value))
        except InvalidOperation:
            return False
        return number > bound if self.op == "gt" else number >= bound


class Rule(BaseModel):
    model_config = _Frozen
    id: _Name
    trigger: Trigger
    on: tuple[Literal["new", "corrected"], ...] = ()
    categories: tuple[_Name, ...] = ()
    where_any: tuple[Condition, ...] = ()
    event: _Name
    severity: Severity
    text: Text

    def matches_record(self, category: str, corrected: bool, fields: Mapping[str, Any]) -> bool:
        """Whether a new (or corrected) record of `category` with `fields` fires this rule."""
        if self.trigger is not Trigger.RECORD or category not in self.categories:
            return False
        if ("corrected" if corrected else "new") not in self.on:
            return False
        return not self.where_any or any(c.holds(fields) for c in self.where_any)


class _File(BaseModel):
    model_config = _Frozen
    version: Annotated[int, Field(ge=1)]
    catalogue_version: Annotated[int, Field(ge=1)]
    purpose: _Name
    rules: tuple[Rule, ...]


class RuleSet:
    """A validated rules file: its rules, version, content hash and the purpose alerts are for."""

    def __init__(self, parsed: _File, content_hash: bytes, purpose_bit: int) -> None:
        self.version = parsed.version
        self.catalogue_version = parsed.catalogue_version
        self.purpose = parsed.purpose
        self.purpose_bit = purpose_bit
        self.rules = parsed.rules
        self.content_hash = content_hash

    @property
    def purpose_mask(self) -> int:
        return 1 << self.purpose_bit

    def by_trigger(self, trigger: Trigger) -> list[Rule]:
        return [r for r in self.rules if r.trigger is trigger]

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)


def _place(rules: list[Any], loc: tuple[int | str, ...]) -> str:
    """`rules[2] (tax.arrears).where_any[0].field` from a pydantic location."""
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
            if i == 1 and loc[0] == "rules" and part < len(rules) and isinstance(rules[part], dict):
                out += f" ({rules[part].get('id', '?')})"
        else:
            out += ("." if out else "") + part
    return out


def _check_against(parsed: _File, catalogue: Catalogue) -> None:
    """Every category, field and condition value named exists in the catalogue and fits."""
    problems: list[str] = []
    names = {c.name for c in catalogue.categories}
    if parsed.purpose not in {p.name for p in catalogue.purposes}:
        problems.append(f"purpose: the catalogue has no purpose {parsed.purpose!r}")
    seen: set[str] = set()
    for i, rule in enumerate(parsed.rules):
        where = f"rules[{i}] ({rule.id})"
        if rule.id in seen:
            problems.append(f"{where}.id: duplicate rule id")
        seen.add(rule.id)
        needs_categories = rule.trigger is not Trigger.GRADE_DROP
        if needs_categories and not rule.categories:
            problems.append(f"{where}.categories: a {rule.trigger.value} rule names at least one category")
        if not needs_categories and rule.categories:
            problems.append(f"{where}.categories: a grade_drop alert is about the model's inputs; name none")
        if rule.trigger is Trigger.RECORD and not rule.on:
            problems.append(f"{where}.on: a record rule fires on 'new', 'corrected' or both")
        if rule.trigger is not Trigger.RECORD and (rule.on or rule.where_any):
            problems.append(f"{where}: only record rules take 'on' and 'where_any'")
        for j, name in enumerate(rule.categories):
            if name not in names:
                problems.append(f"{where}.categories[{j}]: the catalogue has no category {name!r}")
        for j, cond in enumerate(rule.where_any):
            problems.extend(_check_condition(f"{where}.where_any[{j}]", cond, rule, catalogue, names))
    if problems:
        raise RulesError("; ".join(problems))


def _check_condition(
    where: str, cond: Condition, rule: Rule, catalogue: Catalogue, names: set[str]
) -> list[str]:
    """The condition's field exists in every category of the rule, and its value fits the field."""
    problems = []
    for category in rule.categories:
        if category not in names:
            continue
        fields = {f.name: f for f in catalogue.category(category).fields}
        f = fields.get(cond.field)
        if f is None:
            problems.append(f"{where}.field: {category} has no field {cond.field!r}")
            continue
        if cond.op in ("gt", "gte"):
            numeric = f.type in (FieldType.DECIMAL, FieldType.INTEGER)
            if not numeric or isinstance(cond.value, bool) or not isinstance(cond.value, int):
                problems.append(f"{where}: {cond.op} compares a numeric field with a number")
        elif cond.op == "in":
            allowed = set(f.enum_values or ())
            if f.type is not FieldType.ENUM or not isinstance(cond.value, list):
                problems.append(f"{where}: 'in' takes an enum field and a list of its values")
            else:
                bad = [v for v in cond.value if v not in allowed]
                if bad:
                    problems.append(f"{where}.value: {category}.{cond.field} has no value {bad[0]!r}")
        elif f.type is FieldType.BOOLEAN and not isinstance(cond.value, bool):
            problems.append(f"{where}.value: {category}.{cond.field} is a boolean")
    return problems


def parse_rules(document: bytes, catalogue: Catalogue | None = None) -> RuleSet:
    """Validate a rules document against the catalogue; `RulesError` names the first places wrong."""
    catalogue = catalogue or default_catalogue()
    try:
        raw = json.loads(document)
    except (UnicodeDecodeError, ValueError) as exc:
        raise RulesError(f"rules file is not JSON: {exc}") from None
    try:
        parsed = _File.model_validate(raw)
    except ValidationError as exc:
        rules = raw.get("rules", []) if isinstance(raw, dict) else []
        rules = rules if isinstance(rules, list) else []
        shown = "; ".join(f"{_place(rules, tuple(e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
        raise RulesError(shown) from None
    if parsed.catalogue_version != catalogue.version:
        raise RulesError(
            f"catalogue_version: the rules name catalogue v{parsed.catalogue_version}, "
            f"the platform's is v{catalogue.version}"
        )
    _check_against(parsed, catalogue)
    purpose_bit = catalogue.purpose(parsed.purpose).bit
    return RuleSet(parsed, hashlib.sha256(document).digest(), purpose_bit)


def load_rules(path: str | Path | None = None, catalogue: Catalogue | None = None) -> RuleSet:
    return parse_rules(Path(path or DEFAULT_RULES_PATH).read_bytes(), catalogue)


_DEFAULT: RuleSet | None = None


def default_rules() -> RuleSet:
    """The packaged rules file, checked against the packaged catalogue (loaded once)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load_rules()
    return _DEFAULT

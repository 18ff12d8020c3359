"""Machine-readable eligibility: rules over a closed set of facts the platform holds.

A loan product's eligibility is a list of rules, each `{field, op, value}` over one of
`FIELDS` - facts the platform holds about an enterprise (from its records, the white
lists and its evaluation). A rule over any other field is refused at publication,
naming the field (`RuleInvalid`), so a product can never promise a criterion the
platform cannot check. Each field has a type, which fixes the operators it takes:

- number: `min`, `max` (inclusive);
- grade (ordered, best first): `min` (at least as good), `in`;
- text: `in`, `equals`;
- flag: `equals` (true or false);
- set (the enterprise's white lists): `includes` (a list key, or `*` for any list);
- industry (GB/T 4754-2017): `in`, `equals`, over division codes (`C39`) or whole
  sections (`C`); a division meets a rule naming its section.

`evaluate` checks an enterprise's `Profile` against the rules and says, per rule, met or
not met - or unknown when the platform holds no value (an unknown fact is not met) -
with a reason in Chinese and English. It is pure and allocation-light: matching one
demand against a thousand products is a few milliseconds (`bench/matching.py`).

`industry` comes from the registration record's `industry` field, which catalogue v2
added: an enterprise whose registration record was filed under v1, or without the
field, has no industry, and a rule over it is not met with a reason naming the missing
registration data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, field_validator

from ledger.domain.industry import InvalidIndustryCode, check_industry_or_section, in_industry
from ledger.errors import InvalidInput


class FieldType(StrEnum):
    NUMBER = "number"
    GRADE = "grade"
    TEXT = "text"
    FLAG = "flag"
    SET = "set"
    INDUSTRY = "industry"


@dataclass(frozen=True)
class FieldSpec:
    type: FieldType
    zh: str
    en: str
    grades: tuple[str, ...] = ()  # GRADE: best first
    #: reason when the platform holds no value, if more specific than the generic one
    missing: tuple[str, str] | None = None


#: the closed set of facts a rule may name, and where the platform gets each (see `profile.py`)
FIELDS: dict[str, FieldSpec] = {
    "years_in_operation": FieldSpec(FieldType.NUMBER, "经营年限(年)", "years in operation"),
    "registered_capital": FieldSpec(FieldType.NUMBER, "注册资本(元)", "registered capital (yuan)"),
    "employees": FieldSpec(FieldType.NUMBER, "参保人数", "insured employees"),
    "size": FieldSpec(FieldType.GRADE, "企业规模", "enterprise size", ("micro", "small", "medium", "large")),
    "region": FieldSpec(FieldType.TEXT, "登记地区划代码", "registration region code"),
    "entity_type": FieldSpec(FieldType.TEXT, "市场主体类型", "entity type"),
    "high_tech_enterprise": FieldSpec(FieldType.FLAG, "高新技术企业", "high-tech enterprise"),
    "tax_credit_grade": FieldSpec(FieldType.GRADE, "纳税信用等级", "tax credit grade", tuple("ABMCD")),
    "evaluation_grade": FieldSpec(FieldType.GRADE, "信用评价等级", "credit evaluation grade", tuple("ABCDE")),
    "no_dishonesty_record": FieldSpec(FieldType.FLAG, "无严重失信记录", "no serious-dishonesty record"),
    "no_abnormal_operation": FieldSpec(FieldType.FLAG, "未列入经营异常名录", "not on the abnormal list"),
    "white_lists": FieldSpec(FieldType.SET, "白名单", "white lists"),
    "industry": FieldSpec(
        FieldType.INDUSTRY, "所属行业(GB/T 4754)", "industry (GB/T 4754)",
        missing=(
            "企业注册登记记录未载明所属行业(GB/T 4754)，无法判断",
            "the enterprise's registration record carries no industry (GB/T 4754), so this cannot be checked",
        ),
    ),
}  # fmt: skip

_OPS: dict[FieldType, frozenset[str]] = {
    FieldType.NUMBER: frozenset({"min", "max"}),
    FieldType.GRADE: frozenset({"min", "in"}),
    FieldType.TEXT: frozenset({"in", "equals"}),
    FieldType.FLAG: frozenset({"equals"}),
    FieldType.SET: frozenset({"includes"}),
    FieldType.INDUSTRY: frozenset({"in", "equals"}),
}


class RuleInvalid(InvalidInput):
    """An eligibility rule names an unknown field, or an operator or value its field does not take."""

    code = "eligibility_invalid"


class Rule(BaseModel):
    """One criterion: `field` `op` `value`, over a field of `FIELDS`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str
    op: Literal["min", "max", "in", "equals", "includes"]
    value: Any

    @field_validator("field")
    @classmethod
    def _known(cls, name: str) -> str:
        if name not in FIELDS:
            raise ValueError(f"unknown field {name!r}; the platform holds: {', '.join(sorted(FIELDS))}")
        return name

    def check(self) -> None:
        """Refuse (`RuleInvalid`, naming the field) an operator or value the field does not take."""
        spec = FIELDS[self.field]
        if self.op not in _OPS[spec.type]:
            takes = sorted(_OPS[spec.type])
            raise RuleInvalid(
                f"eligibility field {self.field!r} ({spec.type}) takes {takes}, not {self.op!r}"
            )
        v = self.value
        ok: bool
        if spec.type is FieldType.NUMBER:
            ok = isinstance(v, int | float) and not isinstance(v, bool) and v >= 0
        elif spec.type is FieldType.GRADE:
            ok = v in spec.grades if self.op == "min" else _strings(v) and set(v) <= set(spec.grades)
        elif spec.type is FieldType.TEXT:
            ok = isinstance(v, str) if self.op == "equals" else _strings(v)
        elif spec.type is FieldType.FLAG:
            ok = isinstance(v, bool)
        elif spec.type is FieldType.INDUSTRY:
            ok = _industries(v if self.op == "in" else [v])
        else:
            ok = isinstance(v, str) and 0 < len(v) <= 128
        if not ok:
            raise RuleInvalid(f"eligibility field {self.field!r}: value {v!r} does not fit {self.op!r}")


def _strings(v: Any) -> bool:
    return isinstance(v, list) and 0 < len(v) <= 100 and all(isinstance(s, str) for s in v)


def _industries(v: Any) -> bool:
    """GB/T 4754-2017 section letters or division codes, e.g. ["C", "I65"]."""
    if not _strings(v):
        return False
    try:
        for code in v:
            check_industry_or_section(code)
    except InvalidIndustryCode:
        return False
    return True


@dataclass(frozen=True)
class Profile:
    """What the platform holds about one enterprise, by field of `FIELDS` (None: not held)."""

    subject: str
    values: dict[str, Any] = field(default_factory=dict)


class Outcome(NamedTuple):
    """One rule checked: met, not met, or unknown (no value held: not met).

    A tuple (cheap to make: matching makes thousands), shared between the products whose
    rule is the same within one match (`rule_key`)."""

    field: str
    met: bool
    known: bool
    reason_zh: str
    reason_en: str

    def to_json(self) -> dict[str, Any]:
        return {
            "field": self.field, "met": self.met, "known": self.known,
            "reason": {"zh": self.reason_zh, "en": self.reason_en},
        }  # fmt: skip


def rule_key(rule: Rule) -> tuple[str, str, Any]:
    """A hashable key of the rule: equal rules give equal outcomes on one profile."""
    v = rule.value
    return (rule.field, rule.op, tuple(v) if isinstance(v, list) else v)


def _show(v: Any) -> str:
    if isinstance(v, bool):
        return "是/yes" if v else "否/no"
    if isinstance(v, list | tuple | set | frozenset):
        return ", ".join(sorted(str(x) for x in v)) or "-"
    return str(v)


def check_rule(rule: Rule, profile: Profile) -> Outcome:
    """`rule` against `profile`, with its zh/en reason."""
    spec = FIELDS[rule.field]
    have = profile.values.get(rule.field)
    if have is None:
        zh, en = spec.missing or (
            f"平台未掌握{spec.zh}信息，无法判断", f"the platform holds no {spec.en} for the enterprise",
        )  # fmt: skip
        return Outcome(rule.field, False, False, zh, en)
    v, op = rule.value, rule.op
    if spec.type is FieldType.INDUSTRY:
        wanted = [v] if op == "equals" else v
        met = any(in_industry(have, w) for w in wanted)
        return Outcome(
            rule.field, met, True,
            f"{spec.zh}为{have}，要求{_show(wanted)}", f"{spec.en} is {have}; required {_show(wanted)}",
        )  # fmt: skip
    if spec.type is FieldType.NUMBER:
        met = have >= v if op == "min" else have <= v
        word_zh, word_en = ("不低于", "at least") if op == "min" else ("不高于", "at most")
        return Outcome(
            rule.field, met, True,
            f"{spec.zh}为{have:g}，要求{word_zh}{v:g}", f"{spec.en} is {have:g}; required {word_en} {v:g}",
        )  # fmt: skip
    if spec.type is FieldType.GRADE and op == "min":
        met = spec.grades.index(have) <= spec.grades.index(v)
        return Outcome(
            rule.field, met, True,
            f"{spec.zh}为{have}，要求{v}或以上", f"{spec.en} is {have}; required {v} or better",
        )  # fmt: skip
    if spec.type is FieldType.SET:
        lists = set(have)
        met = bool(lists) if v == "*" else v in lists
        want_zh = "任一白名单" if v == "*" else f"白名单{v}"
        want_en = "any white list" if v == "*" else f"white list {v}"
        return Outcome(
            rule.field, met, True,
            f"{'已' if met else '未'}列入{want_zh}", f"{'on' if met else 'not on'} {want_en}",
        )  # fmt: skip
    met = have == v if op == "equals" else have in v
    return Outcome(
        rule.field, met, True,
        f"{spec.zh}为{_show(have)}，要求{_show(v)}", f"{spec.en} is {_show(have)}; required {_show(v)}",
    )  # fmt: skip


def evaluate(rules: Sequence[Rule], profile: Profile) -> tuple[bool, list[Outcome]]:
    """Whether `profile` meets every rule, and each rule's outcome in order."""
    outcomes = [check_rule(r, profile) for r in rules]
    return all(o.met for o in outcomes), outcomes

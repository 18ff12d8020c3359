"""The portrait indicators as versioned data: what each reads, over which window, how.

An indicator file (`indicators-v1.json` beside this module) lists dimensions of an
enterprise's portrait and the indicators in each. An indicator reads one category -
a catalogue category, or one of the platform's conduct facts (`facts.py`) - names the
fields it reads, a window in months, a unit, whether more of it means more or less
risk, and a formula from a small closed set:

* `count`: records in the window that match `where`;
* `sum`: the sum of a numeric field over them;
* `latest`: a field of the latest of them (an enum through `scale`, a boolean as 1/0);
* `months_since`: whole months from a date of the latest of them to the evaluation date;
* `ratio`: one `count`/`sum` over another, or over the window's length in months;
* `trend`: the relative change of a field's mean from the first half of the window to
  the second, (later - earlier) / max(|earlier|, 1);
* `flag`: 1 when any of them matches `where`, else 0.

Which records an indicator reads: those of its category dated in its window (by their
event date, or by `date_field`), not after the evaluation date; and, when it names a
`valid_until_field`, only those whose date there is given and not before the evaluation
date - a qualification in force (the 专精特新 qualification of indicator file v2). Nothing
in the formulas compares a field with the evaluation date, so "in force" is this one
selection clause beside the window, not a new formula; it is left out of the file's
canonical form when unset, so files that do not use it hash as they did before it existed.

There is no code in the file: a formula is one of these names with its parameters,
and `where` is a list of field conditions (`one_of` values, or `present`). The file
is validated strictly on load, first on its own (references, consistency of each
formula with the fields it declares) and then against the catalogue and the conduct
facts (every category and field exists, types fit the formula, enum scales cover every
value); every problem is reported with its place in the file and the indicator's id.

`content_hash()` is SHA-256 of the RFC 8785 canonical JSON of the validated file, so a
model names exactly the indicator definitions it was trained on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import rfc8785
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic import Field as Constraint

from ledger.evaluation.errors import IndicatorFileError

__all__ = [
    "DEFAULT_INDICATORS",
    "Aggregate",
    "Condition",
    "Count",
    "Dimension",
    "FieldSpec",
    "Flag",
    "Formula",
    "Indicator",
    "IndicatorFile",
    "Latest",
    "MonthsSince",
    "Ratio",
    "Risk",
    "Sum",
    "Trend",
    "WindowMonths",
    "check_against",
    "load_indicators",
    "parse_indicators",
]

DEFAULT_INDICATORS = "indicators-v1.json"
MAX_WINDOW_MONTHS = 120

_Frozen = ConfigDict(frozen=True, extra="forbid")
Name = Annotated[str, Constraint(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Text = Annotated[str, Constraint(min_length=1, max_length=200)]
Scalar = str | bool | int


class Risk(StrEnum):
    """How default risk moves as the indicator grows: the monotone trend asked of binning."""

    INCREASES = "increases"
    DECREASES = "decreases"
    AUTO = "auto"  # no prior: the binning chooses ascending or descending


class Condition(BaseModel):
    """A record matches when `field` holds one of `one_of`, or is (not) `present`."""

    model_config = _Frozen

    field: Name
    one_of: tuple[Scalar, ...] | None = Constraint(default=None, min_length=1)
    present: bool | None = None

    @model_validator(mode="after")
    def _one_test(self) -> Self:
        if (self.one_of is None) == (self.present is None):
            raise ValueError(f"condition on {self.field}: give exactly one of one_of, present")
        return self


Where = tuple[Condition, ...]


class Count(BaseModel):
    model_config = _Frozen

    op: Literal["count"]
    where: Where = ()


class Sum(BaseModel):
    model_config = _Frozen

    op: Literal["sum"]
    field: Name
    where: Where = ()


class WindowMonths(BaseModel):
    """The window's length in months, as a ratio's denominator (e.g. months paid / 12)."""

    model_config = _Frozen

    op: Literal["window_months"]


Aggregate = Annotated[Count | Sum, Constraint(discriminator="op")]


class Latest(BaseModel):
    model_config = _Frozen

    op: Literal["latest"]
    field: Name
    where: Where = ()
    scale: dict[str, float] | None = None  # enum value -> number

    @model_validator(mode="after")
    def _scale(self) -> Self:
        if self.scale is not None and not self.scale:
            raise ValueError("scale: empty")
        return self


class MonthsSince(BaseModel):
    """Months from the latest matching record's `field` (a date), or its window date, to the evaluation."""

    model_config = _Frozen

    op: Literal["months_since"]
    field: Name | None = None
    where: Where = ()


class Ratio(BaseModel):
    model_config = _Frozen

    op: Literal["ratio"]
    numerator: Aggregate
    denominator: Annotated[Count | Sum | WindowMonths, Constraint(discriminator="op")]


class Trend(BaseModel):
    model_config = _Frozen

    op: Literal["trend"]
    field: Name
    where: Where = ()


class Flag(BaseModel):
    model_config = _Frozen

    op: Literal["flag"]
    where: Where = Constraint(min_length=1)


Formula = Annotated[Count | Sum | Latest | MonthsSince | Ratio | Trend | Flag, Constraint(discriminator="op")]


def _where_fields(where: Where) -> Iterator[str]:
    return (c.field for c in where)


def formula_fields(formula: Count | Sum | Latest | MonthsSince | Ratio | Trend | Flag) -> set[str]:
    """Every field a formula reads (its own and its conditions')."""
    if isinstance(formula, Ratio):
        found = formula_fields(formula.numerator)
        if not isinstance(formula.denominator, WindowMonths):
            found |= formula_fields(formula.denominator)
        return found
    found = set(_where_fields(formula.where))
    field = getattr(formula, "field", None)
    if field is not None:
        found.add(field)
    return found


class Indicator(BaseModel):
    """One indicator: what it reads and how it is computed, in zh and en."""

    model_config = _Frozen

    id: Name
    dimension: Name
    name_zh: Text
    name_en: Text
    category: Name
    fields: tuple[Name, ...]  # every field it reads, declared
    window_months: int | None = Constraint(default=None, ge=1, le=MAX_WINDOW_MONTHS)
    date_field: Name | None = None  # places a record in the window; None: its event date
    #: a date field: only records whose date there is given and not before the evaluation date
    valid_until_field: Name | None = None
    unit: Text
    formula: Formula
    risk: Risk
    actionable: bool = True  # whether guidance may suggest changing it

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        f = self.formula
        read = formula_fields(f) | {d for d in (self.date_field, self.valid_until_field) if d}
        declared = set(self.fields)
        if len(declared) != len(self.fields):
            raise ValueError("fields: listed twice")
        if read - declared:
            raise ValueError(f"fields: reads {sorted(read - declared)} without declaring them")
        if declared - read:
            raise ValueError(f"fields: declares {sorted(declared - read)} that the formula does not read")
        needs_window = isinstance(f, Trend) or (
            isinstance(f, Ratio) and isinstance(f.denominator, WindowMonths)
        )
        if needs_window and self.window_months is None:
            raise ValueError(f"window_months: required by {f.op}")
        if isinstance(f, Trend) and self.window_months is not None and self.window_months % 2:
            raise ValueError("window_months: a trend compares two halves, so the window must be even")
        return self


class Dimension(BaseModel):
    """A dimension of the portrait, with what "enough data" means for it.

    `min_records`: records of its indicators' categories needed (within
    `sufficiency_window_months`, if set) before a score may rest on it; 0 where absence
    is itself information (no penalty on file is good news, not missing data).
    """

    model_config = _Frozen

    id: Name
    name_zh: Text
    name_en: Text
    min_records: int = Constraint(ge=0, le=1000)
    sufficiency_window_months: int | None = Constraint(default=None, ge=1, le=MAX_WINDOW_MONTHS)


class IndicatorFile(BaseModel):
    model_config = _Frozen

    version: int = Constraint(ge=1)
    catalogue_version: int = Constraint(ge=1)
    name_zh: Text
    name_en: Text
    dimensions: tuple[Dimension, ...] = Constraint(min_length=1)
    indicators: tuple[Indicator, ...] = Constraint(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> Self:
        for what, ids in (
            ("dimension", [d.id for d in self.dimensions]),
            ("indicator", [i.id for i in self.indicators]),
        ):
            dupes = sorted({x for x in ids if ids.count(x) > 1})
            if dupes:
                raise ValueError(f"duplicate {what} ids {dupes}")
        known = {d.id for d in self.dimensions}
        for ind in self.indicators:
            if ind.dimension not in known:
                raise ValueError(f"indicator {ind.id}: unknown dimension {ind.dimension!r}")
        empty = sorted(known - {i.dimension for i in self.indicators})
        if empty:
            raise ValueError(f"dimensions without indicators: {empty}")
        return self

    def indicator(self, indicator_id: str) -> Indicator:
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        raise IndicatorFileError(f"indicator file v{self.version} has no indicator {indicator_id!r}")

    def categories(self) -> tuple[str, ...]:
        """Every category the indicators read, sorted: the inputs a model draws on."""
        return tuple(sorted({i.category for i in self.indicators}))

    def dimension_categories(self, dimension_id: str) -> tuple[str, ...]:
        return tuple(sorted({i.category for i in self.indicators if i.dimension == dimension_id}))

    def canonical_data(self) -> dict[str, Any]:
        """The file as validated, defaults filled in, `valid_until_field` left out where unset."""
        data: dict[str, Any] = self.model_dump(mode="json")
        for indicator in data["indicators"]:
            if indicator["valid_until_field"] is None:
                del indicator["valid_until_field"]
        return data

    def content_hash(self) -> bytes:
        """SHA-256 of the RFC 8785 canonical JSON of `canonical_data()`."""
        return hashlib.sha256(rfc8785.dumps(self.canonical_data())).digest()


# --------------------------------------------------------------------------- the schema check


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """What the check needs of a field: its type (catalogue type names) and enum values."""

    type: str
    enum_values: tuple[str, ...] | None = None


Schema = Mapping[str, Mapping[str, FieldSpec]]  # category -> field -> spec

_NUMERIC = frozenset({"integer", "decimal"})


def check_against(indicators: IndicatorFile, schema: Schema) -> list[str]:
    """Every way the file reads what `schema` (catalogue plus conduct facts) does not hold."""
    problems: list[str] = []
    for n, ind in enumerate(indicators.indicators):
        where = f"indicators[{n}] ({ind.id})"
        fields = schema.get(ind.category)
        if fields is None:
            problems.append(f"{where}.category: {ind.category!r} is neither a catalogue category nor a fact")
            continue
        unknown = [name for name in ind.fields if name not in fields]
        if unknown:
            problems.extend(f"{where}.fields: {ind.category} has no field {name!r}" for name in unknown)
            continue
        for name, value in (("date_field", ind.date_field), ("valid_until_field", ind.valid_until_field)):
            if value is not None and fields[value].type != "date":
                problems.append(f"{where}.{name}: {value} is not a date")
        problems.extend(_check_formula(f"{where}.formula", ind.formula, fields))
    return problems


def _check_formula(where: str, f: Any, fields: Mapping[str, FieldSpec]) -> list[str]:
    problems: list[str] = []
    if isinstance(f, Ratio):
        problems += _check_formula(f"{where}.numerator", f.numerator, fields)
        if not isinstance(f.denominator, WindowMonths):
            problems += _check_formula(f"{where}.denominator", f.denominator, fields)
        return problems
    for k, c in enumerate(f.where):
        problems += _check_condition(f"{where}.where[{k}]", c, fields[c.field])
    if isinstance(f, Sum | Trend) and fields[f.field].type not in _NUMERIC:
        problems.append(f"{where}.field: {f.op} needs a number; {f.field} is {fields[f.field].type}")
    elif isinstance(f, MonthsSince) and f.field is not None and fields[f.field].type != "date":
        problems.append(f"{where}.field: months_since needs a date; {f.field} is {fields[f.field].type}")
    elif isinstance(f, Latest):
        spec = fields[f.field]
        if spec.type == "enum":
            values = set(spec.enum_values or ())
            scale = set(f.scale or ())
            if scale != values:
                missing, extra = sorted(values - scale), sorted(scale - values)
                problems.append(
                    f"{where}.scale: must map every value of {f.field}: missing {missing}, unknown {extra}"
                )
        elif f.scale is not None:
            problems.append(f"{where}.scale: only an enum field takes a scale; {f.field} is {spec.type}")
        elif spec.type not in _NUMERIC | {"boolean"}:
            problems.append(
                f"{where}.field: latest needs a number, boolean or enum; {f.field} is {spec.type}"
            )
    return problems


def _check_condition(where: str, c: Condition, spec: FieldSpec) -> list[str]:
    if c.one_of is None:
        return []
    bad: list[Scalar] = []
    for value in c.one_of:
        if spec.type == "enum":
            ok = isinstance(value, str) and value in (spec.enum_values or ())
        elif spec.type == "boolean":
            ok = isinstance(value, bool)
        elif spec.type == "integer":
            ok = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok = isinstance(value, str)
        if not ok:
            bad.append(value)
    if bad:
        allowed = list(spec.enum_values) if spec.enum_values else spec.type
        return [f"{where}.one_of: {bad} not valid for {c.field} ({allowed})"]
    return []


# --------------------------------------------------------------------------- loading


def parse_indicators(
    data: Any, schema: Schema | None = None, *, source: str = "indicator file"
) -> IndicatorFile:
    """Validate parsed JSON as an indicator file (and against `schema` when given)."""
    try:
        parsed = IndicatorFile.model_validate(data)
    except ValidationError as e:
        raise IndicatorFileError(f"{source}: {_describe(e, data)}") from e
    if schema is not None:
        problems = check_against(parsed, schema)
        if problems:
            raise IndicatorFileError(f"{source}: " + "; ".join(problems))
    return parsed


def load_indicators(
    path: str | Path | None = None, schema: Schema | None = None, *, packaged: str = DEFAULT_INDICATORS
) -> IndicatorFile:
    """Load and validate an indicator file; None loads the packaged file `packaged` (v1 by default).

    With `schema` (see `schema.schema_of`), the file is also checked against the
    catalogue and the conduct facts. Every failure is an IndicatorFileError naming the field.
    """
    where = str(path) if path is not None else packaged
    try:
        if path is None:
            text = resources.files("ledger.evaluation").joinpath(packaged).read_text("utf-8")
        else:
            text = Path(path).read_text("utf-8")
        data = json.loads(text)
    except (OSError, ValueError) as e:
        raise IndicatorFileError(f"{where}: {e}") from e
    return parse_indicators(data, schema, source=where)


def _describe(e: ValidationError, data: Any) -> str:
    """Pydantic errors as `place: message`, the place naming the indicator's id when known."""
    out: list[str] = []
    for err in e.errors():
        loc = list(err["loc"])
        parts: list[str] = []
        node = data
        for step in loc:
            if isinstance(step, int):
                label = f"[{step}]"
                node = node[step] if isinstance(node, list) and step < len(node) else None
                if isinstance(node, dict) and isinstance(node.get("id"), str):
                    label += f" ({node['id']})"
                parts.append(label)
            else:
                parts.append(("." if parts else "") + str(step))
                node = node.get(step) if isinstance(node, dict) else None
        out.append(f"{''.join(parts) or '<root>'}: {err['msg']}")
    return "; ".join(out)

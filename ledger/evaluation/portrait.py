"""The portrait of one enterprise: every indicator of the file, computed from its records.

The records are taken as the release path would release them (domain-rules §3-4):

* a repaired record is never shared again, so it is never read;
* a record the caller withholds (`withheld`: for the release path, a dishonesty record
  past its maximum publicity period) is not read either;
* a fact about a record that is not read (an objection to it, a repair application for
  it) is not read (`facts.RECORD_LINK`);
* a disputed record is released with its flag, so it is read, and the portrait names
  every indicator that read one.

A portrait whose required dimensions lack data (fewer records than the dimension's
`min_records`) is *insufficient*: it names those dimensions, and no score is made from
it. The portrait also lists the record versions it read, the inputs an access-trail
entry names.

The indicator file is compiled once into one closure per indicator, and the records are
grouped by category once per enterprise: the evaluation runs for whole populations
(monitoring, training), so it is written for speed in plain Python.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from ledger.evaluation.facts import FACTS, RECORD_LINK
from ledger.evaluation.indicators import (
    Condition,
    Count,
    Flag,
    Indicator,
    IndicatorFile,
    Latest,
    MonthsSince,
    Ratio,
    Sum,
    Trend,
    WindowMonths,
)
from ledger.evaluation.records import RecordView

__all__ = ["Portrait", "PortraitEvaluator", "months_before", "months_between"]

Value = float | None
_When = date | str  # a record's place in time: its event date, or an ISO date field as written
_Selected = list[tuple[_When, RecordView]]
_Compute = Callable[[_Selected, "_Context"], Value]


@dataclass(frozen=True, slots=True)
class Portrait:
    """An enterprise's indicators at `as_of`, and what they rest on."""

    indicator_version: int
    as_of: date
    values: Mapping[str, Value]  # indicator id -> value, in the file's order; None: no value
    insufficient: tuple[str, ...]  # dimensions short of data; empty when a score may be made
    inputs: tuple[tuple[str, int], ...]  # (record_id, version) of every record read, sorted
    disputed: tuple[str, ...]  # indicators that read a disputed record

    @property
    def sufficient(self) -> bool:
        return not self.insufficient

    def to_json(self) -> dict[str, Any]:
        return {
            "indicator_version": self.indicator_version,
            "as_of": self.as_of.isoformat(),
            "values": dict(self.values),
            "insufficient": list(self.insufficient),
            "inputs": [{"record_id": r, "version": v} for r, v in self.inputs],
            "disputed": list(self.disputed),
        }


# --------------------------------------------------------------------------- calendar


def months_before(d: date, months: int) -> date:
    """The same day `months` calendar months earlier (the month's last day if shorter)."""
    y, m = divmod(d.year * 12 + d.month - 1 - months, 12)
    return date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))


def months_between(earlier: date, later: date) -> int:
    """Whole months from `earlier` to `later`; 0 when `earlier` is not before `later`."""
    n = (later.year - earlier.year) * 12 + later.month - earlier.month - (later.day < earlier.day)
    return max(n, 0)


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _number(value: Any) -> Value:
    if value is None or value == "":
        return None
    try:
        return float(value)  # int, float, Decimal, numeric string; a bool gives 1.0 / 0.0
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------- compiling


@dataclass(frozen=True, slots=True)
class _Context:
    """The evaluation date and the window bounds, as dates and as ISO text (for date fields)."""

    as_of: date
    as_of_iso: str
    starts: Mapping[int, date]  # window months -> the day before the window
    starts_iso: Mapping[int, str]
    halves: Mapping[int, date]  # window months -> middle of the window (for trends)
    halves_iso: Mapping[int, str]


_Match = Callable[[Mapping[str, Any]], bool] | None
_ABSENT = frozenset({None, ""})
_CONTEXTS = 64  # evaluation dates whose window bounds are kept  # a value not there: `present` is false


def _matcher(where: Sequence[Condition]) -> _Match:
    if not where:
        return None
    tests = [(c.field, frozenset(c.one_of) if c.one_of is not None else None, c.present) for c in where]
    if len(tests) == 1:  # the common case, kept to one lookup
        name, values, present = tests[0]
        if values is not None:
            return lambda fields: fields.get(name) in values
        if present:
            return lambda fields: fields.get(name) not in _ABSENT
        return lambda fields: fields.get(name) in _ABSENT

    def match(fields: Mapping[str, Any]) -> bool:
        for name, values, present in tests:
            value = fields.get(name)
            if values is not None:
                if value not in values:
                    return False
            elif (value not in _ABSENT) is not present:
                return False
        return True

    return match


def _count(where: Sequence[Condition]) -> Callable[[_Selected], float]:
    match = _matcher(where)
    if match is None:
        return lambda sel: float(len(sel))

    def count(sel: _Selected) -> float:
        n = 0
        for _, r in sel:
            if match(r.fields):
                n += 1
        return float(n)

    return count


def _sum(name: str, where: Sequence[Condition]) -> Callable[[_Selected], float]:
    match = _matcher(where)

    def total(sel: _Selected) -> float:
        out = 0.0
        for _, r in sel:
            if match is None or match(r.fields):
                v = _number(r.fields.get(name))
                if v is not None:
                    out += v
        return out

    return total


def _latest_record(sel: _Selected, match: _Match) -> tuple[_When, RecordView] | None:
    best: tuple[_When, RecordView] | None = None
    for item in sel:
        if match is not None and not match(item[1].fields):
            continue
        if best is None or (item[0], item[1].record_id) > (best[0], best[1].record_id):
            best = item
    return best


def _compile(ind: Indicator) -> _Compute:
    f = ind.formula
    window = ind.window_months
    if isinstance(f, Count):
        count = _count(f.where)
        return lambda sel, ctx: count(sel)
    if isinstance(f, Sum):
        total = _sum(f.field, f.where)
        return lambda sel, ctx: total(sel)
    if isinstance(f, Flag):
        match = _matcher(f.where)
        assert match is not None  # a flag has conditions
        return lambda sel, ctx: 1.0 if any(match(r.fields) for _, r in sel) else 0.0
    if isinstance(f, Latest):
        return _compile_latest(f)
    if isinstance(f, MonthsSince):
        return _compile_months_since(f)
    if isinstance(f, Ratio):
        num = (
            _count(f.numerator.where)
            if isinstance(f.numerator, Count)
            else _sum(f.numerator.field, f.numerator.where)
        )
        den_f = f.denominator
        if isinstance(den_f, WindowMonths):
            assert window is not None  # the indicator's validator insists
            months = float(window)
            return lambda sel, ctx: num(sel) / months
        den = _count(den_f.where) if isinstance(den_f, Count) else _sum(den_f.field, den_f.where)

        def ratio(sel: _Selected, ctx: _Context) -> Value:
            d = den(sel)
            return num(sel) / d if d else None

        return ratio
    assert isinstance(f, Trend) and window is not None
    return _compile_trend(f, window, by_field=ind.date_field is not None)


def _compile_latest(f: Latest) -> _Compute:
    match, name, scale = _matcher(f.where), f.field, f.scale

    def latest(sel: _Selected, ctx: _Context) -> Value:
        best = _latest_record(sel, match)
        if best is None:
            return None
        value = best[1].fields.get(name)
        if scale is not None:
            return scale.get(value) if isinstance(value, str) else None
        return _number(value)

    return latest


def _compile_months_since(f: MonthsSince) -> _Compute:
    match, name = _matcher(f.where), f.field

    def months_since(sel: _Selected, ctx: _Context) -> Value:
        best = _latest_record(sel, match)
        if best is None:
            return None
        when = _as_date(best[0] if name is None else best[1].fields.get(name))
        return None if when is None else float(months_between(when, ctx.as_of))

    return months_since


def _compile_trend(f: Trend, window: int, *, by_field: bool) -> _Compute:
    match, name = _matcher(f.where), f.field

    def trend(sel: _Selected, ctx: _Context) -> Value:
        middle: Any = ctx.halves_iso[window] if by_field else ctx.halves[window]  # the type of the `when`s
        early: list[float] = []
        late: list[float] = []
        for when, r in sel:
            if match is not None and not match(r.fields):
                continue
            v = _number(r.fields.get(name))
            if v is not None:
                (early if when <= middle else late).append(v)
        if not early or not late:
            return None
        before = sum(early) / len(early)
        return (sum(late) / len(late) - before) / max(abs(before), 1.0)

    return trend


@dataclass(frozen=True, slots=True)
class _Plan:
    id: str
    category: str
    window: int | None
    date_field: str | None
    valid_until: str | None
    compute: _Compute


class PortraitEvaluator:
    """Computes portraits under one indicator file; compile once, evaluate many."""

    def __init__(self, indicators: IndicatorFile) -> None:
        self.indicators = indicators
        self._plans = tuple(
            _Plan(i.id, i.category, i.window_months, i.date_field, i.valid_until_field, _compile(i))
            for i in indicators.indicators
        )
        self._categories = frozenset(indicators.categories())
        self._linked = frozenset(c for c in self._categories if c in FACTS and RECORD_LINK in FACTS[c])
        self._windows = frozenset(p.window for p in self._plans if p.window is not None) | frozenset(
            d.sufficiency_window_months for d in indicators.dimensions if d.sufficiency_window_months
        )
        self._trend_windows = frozenset(
            i.window_months for i in indicators.indicators if isinstance(i.formula, Trend) and i.window_months
        )
        self._contexts: dict[date, _Context] = {}
        self._required = tuple(
            (d.id, d.min_records, d.sufficiency_window_months, indicators.dimension_categories(d.id))
            for d in indicators.dimensions
            if d.min_records > 0
        )

    def evaluate(
        self,
        records: Iterable[RecordView],
        as_of: date,
        *,
        withheld: Callable[[RecordView], bool] | None = None,
    ) -> Portrait:
        """The portrait at `as_of` from an enterprise's current records and conduct facts.

        `withheld(record)` is true for a record the release rules keep back besides the
        repaired ones (for the release path: a dishonesty record past its publicity).
        Records dated after `as_of` are not counted.
        """
        by_category: dict[str, list[RecordView]] = {}
        dropped: set[str] = set()
        any_disputed = False
        for r in records:
            if r.repaired or (withheld is not None and withheld(r)):
                dropped.add(r.record_id)
                continue
            if r.category in self._categories:
                by_category.setdefault(r.category, []).append(r)
                any_disputed = any_disputed or r.disputed
        if dropped:
            for category in self._linked & by_category.keys():
                by_category[category] = [
                    r for r in by_category[category] if r.fields.get(RECORD_LINK) not in dropped
                ]

        ctx = self._context(as_of)
        selections: dict[tuple[str, int | None, str | None, str | None], _Selected] = {}
        values: dict[str, Value] = {}
        disputed: list[str] = []
        for plan in self._plans:
            key = (plan.category, plan.window, plan.date_field, plan.valid_until)
            sel = selections.get(key)
            if sel is None:
                sel = _select(by_category.get(plan.category, ()), plan, ctx)
                selections[key] = sel
            values[plan.id] = plan.compute(sel, ctx)
            if any_disputed and any(r.disputed for _, r in sel):
                disputed.append(plan.id)

        insufficient = tuple(
            dim
            for dim, needed, window, categories in self._required
            if _records_in(by_category, categories, as_of, ctx.starts[window] if window else None) < needed
        )
        inputs = tuple(sorted((r.record_id, r.version) for rs in by_category.values() for r in rs))
        return Portrait(self.indicators.version, as_of, values, insufficient, inputs, tuple(disputed))

    def _context(self, as_of: date) -> _Context:
        ctx = self._contexts.get(as_of)
        if ctx is None:
            starts = {w: months_before(as_of, w) for w in self._windows}
            halves = {w: months_before(as_of, w // 2) for w in self._trend_windows}
            ctx = _Context(
                as_of,
                as_of.isoformat(),
                starts,
                {w: d.isoformat() for w, d in starts.items()},
                halves,
                {w: d.isoformat() for w, d in halves.items()},
            )
            if len(self._contexts) >= _CONTEXTS:
                self._contexts.clear()
            self._contexts[as_of] = ctx
        return ctx


def _select(records: Iterable[RecordView], plan: _Plan, ctx: _Context) -> _Selected:
    """The records in the plan's window (and in force, with `valid_until`), each with its place in time."""
    if plan.valid_until is not None:
        records = [r for r in records if _in_force(r.fields.get(plan.valid_until), ctx.as_of_iso)]
    out: _Selected = []
    name = plan.date_field
    if name is None:
        start = ctx.starts[plan.window] if plan.window is not None else None
        as_of = ctx.as_of
        for r in records:
            when = r.event_date
            if when <= as_of and (start is None or when > start):
                out.append((when, r))
        return out
    start_iso = ctx.starts_iso[plan.window] if plan.window is not None else None
    as_of_iso = ctx.as_of_iso
    for r in records:
        value = r.fields.get(name)
        when_iso = value if type(value) is str else value.isoformat() if isinstance(value, date) else None
        if when_iso is None or len(when_iso) != 10:
            continue
        if when_iso <= as_of_iso and (start_iso is None or when_iso > start_iso):
            out.append((when_iso, r))
    return out


def _in_force(until: Any, as_of_iso: str) -> bool:
    """A validity end date, given and not before the evaluation date (ISO text or a date)."""
    until_iso = until if type(until) is str else until.isoformat() if isinstance(until, date) else None
    return until_iso is not None and len(until_iso) == 10 and until_iso >= as_of_iso


def _records_in(
    by_category: Mapping[str, list[RecordView]], categories: Iterable[str], as_of: date, start: date | None
) -> int:
    return sum(
        1
        for c in categories
        for r in by_category.get(c, ())
        if r.event_date <= as_of and (start is None or r.event_date > start)
    )

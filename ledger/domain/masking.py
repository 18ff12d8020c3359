"""Desensitization (脱敏) of released records, driven by the catalogue's rule names.

Data leaves the platform masked unless the enterprise's grant covers raw detail, so
this module sits on every release path: it is plain string work with no I/O, and it
fails towards hiding. Rules follow shared/reference/domain-rules.md §2; choices the
table leaves open are made so that nothing beyond the rule is revealed:

* a value too short to keep the rule's prefix and suffix is masked entirely, rather
  than shown whole;
* the kept parts are those of the rule's example, and the hidden part of fixed-width
  identifiers keeps its length (110***********1234) while free text (addresses,
  email local parts, redacted values) is replaced by a fixed run of stars so its
  length does not leak;
* `never` values are dropped from records even when raw detail is granted.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation

from ledger.domain.catalogue import Catalogue, MaskingRule, default_catalogue
from ledger.errors import LedgerError

__all__ = ["MaskingError", "amount_band", "mask_address", "mask_record", "mask_value"]

STAR = "*"
FIXED_STARS = STAR * 6  # replaces free text of unknown length
EMAIL_STARS = STAR * 3

# Administrative-division suffixes (GB/T 2260 names); 自治区 is listed for clarity even
# though its last character 区 would match on its own.
_ADMIN_SUFFIXES = ("自治区", "省", "市", "区", "县", "旗")
# Direct-administered municipalities: province and city are one level, so only the
# district follows.
_MUNICIPALITIES = frozenset({"北京市", "上海市", "天津市", "重庆市"})
# Characters that mark street-level detail; a "division" containing one is not a division.
_STREET_MARKS = frozenset("路街道巷弄号村组栋幢楼室")
_MAX_DIVISION_LEN = 12
_SEPARATORS = str.maketrans("", "", " -\u3000")


class MaskingError(LedgerError, ValueError):
    """A value cannot be put through its rule (e.g. a non-numeric amount); the caller
    must withhold the field rather than release it unmasked."""

    code = "masking_error"


# --------------------------------------------------------------------------- helpers


def _text(value: object) -> str:
    """Render identifiers stored as numbers the way they are written (no '.0')."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return str(int(value))
    return str(value)


def _keep(s: str, first: int, last: int) -> str:
    """Keep *first* and *last* characters, star the middle; too short → all stars."""
    hidden = len(s) - first - last
    if hidden <= 0:
        return STAR * len(s)
    return s[:first] + STAR * hidden + (s[len(s) - last :] if last else "")


def _compact(value: object) -> str:
    """Numbers written with spaces or dashes (138 1234 1999, 0371-1234567) are masked
    on their digits, so separators cannot shift what the rule keeps."""
    return _text(value).translate(_SEPARATORS)


# --------------------------------------------------------------------------- rules


def _person_name(value: object) -> str:
    s = _text(value)
    return STAR * len(s) if len(s) < 2 else s[0] + STAR * (len(s) - 1)


def _resident_id(value: object) -> str:
    return _keep(_compact(value), 3, 4)  # the birth date (positions 7-14) is hidden


def _mobile(value: object) -> str:
    return _keep(_compact(value), 3, 4)


def _bank_card(value: object) -> str:
    return _keep(_compact(value), 6, 4)


def _landline(value: object) -> str:
    return _keep(_compact(value), 4, 2)


def _email(value: object) -> str:
    s = _text(value)
    local, at, domain = s.rpartition("@")
    if not at or not domain:
        return EMAIL_STARS
    return (local[:1] if len(local) > 1 else "") + EMAIL_STARS + "@" + domain


def _division_end(s: str, start: int) -> int | None:
    """End of one administrative division starting at *start*, or None if there is none.

    The first character is exempt from the street-word check: 道里区 and 路桥区 are
    districts.
    """
    if start >= len(s) or s[start].isdigit() or s[start].isascii():
        return None
    for i in range(start + 1, min(len(s), start + _MAX_DIVISION_LEN)):
        ch = s[i]
        if ch.isdigit() or ch.isascii() or ch in _STREET_MARKS:
            return None
        for suffix in _ADMIN_SUFFIXES:
            if s.startswith(suffix, i):
                return i + len(suffix)
    return None


def mask_address(value: object) -> str:
    """Keep province, city and district of a Chinese address; star the rest.

    Divisions are recognised by their suffixes (省/自治区/市/区/县/旗) and must be short
    and free of digits and street words, so a road or building is never mistaken for a
    district. Anything unrecognised is hidden entirely.
    """
    s = _text(value)
    pos, levels, limit = 0, 0, 3
    while levels < limit:
        end = _division_end(s, pos)
        if end is None:
            break
        if levels == 0 and s[:end] in _MUNICIPALITIES:
            limit = 2
        pos, levels = end, levels + 1
    return s[:pos] + FIXED_STARS


@functools.lru_cache(maxsize=256)  # a catalogue has a handful of band edges
def _amount_label(edge: int) -> str:
    if edge >= 100_000_000:
        amount, unit = Decimal(edge) / 100_000_000, "亿"
    elif edge >= 10_000:
        amount, unit = Decimal(edge) / 10_000, "万"
    else:
        amount, unit = Decimal(edge), ""
    return f"{amount.normalize():f}{unit}"


def amount_band(value: object, bands: Sequence[int]) -> str:
    """The band of an amount in yuan, e.g. "100万-500万": enough to judge scale without
    revealing the figure. Lower edges are inclusive."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise MaskingError(f"amount_band needs a number, got {type(value).__name__}")
    try:
        amount = Decimal(value) if isinstance(value, int | Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise MaskingError(f"amount_band needs a number, got {value!r}") from None
    if not amount.is_finite():
        raise MaskingError(f"amount_band needs a finite number, got {value!r}")
    if amount < bands[0]:
        return f"{_amount_label(bands[0])}以下"
    for lo, hi in itertools.pairwise(bands):
        if amount < hi:
            return f"{_amount_label(lo)}-{_amount_label(hi)}"
    return f"{_amount_label(bands[-1])}以上"


_STRING_RULES: dict[MaskingRule, Callable[[object], str]] = {
    MaskingRule.PERSON_NAME: _person_name,
    MaskingRule.RESIDENT_ID: _resident_id,
    MaskingRule.MOBILE: _mobile,
    MaskingRule.BANK_CARD: _bank_card,
    MaskingRule.ADDRESS: mask_address,
    MaskingRule.LANDLINE: _landline,
    MaskingRule.EMAIL: _email,
    MaskingRule.REDACTED: lambda _value: FIXED_STARS,
}


def mask_value(rule: MaskingRule | str, value: object, *, bands: Sequence[int] | None = None) -> object:
    """Apply one rule to one value.

    None stays None (nothing to hide); `never` always yields None; `public` and `grade`
    pass the value through (a grade such as 纳税信用 A is already the coarse form);
    `amount_band` uses *bands* (default: the packaged catalogue's). Unknown rule names
    raise MaskingError instead of passing data through.
    """
    try:
        r = rule if isinstance(rule, MaskingRule) else MaskingRule(rule)
    except ValueError:
        raise MaskingError(f"unknown masking rule {rule!r}") from None
    if value is None or r is MaskingRule.NEVER:
        return None
    if r is MaskingRule.PUBLIC or r is MaskingRule.GRADE:
        return value
    if r is MaskingRule.AMOUNT_BAND:
        return amount_band(value, default_catalogue().masking.amount_bands if bands is None else bands)
    return _STRING_RULES[r](value)


def mask_record(
    category: str, fields: Mapping[str, object], raw: bool, *, catalogue: Catalogue | None = None
) -> dict[str, object]:
    """The record as it may be released: masked per field, or raw if the grant says so.

    Either way `never` fields are dropped, and so are fields the catalogue does not know
    (released data must be described by the catalogue the agreement pinned). Output
    keys follow catalogue order.
    """
    cat_ = catalogue or default_catalogue()
    bands = cat_.masking.amount_bands
    out: dict[str, object] = {}
    for f in cat_.category(category).fields:
        if f.name not in fields or f.masking is MaskingRule.NEVER:
            continue
        value = fields[f.name]
        out[f.name] = value if raw else mask_value(f.masking, value, bands=bands)
    return out

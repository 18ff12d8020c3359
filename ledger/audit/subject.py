"""The form a release's subject must have: a valid 统一社会信用代码 (GB 32100-2015), canonical.

Restated here from the standard rather than imported from the writing side
(`ledger.domain.identifiers`), so a mistake there shows up as a finding instead of
being repeated. The release path refuses a request whose subject is not in this form,
never normalising it: the request is signed over the subject as sent, and the trail
keeps it so. The two sides run one table of cases (`tests/unit/test_one_rule.py`).
"""

from __future__ import annotations

__all__ = ["subject_problem"]

_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 symbols: no I, O, S, V, Z
_VALUE = {c: i for i, c in enumerate(_ALPHABET)}
_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_AUTHORITIES = frozenset("123456789ANY")  # position 1, the registration authority
_ENTITY_TYPES = {"9": frozenset("123")}  # position 2, where the authority pins it down


def subject_problem(subject: str) -> str | None:
    """Why `subject` is not a canonical USCC, or None when it is."""
    if len(subject) != 18:
        return f"{len(subject)} characters, not 18"
    bad = [c for c in subject if c not in _VALUE]
    if bad:
        return f"character {bad[0]!r} is not in the USCC alphabet (upper-case ASCII)"
    if subject[0] not in _AUTHORITIES:
        return f"unknown registration authority {subject[0]!r}"
    types = _ENTITY_TYPES.get(subject[0])
    if types is not None and subject[1] not in types:
        return f"entity type {subject[1]!r} is not defined for authority {subject[0]!r}"
    if not subject[2:8].isdigit():
        return "region code is not six digits"
    total = sum(_VALUE[c] * w for c, w in zip(subject[:17], _WEIGHTS, strict=True))
    if subject[17] != _ALPHABET[(31 - total % 31) % 31]:
        return "check character does not match"
    return None

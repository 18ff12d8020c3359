"""Check digits of the two identifiers every credit record hangs on.

A mistyped Unified Social Credit Code files data under the wrong enterprise, and a
mistyped resident ID links a person to someone else's record, so both are validated
before anything is stored. The rules are GB 32100-2015 (USCC, with the GB 11714
organization code embedded in it) and GB 11643-1999 (resident ID), as summarised in
shared/reference/domain-rules.md §1. Every failure names the rule it broke, so a data
provider can fix the record without guessing.

Real registries hold a few codes whose embedded organization code fails its own check
while the USCC check passes; those are valid codes that must be accepted and flagged,
hence warnings rather than errors for that one rule.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

from ledger.errors import InvalidInput

__all__ = [
    "USCC_ALPHABET",
    "USCC_AUTHORITIES",
    "IdentifierWarning",
    "InvalidIdentifierError",
    "ResidentIdCheck",
    "UsccCheck",
    "organization_code_check_char",
    "resident_id_check_char",
    "uscc_check_char",
    "validate_resident_id",
    "validate_uscc",
]

# GB 32100-2015: 31 symbols, value = index; I, O, S, V, Z are left out as look-alikes.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1 3 9 27 19 26 16 17 20 ...

#: Registration authority (position 1). A, N and Y are real and must be accepted.
USCC_AUTHORITIES: dict[str, str] = {
    "1": "机构编制",
    "2": "外交",
    "3": "司法行政",
    "4": "文化",
    "5": "民政",
    "6": "旅游",
    "7": "宗教",
    "8": "工会",
    "9": "工商",
    "A": "军队",
    "N": "农业",
    "Y": "其他",
}

#: Entity types (position 2) where the rules pin them down; other authorities are open.
USCC_ENTITY_TYPES: dict[str, dict[str, str]] = {
    "9": {"1": "enterprise", "2": "individual_business", "3": "farmers_cooperative"},
}

# GB 11714: organization code values over the full Latin alphabet, A = 10 ... Z = 35.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

# GB 11643-1999.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


class InvalidIdentifierError(InvalidInput, ValueError):
    """An identifier broke a named rule; the API maps it to 422 like any bad input.

    `rule` is a stable machine-readable name (length, alphabet, authority, entity_type,
    region, check_char, birth_date, ...) so callers can branch on it without parsing
    the message.
    """

    code = "invalid_identifier"

    def __init__(self, field: str, rule: str, message: str) -> None:
        super().__init__(f"{field}: {message} [{rule}]")
        self.field = field
        self.rule = rule
        self.detail = message


@dataclass(frozen=True, slots=True)
class IdentifierWarning:
    """A rule that failed but does not make the identifier unusable."""

    rule: str
    message: str


@dataclass(frozen=True, slots=True)
class UsccCheck:
    """A USCC that passed every hard rule, split into its parts, with any warnings."""

    code: str
    authority: str
    entity_type: str
    region_code: str
    organization_code: str
    warnings: tuple[IdentifierWarning, ...] = ()


@dataclass(frozen=True, slots=True)
class ResidentIdCheck:
    """A resident ID that passed every rule, with what it encodes."""

    number: str
    region_code: str
    birth_date: date
    sequence: str
    is_male: bool


def _normalise(value: object, field: str) -> str:
    """Fold full-width input (common from Chinese IMEs) and case; keep everything else."""
    if not isinstance(value, str):
        raise InvalidIdentifierError(field, "type", f"expected a string, got {type(value).__name__}")
    return unicodedata.normalize("NFKC", value).strip().upper()


# --------------------------------------------------------------------------- USCC


def uscc_check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters of a USCC.

    Raises InvalidIdentifierError when the body has the wrong length or a character
    outside the 31-symbol alphabet, since no check character exists for it.
    """
    if len(first17) != 17:
        raise InvalidIdentifierError("uscc", "length", f"body must be 17 characters, got {len(first17)}")
    total = 0
    for pos, (char, weight) in enumerate(zip(first17, _USCC_WEIGHTS, strict=True), start=1):
        value = _USCC_VALUE.get(char)
        if value is None:
            raise InvalidIdentifierError(
                "uscc", "alphabet", f"character {char!r} at position {pos} is not in the USCC alphabet"
            )
        total += value * weight
    return USCC_ALPHABET[(31 - total % 31) % 31]


def organization_code_check_char(first8: str) -> str:
    """The GB 11714 check character for the 8-character organization code body."""
    if len(first8) != 8:
        raise InvalidIdentifierError(
            "organization_code", "length", f"body must be 8 characters, got {len(first8)}"
        )
    total = 0
    for char, weight in zip(first8, _ORG_WEIGHTS, strict=True):
        if "0" <= char <= "9":
            value = ord(char) - ord("0")
        elif "A" <= char <= "Z":
            value = ord(char) - ord("A") + 10
        else:
            raise InvalidIdentifierError(
                "organization_code", "alphabet", f"character {char!r} is not a digit or Latin letter"
            )
        total += value * weight
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def validate_uscc(code: str, *, field: str = "uscc") -> UsccCheck:
    """Validate a Unified Social Credit Code and return it normalised, with warnings.

    Hard rules (errors), in the order checked: length 18, alphabet, registration
    authority, entity type where the authority defines them, region digits, check
    character. The embedded organization code's own check is only a warning.
    """
    s = _normalise(code, field)
    if len(s) != 18:
        raise InvalidIdentifierError(field, "length", f"must be 18 characters, got {len(s)}")
    for pos, char in enumerate(s, start=1):
        if char not in _USCC_VALUE:
            raise InvalidIdentifierError(
                field, "alphabet", f"character {char!r} at position {pos} is not in the USCC alphabet"
            )
    authority, entity_type = s[0], s[1]
    if authority not in USCC_AUTHORITIES:
        raise InvalidIdentifierError(field, "authority", f"unknown registration authority {authority!r}")
    allowed = USCC_ENTITY_TYPES.get(authority)
    if allowed is not None and entity_type not in allowed:
        raise InvalidIdentifierError(
            field, "entity_type", f"entity type {entity_type!r} is not defined for authority {authority!r}"
        )
    region = s[2:8]
    if not region.isdigit():
        raise InvalidIdentifierError(field, "region", f"region code {region!r} must be six digits")
    expected = uscc_check_char(s[:17])
    if s[17] != expected:
        raise InvalidIdentifierError(
            field, "check_char", f"check character is {s[17]!r}, expected {expected!r}"
        )
    warnings: list[IdentifierWarning] = []
    org = s[8:17]
    org_expected = organization_code_check_char(org[:8])
    if org[8] != org_expected:
        warnings.append(
            IdentifierWarning(
                "organization_code_check",
                f"embedded organization code {org} has check {org[8]!r}, expected {org_expected!r}",
            )
        )
    return UsccCheck(
        code=s,
        authority=USCC_AUTHORITIES[authority],
        entity_type=(allowed or {}).get(entity_type, entity_type),
        region_code=region,
        organization_code=org,
        warnings=tuple(warnings),
    )


# --------------------------------------------------------------------------- resident ID


def resident_id_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits of a resident ID."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise InvalidIdentifierError("resident_id", "digits", "body must be 17 ASCII digits")
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def validate_resident_id(
    number: str, today: date | None = None, *, field: str = "resident_id"
) -> ResidentIdCheck:
    """Validate an 18-character resident identity number (GB 11643-1999).

    The birth date must exist on the calendar and not lie after *today* (injectable so
    tests and batch re-validation do not depend on the clock). Rules, in order: length,
    digits (first 17), check_char (its form), birth_date, check_char (its value).
    """
    s = _normalise(number, field)
    if len(s) != 18:
        raise InvalidIdentifierError(field, "length", f"must be 18 characters, got {len(s)}")
    body = s[:17]
    if not body.isascii() or not body.isdigit():
        raise InvalidIdentifierError(field, "digits", "the first 17 characters must be digits")
    if s[17] not in _ID_CHECK:
        raise InvalidIdentifierError(field, "check_char", f"check character {s[17]!r} must be 0-9 or X")
    try:
        born = date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        raise InvalidIdentifierError(field, "birth_date", f"{s[6:14]} is not a calendar date") from None
    if born > (today or date.today()):
        raise InvalidIdentifierError(field, "birth_date", f"birth date {born.isoformat()} is in the future")
    expected = resident_id_check_char(body)
    if s[17] != expected:
        raise InvalidIdentifierError(
            field, "check_char", f"check character is {s[17]!r}, expected {expected!r}"
        )
    return ResidentIdCheck(
        number=s,
        region_code=s[:6],
        birth_date=born,
        sequence=s[14:17],
        is_male=int(s[16]) % 2 == 1,
    )

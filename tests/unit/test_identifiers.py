"""USCC (GB 32100-2015) and resident ID (GB 11643-1999) validation."""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ledger.domain.identifiers import (
    USCC_ALPHABET,
    USCC_AUTHORITIES,
    InvalidIdentifierError,
    organization_code_check_char,
    resident_id_check_char,
    uscc_check_char,
    validate_resident_id,
    validate_uscc,
)
from ledger.errors import InvalidInput

TODAY = date(2025, 6, 1)


def with_check(body17: str) -> str:
    return body17 + uscc_check_char(body17)


# --------------------------------------------------------------------------- worked examples


@pytest.mark.parametrize(
    ("code", "weighted_sum"),
    [("91350200776049653A", 1261), ("91110000600037341L", 538)],
)
def test_uscc_worked_examples(code: str, weighted_sum: int) -> None:
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    assert sum(USCC_ALPHABET.index(c) * w for c, w in zip(code[:17], weights, strict=True)) == weighted_sum
    assert uscc_check_char(code[:17]) == code[17]
    check = validate_uscc(code)
    assert check.code == code
    assert check.authority == "工商"
    assert check.entity_type == "enterprise"
    assert check.warnings == ()


def test_uscc_parts() -> None:
    check = validate_uscc("91350200776049653A")
    assert check.region_code == "350200"
    assert check.organization_code == "776049653"


@pytest.mark.parametrize(("body", "check"), [("77604965", "3"), ("MA31E12P", "X")])
def test_organization_code_examples(body: str, check: str) -> None:
    assert organization_code_check_char(body) == check


def test_organization_check_11_maps_to_zero() -> None:
    # Σ = 11·k → 11 - 0 = 11 → "0"; "00000000" sums to 0.
    assert organization_code_check_char("00000000") == "0"


@pytest.mark.parametrize("number", ["11010519491231002X", "440524188001010014"])
def test_resident_id_examples(number: str) -> None:
    assert resident_id_check_char(number[:17]) == number[17]
    check = validate_resident_id(number, today=TODAY)
    assert check.number == number
    assert check.birth_date == date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def test_resident_id_parts() -> None:
    check = validate_resident_id("11010519491231002X", today=TODAY)
    assert check.region_code == "110105"
    assert check.sequence == "002"
    assert check.is_male is False
    assert validate_resident_id("440524188001010014", today=TODAY).is_male is True


# --------------------------------------------------------------------------- USCC rules


@pytest.mark.parametrize("authority", ["A", "N", "Y", "1", "5"])
def test_uscc_accepts_every_authority_incl_a_n_y(authority: str) -> None:
    code = with_check(authority + "1110000600037341")
    assert validate_uscc(code).authority == USCC_AUTHORITIES[authority]


def test_uscc_normalises_case_space_and_full_width() -> None:
    assert validate_uscc("  91350200776049653a ").code == "91350200776049653A"
    full_width = unicodedata.normalize("NFKC", "９１３５０２００７７６０４９６５３Ａ")
    assert validate_uscc(full_width).code == "91350200776049653A"
    assert validate_uscc("９１３５０２００７７６０４９６５３Ａ").code == "91350200776049653A"


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ("91350200776049653", "length"),
        ("91350200776049653AA", "length"),
        ("", "length"),
        ("91350200776049653I", "alphabet"),  # I is not in the alphabet
        ("9135020077604965OA", "alphabet"),
        ("9135020077604965SA", "alphabet"),
        (with_check("B1110000600037341"), "authority"),
        ("Z11100006000373410", "alphabet"),
        (with_check("94110000600037341"), "entity_type"),
        (with_check("911A0000600037341"), "region"),
        ("91350200776049653B", "check_char"),
        ("91110000600037341A", "check_char"),
    ],
)
def test_uscc_rules(code: str, rule: str) -> None:
    with pytest.raises(InvalidIdentifierError) as err:
        validate_uscc(code)
    assert err.value.rule == rule
    assert err.value.field == "uscc"


def test_uscc_error_is_value_error_and_invalid_input() -> None:
    with pytest.raises(ValueError):
        validate_uscc("x")
    with pytest.raises(InvalidInput):
        validate_uscc("x")


def test_uscc_field_name_is_reported() -> None:
    with pytest.raises(InvalidIdentifierError) as err:
        validate_uscc("91350200776049653B", field="authority_uscc")
    assert err.value.field == "authority_uscc"


def test_uscc_non_string_rejected() -> None:
    with pytest.raises(InvalidIdentifierError) as err:
        validate_uscc(913502007760496530)  # type: ignore[arg-type]
    assert err.value.rule == "type"


def test_failed_organization_check_is_a_warning_not_an_error() -> None:
    # Embedded organization code 776049650 (should end in 3); USCC check recomputed.
    code = with_check("91350200776049650")
    check = validate_uscc(code)
    assert check.code == code
    assert [w.rule for w in check.warnings] == ["organization_code_check"]


def test_uscc_check_char_rejects_bad_bodies() -> None:
    with pytest.raises(InvalidIdentifierError):
        uscc_check_char("9135020077604965")
    with pytest.raises(InvalidIdentifierError):
        uscc_check_char("9135020077604965I")


# --------------------------------------------------------------------------- resident ID rules


@pytest.mark.parametrize(
    ("number", "rule"),
    [
        ("11010519491231002", "length"),
        ("1101051949123100", "length"),
        ("11010519491231002XX", "length"),
        ("1101051949123100AX", "digits"),
        ("11010519491231002Y", "check_char"),
        ("110105194912310021", "check_char"),
        ("110105194902300021", "birth_date"),  # 30 February
        ("110105194913010021", "birth_date"),  # month 13
        ("110105190002290021", "birth_date"),  # 1900 was not a leap year
    ],
)
def test_resident_id_rules(number: str, rule: str) -> None:
    with pytest.raises(InvalidIdentifierError) as err:
        validate_resident_id(number, today=TODAY)
    assert err.value.rule == rule


def test_resident_id_birth_date_not_in_future() -> None:
    tomorrow = TODAY + timedelta(days=1)
    body = "110105" + tomorrow.strftime("%Y%m%d") + "001"
    with pytest.raises(InvalidIdentifierError) as err:
        validate_resident_id(body + resident_id_check_char(body), today=TODAY)
    assert err.value.rule == "birth_date"
    body_today = "110105" + TODAY.strftime("%Y%m%d") + "001"
    validate_resident_id(body_today + resident_id_check_char(body_today), today=TODAY)


def test_resident_id_leap_day() -> None:
    body = "11010520000229001"
    assert validate_resident_id(body + resident_id_check_char(body), today=TODAY).birth_date == date(
        2000, 2, 29
    )


def test_resident_id_lowercase_x_accepted() -> None:
    assert validate_resident_id("11010519491231002x", today=TODAY).number == "11010519491231002X"


# --------------------------------------------------------------------------- properties

uscc_bodies = st.builds(
    lambda a, e, region, org: a + e + region + org,
    st.sampled_from(sorted(USCC_AUTHORITIES)),
    st.sampled_from("123"),
    st.text("0123456789", min_size=6, max_size=6),
    st.text(USCC_ALPHABET, min_size=9, max_size=9),
)


@settings(max_examples=300)
@given(body=uscc_bodies)
def test_property_any_body_with_computed_check_validates(body: str) -> None:
    code = with_check(body)
    assert validate_uscc(code).code == code


def _normal(s: str) -> str:
    return unicodedata.normalize("NFKC", s).strip().upper()


@settings(max_examples=500)
@given(body=uscc_bodies, pos=st.integers(0, 17), replacement=st.characters(codec="utf-8"))
def test_property_any_single_character_change_is_rejected(body: str, pos: int, replacement: str) -> None:
    code = with_check(body)
    changed = code[:pos] + replacement + code[pos + 1 :]
    assume(_normal(changed) != code)  # a case or width variant is the same code
    with pytest.raises(InvalidIdentifierError):
        validate_uscc(changed)


@settings(max_examples=300)
@given(body=uscc_bodies, pos=st.integers(0, 17), replacement=st.sampled_from(USCC_ALPHABET))
def test_property_substitution_within_alphabet_is_caught_by_check(
    body: str, pos: int, replacement: str
) -> None:
    code = with_check(body)
    assume(code[pos] != replacement)
    changed = code[:pos] + replacement + code[pos + 1 :]
    with pytest.raises(InvalidIdentifierError):
        validate_uscc(changed)


@settings(max_examples=300)
@given(
    region=st.text("0123456789", min_size=6, max_size=6),
    born=st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    seq=st.text("0123456789", min_size=3, max_size=3),
    pos=st.integers(0, 17),
    digit=st.sampled_from("0123456789X"),
)
def test_property_resident_id_round_trip_and_single_change(
    region: str, born: date, seq: str, pos: int, digit: str
) -> None:
    body = region + born.strftime("%Y%m%d") + seq
    number = body + resident_id_check_char(body)
    assert validate_resident_id(number, today=TODAY).birth_date == born
    assume(number[pos] != digit)
    changed = number[:pos] + digit + number[pos + 1 :]
    with pytest.raises(InvalidIdentifierError):
        validate_resident_id(changed, today=TODAY)

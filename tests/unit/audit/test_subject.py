"""The auditor's USCC check names what is wrong with a subject, each rule at its edge.

`tests/unit/test_one_rule.py` holds the release path and the auditor to one verdict; these
hold the auditor's reasons to the standard, with subjects built here from GB 32100-2015's
weights (3^i mod 31) and check character rule.
"""

from __future__ import annotations

import pytest

from ledger.audit.subject import subject_problem

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _checked(first17: str) -> str:
    """`first17` with the check character the standard gives it."""
    total = sum(ALPHABET.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return first17 + ALPHABET[(31 - total % 31) % 31]


def test_canonical_subjects_pass_including_a_letter_after_the_region_and_a_zero_check_character() -> None:
    assert subject_problem("91350100M000100Y43") is None
    assert subject_problem(_checked("91110108MA0123456")) is None  # a letter at position 9
    zero = _checked("91110000000000025")
    assert zero[-1] == "0"  # the weighted sum is a multiple of 31
    assert subject_problem(zero) is None


@pytest.mark.parametrize(
    ("subject", "problem"),
    [
        ("9135010", "7 characters, not 18"),
        ("91350100M000100Y43X", "19 characters, not 18"),
        ("91350100m000100Y43", "character 'm' is not in the USCC alphabet (upper-case ASCII)"),
        ("91350100M000100Y4o", "character 'o' is not in the USCC alphabet (upper-case ASCII)"),
        ("91350100M0001I0Y43", "character 'I' is not in the USCC alphabet (upper-case ASCII)"),
        (_checked("B1350100M000100Y4"), "unknown registration authority 'B'"),
        (_checked("94350100M000100Y4"), "entity type '4' is not defined for authority '9'"),
        (_checked("913A0100M000100Y4"), "region code is not six digits"),
        (_checked("9135010AM000100Y4"), "region code is not six digits"),
        ("91350100M000100Y44", "check character does not match"),
    ],
)
def test_each_problem_is_named(subject: str, problem: str) -> None:
    assert subject_problem(subject) == problem


def test_another_authority_takes_any_entity_type() -> None:
    assert subject_problem(_checked("A4350100M000100Y4")) is None

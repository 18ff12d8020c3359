"""A value that cannot be put through its masking rule is refused by a message naming it.

The caller withholds the field (fails towards hiding); the message is what an operator
reads to find the bad record, so it names the value or its type, and why.
"""

from __future__ import annotations

import pytest

from ledger.domain.masking import MaskingError, mask_value

BANDS = (0, 100_000, 1_000_000)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (True, "amount_band needs a number, got bool"),
        ([1], "amount_band needs a number, got list"),
        ("lots", "amount_band needs a number, got 'lots'"),
        ("1,000", "amount_band needs a number, got '1,000'"),
        (float("nan"), "amount_band needs a finite number, got nan"),
        ("-inf", "amount_band needs a finite number, got '-inf'"),
    ],
    ids=["bool", "list", "word", "thousands-separator", "nan", "minus-infinity"],
)
def test_an_amount_that_is_no_finite_number_is_refused_by_name(value: object, message: str) -> None:
    with pytest.raises(MaskingError) as refused:
        mask_value("amount_band", value, bands=BANDS)
    assert refused.value.message == message


def test_an_unknown_rule_is_named() -> None:
    with pytest.raises(MaskingError) as refused:
        mask_value("shout", "x")
    assert refused.value.message == "unknown masking rule 'shout'"

"""Desensitization rules (domain-rules.md §2) and record masking via the catalogue."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.domain.catalogue import Catalogue, MaskingRule, load_catalogue
from ledger.domain.masking import MaskingError, amount_band, mask_record, mask_value

BANDS = (0, 100_000, 500_000, 1_000_000, 5_000_000, 10_000_000, 50_000_000, 100_000_000)

CASES: list[tuple[str, object, object]] = [
    # the table's examples
    ("person_name", "张三丰", "张**"),
    ("resident_id", "110105194912311234", "110***********1234"),
    ("mobile", "13812341999", "138****1999"),
    ("bank_card", "6228480402569717", "622848******9717"),
    ("address", "河南省郑州市金水区经三路66号", "河南省郑州市金水区******"),
    ("landline", "03711234579", "0371*****79"),
    ("email", "david@example.com", "d***@example.com"),
    ("amount_band", 1_000_000, "100万-500万"),
    ("grade", "A", "A"),
    ("public", "厦门某某科技有限公司", "厦门某某科技有限公司"),
    ("never", "123456", None),
    ("redacted", "豫(2021)郑州市不动产权第0001234号", "******"),
    # names
    ("person_name", "张三", "张*"),
    ("person_name", "欧阳娜娜", "欧***"),
    ("person_name", "张", "*"),
    ("person_name", "", ""),
    ("person_name", " 李四 ", "李*"),
    # identifiers: separators, numbers, short strings
    ("resident_id", "11010519491231002X", "110***********002X"),
    ("resident_id", "110105491231002", "110********1002"),  # first-generation 15 digits
    ("resident_id", "1234567", "*******"),  # too short to keep 3 + 4: hide all
    ("mobile", "138 1234 1999", "138****1999"),
    ("mobile", "138-1234-1999", "138****1999"),
    ("mobile", 13812341999, "138****1999"),
    ("mobile", 13812341999.0, "138****1999"),
    ("mobile", Decimal("13812341999"), "138****1999"),
    ("mobile", Decimal("13812341999.0"), "138****1999"),  # a whole number, however written
    ("mobile", Decimal("1381234.5"), "138**34.5"),  # a fraction is not cut off
    ("mobile", "13812345", "138*2345"),  # one character to hide is enough to keep both ends
    ("mobile", "1381", "****"),
    ("bank_card", "6228 4804 0256 9717", "622848******9717"),
    ("bank_card", "6228480402564890717", "622848*********0717"),
    ("bank_card", 6228480402569717, "622848******9717"),
    ("bank_card", "1234567890", "**********"),
    ("landline", "0371-1234579", "0371*****79"),
    ("landline", "010-12345678", "0101*****78"),
    ("landline", "12345", "*****"),
    ("landline", "1234567", "1234*67"),
    # email
    ("email", "d@example.com", "***@example.com"),
    ("email", "ab@example.com", "a***@example.com"),
    ("email", "not-an-email", "***"),
    ("email", "someone@", "***"),
    ("email", "a.b@c@example.com", "a***@example.com"),
    # addresses
    ("address", "北京市朝阳区建国路88号", "北京市朝阳区******"),
    ("address", "上海市浦东新区世纪大道100号", "上海市浦东新区******"),
    ("address", "广西壮族自治区南宁市青秀区民族大道100号", "广西壮族自治区南宁市青秀区******"),
    ("address", "内蒙古自治区鄂尔多斯市准格尔旗薛家湾镇", "内蒙古自治区鄂尔多斯市准格尔旗******"),
    ("address", "湖南省永州市道县某某路1号", "湖南省永州市道县******"),
    ("address", "黑龙江省哈尔滨市道里区中央大街", "黑龙江省哈尔滨市道里区******"),
    ("address", "山东省济南市市中区经四路", "山东省济南市市中区******"),
    ("address", "江苏省苏州市昆山市玉山镇", "江苏省苏州市昆山市******"),
    ("address", "郑州市金水区花园路商业区1号", "郑州市金水区******"),
    ("address", "河南省郑州市金水区花园商业区经三路", "河南省郑州市金水区******"),  # three levels at most
    ("address", "重庆市渝中区解放碑商业区邹容路100号", "重庆市渝中区******"),  # a municipality has two
    ("address", "河南省郑州市", "河南省郑州市******"),
    ("address", "经三路66号", "******"),
    ("address", "123 Main Street, Springfield", "******"),
    ("address", "A市金水区经三路66号", "******"),  # a division starts with no Latin letter
    ("address", "河南省郑A市金水区", "河南省******"),  # nor holds one
    ("address", "河南省１２市金水区", "河南省******"),  # nor a digit, full-width included
    ("address", "", "******"),
    # amounts
    ("amount_band", 0, "0-10万"),
    ("amount_band", 99_999.99, "0-10万"),
    ("amount_band", "100000", "10万-50万"),
    ("amount_band", Decimal("4999999.99"), "100万-500万"),
    ("amount_band", 5_000_000, "500万-1000万"),
    ("amount_band", 100_000_000, "1亿以上"),
    ("amount_band", -5, "0以下"),
    # pass-through and None
    ("grade", "纳税信用 A", "纳税信用 A"),
    ("public", 12, 12),
    ("mobile", None, None),
    ("amount_band", None, None),
    ("never", None, None),
]


# ASCII ids: pytest escapes other characters in an id, and such an id is not found again
# when a test is selected by it (as the mutation run does)
CASE_IDS = [f"{r}:{v!r}" if repr(v).isascii() else f"{r}:case{i}" for i, (r, v, _) in enumerate(CASES)]


@pytest.mark.parametrize(("rule", "value", "expected"), CASES, ids=CASE_IDS)
def test_mask_value(rule: str, value: object, expected: object) -> None:
    assert mask_value(rule, value, bands=BANDS) == expected


def test_every_rule_has_a_case() -> None:
    assert {r for r, _, _ in CASES} == {r.value for r in MaskingRule}


def test_masked_identifiers_keep_length() -> None:
    for rule, value in [("resident_id", "110105194912311234"), ("bank_card", "6228480402564890717")]:
        assert len(mask_value(rule, value)) == len(value)  # type: ignore[arg-type]


def test_amount_band_labels_and_edges() -> None:
    bands = (0, 15_000, 1_500_000, 250_000_000)
    assert amount_band(15_000, bands) == "1.5万-150万"
    assert amount_band(14_999, bands) == "0-1.5万"
    assert amount_band(300_000_000, bands) == "2.5亿以上"
    assert amount_band(1, (10, 20)) == "10以下"


@pytest.mark.parametrize("value", ["lots", True, [1], float("nan"), float("inf"), "1,000", ""])
def test_amount_band_rejects_non_numbers(value: object) -> None:
    with pytest.raises(MaskingError):
        mask_value("amount_band", value, bands=BANDS)


def test_default_bands_come_from_catalogue() -> None:
    assert mask_value("amount_band", 2_000_000) == "100万-500万"
    assert mask_value("amount_band", 2_000_000_000) == "10亿以上"


def test_unknown_rule_fails_closed() -> None:
    with pytest.raises(MaskingError):
        mask_value("rot13", "secret")


# --------------------------------------------------------------------------- records


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return load_catalogue()


REGISTRATION: dict[str, object] = {
    "enterprise_name": "郑州某某商贸有限公司",
    "uscc": "91350200776049653A",
    "legal_representative": "张三",
    "legal_representative_id": "11010519491231002X",
    "address": "河南省郑州市金水区经三路66号",
    "contact_mobile": "13812341999",
    "contact_email": "david@example.com",
    "not_in_catalogue": "leak?",
}


def test_mask_record_masked(cat: Catalogue) -> None:
    out = mask_record("registration", REGISTRATION, raw=False, catalogue=cat)
    assert out == {
        "enterprise_name": "郑州某某商贸有限公司",
        "uscc": "91350200776049653A",
        "legal_representative": "张三",  # the legal representative's duty information is public
        "legal_representative_id": "110***********002X",
        "address": "河南省郑州市金水区经三路66号",  # a registered address is public
        "contact_mobile": "138****1999",
        "contact_email": "d***@example.com",
    }


def test_mask_record_raw_keeps_values_but_drops_unknown(cat: Catalogue) -> None:
    out = mask_record("registration", REGISTRATION, raw=True, catalogue=cat)
    assert out == {k: v for k, v in REGISTRATION.items() if k != "not_in_catalogue"}


def test_never_fields_are_never_shared(cat: Catalogue) -> None:
    record = {"trade_reference": "T1", "settlement_account": "6228480402569717", "authentication_data": "pin"}
    for raw in (False, True):
        out = mask_record("financial_asset_trading", record, raw=raw, catalogue=cat)
        assert "authentication_data" not in out
    masked = mask_record("financial_asset_trading", record, raw=False, catalogue=cat)
    assert masked["settlement_account"] == "622848******9717"


def test_mask_record_amounts_and_grades(cat: Catalogue) -> None:
    out = mask_record(
        "tax",
        {"tax_year": 2024, "credit_grade": "A", "annual_tax_paid": "1234567.89", "tax_officer_name": "王五"},
        raw=False,
        catalogue=cat,
    )
    assert out == {
        "tax_year": 2024,
        "credit_grade": "A",
        "annual_tax_paid": "100万-500万",
        "tax_officer_name": "王*",
    }


def test_mask_record_bands_amounts_by_its_own_catalogue(cat: Catalogue) -> None:
    own = cat.model_copy(
        update={"masking": cat.masking.model_copy(update={"amount_bands": (0, 1_000, 10_000_000_000)})}
    )
    out = mask_record("tax", {"annual_tax_paid": "1234567.89"}, raw=False, catalogue=own)
    assert out == {"annual_tax_paid": "1000-100亿"}


def test_mask_record_keeps_nones_and_uses_default_catalogue() -> None:
    out = mask_record("registration", {"enterprise_name": "某公司", "contact_mobile": None}, raw=False)
    assert out == {"enterprise_name": "某公司", "contact_mobile": None}

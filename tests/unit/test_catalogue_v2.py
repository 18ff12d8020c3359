"""Catalogue v2: v1 plus the registration industry (GB/T 4754-2017) and the 专精特新
qualification in the R&D category; every packaged version only adds to the one before."""

from __future__ import annotations

import itertools

import pytest

from ledger.audit.catalogue import release_level
from ledger.domain.catalogue import (
    Catalogue,
    FieldType,
    MaskingRule,
    RecordValidationError,
    default_catalogue,
    newest_catalogue,
    packaged_catalogues,
)
from ledger.domain.industry import InvalidIndustryCode, check_industry, check_industry_or_section, in_industry
from ledger.domain.masking import mask_record

USCC = "91350200776049653A"
REGISTRATION = {
    "enterprise_name": "厦门某某科技有限公司", "uscc": USCC, "entity_type": "limited_liability_company",
    "legal_representative": "张三", "established_on": "2019-03-01", "address": "厦门市思明区",
    "registration_authority": "厦门市市场监督管理局", "status": "in_business",
}  # fmt: skip


def test_the_packaged_versions_are_v1_then_v2_and_the_default_stays_v1() -> None:
    assert [c.version for c in packaged_catalogues()] == [1, 2]
    assert default_catalogue().version == 1  # indicators-v1 and approved models pin v1
    assert newest_catalogue().version == 2
    v1, v2 = packaged_catalogues()
    assert v1.content_hash() != v2.content_hash()


def test_v2_adds_industry_to_registration_and_the_specialized_sme_fields_to_rnd() -> None:
    v2 = newest_catalogue()
    industry = v2.category("registration").field("industry")
    assert (industry.type, industry.level, industry.masking, industry.required) == (
        FieldType.INDUSTRY, 1, MaskingRule.PUBLIC, False,
    )  # fmt: skip
    rnd = v2.category("rnd")
    assert rnd.field("specialized_sme_level").enum_values == ("national", "provincial", "municipal")
    assert rnd.field("specialized_sme_certified_on").type is FieldType.DATE
    assert rnd.field("specialized_sme_valid_until").type is FieldType.DATE


@pytest.mark.parametrize(("earlier", "later"), list(itertools.pairwise(packaged_catalogues())))
def test_each_version_only_adds_fields_keeping_bits_levels_and_masking(
    earlier: Catalogue, later: Catalogue
) -> None:
    assert earlier.masking == later.masking and earlier.purposes == later.purposes
    for old in earlier.categories:
        new = later.category(old.name)
        assert (new.bit, new.public_disclosure) == (old.bit, old.public_disclosure)
        assert new.dishonesty == old.dishonesty
        for f in old.fields:
            assert new.field(f.name) == f
        for raw in (False, True):  # the release level of every category is unchanged
            assert later.max_level([old.name], raw) == earlier.max_level([old.name], raw)
            mask = 1 << old.bit
            assert release_level(later.model_dump(mode="json"), mask, raw) == release_level(
                earlier.model_dump(mode="json"), mask, raw
            )


def test_a_v2_registration_record_with_an_industry_is_valid_and_released_public() -> None:
    v2 = newest_catalogue()
    record = {**REGISTRATION, "industry": "C39"}
    assert v2.validate_record("registration", record) == []
    assert mask_record("registration", record, raw=False, catalogue=v2)["industry"] == "C39"
    assert v2.validate_record("registration", REGISTRATION) == []  # the field is optional


@pytest.mark.parametrize(
    ("code", "rule"),
    [("C01", "industry.division"), ("C3", "industry.format"), ("c39", "industry.format"),
     ("Z10", "industry.format"), ("K71", "industry.division"), ("C", "industry.format"), (39, "type")],
)  # fmt: skip
def test_an_invalid_industry_code_is_refused_naming_the_rule(code: object, rule: str) -> None:
    with pytest.raises(RecordValidationError) as caught:
        newest_catalogue().ensure_valid_record("registration", {**REGISTRATION, "industry": code})
    assert [(e.field, e.rule) for e in caught.value.errors] == [("industry", rule)]


def test_v1_still_refuses_the_fields_v2_added() -> None:
    v1 = default_catalogue()
    errors = v1.validate_record("registration", {**REGISTRATION, "industry": "C39"})
    assert [(e.field, e.rule) for e in errors] == [("industry", "unknown_field")]
    errors = v1.validate_record("rnd", {"fiscal_year": 2025, "specialized_sme_level": "national"})
    assert ("specialized_sme_level", "unknown_field") in [(e.field, e.rule) for e in errors]


def test_the_specialized_sme_level_is_an_enum() -> None:
    v2 = newest_catalogue()
    ok = {
        "fiscal_year": 2025, "specialized_sme_level": "provincial",
        "specialized_sme_certified_on": "2024-06-01", "specialized_sme_valid_until": "2027-05-31",
    }  # fmt: skip
    assert v2.validate_record("rnd", ok) == []
    errors = v2.validate_record("rnd", {**ok, "specialized_sme_level": "国家级"})
    assert [(e.field, e.rule) for e in errors] == [("specialized_sme_level", "enum")]


def test_gb_t_4754_sections_and_divisions() -> None:
    for code in ("A01", "A05", "B06", "C13", "C43", "D44", "I65", "K70", "P83", "S96", "T97"):
        assert check_industry(code) == code
    for code in ("A00", "A06", "C44", "T98", "I6", "I655"):
        with pytest.raises(InvalidIndustryCode):
            check_industry(code)
    assert check_industry_or_section("C") == "C"
    with pytest.raises(InvalidIndustryCode):
        check_industry_or_section("U")
    assert in_industry("C39", "C") and in_industry("C39", "C39")
    assert not in_industry("C39", "C3") and not in_industry("C39", "I")

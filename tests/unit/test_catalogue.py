"""The packaged public credit information catalogue and record validation against it."""

from __future__ import annotations

import copy
import hashlib
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import rfc8785

from ledger.domain.catalogue import (
    Catalogue,
    CatalogueError,
    FieldError,
    FieldType,
    MaskingRule,
    RecordValidationError,
    default_catalogue,
    load_catalogue,
)
from ledger.errors import InvalidInput

PACKAGED = Path(__file__).parents[2] / "ledger" / "catalogue" / "catalogue-v1.json"

CATEGORIES = [
    "registration",
    "administrative_licensing",
    "administrative_penalty",
    "judicial",
    "serious_dishonesty_list",
    "abnormal_operation_list",
    "tax",
    "social_insurance",
    "housing_fund",
    "utilities",
    "real_estate",
    "intellectual_property",
    "rnd",
    "environment",
    "financial_asset_trading",
    "public_resource_trading",
    "import_export",
    "self_declared",
]
PUBLIC = {
    "registration",
    "administrative_licensing",
    "administrative_penalty",
    "serious_dishonesty_list",
    "abnormal_operation_list",
}
PURPOSES = ["credit_assessment", "post_loan_monitoring", "guarantee_assessment", "insurance_underwriting"]


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return load_catalogue()


def raw_doc() -> dict[str, Any]:
    return json.loads(PACKAGED.read_text("utf-8"))  # type: ignore[no-any-return]


def write(tmp_path: Path, doc: dict[str, Any]) -> Path:
    p = tmp_path / "catalogue.json"
    p.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    return p


# --------------------------------------------------------------------------- content


def test_packaged_catalogue_loads(cat: Catalogue) -> None:
    assert cat.version == 1
    assert [c.name for c in cat.categories] == CATEGORIES
    assert [p.name for p in cat.purposes] == PURPOSES
    assert load_catalogue(PACKAGED) == cat
    assert default_catalogue() is default_catalogue()


def test_bits_are_unique_and_in_range(cat: Catalogue) -> None:
    bits = [c.bit for c in cat.categories]
    assert len(set(bits)) == len(bits) and all(0 <= b <= 255 for b in bits)
    pbits = [p.bit for p in cat.purposes]
    assert len(set(pbits)) == len(pbits)


def test_bits_are_stable(cat: Catalogue) -> None:
    # On-chain masks depend on these numbers: changing one is a breaking change.
    assert {c.name: c.bit for c in cat.categories} == {n: i for i, n in enumerate(CATEGORIES)}
    assert {p.name: p.bit for p in cat.purposes} == {n: i for i, n in enumerate(PURPOSES)}


def test_public_disclosure(cat: Catalogue) -> None:
    assert {c.name for c in cat.categories if c.public_disclosure} == PUBLIC


def test_dishonesty_periods_follow_state_council_classes(cat: Catalogue) -> None:
    penalty = cat.category("administrative_penalty").dishonesty
    assert penalty is not None
    periods = {s.value: (p.min_days, p.max_days) for s, p in penalty.periods.items()}
    assert periods == {"minor": (0, 90), "general": (90, 365), "serious": (365, 1095)}
    assert penalty.periods["minor"].may_be_unpublished  # type: ignore[index]
    assert penalty.sector_min_days == {"special_equipment": 365, "work_safety": 365, "fire_safety": 365}
    assert penalty.clock_starts == "decision_date"
    listed = cat.category("serious_dishonesty_list").dishonesty
    assert listed is not None and [s.value for s in listed.periods] == ["serious"]
    assert cat.category("tax").dishonesty is None


def test_realistic_fields(cat: Catalogue) -> None:
    reg = {f.name for f in cat.category("registration").fields}
    assert {
        "enterprise_name",
        "legal_representative",
        "registered_capital",
        "established_on",
        "address",
        "business_scope",
    } <= reg
    tax = cat.category("tax")
    assert tax.field("credit_grade").masking is MaskingRule.GRADE
    assert tax.field("annual_tax_paid").masking is MaskingRule.AMOUNT_BAND
    si = {f.name for f in cat.category("social_insurance").fields}
    assert {"insured_headcount", "monthly_contribution"} <= si
    pen = {f.name for f in cat.category("administrative_penalty").fields}
    assert {"decision_number", "decision_date", "authority", "penalty_type", "amount", "reason"} <= pen
    used = {f.masking for c in cat.categories for f in c.fields}
    assert used == set(MaskingRule)  # every rule is exercised by some real field
    types = {f.type for c in cat.categories for f in c.fields}
    assert types == set(FieldType) - {FieldType.INDUSTRY}  # v2 added industry (test_catalogue_v2)


def test_sensitive_rules_are_never_level_one(cat: Catalogue) -> None:
    for c in cat.categories:
        for f in c.fields:
            if f.masking is not MaskingRule.PUBLIC:
                assert f.level >= 2, f"{c.name}.{f.name}"


def test_unknown_field_lookup(cat: Catalogue) -> None:
    with pytest.raises(CatalogueError):
        cat.category("tax").field("nope")


# --------------------------------------------------------------------------- hash


def test_content_hash_is_sha256_of_canonical_json(cat: Catalogue) -> None:
    want = hashlib.sha256(rfc8785.dumps(cat.model_dump(mode="json"))).digest()
    assert cat.content_hash() == want
    assert len(want) == 32


def test_content_hash_ignores_formatting_but_not_content(tmp_path: Path, cat: Catalogue) -> None:
    doc = raw_doc()
    p = tmp_path / "compact.json"
    p.write_text(json.dumps(doc, separators=(",", ":"), sort_keys=True), "utf-8")
    assert load_catalogue(p).content_hash() == cat.content_hash()
    doc["categories"][6]["fields"][1]["level"] = 3
    assert load_catalogue(write(tmp_path, doc)).content_hash() != cat.content_hash()


# --------------------------------------------------------------------------- masks and levels


def test_category_and_purpose_masks(cat: Catalogue) -> None:
    assert cat.category_mask([]) == 0
    assert cat.category_mask(["registration", "tax"]) == 1 | 1 << 6
    assert cat.category_mask(["tax", "tax"]) == 1 << 6
    assert cat.purpose_mask(["credit_assessment", "insurance_underwriting"]) == 0b1001
    assert cat.categories_in_mask(1 | 1 << 6) == ["registration", "tax"]
    assert cat.categories_in_mask(cat.category_mask(CATEGORIES)) == CATEGORIES
    with pytest.raises(CatalogueError):
        cat.category_mask(["nope"])
    with pytest.raises(CatalogueError):
        cat.purpose_mask(["marketing"])
    with pytest.raises(CatalogueError):
        cat.categories_in_mask(1 << 200)


def test_max_level(cat: Catalogue) -> None:
    assert cat.max_level([], raw=False) == 1
    assert cat.max_level(["intellectual_property"], raw=False) == 2  # pledge amount as band
    assert cat.max_level(["registration"], raw=True) == 3
    assert cat.max_level(["registration"], raw=False) == 2
    assert cat.max_level(["tax"], raw=True) == 4  # payment account
    # authentication_data is level 5 but `never`: it is not released, so it does not count
    assert cat.max_level(["financial_asset_trading"], raw=True) == 4
    assert cat.max_level(["registration", "tax"], raw=False) == 2
    with pytest.raises(CatalogueError):
        cat.max_level(["nope"], raw=False)


def test_redacted_fields_are_level_one_when_masked(cat: Catalogue) -> None:
    f = cat.category("real_estate").field("certificate_number")
    assert cat.effective_level(f, raw=False) == 1
    assert cat.effective_level(f, raw=True) == 3


# --------------------------------------------------------------------------- loader validation


def _mutations() -> list[tuple[str, Any]]:
    def dup_bit(d: dict[str, Any]) -> None:
        d["categories"][1]["bit"] = 0

    def dup_name(d: dict[str, Any]) -> None:
        d["categories"][1]["name"] = "registration"

    def dup_purpose_bit(d: dict[str, Any]) -> None:
        d["purposes"][1]["bit"] = 0

    def bit_too_big(d: dict[str, Any]) -> None:
        d["categories"][0]["bit"] = 256

    def bad_type(d: dict[str, Any]) -> None:
        d["categories"][0]["fields"][0]["type"] = "money"

    def bad_rule(d: dict[str, Any]) -> None:
        d["categories"][0]["fields"][0]["masking"] = "scramble"

    def no_periods(d: dict[str, Any]) -> None:
        d["categories"][2]["dishonesty"]["periods"] = {}

    def min_over_max(d: dict[str, Any]) -> None:
        d["categories"][2]["dishonesty"]["periods"]["general"] = {"min_days": 400, "max_days": 365}

    def unknown_severity(d: dict[str, Any]) -> None:
        d["categories"][2]["dishonesty"]["periods"]["catastrophic"] = {"min_days": 1, "max_days": 2}

    def enum_without_values(d: dict[str, Any]) -> None:
        del d["categories"][0]["fields"][2]["enum_values"]

    def values_without_enum(d: dict[str, Any]) -> None:
        d["categories"][0]["fields"][0]["enum_values"] = ["a"]

    def band_on_string(d: dict[str, Any]) -> None:
        d["categories"][0]["fields"][0]["masking"] = "amount_band"

    def public_level_four(d: dict[str, Any]) -> None:
        d["categories"][0]["fields"][0]["level"] = 4

    def level_six(d: dict[str, Any]) -> None:
        d["categories"][0]["fields"][0]["level"] = 6

    def dup_field(d: dict[str, Any]) -> None:
        d["categories"][0]["fields"].append(copy.deepcopy(d["categories"][0]["fields"][0]))

    def bands_unordered(d: dict[str, Any]) -> None:
        d["masking"]["amount_bands"] = [0, 500, 100]

    def masked_level_missing(d: dict[str, Any]) -> None:
        del d["masking"]["masked_levels"]["email"]

    def extra_key(d: dict[str, Any]) -> None:
        d["categories"][0]["colour"] = "blue"

    def bad_name(d: dict[str, Any]) -> None:
        d["categories"][0]["name"] = "Registration Data"

    return [(f.__name__, f) for f in locals().values() if callable(f)]


@pytest.mark.parametrize(("desc", "mutate"), _mutations())
def test_loader_rejects_inconsistent_catalogues(tmp_path: Path, desc: str, mutate: Any) -> None:
    doc = raw_doc()
    mutate(doc)
    with pytest.raises(CatalogueError):
        load_catalogue(write(tmp_path, doc))


def test_loader_wraps_io_and_json_errors(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError):
        load_catalogue(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", "utf-8")
    with pytest.raises(CatalogueError):
        load_catalogue(bad)


def test_loader_error_names_the_place(tmp_path: Path) -> None:
    doc = raw_doc()
    doc["categories"][0]["fields"][0]["type"] = "money"
    with pytest.raises(CatalogueError, match=r"categories\.0\.fields\.0\.type"):
        load_catalogue(write(tmp_path, doc))


# --------------------------------------------------------------------------- records

GOOD_REGISTRATION: dict[str, object] = {
    "enterprise_name": "厦门某某科技有限公司",
    "uscc": "91350200776049653A",
    "entity_type": "limited_liability_company",
    "legal_representative": "张三",
    "legal_representative_id": "11010519491231002X",
    "registered_capital": "5000000.00",
    "established_on": "2005-06-01",
    "address": "福建省厦门市思明区某某路1号",
    "registration_authority": "厦门市市场监督管理局",
    "status": "in_business",
}


def rules(errors: list[FieldError]) -> set[tuple[str, str]]:
    return {(e.field, e.rule) for e in errors}


def test_valid_record(cat: Catalogue) -> None:
    assert cat.validate_record("registration", GOOD_REGISTRATION) == []
    assert cat.ensure_valid_record("registration", GOOD_REGISTRATION) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"surprise": 1}, ("surprise", "unknown_field")),
        ({"enterprise_name": None}, ("enterprise_name", "required")),
        ({"enterprise_name": ""}, ("enterprise_name", "required")),
        ({"enterprise_name": 42}, ("enterprise_name", "type")),
        ({"entity_type": "llc"}, ("entity_type", "enum")),
        ({"established_on": "01/06/2005"}, ("established_on", "type")),
        ({"established_on": "2005-02-30"}, ("established_on", "date")),
        ({"established_on": 20050601}, ("established_on", "type")),
        ({"registered_capital": "5,000,000"}, ("registered_capital", "type")),
        ({"registered_capital": True}, ("registered_capital", "type")),
        ({"registered_capital": float("nan")}, ("registered_capital", "type")),
        ({"registered_capital": "Infinity"}, ("registered_capital", "type")),
        ({"uscc": "91350200776049653B"}, ("uscc", "uscc.check_char")),
        ({"uscc": "9135020077604965"}, ("uscc", "uscc.length")),
        ({"uscc": 91350200776049653}, ("uscc", "type")),
        (
            {"legal_representative_id": "110105194902300021"},
            ("legal_representative_id", "resident_id.birth_date"),
        ),
        (
            {"legal_representative_id": "110105194912310021"},
            ("legal_representative_id", "resident_id.check_char"),
        ),
    ],
)
def test_record_errors_name_field_and_rule(
    cat: Catalogue, change: dict[str, object], expected: tuple[str, str]
) -> None:
    record = {**GOOD_REGISTRATION, **change}
    errors = cat.validate_record("registration", record)
    assert rules(errors) == {expected}


def test_missing_required_fields_all_reported(cat: Catalogue) -> None:
    errors = cat.validate_record("registration", {})
    required = {f.name for f in cat.category("registration").fields if f.required}
    assert rules(errors) == {(name, "required") for name in required}


def test_accepted_value_forms(cat: Catalogue) -> None:
    from datetime import date

    for capital in (5000000, Decimal("5000000.50"), 5e6, "-1.5"):
        assert cat.validate_record("registration", {**GOOD_REGISTRATION, "registered_capital": capital}) == []
    assert (
        cat.validate_record("registration", {**GOOD_REGISTRATION, "established_on": date(2005, 6, 1)}) == []
    )
    assert cat.validate_record("registration", {**GOOD_REGISTRATION, "legal_representative_id": None}) == []


def test_integer_and_boolean_types(cat: Catalogue) -> None:
    base: dict[str, object] = {"tax_year": 2024, "credit_grade": "A"}
    assert cat.validate_record("tax", base) == []
    assert rules(cat.validate_record("tax", {**base, "tax_year": "2024"})) == {("tax_year", "type")}
    assert rules(cat.validate_record("tax", {**base, "tax_year": True})) == {("tax_year", "type")}
    assert rules(cat.validate_record("tax", {**base, "major_tax_violation": "yes"})) == {
        ("major_tax_violation", "type")
    }
    assert cat.validate_record("tax", {**base, "major_tax_violation": False}) == []


def test_organization_code_warning_is_not_an_error(cat: Catalogue) -> None:
    from ledger.domain.identifiers import uscc_check_char

    odd = "91350200776049650" + uscc_check_char("91350200776049650")
    result = cat.check_record("registration", {**GOOD_REGISTRATION, "uscc": odd})
    assert result.errors == []
    assert rules(result.warnings) == {("uscc", "uscc.organization_code_check")}


PENALTY: dict[str, object] = {
    "decision_number": "厦市监罚〔2024〕12号",
    "decision_date": "2024-03-01",
    "authority": "厦门市市场监督管理局",
    "penalty_type": "fine",
    "violation": "虚假宣传",
    "reason": "在官网发布虚假宣传内容",
    "legal_basis": "《反不正当竞争法》第二十条",
    "amount": "200000",
}


def test_severity_rules(cat: Catalogue) -> None:
    assert cat.validate_record("administrative_penalty", PENALTY, "general") == []
    assert rules(cat.validate_record("administrative_penalty", PENALTY)) == {
        ("severity", "severity_required")
    }
    assert rules(cat.validate_record("administrative_penalty", PENALTY, "huge")) == {
        ("severity", "severity_unknown")
    }
    listing = {
        "list_name": "重大税收违法失信主体",
        "listing_authority": "国家税务总局厦门市税务局",
        "decision_number": "厦税稽〔2024〕1号",
        "listed_on": "2024-05-01",
        "reason": "逃避缴纳税款",
    }
    assert cat.validate_record("serious_dishonesty_list", listing, "serious") == []
    assert rules(cat.validate_record("serious_dishonesty_list", listing, "minor")) == {
        ("severity", "severity_unknown")
    }
    assert rules(cat.validate_record("registration", GOOD_REGISTRATION, "minor")) == {
        ("severity", "severity_not_applicable")
    }


def test_ensure_valid_record_raises_with_every_error(cat: Catalogue) -> None:
    with pytest.raises(RecordValidationError) as err:
        cat.ensure_valid_record("registration", {**GOOD_REGISTRATION, "uscc": "x", "extra": 1}, "minor")
    assert rules(err.value.errors) == {
        ("uscc", "uscc.length"),
        ("extra", "unknown_field"),
        ("severity", "severity_not_applicable"),
    }
    assert isinstance(err.value, InvalidInput) and isinstance(err.value, ValueError)
    assert err.value.category == "registration"


def test_unknown_category_raises(cat: Catalogue) -> None:
    with pytest.raises(CatalogueError):
        cat.validate_record("gossip", {})

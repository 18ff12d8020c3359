"""Eligibility rules over the closed field set, white-list parsing, the profile and matching:
pure code, no chain or database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from ledger.chain.publications import PublicationKind, PublishMessage, document_id
from ledger.domain.catalogue import default_catalogue
from ledger.domain.identifiers import InvalidIdentifierError
from ledger.financing.documents import DocumentMismatch, KpiSnapshotDocument
from ledger.financing.eligibility import FIELDS, Profile, Rule, RuleInvalid, check_rule
from ledger.financing.matching import Demand, OfferedProduct, match, matches_json
from ledger.financing.products import ProductInvalid, parse_product
from ledger.financing.profile import profile_of, size_of
from ledger.financing.whitelist_document import WhiteListInvalid, parse_white_list
from ledger.records.samples import sample_uscc
from ledger.release.reader import CurrentRecord

USCC = "91350200776049653A"
START = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 12, 7, tzinfo=UTC)


def product(key: str = "p", rules: list[dict[str, Any]] | None = None, **changes: Any) -> dict[str, Any]:
    return {
        "key": key, "version": 1, "valid_from": START.isoformat(), "name": "科技贷", "product_kind": "科技贷",
        "amount": {"min": 100_000, "max": 1_000_000}, "term_months": {"min": 6, "max": 24},
        "annual_rate_percent": {"min": 3.5, "max": 4.5}, "guarantee": "credit",
        "eligibility": rules or [], **changes,
    }  # fmt: skip


# -- publication of rules ---------------------------------------------------------------------


def test_a_rule_over_a_field_the_platform_does_not_hold_is_refused_naming_it() -> None:
    with pytest.raises(RuleInvalid, match=r"eligibility\[1\].*'listed'"):
        parse_product(product(rules=[{"field": "size", "op": "in", "value": ["micro"]},
                                     {"field": "listed", "op": "equals", "value": True}]))  # fmt: skip


@pytest.mark.parametrize(
    ("rule", "why"),
    [
        ({"field": "years_in_operation", "op": "in", "value": [1]}, "takes"),
        ({"field": "years_in_operation", "op": "min", "value": "two"}, "does not fit"),
        ({"field": "years_in_operation", "op": "min", "value": True}, "does not fit"),
        ({"field": "evaluation_grade", "op": "min", "value": "AAA"}, "does not fit"),
        ({"field": "tax_credit_grade", "op": "in", "value": ["A", "Z"]}, "does not fit"),
        ({"field": "no_dishonesty_record", "op": "equals", "value": "yes"}, "does not fit"),
        ({"field": "white_lists", "op": "includes", "value": ""}, "does not fit"),
        ({"field": "region", "op": "min", "value": "41"}, "takes"),
        ({"field": "industry", "op": "min", "value": "C"}, "takes"),
        ({"field": "industry", "op": "in", "value": ["C01"]}, "does not fit"),  # 01 is in section A
        ({"field": "industry", "op": "in", "value": ["Z"]}, "does not fit"),
        ({"field": "industry", "op": "equals", "value": "c39"}, "does not fit"),
        ({"field": "industry", "op": "in", "value": "C"}, "does not fit"),
    ],
)
def test_an_operator_or_value_the_field_does_not_take_is_refused(rule: dict[str, Any], why: str) -> None:
    with pytest.raises(RuleInvalid, match=why) as caught:
        parse_product(product(rules=[rule]))
    assert rule["field"] in caught.value.message


def test_other_schema_errors_name_their_field() -> None:
    with pytest.raises(ProductInvalid, match="product_kind"):
        parse_product(product(product_kind="高利贷"))
    with pytest.raises(ProductInvalid, match="amount"):
        parse_product(product(amount={"min": 10, "max": 1}))
    with pytest.raises(ProductInvalid, match="valid_until"):
        parse_product(product(valid_until=START.isoformat()))


def test_the_hash_is_of_the_canonical_form_and_the_act_must_name_the_document() -> None:
    a = parse_product(product())
    b = parse_product({**product(), "name": "科技贷"})  # same content, other key order
    assert a.content_hash() == b.content_hash() and a.document_id() == document_id(
        PublicationKind.LOAN_PRODUCT, "p"
    )
    fields = a.message_fields()
    good = PublishMessage(**fields, publisher="0x" + "11" * 20, nonce=0, deadline=1)
    a.check_message(good)
    for name, value in (("version", 2), ("content_hash", b"\x01" * 32), ("valid_from", 0), ("kind", 1)):
        with pytest.raises(DocumentMismatch, match=name):
            a.check_message(
                PublishMessage(**{**fields, name: value}, publisher="0x" + "11" * 20, nonce=0, deadline=1)
            )
    kpi = KpiSnapshotDocument(key="2026-11", version=1, valid_from=START, body={"loans": 1})
    assert kpi.message_fields()["kind"] == PublicationKind.KPI_SNAPSHOT


# -- white lists ----------------------------------------------------------------------------


def test_a_white_list_checks_every_code_and_names_the_bad_one() -> None:
    doc = {"key": "l", "version": 1, "valid_from": START.isoformat(), "name": "n", "district": "金水区",
           "criteria": "c", "enterprises": [sample_uscc(2), USCC.lower(), sample_uscc(1)]}  # fmt: skip
    parsed = parse_white_list(doc)
    assert parsed.enterprises == sorted([sample_uscc(1), sample_uscc(2), USCC])  # normalised, sorted
    with pytest.raises(InvalidIdentifierError, match=r"enterprises\[1\].*check_char"):
        parse_white_list({**doc, "enterprises": [USCC, USCC[:-1] + "B"]})
    with pytest.raises(InvalidIdentifierError, match=r"enterprises\[0\].*length"):
        parse_white_list({**doc, "enterprises": ["9135"]})
    with pytest.raises(WhiteListInvalid, match="listed twice"):
        parse_white_list({**doc, "enterprises": [USCC, USCC]})
    with pytest.raises(WhiteListInvalid, match="criteria"):
        parse_white_list({**doc, "criteria": ""})


# -- the profile ----------------------------------------------------------------------------


def record(category: str, fields: dict[str, Any], *, day: date = date(2026, 1, 1), repaired: bool = False,
           severity: str | None = None) -> CurrentRecord:  # fmt: skip
    return CurrentRecord(f"{category}-{day}", 1, USCC, category, day, severity, False, repaired, fields)


def test_the_profile_reads_each_fact_from_where_the_platform_holds_it() -> None:
    records = [
        record(
            "registration",
            {
                "established_on": "2021-12-07",
                "registered_capital": "2000000.00",
                "entity_type": "limited_liability_company",
            },
        ),
        record("social_insurance", {"period": "2026-09-01", "insured_headcount": 12}),
        record("social_insurance", {"period": "2026-10-01", "insured_headcount": 25}),
        record("tax", {"tax_year": 2024, "credit_grade": "C"}),
        record("tax", {"tax_year": 2025, "credit_grade": "A"}),
        record("rnd", {"fiscal_year": 2025, "high_tech_enterprise": True}),
        record("abnormal_operation_list", {"listed_on": "2025-01-01", "removed_on": "2025-06-01"}),
    ]
    p = profile_of(USCC, records, today=date(2026, 12, 7), catalogue=default_catalogue(),
                   white_lists={"l"}, evaluation_grade="B")  # fmt: skip
    v = p.values
    assert v["years_in_operation"] == pytest.approx(5.0, abs=0.01) and v["registered_capital"] == 2_000_000
    assert (v["employees"], v["size"]) == (25, "small")  # the latest period
    assert v["tax_credit_grade"] == "A" and v["high_tech_enterprise"] is True
    assert v["no_dishonesty_record"] and v["no_abnormal_operation"]  # removed from the list
    assert v["region"] == "350200" and v["white_lists"] == {"l"} and v["evaluation_grade"] == "B"
    assert set(v) <= set(FIELDS)


def test_dishonesty_counts_while_published_and_a_repaired_record_is_never_read() -> None:
    listed = record("serious_dishonesty_list", {"list_name": "x"}, day=date(2026, 6, 1), severity="serious")
    cat = default_catalogue()
    p = profile_of(
        USCC, [listed], today=date(2026, 12, 7), catalogue=cat, white_lists=set(), evaluation_grade=None
    )
    assert p.values["no_dishonesty_record"] is False and "evaluation_grade" not in p.values
    repaired = record("serious_dishonesty_list", {"list_name": "x"}, day=date(2026, 6, 1), repaired=True,
                      severity="serious")  # fmt: skip
    p = profile_of(
        USCC, [repaired], today=date(2026, 12, 7), catalogue=cat, white_lists=set(), evaluation_grade=None
    )
    assert p.values["no_dishonesty_record"] is True
    removed = record("serious_dishonesty_list", {"removal_date": "2026-07-01"}, severity="serious")
    p = profile_of(
        USCC, [removed], today=date(2026, 12, 7), catalogue=cat, white_lists=set(), evaluation_grade=None
    )
    assert p.values["no_dishonesty_record"] is True


def _profile(registration: dict[str, Any] | None) -> Profile:
    records = [] if registration is None else [record("registration", registration)]
    return profile_of(USCC, records, today=date(2026, 12, 7), catalogue=default_catalogue(),
                      white_lists=set(), evaluation_grade=None)  # fmt: skip


def test_industry_comes_from_a_v2_registration_record_and_rules_match_division_or_section() -> None:
    p = _profile({"established_on": "2020-01-01", "industry": "C39"})
    assert p.values["industry"] == "C39"
    cases = ((["C"], True), (["C39"], True), (["I", "C39"], True), (["C38"], False), (["I"], False))
    for value, met in cases:
        outcome = check_rule(Rule(field="industry", op="in", value=value), p)
        assert (outcome.met, outcome.known) == (met, True), value
        assert "C39" in outcome.reason_zh and "C39" in outcome.reason_en
    assert check_rule(Rule(field="industry", op="equals", value="C"), p).met
    assert not check_rule(Rule(field="industry", op="equals", value="C13"), p).met


@pytest.mark.parametrize("registration", [None, {"established_on": "2020-01-01"}])
def test_an_industry_rule_without_the_registration_industry_is_not_met_naming_the_missing_data(
    registration: dict[str, Any] | None,
) -> None:
    p = _profile(registration)  # no registration record, or a v1 one (no industry field)
    assert "industry" not in p.values
    outcome = check_rule(Rule(field="industry", op="in", value=["C"]), p)
    assert (outcome.met, outcome.known) == (False, False)
    assert "注册登记记录未载明所属行业" in outcome.reason_zh
    assert "registration record carries no industry" in outcome.reason_en


def test_a_product_with_an_industry_rule_is_published_and_matched() -> None:
    parsed = parse_product(product(rules=[{"field": "industry", "op": "in", "value": ["C", "I65"]}]))
    rule = parsed.eligibility[0]
    assert check_rule(rule, _profile({"industry": "I65"})).met
    assert not check_rule(rule, _profile({"industry": "F51"})).met


def test_size_bands() -> None:
    assert [size_of(n) for n in (0, 19, 20, 299, 300, 999, 1000)] == [
        "micro", "micro", "small", "small", "medium", "medium", "large",
    ]  # fmt: skip


# -- checking and matching --------------------------------------------------------------------


def test_each_rule_says_met_or_not_with_a_reason_in_both_languages() -> None:
    values = {
        "years_in_operation": 1.5,
        "evaluation_grade": "C",
        "white_lists": frozenset({"l"}),
        "size": "small",
    }
    profile = Profile(USCC, values)
    r = check_rule(Rule(field="years_in_operation", op="min", value=2), profile)
    assert (r.met, r.known) == (False, True)
    assert (
        r.reason_zh == "经营年限(年)为1.5，要求不低于2"
        and r.reason_en == "years in operation is 1.5; required at least 2"
    )
    assert check_rule(Rule(field="evaluation_grade", op="min", value="C"), profile).met
    assert not check_rule(Rule(field="evaluation_grade", op="min", value="B"), profile).met
    assert check_rule(Rule(field="white_lists", op="includes", value="*"), profile).met
    assert not check_rule(Rule(field="white_lists", op="includes", value="other"), profile).met
    assert check_rule(Rule(field="size", op="in", value=["micro", "small"]), profile).met
    unknown = check_rule(Rule(field="tax_credit_grade", op="min", value="B"), profile)
    assert (unknown.met, unknown.known) == (False, False) and "holds no tax credit grade" in unknown.reason_en


def test_matching_checks_amount_term_and_rules_and_skips_products_not_in_force() -> None:
    profile = Profile(USCC, {"years_in_operation": 3.0, "white_lists": frozenset()})
    rules = [{"field": "years_in_operation", "op": "min", "value": 2}]
    offered = [
        OfferedProduct(parse_product(product("a", rules)), "0xA"),
        OfferedProduct(
            parse_product(product("b", [{"field": "white_lists", "op": "includes", "value": "*"}])), "0xB"
        ),
        OfferedProduct(parse_product(product("c", rules, amount={"min": 1, "max": 10})), "0xC"),
        OfferedProduct(parse_product(product("w", rules, withdrawn=True)), "0xW"),
        OfferedProduct(
            parse_product(product("old", rules, valid_until=(NOW - timedelta(days=1)).isoformat())), "0xO"
        ),
    ]
    results = match(Demand(500_000, 12), profile, offered, NOW)
    assert [(r.product.document.key, r.eligible) for r in results] == [
        ("a", True),
        ("b", False),
        ("c", False),
    ]
    amount = results[2].criteria[0]
    assert amount.field == "amount" and not amount.met and "1-10" in amount.reason_en
    assert results[0].criteria[2] is results[2].criteria[2]  # the same rule, checked once
    out = matches_json(results)
    assert out[0]["product"]["institution"] == "0xA" and out[0]["criteria"][0]["reason"]["zh"].startswith(
        "需求金额"
    )

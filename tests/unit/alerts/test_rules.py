"""The alert rules file: loaded and checked against the catalogue, each problem named by place."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from ledger.alerts.rules import RulesError, Trigger, default_rules, parse_rules
from ledger.alerts.triggers import grade_dropped
from ledger.domain.catalogue import default_catalogue


def _document() -> dict[str, Any]:
    from ledger.alerts.rules import DEFAULT_RULES_PATH

    loaded: dict[str, Any] = json.loads(DEFAULT_RULES_PATH.read_text(encoding="utf-8"))
    return loaded


def _refused(document: dict[str, Any]) -> str:
    with pytest.raises(RulesError) as info:
        parse_rules(json.dumps(document).encode())
    assert info.value.code == "alert_rules_invalid"
    return info.value.message


def test_the_packaged_rules_load_with_every_trigger_and_both_languages() -> None:
    rules = default_rules()
    assert rules.version == 1 and rules.purpose == "post_loan_monitoring"
    assert rules.purpose_bit == default_catalogue().purpose("post_loan_monitoring").bit
    assert {r.trigger for r in rules.rules} == set(Trigger)
    names = {c.name for c in default_catalogue().categories}
    for rule in rules.rules:
        assert rule.text.zh and rule.text.en and rule.severity
        assert set(rule.categories) <= names
    covered = {c for r in rules.by_trigger(Trigger.RECORD) for c in r.categories}
    assert {
        "judicial",
        "administrative_penalty",
        "tax",
        "social_insurance",
        "serious_dishonesty_list",
    } <= covered
    assert len(rules.content_hash) == 32


def edit(change: Any) -> dict[str, Any]:
    document = copy.deepcopy(_document())
    change(document)
    return document


def _rule(doc: dict[str, Any], rule_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(r for r in doc["rules"] if r["id"] == rule_id)
    return found


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda d: d["rules"][0].update(bogus=1), "rules[0] (judicial.enforcement).bogus: Extra inputs"),
        (
            lambda d: d["rules"][1].update(categories=["penalties"]),
            "the catalogue has no category 'penalties'",
        ),
        (
            lambda d: _rule(d, "tax.arrears")["where_any"][0].update(field="overdue"),
            "rules[2] (tax.arrears).where_any[0].field: tax has no field 'overdue'",
        ),
        (
            lambda d: _rule(d, "judicial.enforcement")["where_any"][0].update(value=["seizure"]),
            "judicial.case_type has no value 'seizure'",
        ),
        (
            lambda d: _rule(d, "tax.arrears")["where_any"][0].update(field="tax_authority"),
            "gt compares a numeric field with a number",
        ),
        (lambda d: d["rules"][1].update(id="judicial.enforcement"), "duplicate rule id"),
        (lambda d: _rule(d, "evaluation.grade_drop").update(categories=["tax"]), "name none"),
        (lambda d: _rule(d, "evasion.flagged").update(categories=[]), "names at least one category"),
        (lambda d: d["rules"][0].update(on=[]), "a record rule fires on"),
        (lambda d: d["rules"][0].update(severity="dire"), "rules[0] (judicial.enforcement).severity"),
        (lambda d: d["rules"][0].update(text={"zh": "新"}), "rules[0] (judicial.enforcement).text.en"),
        (lambda d: d.update(catalogue_version=2), "the rules name catalogue v2"),
        (lambda d: d.update(purpose="marketing"), "the catalogue has no purpose 'marketing'"),
    ],
)
def test_a_malformed_rules_file_is_refused_with_the_place_named(change: Any, named: str) -> None:
    assert named in _refused(edit(change))


def test_a_rules_file_that_is_not_json_is_refused() -> None:
    with pytest.raises(RulesError, match="not JSON"):
        parse_rules(b"{rules")


def test_record_rules_fire_on_their_categories_conditions_and_kinds() -> None:
    rules = default_rules()
    arrears, enforcement = rules.rule("tax.arrears"), rules.rule("judicial.enforcement")
    assert arrears.matches_record("tax", False, {"overdue_tax_amount": "12000.50"})
    assert arrears.matches_record("tax", True, {"major_tax_violation": True})
    assert not arrears.matches_record("tax", False, {"overdue_tax_amount": 0})
    assert not arrears.matches_record("tax", False, {"credit_grade": "D"})  # a field missing never holds
    assert not arrears.matches_record("social_insurance", False, {"overdue_tax_amount": 1})
    assert enforcement.matches_record("judicial", False, {"case_type": "enforcement"})
    assert not enforcement.matches_record("judicial", False, {"case_type": "civil_judgment"})
    penalty = rules.rule("administrative.penalty")
    assert penalty.matches_record("administrative_penalty", True, {})


def test_a_grade_drops_only_to_a_worse_known_grade() -> None:
    assert grade_dropped("B", "C") and grade_dropped("A", "E")
    assert not grade_dropped("C", "B") and not grade_dropped("B", "B")
    assert not grade_dropped("B", "Z") and not grade_dropped("?", "E")

"""The indicator file: what it holds, and every malformed edit refused with its place named."""

from __future__ import annotations

import copy
import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from ledger.domain.catalogue import default_catalogue
from ledger.evaluation.errors import IndicatorFileError
from ledger.evaluation.facts import FACTS
from ledger.evaluation.indicators import IndicatorFile, load_indicators, parse_indicators
from ledger.evaluation.schema import default_schema, load_for, schema_of

FORMULAS = {"count", "sum", "latest", "months_since", "ratio", "trend", "flag"}


def raw() -> dict[str, Any]:
    text = resources.files("ledger.evaluation").joinpath("indicators-v1.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def by_id(data: dict[str, Any], indicator_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(i for i in data["indicators"] if i["id"] == indicator_id)
    return found


def refused(data: Any) -> str:
    with pytest.raises(IndicatorFileError) as e:
        parse_indicators(data, default_schema())
    return e.value.message


def test_the_packaged_file_covers_the_dimensions_the_issue_names(indicators: IndicatorFile) -> None:
    dims = {d.id for d in indicators.dimensions}
    assert dims == {"identity", "operations", "compliance", "innovation", "conduct"}
    ids = {i.id for i in indicators.indicators}
    assert {"registration_age_months", "registered_capital", "registration_in_business"} <= ids
    assert {
        "tax_paid",
        "tax_credit_grade",
        "social_insurance_headcount",
        "social_insurance_continuity",
    } <= ids
    assert {"housing_fund_continuity", "utilities_continuity"} <= ids
    assert {"judicial_enforcement", "penalties", "serious_dishonesty_listed", "tax_overdue_amount"} <= ids
    assert {"patents", "trademarks", "rnd_expense", "high_tech_enterprise"} <= ids
    assert {"commitments_kept", "objections_upheld", "repairs_pending"} <= ids
    assert {i.formula.op for i in indicators.indicators} == FORMULAS  # the closed set, all used
    for ind in indicators.indicators:
        assert ind.name_zh and ind.name_en and ind.unit and ind.fields is not None


def test_every_category_read_is_in_the_catalogue_or_a_conduct_fact(indicators: IndicatorFile) -> None:
    catalogue = {c.name for c in default_catalogue().categories}
    for category in indicators.categories():
        assert category in catalogue or category in FACTS


def test_the_hash_ignores_formatting_and_key_order(indicators: IndicatorFile, tmp_path: Path) -> None:
    data = raw()
    shuffled = {k: data[k] for k in reversed(list(data))}
    shuffled["indicators"] = [dict(reversed(list(i.items()))) for i in data["indicators"]]
    path = tmp_path / "indicators.json"
    path.write_text(json.dumps(shuffled, indent=4, ensure_ascii=True), "utf-8")
    assert load_indicators(path, default_schema()).content_hash() == indicators.content_hash()
    changed = copy.deepcopy(data)
    by_id(changed, "penalties")["window_months"] = 24
    assert parse_indicators(changed, default_schema()).content_hash() != indicators.content_hash()


def test_a_formula_outside_the_closed_set_is_refused() -> None:
    data = raw()
    by_id(data, "penalties")["formula"] = {"op": "median", "field": "amount"}
    message = refused(data)
    assert "indicators[" in message and "(penalties).formula" in message


def test_code_in_the_file_is_refused() -> None:
    data = raw()
    by_id(data, "penalties")["formula"]["expression"] = "records.filter(lambda r: r.amount > 0).count()"
    assert "(penalties).formula.count.expression: Extra inputs are not permitted" in refused(data)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda d: by_id(d, "penalties").update(category="penalties_v2"), "(penalties).category"),
        (
            lambda d: by_id(d, "tax_paid").update(
                fields=["tax_paid_total"], formula={"op": "latest", "field": "tax_paid_total"}
            ),
            "(tax_paid).fields: tax has no field 'tax_paid_total'",
        ),
        (
            lambda d: by_id(d, "tax_paid").update(
                formula={"op": "sum", "field": "credit_grade"}, fields=["credit_grade"]
            ),
            "(tax_paid).formula.field: sum needs a number; credit_grade is enum",
        ),
        (
            lambda d: by_id(d, "tax_credit_grade")["formula"]["scale"].pop("M"),
            "(tax_credit_grade).formula.scale: must map every value of credit_grade: missing ['M']",
        ),
        (
            lambda d: by_id(d, "tax_paid")["formula"].update(scale={"A": 1}),
            "(tax_paid).formula.scale: only an enum field takes a scale",
        ),
        (
            lambda d: by_id(d, "judicial_enforcement")["formula"]["where"][0].update(
                one_of=["enforcement", "jail"]
            ),
            "(judicial_enforcement).formula.where[0].one_of: ['jail'] not valid for case_type",
        ),
        (
            lambda d: by_id(d, "registration_age_months").update(
                fields=["status"], formula={"op": "months_since", "field": "status"}
            ),
            "months_since needs a date; status is enum",
        ),
        (
            lambda d: by_id(d, "social_insurance_headcount").update(
                date_field="insured_headcount", fields=["insured_headcount"]
            ),
            "(social_insurance_headcount).date_field: insured_headcount is not a date",
        ),
    ],
)
def test_reading_what_the_catalogue_lacks_is_refused_with_the_field_named(edit: Any, expected: str) -> None:
    data = raw()
    edit(data)
    assert expected in refused(data)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda d: by_id(d, "penalties").update(dimension="finance"), "unknown dimension 'finance'"),
        (
            lambda d: d["indicators"].append(copy.deepcopy(by_id(d, "penalties"))),
            "duplicate indicator ids ['penalties']",
        ),
        (
            lambda d: by_id(d, "patents").update(fields=["ip_type"]),
            "(patents): Value error, fields: reads ['status']",
        ),
        (lambda d: by_id(d, "patents").update(fields=["ip_type", "status", "title"]), "declares ['title']"),
        (
            lambda d: by_id(d, "social_insurance_headcount_trend").update(window_months=9),
            "window must be even",
        ),
        (
            lambda d: by_id(d, "social_insurance_continuity").pop("window_months"),
            "window_months: required by ratio",
        ),
        (lambda d: by_id(d, "penalties").update(window_months=0), "(penalties).window_months"),
        (
            lambda d: by_id(d, "serious_dishonesty_listed")["formula"].update(where=[]),
            "(serious_dishonesty_listed).formula.flag.where",
        ),
        (
            lambda d: by_id(d, "serious_dishonesty_listed")["formula"]["where"][0].update(one_of=["x"]),
            "give exactly one of one_of, present",
        ),
        (lambda d: by_id(d, "penalties").update(risk="sometimes"), "(penalties).risk"),
        (lambda d: by_id(d, "penalties").update(id="Penalties!"), ".id: String should match pattern"),
        (
            lambda d: d["dimensions"].append(
                {"id": "finance", "name_zh": "财务", "name_en": "Finance", "min_records": 0}
            ),
            "dimensions without indicators: ['finance']",
        ),
        (lambda d: d.pop("version"), "version: Field required"),
    ],
)
def test_a_malformed_file_is_refused_with_the_place_named(edit: Any, expected: str) -> None:
    data = raw()
    edit(data)
    assert expected in refused(data)


def test_unreadable_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(IndicatorFileError, match="No such file"):
        load_indicators(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", "utf-8")
    with pytest.raises(IndicatorFileError, match=r"bad\.json"):
        load_indicators(bad)


def test_a_catalogue_category_named_like_a_fact_is_refused() -> None:
    catalogue = default_catalogue()
    clashing = catalogue.model_copy(
        update={
            "categories": (
                *catalogue.categories,
                catalogue.categories[0].model_copy(update={"name": "objection", "bit": 200}),
            )
        }
    )
    with pytest.raises(IndicatorFileError, match="named like conduct facts: \\['objection'\\]"):
        schema_of(clashing)


def test_a_file_for_another_catalogue_version_is_refused(tmp_path: Path) -> None:
    data = raw()
    data["catalogue_version"] = 2
    path = tmp_path / "indicators.json"
    path.write_text(json.dumps(data), "utf-8")
    with pytest.raises(
        IndicatorFileError, match="catalogue_version: written for catalogue v2, checked against v1"
    ):
        load_for(default_catalogue(), path)

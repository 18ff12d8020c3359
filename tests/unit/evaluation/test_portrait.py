"""The portrait: each formula on known records, the windows, and the release rules."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import pytest

from ledger.evaluation.indicators import IndicatorFile, parse_indicators
from ledger.evaluation.portrait import PortraitEvaluator, months_before, months_between
from ledger.evaluation.records import PlainRecord, record_from_json, record_to_json
from ledger.evaluation.schema import default_schema
from ledger.release.reader import CurrentRecord

AS_OF = date(2025, 6, 30)
_n = 0


def rec(kind: str, when: str, severity: str | None = None, **fields: Any) -> PlainRecord:
    global _n
    _n += 1
    return PlainRecord(f"r{_n:04d}", kind, date.fromisoformat(when), fields, severity=severity)


def registration(established: str = "2020-03-15", status: str = "in_business") -> PlainRecord:
    return rec(
        "registration", established, established_on=established, status=status, registered_capital="1000000"
    )


def tax(year: int, grade: str, when: str, **more: Any) -> PlainRecord:
    return rec("tax", when, tax_year=year, credit_grade=grade, **more)


def si(period: str, headcount: int, status: str = "normal") -> PlainRecord:
    return rec(
        "social_insurance",
        period[:8] + "15",
        period=period,
        insured_headcount=headcount,
        payment_status=status,
    )


def values(evaluator: PortraitEvaluator, records: list[PlainRecord], **kw: Any) -> Mapping[str, float | None]:
    return evaluator.evaluate(records, AS_OF, **kw).values


@pytest.fixture(scope="module")
def evaluator(indicators: IndicatorFile) -> PortraitEvaluator:
    return PortraitEvaluator(indicators)


def test_calendar_arithmetic() -> None:
    assert months_before(date(2025, 3, 31), 1) == date(2025, 2, 28)
    assert months_before(date(2025, 6, 30), 12) == date(2024, 6, 30)
    assert months_before(date(2025, 1, 15), 13) == date(2023, 12, 15)
    assert months_between(date(2020, 3, 15), date(2025, 6, 30)) == 63
    assert months_between(date(2020, 3, 31), date(2020, 4, 30)) == 0  # not a whole month yet
    assert months_between(date(2026, 1, 1), date(2025, 6, 30)) == 0  # never negative


def test_latest_and_months_since(evaluator: PortraitEvaluator) -> None:
    v = values(
        evaluator,
        [
            registration("2020-03-15"),
            tax(2023, "B", "2024-04-30", annual_tax_paid="120000.50"),
            tax(2024, "A", "2025-04-30", annual_tax_paid=150000),
            tax(2019, "D", "2020-04-30"),  # outside the 36-month window
        ],
    )
    assert v["registration_age_months"] == 63
    assert v["registered_capital"] == 1_000_000.0  # a decimal sent as a string
    assert v["registration_in_business"] == 1.0
    assert v["tax_credit_grade"] == 4.0  # the latest: A
    assert v["tax_paid"] == 150_000.0
    assert v["rnd_expense"] is None  # no record: no value, not zero


def test_latest_breaks_ties_by_record_id_and_scales_enums(evaluator: PortraitEvaluator) -> None:
    first = PlainRecord("a", "tax", date(2025, 4, 30), {"tax_year": 2024, "credit_grade": "C"})
    second = PlainRecord("b", "tax", date(2025, 4, 30), {"tax_year": 2024, "credit_grade": "M"})
    assert values(evaluator, [second, first])["tax_credit_grade"] == 2.0  # M, record "b"
    moved = [registration(status="moved_out")]
    assert values(evaluator, moved)["registration_in_business"] == 0.5


def test_counts_sums_and_flags_with_conditions(evaluator: PortraitEvaluator) -> None:
    v = values(
        evaluator,
        [
            rec(
                "judicial",
                "2024-01-10",
                "general",
                case_type="enforcement",
                performance_status="unfulfilled",
                outstanding_amount="50000",
            ),
            rec(
                "judicial",
                "2023-02-01",
                "general",
                case_type="civil_judgment",
                performance_status="partially_fulfilled",
                outstanding_amount=20000,
            ),
            rec("judicial", "2022-06-29", "general", case_type="enforcement", performance_status="fulfilled"),
            rec("serious_dishonesty_list", "2024-05-01", "serious", removal_date="2024-09-01"),
            rec("abnormal_operation_list", "2025-01-01", "general"),
            rec("intellectual_property", "2015-01-01", ip_type="invention_patent", status="valid"),
            rec("intellectual_property", "2016-01-01", ip_type="utility_model", status="expired"),
            rec("intellectual_property", "2017-01-01", ip_type="trademark", status="pledged"),
            tax(2024, "B", "2025-04-30", overdue_tax_amount=3000, major_tax_violation=True),
            tax(2023, "B", "2024-04-30", overdue_tax_amount="2000.5"),
        ],
    )
    assert v["judicial_enforcement"] == 1  # 2022-06-29 is not after the window's start (2022-06-30)
    assert v["judicial_unfulfilled_amount"] == 70_000.0
    assert v["serious_dishonesty_listed"] == 0.0  # removed
    assert v["abnormal_operation_listed"] == 1.0  # no removal date
    assert v["patents"] == 1 and v["trademarks"] == 1
    assert v["tax_overdue_amount"] == 5_000.5
    assert v["major_tax_violation"] == 1.0
    assert v["penalties"] == 0 and v["months_since_penalty"] is None


def test_window_edges_and_records_after_the_evaluation_date(evaluator: PortraitEvaluator) -> None:
    penalties = [
        rec("administrative_penalty", "2022-06-30", "serious"),  # the window's start: out
        rec("administrative_penalty", "2022-07-01", "serious"),  # in
        rec("administrative_penalty", "2025-06-30", "minor"),  # the evaluation date: in
        rec("administrative_penalty", "2025-07-01", "minor"),  # later: never read
    ]
    v = values(evaluator, penalties)
    assert v["penalties"] == 2
    assert v["months_since_penalty"] == 0


def test_ratios_and_trends(evaluator: PortraitEvaluator) -> None:
    months = [f"2024-{m:02d}-01" for m in range(7, 13)] + [f"2025-{m:02d}-01" for m in range(1, 7)]
    records = [
        si(p, 10 if k < 6 else 15, "in_arrears" if k in (2, 3) else "normal") for k, p in enumerate(months)
    ]
    records += [
        rec("utilities", "2025-05-20", utility_type="water", period="2025-05-01", payment_status="paid"),
        rec("utilities", "2025-06-20", utility_type="water", period="2025-06-01", payment_status="overdue"),
        rec(
            "utilities", "2024-05-20", utility_type="water", period="2024-05-01", payment_status="overdue"
        ),  # old
    ]
    v = values(evaluator, [registration(), *records])
    assert v["social_insurance_continuity"] == pytest.approx(10 / 12)
    assert v["social_insurance_arrears_months"] == 2
    assert v["social_insurance_headcount"] == 15
    assert v["social_insurance_headcount_trend"] == pytest.approx(0.5)  # 10 → 15
    assert v["utilities_continuity"] == 0.5
    assert v["utilities_overdue_bills"] == 1
    assert v["housing_fund_continuity"] == 0.0  # a ratio over the window: no deposits is 0 of 12
    assert v["housing_fund_headcount"] is None


def test_a_trend_needs_both_halves_and_a_ratio_a_denominator(evaluator: PortraitEvaluator) -> None:
    v = values(evaluator, [registration(), si("2025-05-01", 8), si("2025-06-01", 9)])
    assert v["social_insurance_headcount_trend"] is None  # no record in the first half-year
    assert v["utilities_continuity"] is None  # no bill: no share of bills paid
    assert (
        values(evaluator, [si("2024-08-01", 0), si("2025-02-01", 3)])["social_insurance_headcount_trend"]
        == 3.0
    )


def test_insufficient_data_names_the_dimensions(evaluator: PortraitEvaluator) -> None:
    nothing = evaluator.evaluate([], AS_OF)
    assert nothing.insufficient == ("identity", "operations") and not nothing.sufficient
    only_registration = evaluator.evaluate([registration()], AS_OF)
    assert only_registration.insufficient == ("operations",)
    old_tax = [registration(), tax(2021, "A", "2022-04-30"), tax(2022, "A", "2023-04-30")]
    assert evaluator.evaluate(old_tax, AS_OF).insufficient == ("operations",)  # outside 24 months
    recent = [registration(), tax(2023, "A", "2024-04-30"), si("2025-06-01", 4)]
    assert evaluator.evaluate(recent, AS_OF).sufficient


def test_repaired_and_withheld_records_are_not_read_nor_the_facts_about_them(
    evaluator: PortraitEvaluator,
) -> None:
    penalty = rec("administrative_penalty", "2025-01-10", "general")
    repaired = PlainRecord(
        "rep", "administrative_penalty", date(2025, 2, 1), {}, severity="general", repaired=True
    )
    expired = rec("administrative_penalty", "2024-03-01", "minor")
    facts = [
        rec("objection", "2025-03-01", status="upheld", record_id=repaired.record_id),
        rec("objection", "2025-03-02", status="upheld", record_id=penalty.record_id),
        rec(
            "repair_application",
            "2025-03-03",
            status="pending",
            record_id=expired.record_id,
            category="administrative_penalty",
        ),
        rec(
            "repair_application",
            "2025-03-04",
            status="pending",
            record_id=penalty.record_id,
            category="administrative_penalty",
        ),
    ]
    portrait = evaluator.evaluate(
        [registration(), penalty, repaired, expired, *facts],
        AS_OF,
        withheld=lambda r: r.record_id == expired.record_id,
    )
    assert portrait.values["penalties"] == 1
    assert portrait.values["objections_upheld"] == 1
    assert portrait.values["repairs_pending"] == 1
    read = {r for r, _ in portrait.inputs}
    assert penalty.record_id in read and repaired.record_id not in read and expired.record_id not in read


def test_disputed_records_are_read_and_the_indicators_named(evaluator: PortraitEvaluator) -> None:
    disputed = PlainRecord(
        "d1", "tax", date(2025, 4, 30), {"tax_year": 2024, "credit_grade": "D"}, disputed=True
    )
    portrait = evaluator.evaluate([registration(), disputed], AS_OF)
    assert portrait.values["tax_credit_grade"] == 0.0
    assert set(portrait.disputed) == {
        "tax_credit_grade",
        "tax_paid",
        "tax_overdue_amount",
        "major_tax_violation",
    }
    assert evaluator.evaluate([registration()], AS_OF).disputed == ()


def test_inputs_name_every_record_version_read(evaluator: PortraitEvaluator) -> None:
    a = PlainRecord("a", "tax", date(2025, 4, 30), {"tax_year": 2024, "credit_grade": "A"}, version=3)
    other = PlainRecord("z", "real_estate", date(2025, 1, 1), {})  # a category no indicator reads
    portrait = evaluator.evaluate([other, registration(), a], AS_OF)
    assert ("a", 3) in portrait.inputs and all(r != "z" for r, _ in portrait.inputs)
    assert list(portrait.inputs) == sorted(portrait.inputs)
    as_json = portrait.to_json()
    assert as_json["inputs"][0] == {"record_id": portrait.inputs[0][0], "version": portrait.inputs[0][1]}
    assert as_json["as_of"] == "2025-06-30"


def test_records_from_the_release_path_are_read_as_they_are(evaluator: PortraitEvaluator) -> None:
    current = CurrentRecord(
        "c1",
        2,
        "91350200776049653A",
        "tax",
        date(2025, 4, 30),
        None,
        False,
        False,
        {"tax_year": 2024, "credit_grade": "B", "annual_tax_paid": "88000.00"},
    )
    portrait = evaluator.evaluate([current], AS_OF)
    assert portrait.values["tax_credit_grade"] == 3.0 and portrait.values["tax_paid"] == 88_000.0
    assert portrait.inputs == (("c1", 2),)


def test_date_fields_may_be_dates_or_iso_text(evaluator: PortraitEvaluator) -> None:
    as_text = si("2025-06-01", 7)
    as_date = PlainRecord(
        "x", "social_insurance", date(2025, 6, 15), {**as_text.fields, "period": date(2025, 6, 1)}
    )
    assert values(evaluator, [as_text])["social_insurance_headcount"] == 7
    assert values(evaluator, [as_date])["social_insurance_headcount"] == 7


def test_records_round_trip_through_json() -> None:
    r = PlainRecord("id", "tax", date(2025, 1, 2), {"credit_grade": "A"}, 2, None, True, False)
    assert record_from_json(record_to_json(r)) == r
    from ledger.evaluation.errors import PortraitError

    with pytest.raises(PortraitError, match="event_date"):
        record_from_json({"record_id": "x", "category": "tax"})
    with pytest.raises(PortraitError, match="disputed has the wrong type"):
        record_from_json({**record_to_json(r), "disputed": "yes"})


def test_a_where_on_several_fields_needs_all_of_them() -> None:
    data = {
        "version": 1, "catalogue_version": 1, "name_zh": "测试", "name_en": "test",
        "dimensions": [{"id": "x", "name_zh": "x", "name_en": "x", "min_records": 0}],
        "indicators": [{
            "id": "fines_unpaid", "dimension": "x", "name_zh": "x", "name_en": "x",
            "category": "administrative_penalty", "fields": ["penalty_type", "sector", "amount"], "unit": "n",
            "formula": {"op": "count", "where": [
                {"field": "penalty_type", "one_of": ["fine"]}, {"field": "sector", "present": False},
                {"field": "amount", "present": True},
            ]},
            "risk": "increases",
        }],
    }  # fmt: skip
    evaluator = PortraitEvaluator(parse_indicators(data, default_schema()))
    records = [
        rec("administrative_penalty", "2025-01-01", "minor", penalty_type="fine", amount=10),
        rec(
            "administrative_penalty",
            "2025-01-01",
            "minor",
            penalty_type="fine",
            amount=10,
            sector="fire_safety",
        ),
        rec("administrative_penalty", "2025-01-01", "minor", penalty_type="warning", amount=10),
        rec("administrative_penalty", "2025-01-01", "minor", penalty_type="fine", amount=""),
    ]
    assert evaluator.evaluate(records, AS_OF).values["fines_unpaid"] == 1

"""Eligibility over the enterprise's industry (GB/T 4754-2017), against a real anvil and
SQLite/PostgreSQL: while the enterprise's registration record is a catalogue-v1 one (no
industry) a rule over industry is not met, naming the missing registration data; once
catalogue v2 is published and a registration record carries `industry`, the rule is
checked against it (a division meets a rule naming its section)."""

from __future__ import annotations

from typing import Any

from ledger.domain.catalogue import newest_catalogue
from ledger.records.samples import sample_record
from tests.integration.audit.conftest import export_of, verifier_for
from tests.integration.financing.test_api_financing import product
from tests.integration.test_release import REGISTRATION, SUBJECT, World, world  # noqa: F401  (fixture)


def _criterion(matched: dict[str, Any], key: str) -> tuple[bool, dict[str, Any]]:
    for eligible, group in ((True, matched["eligible"]), (False, matched["not_eligible"])):
        for m in group:
            if m["product"]["key"] == key:
                return eligible, next(c for c in m["criteria"] if c["field"] == "industry")
    raise AssertionError(f"product {key} not matched")


def test_industry_rules_over_the_registration_record(world: World) -> None:  # noqa: F811
    w = world
    op, bank, ent = w.sdk(w.operators[0]), w.sdk(w.bank), w.sdk(w.enterprise)
    bank.publish_product(product("zz-manufacturing", [{"field": "industry", "op": "in", "value": ["C"]}]))
    bank.publish_product(product("zz-software", [{"field": "industry", "op": "equals", "value": "I65"}]))
    demand = ent.post_demand(SUBJECT, 300_000, 12, "设备更新", "无")

    # the registration record on file was validated under catalogue v1: no industry
    assert "industry" not in ent.eligibility_profile(SUBJECT)["values"]
    eligible, missing = _criterion(ent.matches(SUBJECT, demand["id"]), "zz-manufacturing")
    assert not eligible and not missing["met"] and not missing["known"]
    assert "注册登记记录未载明所属行业" in missing["reason"]["zh"]
    assert "registration record carries no industry" in missing["reason"]["en"]

    # catalogue v2 in force; the registry files a registration record with the industry
    assert op.publish_catalogue(newest_catalogue().model_dump(mode="json"))["version"] == 2
    registration = sample_record(0)
    registration["source_ref"] = "REF-industry"
    registration["event_date"] = "2026-01-05"
    registration["fields"]["industry"] = "C39"
    filed = w.sdk(w.provider).submit_record(registration)
    assert w.sdk(w.provider).open_record(filed["record_id"], 1)["catalogue_version"] == 2

    assert ent.eligibility_profile(SUBJECT)["values"]["industry"] == "C39"
    matched = ent.matches(SUBJECT, demand["id"])
    eligible, met = _criterion(matched, "zz-manufacturing")
    assert eligible and met["met"] and met["known"] and "C39" in met["reason"]["en"]
    eligible, unmet = _criterion(matched, "zz-software")
    assert not eligible and not unmet["met"] and unmet["known"]
    assert unmet["reason"]["en"] == "industry (GB/T 4754) is C39; required I65"


def test_a_v2_registration_record_is_released_with_its_industry(world: World) -> None:  # noqa: F811
    """The release path renders with the newest shipped catalogue: the v2 field is released
    (public, unmasked), v1 records alongside it unchanged; the auditor, recomputing each
    release's level from the catalogue in force at its block, finds nothing."""
    w = world
    w.sdk(w.operators[0]).publish_catalogue(newest_catalogue().model_dump(mode="json"))
    registration = sample_record(0)
    registration.update(source_ref="REF-industry", event_date="2026-01-05")
    registration["fields"]["industry"] = "I65"
    w.sdk(w.provider).submit_record(registration)
    w.grant(w.bank, REGISTRATION)
    released: Any = w.release(categories=REGISTRATION)
    records = released["data"]["records"]
    assert sorted(r["fields"].get("industry", "-") for r in records) == ["-", "I65"]
    assert all(r["detail"] == "masked" and "*" in r["fields"]["legal_representative_id"] for r in records)

    report = verifier_for(w.platform).verify(export_of(w.platform, openings=True))
    assert [str(f) for f in report.findings] == []
    assert report.to_json()["access"]["levels_checked"] >= 1

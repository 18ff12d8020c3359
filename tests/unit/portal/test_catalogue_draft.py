"""The operator's catalogue upload checked before it is signed (`ledger.portal.catalogue_draft`)
and an enterprise's 统一社会信用代码 checked with the position at fault (`ledger.portal.registering`)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from ledger.domain.catalogue import Catalogue, packaged_catalogues
from ledger.portal.catalogue_draft import catalogue_changes, catalogue_draft
from ledger.portal.registering import uscc_verdict

V1, V2 = packaged_catalogues()
USCC = "91350200776049653A"


def document(catalogue: Catalogue) -> dict[str, Any]:
    return catalogue.model_dump(mode="json")


def category(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in doc["categories"] if c["name"] == name)


def test_v2_over_v1_adds_the_industry_and_the_specialized_sme_fields_in_canonical_form() -> None:
    draft = catalogue_draft(json.dumps(document(V2), indent=2), V1)
    assert not draft.refused and draft.problems == []
    added = {(c.kind, c.category, c.name) for c in draft.changes}
    assert added == {
        ("field", "registration", "industry"),
        ("field", "rnd", "specialized_sme_level"),
        ("field", "rnd", "specialized_sme_certified_on"),
        ("field", "rnd", "specialized_sme_valid_until"),
    }
    # the canonical text is what the browser hashes: its SHA-256 is the content hash the API checks
    assert hashlib.sha256(draft.canonical.encode()).digest() == V2.content_hash()
    assert draft.public_mask == V2.public_mask() and draft.current_version == 1


def test_a_new_category_and_purpose_are_named_as_additions() -> None:
    doc = document(V2)
    doc["version"] = 3
    doc["categories"].append({**category(doc, "tax"), "name": "energy", "bit": 200, "name_en": "Energy use"})
    doc["purposes"].append({"name": "research", "bit": 100, "name_zh": "研究", "name_en": "Research"})
    draft = catalogue_draft(json.dumps(doc), V2)
    assert not draft.refused
    assert {(c.kind, c.name, c.name_en) for c in draft.changes} == {
        ("category", "energy", "Energy use"),
        ("purpose", "research", "Research"),
    }


def test_a_version_that_drops_a_field_is_refused_naming_it() -> None:
    doc = document(V2)
    registration = category(doc, "registration")
    registration["fields"] = [f for f in registration["fields"] if f["name"] != "address"]
    draft = catalogue_draft(json.dumps(doc), V1)
    assert draft.refused
    assert [(p.code, p.where) for p in draft.problems] == [("field_removed", "registration.address")]


@pytest.mark.parametrize(
    ("edit", "code", "where"),
    [
        (lambda d: d["categories"].pop(), "category_removed", None),
        (lambda d: d["purposes"].pop(), "purpose_removed", None),
        (lambda d: category(d, "tax").update(public_disclosure=not category(d, "tax")["public_disclosure"]),
         "category_changed", "tax"),
        (lambda d: category(d, "registration")["fields"][0].update(level=5, masking="redacted"),
         "field_changed", None),
        (lambda d: d["masking"]["amount_bands"].append(10**12), "masking_changed", "masking"),
        (lambda d: d["categories"][-1].update(name="energy"), "bit_reused", "energy"),
    ],
)  # fmt: skip
def test_anything_but_an_addition_is_refused(edit: Any, code: str, where: str | None) -> None:
    doc = document(V2)
    edit(doc)
    draft = catalogue_draft(json.dumps(doc), V1)
    assert draft.refused and code in [p.code for p in draft.problems], draft.problems
    if where is not None:
        assert where in [p.where for p in draft.problems if p.code == code]


def test_a_version_not_above_the_one_in_force_is_refused() -> None:
    draft = catalogue_draft(json.dumps(document(V1)), V1)
    assert [p.code for p in draft.problems] == ["version_not_above"]
    assert catalogue_changes(V1, V1) == ([], [])


@pytest.mark.parametrize(
    ("text", "code", "where"),
    [
        ("{not json", "not_json", ""),
        ("[1, 2]", "not_json", ""),
        (json.dumps({"version": 2}), "invalid", "name_zh"),
    ],
)
def test_a_file_that_is_no_catalogue_is_refused_naming_the_problem(text: str, code: str, where: str) -> None:
    draft = catalogue_draft(text, V1)
    assert draft.refused and draft.catalogue is None
    assert draft.problems[0].code == code and (not where or where in [p.where for p in draft.problems])


def test_a_valid_uscc_is_normalised() -> None:
    verdict = uscc_verdict(" " + USCC.lower() + " ")
    assert verdict.ok and verdict.code == USCC


@pytest.mark.parametrize(
    ("code", "rule", "position"),
    [
        (USCC[:17] + "B", "check_char", 18),
        (USCC[:5] + "O" + USCC[6:], "alphabet", 6),
        ("X" + USCC[1:], "authority", 1),
        ("9" + "9" + USCC[2:], "entity_type", 2),
        (USCC[:3] + "AB" + USCC[5:], "region", 3),
        (USCC[:10], "length", 0),
    ],
)
def test_a_bad_uscc_names_the_rule_and_the_position(code: str, rule: str, position: int) -> None:
    verdict = uscc_verdict(code)
    assert not verdict.ok and (verdict.rule, verdict.first) == (rule, position), verdict

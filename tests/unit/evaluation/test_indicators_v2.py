"""Indicator file v2 and the platform's several indicator files: the 专精特新 qualification in
force (valid, lapsed, absent, each level), v2 only adding to v1, files held and picked by hash,
an unknown hash refused by name, and the SYNTHETIC generator's qualification."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import date
from typing import Any

import pytest
import rfc8785

from ledger.domain.catalogue import packaged_catalogues
from ledger.evaluation.errors import IndicatorFileError, ModelDocumentError
from ledger.evaluation.indicator_files import IndicatorFiles, UnknownIndicatorFile, additions
from ledger.evaluation.indicators import IndicatorFile, load_indicators, parse_indicators
from ledger.evaluation.portrait import PortraitEvaluator
from ledger.evaluation.records import PlainRecord
from ledger.evaluation.schema import default_indicators, indicator_files, load_for, schema_of
from ledger.evaluation.synthetic import SyntheticCohort
from ledger.evaluation.training import TrainedModel
from ledger.evaluation_release.documents import ModelDocuments, StoredModel

AS_OF = date(2025, 6, 30)
QUALIFICATION = "specialized_sme_level"
#: indicator file v1's hash before v2 and `valid_until_field` existed: it must never move
V1_SHA256 = "e26000f7d0293b7e7c3ea27f4546361d11449d657fd48aae3e8a4b588c3f7694"


@pytest.fixture(scope="module")
def v2() -> IndicatorFile:
    return indicator_files().version(2)


@pytest.fixture(scope="module")
def evaluator(v2: IndicatorFile) -> PortraitEvaluator:
    return PortraitEvaluator(v2)


def rnd(n: int, when: str, **fields: Any) -> PlainRecord:
    return PlainRecord(f"rnd-{n}", "rnd", date.fromisoformat(when), {"fiscal_year": 2024, **fields})


def qualified(n: int, level: str, certified: str, until: str, when: str = "2025-03-31") -> PlainRecord:
    return rnd(
        n,
        when,
        specialized_sme_level=level,
        specialized_sme_certified_on=certified,
        specialized_sme_valid_until=until,
    )


def level(evaluator: PortraitEvaluator, *records: PlainRecord, as_of: date = AS_OF) -> float | None:
    return evaluator.evaluate(records, as_of).values[QUALIFICATION]


# -- the qualification indicator -------------------------------------------------------------------


@pytest.mark.parametrize(("name", "value"), [("national", 3.0), ("provincial", 2.0), ("municipal", 1.0)])
def test_a_qualification_in_force_gives_its_level(
    evaluator: PortraitEvaluator, name: str, value: float
) -> None:
    assert level(evaluator, qualified(1, name, "2023-05-10", "2026-05-09")) == value


def test_a_lapsed_qualification_counts_as_none(evaluator: PortraitEvaluator) -> None:
    lapsed = qualified(1, "national", "2021-05-10", "2024-05-09")
    assert level(evaluator, lapsed) is None
    # in force up to and including its last day, not the day after
    last_day = qualified(2, "provincial", "2022-06-30", "2025-06-30")
    assert level(evaluator, last_day) == 2.0
    assert level(evaluator, last_day, as_of=date(2025, 7, 1)) is None


def test_no_qualification_no_value(evaluator: PortraitEvaluator) -> None:
    assert level(evaluator) is None  # no R&D record at all
    assert level(evaluator, rnd(1, "2025-03-31", high_tech_enterprise=True)) is None  # none on file
    # a level without a validity end is not shown in force
    assert level(evaluator, rnd(2, "2025-03-31", specialized_sme_level="national",
                               specialized_sme_certified_on="2024-01-01")) is None  # fmt: skip


def test_a_qualification_certified_after_as_of_is_not_read(evaluator: PortraitEvaluator) -> None:
    assert level(evaluator, qualified(1, "national", "2025-07-01", "2028-06-30")) is None


def test_the_latest_qualification_in_force_is_read(evaluator: PortraitEvaluator) -> None:
    earlier = qualified(1, "municipal", "2023-01-10", "2026-01-09", when="2024-03-31")
    later = qualified(2, "provincial", "2024-09-01", "2027-08-31")
    lapsed_national = qualified(3, "national", "2021-01-01", "2023-12-31", when="2022-03-31")
    assert level(evaluator, earlier, later, lapsed_national) == 2.0
    portrait = evaluator.evaluate([earlier, later, lapsed_national], AS_OF)
    # the v1 indicators over rnd still read every R&D record (the in-force clause is the new one's)
    assert portrait.values["high_tech_enterprise"] == 0.0
    assert {r for r, _ in portrait.inputs} == {"rnd-1", "rnd-2", "rnd-3"}


def test_v1_does_not_read_the_qualification(indicators: IndicatorFile) -> None:
    portrait = PortraitEvaluator(indicators).evaluate(
        [qualified(1, "national", "2024-01-01", "2027-01-01")], AS_OF
    )
    assert QUALIFICATION not in portrait.values and portrait.indicator_version == 1


# -- the file -----------------------------------------------------------------------------------


def test_v2_is_v1_plus_the_qualification_and_reads_catalogue_v2(v2: IndicatorFile) -> None:
    v1 = default_indicators()
    assert (v2.version, v2.catalogue_version) == (2, 2)
    assert additions(v1, v2) == []
    assert [i.id for i in v2.indicators if i.id not in {j.id for j in v1.indicators}] == [QUALIFICATION]
    new = v2.indicator(QUALIFICATION)
    assert (new.dimension, new.category, new.formula.op) == ("innovation", "rnd", "latest")
    assert new.valid_until_field == "specialized_sme_valid_until" and new.risk == "decreases"
    assert new.name_zh.startswith("专精特新") and "专精特新" in new.name_en
    assert v2.categories() == v1.categories()  # no new input category: the same on-chain mask


def test_v1_hashes_as_it_always_did() -> None:
    assert default_indicators().content_hash().hex() == V1_SHA256
    assert "valid_until_field" not in default_indicators().canonical_data()["indicators"][0]
    by_id = {i["id"]: i for i in indicator_files().version(2).canonical_data()["indicators"]}
    assert by_id[QUALIFICATION]["valid_until_field"] == "specialized_sme_valid_until"
    assert "valid_until_field" not in by_id["patents"]


def test_each_file_is_checked_against_the_catalogue_version_it_names() -> None:
    v1_catalogue, v2_catalogue = packaged_catalogues()[:2]
    assert load_for(packaged="indicators-v2.json").catalogue_version == 2
    with pytest.raises(IndicatorFileError, match="written for catalogue v2, checked against v1"):
        load_for(packaged="indicators-v2.json", catalogue=v1_catalogue)
    # read against catalogue v1, the qualification's fields do not exist
    data = load_indicators(packaged="indicators-v2.json").model_dump(mode="json")
    with pytest.raises(IndicatorFileError, match="rnd has no field 'specialized_sme_level'"):
        parse_indicators(data, schema_of(v1_catalogue))
    assert parse_indicators(data, schema_of(v2_catalogue)).version == 2


def test_valid_until_field_must_be_a_declared_date() -> None:
    data = load_indicators(packaged="indicators-v2.json").model_dump(mode="json")
    schema = schema_of(packaged_catalogues()[1])
    undeclared = copy.deepcopy(data)
    undeclared["indicators"][25]["fields"].remove("specialized_sme_valid_until")
    with pytest.raises(
        IndicatorFileError, match=r"indicators\[25\] \(specialized_sme_level\).*without declaring"
    ):
        parse_indicators(undeclared, schema)
    not_a_date = copy.deepcopy(data)
    qualification = not_a_date["indicators"][25]
    qualification["valid_until_field"] = "specialized_sme_level"
    qualification["fields"].remove("specialized_sme_valid_until")
    with pytest.raises(IndicatorFileError, match="valid_until_field: specialized_sme_level is not a date"):
        parse_indicators(not_a_date, schema)


# -- several files, by hash --------------------------------------------------------------------


def test_the_platform_holds_every_shipped_file_by_hash(v2: IndicatorFile) -> None:
    files = indicator_files()
    assert [f.version for f in files] == [1, 2] and len(files) == 2
    assert files.by_hash(V1_SHA256) is default_indicators()
    assert files.by_hash(v2.content_hash().hex()) is v2
    assert files.named(2, "0x" + v2.content_hash().hex().upper()) is v2
    assert files.newest() is v2
    # the auditor's own set, loaded without the catalogue: the same files, the same hashes
    assert [f.content_hash() for f in IndicatorFiles.packaged()] == [f.content_hash() for f in files]


def test_an_unknown_hash_is_refused_naming_what_is_held(v2: IndicatorFile) -> None:
    files = indicator_files()
    with pytest.raises(
        UnknownIndicatorFile,
        match=r"no indicator file 000000000000… is held here \(held: v1 e26000f7d029…, v2 ",
    ):
        files.by_hash("00" * 32)
    with pytest.raises(UnknownIndicatorFile, match="is indicator file v2, not v1"):
        files.named(1, v2.content_hash().hex())
    with pytest.raises(UnknownIndicatorFile, match="no v3 is held"):
        files.version(3)


def test_a_set_that_does_more_than_add_is_refused(v2: IndicatorFile) -> None:
    v1 = default_indicators()
    data = v2.model_dump(mode="json")
    data["indicators"] = [i for i in data["indicators"] if i["id"] != "patents"]
    dropped = parse_indicators(data)
    with pytest.raises(IndicatorFileError, match="indicator patents: in v1, dropped in v2"):
        IndicatorFiles([v1, dropped])
    data = v2.model_dump(mode="json")
    data["indicators"][0]["unit"] = "weeks"
    with pytest.raises(IndicatorFileError, match="indicator registration_age_months: changed from v1 to v2"):
        IndicatorFiles([v1, parse_indicators(data)])
    with pytest.raises(IndicatorFileError, match="the first indicator file is v2"):
        IndicatorFiles([v2])


def test_model_documents_pick_the_file_their_model_names(v2: IndicatorFile, trained: TrainedModel) -> None:
    documents = ModelDocuments(None, indicators=indicator_files())  # type: ignore[arg-type]  # check() only
    assert documents.check(trained.document.canonical(), trained.card.canonical()).indicators.version == 1
    under_v2 = {"version": 2, "sha256": v2.content_hash().hex()}
    assert _check(documents, trained, under_v2).indicators is v2
    with pytest.raises(ModelDocumentError, match=r"indicator_file.sha256: no indicator file abababababab…"):
        _check(documents, trained, {"version": 2, "sha256": "ab" * 32})
    with pytest.raises(ModelDocumentError, match=r"indicator_file.version: .* is indicator file v2, not v1"):
        _check(documents, trained, under_v2 | {"version": 1})


def _check(documents: ModelDocuments, trained: TrainedModel, ref: dict[str, Any]) -> StoredModel:
    """`trained`'s document naming the indicator file `ref`, with its card made to describe it."""
    document = json.loads(trained.document.canonical()) | {"indicator_file": ref}
    model_sha256 = hashlib.sha256(rfc8785.dumps(document)).hexdigest()
    card = json.loads(trained.card.canonical()) | {"model_sha256": model_sha256}
    return documents.check(json.dumps(document), json.dumps(card))


# -- the SYNTHETIC generator --------------------------------------------------------------------


def test_the_generator_qualifies_some_enterprises_under_v2_only(v2: IndicatorFile) -> None:
    catalogue_v2 = packaged_catalogues()[1]
    under_v1 = SyntheticCohort(5, AS_OF, default_indicators())
    under_v2 = SyntheticCohort(5, AS_OF, v2)
    levels: list[float | None] = []
    lapsed = 0
    for n in range(1_500):
        a, b = under_v1.enterprise(n), under_v2.enterprise(n)
        # the same enterprise: the qualification has a stream of its own
        assert [r.record_id for r in a.records] == [r.record_id for r in b.records]
        assert all(QUALIFICATION not in r.fields for r in a.records)
        for r in b.records:
            if r.category == "rnd":
                catalogue_v2.ensure_valid_record(r.category, dict(r.fields), r.severity)
                until = r.fields.get("specialized_sme_valid_until")
                lapsed += until is not None and until < AS_OF.isoformat()
        levels.append(under_v2.evaluator.evaluate(b.records, AS_OF).values[QUALIFICATION])
    held = [x for x in levels if x is not None]
    assert 0.02 < len(held) / len(levels) < 0.15, len(held)
    assert set(held) == {1.0, 2.0, 3.0} and lapsed > 0
    # the qualification lowers the synthetic default probability, and only under v2
    values = dict(under_v2.evaluator.evaluate(under_v2.enterprise(0).records, AS_OF).values)
    without = under_v2.default_probability(values | {QUALIFICATION: None}, 0.0, 0)
    national = under_v2.default_probability(values | {QUALIFICATION: 3.0}, 0.0, 0)
    assert national < without
    assert under_v2.description(1)["indicator_sha256"] == v2.content_hash().hex()

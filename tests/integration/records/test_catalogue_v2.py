"""The packaged catalogue v2 published after v1 on a real chain and database (SQLite and
PostgreSQL): records name the version they were validated under, v2 records carry the
registration industry (GB/T 4754-2017) and the 专精特新 qualification, v1 records stay valid."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from sqlalchemy import select

from ledger.audit_export import catalogue_documents
from ledger.chain.catalogue_registry import CatalogueRegistryContract
from ledger.domain.catalogue import default_catalogue, newest_catalogue
from ledger.platform import Platform
from ledger.records.models import CreditRecord
from ledger.records.samples import sample_record
from ledger.sdk import ApiError
from ledger.wiring import catalogue_service
from tests.integration.records.conftest import SdkFor


def _registration(n: int, **extra: Any) -> dict[str, Any]:
    record = sample_record(3 * n)  # registration records are every third sample
    record["fields"].update(extra)
    return record


def test_packaged_v2_is_published_after_v1_and_records_are_ingested_under_it(
    sdk: SdkFor, platform: Platform, operators: list[LocalAccount], provider: LocalAccount
) -> None:
    v1_doc, v2_doc = default_catalogue(), newest_catalogue()
    assert sdk(operators[0]).publish_catalogue(v1_doc.model_dump(mode="json"))["version"] == 1
    old = sdk(provider).submit_record(_registration(1))
    with pytest.raises(ApiError) as early:  # v2 fields are unknown while v1 is in force
        sdk(provider).submit_record(_registration(2, industry="C39"))
    assert early.value.status == 422 and "fields.industry: unknown_field" in early.value.message

    published = sdk(operators[1]).publish_catalogue(v2_doc.model_dump(mode="json"))
    assert published["version"] == 2
    assert published["content_hash"] == "0x" + v2_doc.content_hash().hex()
    registry = CatalogueRegistryContract(platform.chain, platform.deployment.addresses.catalogue_registry)
    assert registry.current().content_hash == v2_doc.content_hash()
    assert catalogue_service(platform).current().catalogue == v2_doc

    new = sdk(provider).submit_record(_registration(2, industry="C39"))
    plain = sdk(provider).submit_record(_registration(3))  # industry is optional in v2
    srdi = sample_record(4 * 3)
    srdi.update(category="rnd", fields={
        "fiscal_year": 2025, "specialized_sme_level": "provincial",
        "specialized_sme_certified_on": "2024-06-01", "specialized_sme_valid_until": "2027-05-31",
    })  # fmt: skip
    qualified = sdk(provider).submit_record(srdi)

    for bad, rule in (("C01", "industry.division"), ("c39", "industry.format")):
        with pytest.raises(ApiError) as refused:
            sdk(provider).submit_record(_registration(5, industry=bad))
        assert refused.value.status == 422 and f"fields.industry: {rule}" in refused.value.message
    with platform.db.session() as session:
        versions = dict(session.execute(select(CreditRecord.record_id, CreditRecord.catalogue_version)).all())
    assert versions == {
        old["record_id"]: 1,
        new["record_id"]: 2,
        plain["record_id"]: 2,
        qualified["record_id"]: 2,
    }  # fmt: skip  (the refused ones stored nothing)
    opened = sdk(provider).open_record(new["record_id"], 1)
    assert opened["catalogue_version"] == 2 and opened["fields"]["industry"] == "C39"
    assert sdk(provider).open_record(old["record_id"], 1)["catalogue_version"] == 1

    # the auditor's export holds both versions, by the hash each CataloguePublished anchored
    held = {d.version: d.document for d in catalogue_documents(platform.db)}
    assert held[1] == v1_doc.model_dump(mode="json") and held[2] == v2_doc.model_dump(mode="json")

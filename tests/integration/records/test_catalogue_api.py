"""Catalogue versions published through the API, anchored on chain, and used by ingestion."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from sqlalchemy import select

from ledger.chain.catalogue_registry import CatalogueRegistryContract
from ledger.domain.catalogue import default_catalogue
from ledger.platform import Platform
from ledger.records.models import CatalogueVersionRow, CreditRecord
from ledger.records.samples import sample_record
from ledger.sdk import ApiError
from tests.integration.records.conftest import SdkFor


def _document(version: int) -> dict[str, Any]:
    """The packaged catalogue as a new version, with one more optional registration field."""
    doc: dict[str, Any] = json.loads(json.dumps(default_catalogue().model_dump(mode="json")))
    doc["version"] = version
    registration = next(c for c in doc["categories"] if c["name"] == "registration")
    registration["fields"].append(
        {
            "name": "website",
            "name_zh": "网站",
            "type": "string",
            "required": False,
            "level": 1,
            "masking": "public",
        }
    )
    return doc


def _registry(platform: Platform) -> CatalogueRegistryContract:
    return CatalogueRegistryContract(platform.chain, platform.deployment.addresses.catalogue_registry)


def test_publish_versions_and_ingest_under_each(
    sdk: SdkFor, platform: Platform, operators: list[LocalAccount], provider: LocalAccount
) -> None:
    with pytest.raises(ApiError) as none:
        sdk(provider).catalogue()
    assert none.value.status == 409

    v1 = sdk(operators[0]).publish_catalogue(default_catalogue().model_dump(mode="json"))
    assert v1["version"] == 1 and v1["transaction"].startswith("0x")
    assert v1["content_hash"] == "0x" + default_catalogue().content_hash().hex()
    assert _registry(platform).current().content_hash.hex() == v1["content_hash"][2:]
    old = sdk(provider).submit_record(sample_record(0))

    with_website = sample_record(3)
    with_website["fields"]["website"] = "https://example.com"
    with pytest.raises(ApiError) as unknown:
        sdk(provider).submit_record(with_website)
    assert unknown.value.status == 422 and "fields.website: unknown_field" in unknown.value.message

    v2 = sdk(operators[1]).publish_catalogue(_document(2))
    assert v2["version"] == 2 and sdk(provider).catalogue()["version"] == 2
    assert sdk(provider).catalogue(1)["content_hash"] == v1["content_hash"]
    new = sdk(provider).submit_record(with_website)
    with platform.db.session() as session:
        versions = dict(session.execute(select(CreditRecord.record_id, CreditRecord.catalogue_version)).all())
        stored = session.scalars(select(CatalogueVersionRow.version)).all()
    assert versions == {old["record_id"]: 1, new["record_id"]: 2}
    assert stored == [1, 2]
    # the record written under v1 still opens and is unchanged
    assert sdk(provider).open_record(old["record_id"], 1)["catalogue_version"] == 1


def _signed_body(sdk: SdkFor, operator: LocalAccount, document: dict[str, Any]) -> dict[str, Any]:
    """Capture the body the SDK would send, to tamper with it."""
    client = sdk(operator)
    sent: dict[str, Any] = {}
    original = client.request

    def capture(method: str, path: str, body: Any = None) -> Any:
        if method == "POST":
            sent.update(body)
            return {}
        return original(method, path, body)

    client.request = capture  # type: ignore[method-assign]
    client.publish_catalogue(document)
    return sent


@pytest.mark.parametrize(
    ("tamper", "status", "message"),
    [
        (lambda d, b: b.update(content_hash="0x" + "ab" * 32), 422, "content_hash"),
        (lambda d, b: b["catalogue"].update(name_en="changed after signing"), 422, "content_hash"),
        (lambda d, b: b.update(public_categories=1), 422, "public_categories"),
        (
            lambda d, b: b["catalogue"]["categories"][0].update(bit=200),
            422,
            "catalogue is invalid|content_hash",
        ),
    ],
)
def test_publication_must_match_the_signed_act(
    sdk: SdkFor, platform: Platform, operators: list[LocalAccount], tamper: Any, status: int, message: str
) -> None:
    document = default_catalogue().model_dump(mode="json")
    body = _signed_body(sdk, operators[0], document)
    tamper(document, body)
    with pytest.raises(ApiError) as refused:
        sdk(operators[0]).request("POST", "/catalogue/versions", body)
    assert refused.value.status == status
    assert any(m in refused.value.message for m in message.split("|"))
    assert _registry(platform).current().version == 0


def test_bits_are_never_reused_and_versions_increase(
    sdk: SdkFor, platform: Platform, operators: list[LocalAccount]
) -> None:
    sdk(operators[0]).publish_catalogue(default_catalogue().model_dump(mode="json"))
    with pytest.raises(ApiError) as same:
        sdk(operators[0]).publish_catalogue(default_catalogue().model_dump(mode="json"))
    assert same.value.status == 409 and "not above" in same.value.message
    moved = _document(2)
    categories = moved["categories"]
    categories[0]["bit"], categories[1]["bit"] = categories[1]["bit"], categories[0]["bit"]
    with pytest.raises(ApiError) as reused:
        sdk(operators[0]).publish_catalogue(moved)
    assert reused.value.status == 422 and "moved from bit 0 to 1" in reused.value.message
    assert _registry(platform).current().version == 1


def test_a_version_that_removes_or_changes_a_published_field_is_refused(
    sdk: SdkFor, platform: Platform, operators: list[LocalAccount]
) -> None:
    sdk(operators[0]).publish_catalogue(default_catalogue().model_dump(mode="json"))
    dropped = _document(2)
    registration = next(c for c in dropped["categories"] if c["name"] == "registration")
    registration["fields"] = [f for f in registration["fields"] if f["name"] != "address"]
    with pytest.raises(ApiError) as removed:
        sdk(operators[0]).publish_catalogue(dropped)
    assert removed.value.status == 422 and "field_removed registration.address" in removed.value.message
    changed = _document(2)
    next(c for c in changed["categories"] if c["name"] == "registration")["fields"][0]["level"] = 2
    with pytest.raises(ApiError) as redefined:
        sdk(operators[0]).publish_catalogue(changed)
    assert redefined.value.status == 422 and "field_changed registration." in redefined.value.message
    assert _registry(platform).current().version == 1
    assert sdk(operators[0]).publish_catalogue(_document(2))["version"] == 2  # adding is allowed


def test_invalid_catalogue_is_422_and_only_operators_publish(
    sdk: SdkFor, operators: list[LocalAccount], provider: LocalAccount
) -> None:
    broken = copy.deepcopy(_document(1))
    broken["categories"][0]["fields"][0]["level"] = 9
    body = _signed_body(sdk, operators[0], default_catalogue().model_dump(mode="json"))
    body["catalogue"] = broken
    with pytest.raises(ApiError) as invalid:
        sdk(operators[0]).request("POST", "/catalogue/versions", body)
    assert invalid.value.status == 422 and "level" in invalid.value.message
    with pytest.raises(ApiError) as refused:
        sdk(provider).publish_catalogue(default_catalogue().model_dump(mode="json"))
    assert refused.value.status == 403

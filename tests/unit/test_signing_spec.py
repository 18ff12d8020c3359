"""The published signing specification (`GET /signing`) is the code's own definitions, whole.

Drift is what these tests catch: a signed type the contracts verify but the document
lacks, a body field the document does not map, a route taking a signature that no
signed thing names, a float bound in the OpenAPI schema, a refusal that does not say
what the signature was verified as.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any, cast

import pytest
from eth_account import Account

from api.app import create_app
from ledger.chain.act_specs import ACTS
from ledger.chain.eip712 import sign
from ledger.evaluation_release.request import (
    EvaluationRequestMessage,
    evaluation_domain,
    verify_evaluation_request,
)
from ledger.platform import Platform
from ledger.release.request import DataRequestMessage, request_domain, verify_data_request
from ledger.request_auth import API_REQUEST_TYPES, Unauthenticated, api_domain, sign_request, verify_request
from ledger.signing_examples import examples
from ledger.signing_spec import TRANSFORMS, document, signed_things

CONTRACTS_DIR = Path(__file__).resolve().parents[2] / "contracts"
MEMBERSHIP, CONSENTS, REGISTRY = ("0x" + "11" * 20, "0x" + "22" * 20, "0x" + "33" * 20)
ADDRESSES = {"Membership": MEMBERSHIP, "Consents": CONSENTS, "ModelRegistry": REGISTRY}
CONTRACT_DOMAINS = {
    name: {"name": f"credit-ledger {name}", "version": "1", "chainId": 31337, "verifyingContract": address}
    for name, address in ADDRESSES.items()
}


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    return create_app(cast(Platform, None)).openapi()  # building the document needs no platform


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return document(31337, ADDRESSES, CONTRACT_DOMAINS, examples())


def _typehashes() -> set[str]:
    found: set[str] = set()
    for path in CONTRACTS_DIR.rglob("*.sol"):
        found |= set(re.findall(r'keccak256\(\s*"([^"]+)"\s*\)', path.read_text()))
    return {t for t in found if not t.startswith("EIP712Domain")}


def test_every_type_the_contracts_verify_is_published_with_its_exact_field_order(
    spec: dict[str, Any],
) -> None:
    published = {s["type_string"] for s in spec["signed"]}
    assert _typehashes() <= published
    contract_bound = {s["type_string"] for s in spec["signed"] if s["domain"] not in ("api",)}
    request_types = {DataRequestMessage.type_string(), EvaluationRequestMessage.type_string()}
    assert contract_bound - request_types == _typehashes()


def test_each_published_type_is_the_one_the_code_signs_and_verifies(spec: dict[str, Any]) -> None:
    by_type = {s["primaryType"]: s for s in spec["signed"]}
    assert by_type["ApiRequest"]["types"] == API_REQUEST_TYPES
    assert by_type["DataRequest"]["types"] == DataRequestMessage.types()
    assert by_type["EvaluationRequest"]["types"] == EvaluationRequestMessage.types()
    for name, act in ACTS.items():
        assert by_type[name]["types"] == act.message.types()
        assert by_type[name]["endpoint"] == {"method": "POST", "path": f"/acts/{name}"}
        assert by_type[name]["domain"] == act.contract
    grant = [f for f in by_type["Grant"]["fields"] if f["name"] == "expiresAt"]
    assert grant == [
        {"name": "expiresAt", "type": "uint48", "from": "body", "field": "expires_at", "transform": "as_is"}
    ]


def test_every_domain_a_signed_thing_names_is_published(spec: dict[str, Any]) -> None:
    assert spec["domains"]["api"]["domain"] == api_domain(31337, MEMBERSHIP)
    assert spec["domains"]["DataRequest"]["domain"] == request_domain(31337, CONSENTS)
    assert spec["domains"]["DataRequest"]["domain"]["name"] == "credit-ledger DataRequest"
    assert spec["domains"]["EvaluationRequest"]["domain"] == evaluation_domain(31337, REGISTRY)
    assert spec["domains"]["Consents"]["domain"] == CONTRACT_DOMAINS["Consents"]
    needed = {s["domain"] for s in spec["signed"]}
    assert needed <= set(spec["domains"]) | {
        "Agreements",
        "CatalogueRegistry",
        "Publications",
    }  # contracts not in ADDRESSES here


def _schema(openapi: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in node:
        return cast(dict[str, Any], openapi["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]])
    return node


def _body_properties(openapi: dict[str, Any], method: str, path: str) -> set[str]:
    operation = openapi["paths"][path][method.lower()]
    schema = _schema(openapi, operation["requestBody"]["content"]["application/json"]["schema"])
    return set(schema["properties"])


def test_each_signed_body_is_mapped_whole_to_its_members(
    openapi: dict[str, Any], spec: dict[str, Any]
) -> None:
    for thing in spec["signed"]:
        if thing["carried_in"] != "body":
            continue
        method, path = thing["endpoint"]["method"], thing["endpoint"]["path"]
        properties = _body_properties(openapi, method, path)
        from_body = {f["field"].split(".")[0] for f in thing["fields"] if f["from"] == "body"}
        from_path = {f["field"] for f in thing["fields"] if f["from"] == "path"}
        assert from_body | {"signature"} == properties, thing["primaryType"]
        assert all("{" + p + "}" in path for p in from_path), thing["primaryType"]
        assert {f["transform"] for f in thing["fields"]} <= set(TRANSFORMS)


def test_every_route_that_takes_a_signature_in_its_body_is_published(
    openapi: dict[str, Any], spec: dict[str, Any]
) -> None:
    published = {(s["endpoint"]["method"], s["endpoint"]["path"]) for s in spec["signed"]}
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body and "signature" in _schema(openapi, body["schema"]).get("properties", {}):
                assert (method.upper(), path) in published, (method, path)


def _numbers(node: Any, where: str = "") -> list[str]:
    """Every non-integer number in a JSON document, with where it is."""
    if isinstance(node, dict):
        return [w for k, v in node.items() for w in _numbers(v, f"{where}/{k}")]
    if isinstance(node, list):
        return [w for i, v in enumerate(node) for w in _numbers(v, f"{where}/{i}")]
    return [where] if isinstance(node, float) else []


def test_the_openapi_document_has_no_float_bound_and_every_uint_one_rule(openapi: dict[str, Any]) -> None:
    assert _numbers(openapi) == []
    grant = _schema(
        openapi,
        openapi["paths"]["/acts/Grant"]["post"]["requestBody"]["content"]["application/json"]["schema"],
    )
    assert grant["properties"]["categories"]["anyOf"][0] == {"type": "string", "pattern": "^[0-9]{1,78}$"}
    assert grant["properties"]["expires_at"]["anyOf"][1]["maximum"] == 2**48 - 1
    assert grant["properties"]["categories"]["anyOf"][1]["maximum"] == 2**53 - 1
    release = _schema(
        openapi, openapi["paths"]["/releases"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    )
    assert release["properties"]["agreement_id"]["anyOf"][1]["minimum"] == 1


def test_the_security_scheme_points_at_the_specification(openapi: dict[str, Any]) -> None:
    schemes = openapi["components"]["securitySchemes"]
    assert "GET /signing" in schemes["LedgerSignature"]["description"]
    assert "README" in schemes["LedgerSignature"]["description"]
    assert "/signing" in openapi["paths"] and "security" not in openapi["paths"]["/signing"]["get"]


KEY = Account.create().key
OTHER_CHAIN = api_domain(31338, MEMBERSHIP)


def test_a_request_signed_under_another_domain_is_refused_naming_the_domain_verified() -> None:
    domain = api_domain(31337, MEMBERSHIP)
    headers = sign_request(KEY, OTHER_CHAIN, "GET", "/members", b"")
    with pytest.raises(Unauthenticated) as info:
        verify_request(headers, domain, "GET", "/members", b"", now=time.time(), max_age_seconds=60)
    said = info.value.message
    assert "not by the claimed signer" in said
    assert "EIP-712 ApiRequest under domain name 'credit-ledger API', version '1', chainId 31337" in said
    assert MEMBERSHIP.lower() in said.lower()


def test_a_data_request_signed_under_another_domain_is_refused_naming_the_domain_verified() -> None:
    account = Account.from_key(KEY)
    message = DataRequestMessage(account.address, "91350200776049653A", 4, 1, 1, False, b"\x01" * 32, 2**40)
    signed = sign(account, request_domain(31338, CONSENTS), message)
    with pytest.raises(Unauthenticated) as info:
        verify_data_request(signed, request_domain(31337, CONSENTS), now=time.time())
    said = info.value.message
    assert said.startswith("data request is signed by ") and "not by the institution" in said
    assert (
        "EIP-712 DataRequest under domain name 'credit-ledger DataRequest'" in said
        and "chainId 31337" in said
    )


def test_an_evaluation_request_signed_under_another_domain_is_refused_naming_the_domain_verified() -> None:
    account = Account.from_key(KEY)
    message = EvaluationRequestMessage(account.address, "91350200776049653A", 1, 1, 1, b"\x01" * 32, 2**40)
    signed = sign(account, evaluation_domain(31338, REGISTRY), message)
    with pytest.raises(Unauthenticated) as info:
        verify_evaluation_request(signed, evaluation_domain(31337, REGISTRY), now=time.time())
    assert (
        "EIP-712 EvaluationRequest under domain name 'credit-ledger EvaluationRequest'" in info.value.message
    )


def test_signed_things_are_unique_by_endpoint_and_only_publish_has_two() -> None:
    things = signed_things()
    assert len({(t.method, t.path) for t in things}) == len(things)
    twice = [t for t in things if [u.primary_type for u in things].count(t.primary_type) > 1]
    # Publish: financing documents (kind in the body) and KPI snapshots (kind fixed by the route)
    assert [(t.primary_type, t.path) for t in twice] == [
        ("Publish", "/financing/publications"),
        ("Publish", "/kpis/snapshots"),
    ]


def test_the_kpi_snapshot_route_is_the_publish_act_with_its_kind_fixed(spec: dict[str, Any]) -> None:
    (snapshot,) = [s for s in spec["signed"] if s["endpoint"]["path"] == "/kpis/snapshots"]
    assert snapshot["primaryType"] == "Publish" and snapshot["domain"] == "Publications"
    kind = snapshot["fields"][0]
    assert kind["name"] == "kind" and kind["from"] == "constant" and kind["value"] == "kpi_snapshot"
    assert kind["enum"][kind["value"]] == 3  # PublicationKind.KPI_SNAPSHOT, as the contract numbers it
    assert "field" not in kind and "constant" in spec["transforms"]


def _reads_a_raw_signed_body(dependant: Any) -> bool:
    from api.deps import RequireSignedBody

    return any(
        isinstance(d.call, RequireSignedBody) or _reads_a_raw_signed_body(d) for d in dependant.dependencies
    )


def test_every_route_reading_its_raw_signed_body_documents_that_body(openapi: dict[str, Any]) -> None:
    """A route that parses its own body (`RequireSignedBody`) documents it (`openapi_extra`), so
    that a signed act in it is seen by the check above (POST /kpis/snapshots takes `Publish`)."""
    from fastapi.routing import APIRoute, iter_route_contexts

    contexts = iter_route_contexts(create_app(cast(Platform, None)).routes)
    routes: list[Any] = [c for c in contexts if isinstance(c.original_route, APIRoute)]
    raw = [(m, r.path_format) for r in routes if _reads_a_raw_signed_body(r.dependant) for m in r.methods]
    assert ("POST", "/kpis/snapshots") in raw
    # bodies with no signed act in them (a model document and card; a webhook endpoint), described
    # in words only: a signed act added to one must document its body first
    undocumented = {("POST", "/models/documents"), ("POST", "/alerts/endpoints")}
    for method, path in set(raw) - undocumented:
        operation = openapi["paths"][path][method.lower()]
        assert operation.get("requestBody", {}).get("content"), (method, path)

"""The OpenAPI document declares the signed-request scheme where, and only where, it applies."""

from __future__ import annotations

from typing import Any, cast

import pytest

from api.app import create_app
from ledger.platform import Platform
from ledger.request_auth import HEADER_NONCE, HEADER_SIGNATURE, HEADER_SIGNER, HEADER_TIMESTAMP

#: the routes anyone may call unsigned: public reads, and the two whose body is their signature
PUBLIC = {
    ("get", "/chain"),
    ("get", "/signing"),
    ("get", "/healthz"),
    ("get", "/logs/{name}/checkpoint"),
    ("get", "/logs/{name}/tile/{level}/{path}"),
    ("post", "/releases"),
    ("post", "/evaluations"),
}


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    return create_app(cast(Platform, None)).openapi()  # building the document needs no platform


def _operations(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(m, p): op for p, ops in doc["paths"].items() for m, op in ops.items()}


def test_the_four_headers_are_declared_as_header_schemes(openapi: dict[str, Any]) -> None:
    schemes = openapi["components"]["securitySchemes"]
    declared = {s["name"] for s in schemes.values() if s["type"] == "apiKey" and s["in"] == "header"}
    assert declared == {HEADER_SIGNER, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE}


def test_every_signed_route_requires_all_four_and_no_public_route_any(openapi: dict[str, Any]) -> None:
    operations = _operations(openapi)
    assert operations.keys() >= PUBLIC
    all_four = [{name: [] for name in openapi["components"]["securitySchemes"]}]
    for key, operation in operations.items():
        if key in PUBLIC:
            assert "security" not in operation, key
        else:
            assert operation.get("security") == all_four, key
            assert {"401", "403", "409"} <= operation["responses"].keys(), key
    assert operations["get", "/records/by-log-index/{index}/proof"]["security"] == all_four


def test_the_description_shows_how_to_sign_and_where_the_rules_are(openapi: dict[str, Any]) -> None:
    description = openapi["info"]["description"]
    assert "GET /signing" in description and "Signing requests" in description
    assert "```python" in description and "LedgerClient(" in description
    assert "```js" in description and "signTypedData(" in description and "tests/js/client.mjs" in description
    for header in (HEADER_SIGNER, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE):
        assert header in description

"""The OpenAPI document describes every self-service endpoint, with examples and rule-named errors."""

from __future__ import annotations

from typing import Any, cast

import pytest

from api.app import create_app
from ledger.platform import Platform

PREFIXES = ("/consents", "/self/", "/objections", "/repairs", "/calendar", "/notices")


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return create_app(cast(Platform, None)).openapi()  # building the document needs no platform


def _resolve(doc: dict[str, Any], node: Any) -> Any:
    if isinstance(node, dict) and "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return doc["components"]["schemas"][name]
    return node


def _has_examples(doc: dict[str, Any], node: Any, seen: set[int] | None = None) -> bool:
    seen = set() if seen is None else seen
    node = _resolve(doc, node)
    if id(node) in seen:
        return False
    seen.add(id(node))
    if isinstance(node, dict):
        if "examples" in node or "example" in node:
            return True
        return any(_has_examples(doc, v, seen) for v in node.values())
    if isinstance(node, list):
        return any(_has_examples(doc, v, seen) for v in node)
    return False


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, ops in doc["paths"].items()
        if path.startswith(PREFIXES)
        for method, op in ops.items()
    ]


def test_every_endpoint_is_described_with_examples(doc: dict[str, Any]) -> None:
    operations = _operations(doc)
    assert len(operations) == 22  # GET /self/evaluation (issue 17) among them
    for method, path, op in operations:
        where = f"{method.upper()} {path}"
        assert op.get("summary"), where
        assert "401" in op["responses"], where
        body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        ok = next((r for s, r in op["responses"].items() if s.startswith("2")), {})
        response = ok.get("content", {}).get("application/json", {}).get("schema")
        params = op.get("parameters", [])
        assert _has_examples(doc, body) or _has_examples(doc, response) or _has_examples(doc, params), where
        if body is not None:
            assert _has_examples(doc, body), f"{where}: request body without an example"


def test_refusals_name_their_rule(doc: dict[str, Any]) -> None:
    repair = doc["paths"]["/repairs"]["post"]["responses"]
    conflicts = repair["409"]["content"]["application/json"]["examples"]
    assert {"minimum_period_not_passed", "already_repaired", "commitment_breached"} <= set(conflicts)
    assert conflicts["minimum_period_not_passed"]["value"]["error"] == "minimum_period_not_passed"
    assert "repair_not_dishonesty" in repair["422"]["content"]["application/json"]["examples"]
    decide = doc["paths"]["/objections/{objection_id}/decision"]["post"]["responses"]
    assert "not_the_decider" in decide["403"]["content"]["application/json"]["examples"]
    assert "record_superseded" in decide["409"]["content"]["application/json"]["examples"]
    filing = doc["paths"]["/objections"]["post"]["responses"]
    assert "not_the_subject" in filing["403"]["content"]["application/json"]["examples"]

"""The API against its own OpenAPI document, by schemathesis: unsigned and signed as each role.

Every operation of the document gets a bounded number of generated requests (positive and
negative data alike), sent to the ASGI application once unsigned (the generated, mostly
garbage, signature headers) and once signed by a member of each role through the signing
hook below, over the exact bytes that go on the wire. No answer may be a server error,
and none may contradict the document: status, content type, headers and body schema.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ledger.chain.membership import InstitutionKind, Role
from ledger.platform import Platform
from ledger.request_auth import sign_request
from tests.integration.conftest import Onboarding

#: generated requests per operation and role; CI keeps the default, a deeper run raises it
EXAMPLES = int(os.environ.get("LEDGER_SCHEMATHESIS_EXAMPLES", "3"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
ENTERPRISE_USCC = "91410100MA44TL7G2F"

schemathesis.serializer.alias("application/x-ndjson", "text/plain")  # a bulk body is one string


def _members(onboarding: Onboarding, dev_accounts: list[LocalAccount]) -> dict[str, LocalAccount | None]:
    provider, institution, enterprise, auditor = dev_accounts[4:8]
    onboarding.admit(provider, Role.PROVIDER, name="provider")
    onboarding.admit(institution, Role.INSTITUTION, InstitutionKind.BANK, name="institution")
    onboarding.admit(auditor, Role.AUDITOR, name="auditor")
    onboarding.enterprise(enterprise, ENTERPRISE_USCC)
    return {
        "unsigned": None,
        "operator": onboarding.operators[0],
        "provider": provider,
        "institution": institution,
        "enterprise": enterprise,
        "auditor": auditor,
    }


def _sender(api: TestClient, domain: dict[str, Any], account: LocalAccount | None) -> Callable[..., Any]:
    """Send a generated case as `account` (signed over the bytes httpx sends), or as generated."""

    def send(case: Any) -> Any:
        kwargs = case.as_transport_kwargs(base_url=str(api.base_url))
        body = kwargs.get("data", kwargs.get("content"))
        request = api.build_request(
            kwargs["method"],
            kwargs["url"],
            params=kwargs.get("params"),
            headers=kwargs.get("headers"),
            json=kwargs.get("json"),
            content=body.encode() if isinstance(body, str) else body,
        )
        if account is not None:
            wire = request.url.raw_path.decode("ascii")
            signed = sign_request(account.key, domain, request.method, wire, request.content)
            request.headers.update(signed)
        return api.send(request)

    return send


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)  # the stricter database, once
def test_every_operation_answers_as_documented_unsigned_and_signed_as_each_role(
    api: TestClient, platform: Platform, onboarding: Onboarding, dev_accounts: list[LocalAccount]
) -> None:
    platform.settings.edge_refusals_per_source = 1_000_000  # this test is one source refused on purpose
    platform.settings.edge_refusals_per_signer = 1_000_000
    members = _members(onboarding, dev_accounts)
    domain = api.get("/chain").json()["api_domain"]
    schema = schemathesis.openapi.from_dict(api.app.openapi())  # type: ignore[attr-defined]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 60
    failures: list[str] = []
    sent = 0
    for operation in operations:
        for role, account in members.items():
            try:
                sent += _exercise(operation, _sender(api, domain, account))
            except BaseException as exc:  # schemathesis raises groups; every operation and role is tried
                if isinstance(exc, KeyboardInterrupt):
                    raise
                failures.append(f"{operation.label} as {role}: {exc}"[:3000])
    assert not failures, f"{len(failures)} failure(s):\n\n" + "\n\n".join(failures)
    assert sent >= len(operations) * len(members)


def _exercise(operation: Any, send: Callable[..., Any]) -> int:
    """Generated cases of `operation` sent by `send`, each answer checked; how many were sent."""
    sent = 0

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        nonlocal sent
        response = send(case)
        sent += 1
        case.validate_response(response, checks=CHECKS)

    check()
    return sent

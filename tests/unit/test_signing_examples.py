"""The worked examples of the signing specification: the SDK's functions give the published values,
and the README quotes each of them (the JavaScript client recomputes them with ethers:
tests/integration/test_js_client.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ledger.signing_examples import EXPECTED, INPUTS, examples
from tests.unit.signing_examples_compute import compute

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


@pytest.mark.parametrize("example", INPUTS, ids=[e["name"] for e in INPUTS])
def test_the_sdks_functions_give_the_published_values(example: dict[str, Any]) -> None:
    assert compute(example) == EXPECTED[example["name"]]


def _hex_values(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [h for v in node.values() for h in _hex_values(v)]
    return [node] if isinstance(node, str) and node.startswith("0x") and len(node) >= 66 else []


@pytest.mark.parametrize("name", list(EXPECTED))
def test_the_readme_quotes_every_expected_value(name: str) -> None:
    for value in _hex_values(EXPECTED[name]):
        assert value in README, f"{name}: {value} is not in the README"


def test_the_served_examples_carry_their_inputs_and_expected_values() -> None:
    served = examples()
    assert [e["name"] for e in served] == [e["name"] for e in INPUTS]
    assert all(e["expected"] == EXPECTED[e["name"]] for e in served)


@pytest.mark.parametrize("name", ["api_request_with_body", "api_request_path_as_sent"])
def test_the_sdk_client_sends_the_published_headers(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """`LedgerClient` itself, its clock and randomness pinned to the example's, sends its headers."""
    import secrets
    import time

    import httpx
    from eth_account import Account

    from ledger.sdk import LedgerClient

    example = next(e for e in INPUTS if e["name"] == name)
    r = example["request"]
    monkeypatch.setattr(time, "time", lambda: float(r["timestamp"]))
    monkeypatch.setattr(secrets, "token_bytes", lambda n: bytes.fromhex(r["nonce"][2:]))
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    http = httpx.Client(base_url="http://ledger.test", transport=httpx.MockTransport(answer))
    client = LedgerClient("http://ledger.test", Account.from_key(example["key"]), http=http)
    client._chain = {"api_domain": example["domain"]}
    client.send_bytes(r["method"].upper(), r["path"], r["body"].encode(), "application/json")
    assert sent[0].url.raw_path.decode() == r["path"]
    for header, value in EXPECTED[name]["headers"].items():
        assert sent[0].headers[header] == value

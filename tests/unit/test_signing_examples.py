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

"""`GET /signing`: the signing specification as data, for a client in any language.

Every EIP-712 domain (the contracts' own from ERC-5267 `eip712Domain()`), every signed
type with its members in order, the endpoint that takes it and where each member's value
is in the request, the number and hash rules, and worked examples. Built by
`ledger.signing_spec` from the definitions the server verifies with, so it cannot drift.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter

from api.deps import PlatformDep
from ledger.chain.eip712 import domain_of
from ledger.platform import Platform
from ledger.signing_examples import examples
from ledger.signing_spec import document

router = APIRouter(tags=["signing"])


def contract_domains(platform: Platform) -> dict[str, dict[str, Any] | None]:
    """Each contract's EIP-712 domain as it reports it (None: it takes no signed acts)."""
    found: dict[str, dict[str, Any] | None] = {}
    for name, address in platform.deployment.addresses.by_name().items():
        contract = platform.chain.contract(name, address)
        signed_acts = any(entry.get("name") == "eip712Domain" for entry in contract.abi)
        found[name] = platform.chain.guard(partial(domain_of, contract)) if signed_acts else None
    return found


@router.get(
    "/signing",
    summary="The signing specification: every EIP-712 domain and type, and how a request carries it",
    description=(
        "Public. `domains`: every domain to sign under (the contracts' own, as their ERC-5267 "
        "`eip712Domain()` reports them, and the request domains `api`, `DataRequest`, "
        "`EvaluationRequest`). `signed`: each signed type with its members in order, the endpoint "
        "that takes it and, for each member, where its value is (body field, path parameter, "
        "header, the request) and how it is transformed. `numbers`, `headers`, `signature_form`, "
        "`response_hash`: the wire rules. `examples`: worked examples with the digests and "
        "signatures they must give. The README's section 'Signing requests' walks through it."
    ),
)
def signing(platform: PlatformDep) -> dict[str, Any]:
    domains = {name: d for name, d in contract_domains(platform).items() if d is not None}
    return document(
        platform.deployment.chain_id, platform.deployment.addresses.by_name(), domains, examples()
    )

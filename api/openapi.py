"""The OpenAPI document as the API really answers: its error body, its statuses, its signatures.

FastAPI's generated document knows the routes' own responses only. What the edge and the
error table add is written here, from the same sources the answers come from:

- every error answer has the project's body (`api.errors.ErrorBody`), 422 included
  (FastAPI's `HTTPValidationError` is never sent, so it is not documented);
- every operation may answer 413 (its body limit), 429 (throttled refusals) and 503 (the
  chain or the database is down, or a refusal cannot be recorded); 422 where it takes
  parameters, a body or signature headers; 404 where its path names something;
- an operation that depends on `api.deps.authenticated` declares the signed-request
  scheme (its four headers, all required) and may answer 401, 403 and 409 (a replayed
  nonce).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from api.deps import authenticated
from api.errors import ErrorBody
from ledger.request_auth import HEADER_NONCE, HEADER_SIGNATURE, HEADER_SIGNER, HEADER_TIMESTAMP

ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}

#: the document's description: what a newcomer needs before trying a signed route (Markdown,
#: as Swagger UI and ReDoc render it); the rules themselves live in GET /signing
DESCRIPTION = """\
Permissioned credit-data sharing. Numbers: every uint in a body is a decimal string, or a \
JSON integer up to 2**53-1.

## Signed requests

Every route marked with a lock needs the four headers of the `LedgerSignature` scheme \
(`X-Ledger-Signer`, `X-Ledger-Timestamp`, `X-Ledger-Nonce`, `X-Ledger-Signature`): an EIP-712 \
signature by the member's own key of `ApiRequest(string method,string path,bytes32 bodyHash,\
uint256 timestamp,bytes32 nonce)` over the exact path and body sent, fresh, with a nonce \
never used before. So a signature cannot be typed into "Authorize": sign with the SDK, the \
CLI or any EIP-712 library, as below. Unlocked routes are public (`/chain`, `/signing`, \
`/healthz`, the logs' checkpoints and tiles), or carry their signature in the body \
(`POST /releases`, `POST /evaluations`); acts that change the chain also carry the \
member's EIP-712 signature of the act.

**`GET /signing`** publishes every domain and type, where each signed value is found in the \
request, and worked examples with the digests they must give; the README's section \
*Signing requests* walks through them step by step.

Python (this repository's SDK, `ledger.sdk`; a keystore as `credit-ledger keys create` writes):

```python
from pathlib import Path
from ledger.keystore import load_keystore
from ledger.sdk import LedgerClient

member = load_keystore(Path("bank.json"), "its password")
client = LedgerClient("http://127.0.0.1:8000", member)
client.request("GET", "/members")      # signs the four X-Ledger-* headers, sends, checks
# the headers alone: ledger.request_auth.sign_request(key, domain, method, path, body)
```

JavaScript (ethers v6; `tests/js/client.mjs` is a whole client written this way):

```js
import { Wallet, ethers } from "ethers";
const api = "http://127.0.0.1:8000", wallet = new Wallet(privateKey);
const spec = await (await fetch(api + "/signing")).json();
const apiRequest = spec.signed.find((s) => s.primaryType === "ApiRequest");
const path = "/members", body = new Uint8Array();      // exactly what is sent
const timestamp = Math.floor(Date.now() / 1000);
const nonce = ethers.hexlify(ethers.randomBytes(32));
const signature = await wallet.signTypedData(spec.domains.api.domain, apiRequest.types,
  { method: "GET", path, bodyHash: ethers.keccak256(body), timestamp, nonce });
const answer = await fetch(api + path, { headers: {
  "X-Ledger-Signer": wallet.address, "X-Ledger-Timestamp": String(timestamp),
  "X-Ledger-Nonce": nonce, "X-Ledger-Signature": signature } });
```
"""

#: the signed-request scheme: four headers, every one required together
SIGNATURE_SCHEMES: dict[str, dict[str, str]] = {
    "LedgerSigner": {
        "header": HEADER_SIGNER,
        "what": "the member's address, 0x + 40 hex digits (checksummed or lower case)",
    },
    "LedgerTimestamp": {
        "header": HEADER_TIMESTAMP,
        "what": "unix seconds in decimal digits (e.g. 1767225600); stale beyond the allowed age",
    },
    "LedgerNonce": {
        "header": HEADER_NONCE,
        "what": "0x + 64 hex digits: 32 random bytes, never reused (a reuse is refused 409)",
    },
    "LedgerSignature": {
        "header": HEADER_SIGNATURE,
        "what": (
            "0x + 130 hex digits: the 65-byte EIP-712 signature r ‖ s ‖ v (v 27 or 28, low s) of "
            "ApiRequest(string method,string path,bytes32 bodyHash,uint256 timestamp,bytes32 nonce) "
            "under the `api` domain of GET /signing (name 'credit-ledger API', version '1', the "
            "chain id, the Membership contract). method: upper case. path: the path exactly as sent "
            "(percent-encoding included, not decoded), then '?' and the raw query when there is one. "
            "bodyHash: keccak-256 of the exact body bytes (keccak-256 of no bytes when there is no "
            "body), not SHA-256. Every type, domain and rule, with worked examples: GET /signing; "
            "step by step: the README, section 'Signing requests'. A signature that recovers to "
            "another address is refused 401 naming the type and domain it was verified under."
        ),
    },
}

_ALWAYS = {
    413: "the body is over this route's limit (or, before the signer is known, the unauthenticated cap)",
    429: "too many refused requests from this source or claimed signer: retry after Retry-After",
    503: "the chain or the database cannot answer, or the refusal could not be recorded: nothing done",
}
_SIGNED = {
    401: "unsigned, stale or forged request signature (v 27/28 and low s only)",
    403: "the signer is not an active member, or its role may not do this",
    409: "the request's nonce was used before (replay), or the act contradicts the current state",
}
_INPUT = "a path, query, header or body value is malformed or out of range: each problem named"
_PATH = "nothing by that name or number (or not the caller's: the same answer)"


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def document(app: FastAPI) -> dict[str, Any]:
    doc: dict[str, Any] = _integral(
        get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    )
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    error_schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(error_schema.pop("$defs", {}))
    schemas["ErrorBody"] = error_schema
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    components["securitySchemes"] = {
        name: {"type": "apiKey", "in": "header", "name": s["header"], "description": s["what"]}
        for name, s in SIGNATURE_SCHEMES.items()
    }
    for context in iter_route_contexts(app.routes):
        route = context.route
        if not isinstance(route, APIRoute) or not context.include_in_schema:
            continue
        signed = _signed(route.dependant)
        path = str(context.path_format)
        for method in context.methods or ():
            operation = doc["paths"].get(path, {}).get(method.lower())
            if operation is not None:
                _complete(operation, path, signed)
    return doc


def _integral(node: Any) -> Any:
    """`node` with every whole float that is exact as a float turned back into an integer.

    FastAPI's OpenAPI models type bounds (`minimum`, `maximum` …) as floats, so an integer
    bound leaves as `9007199254740991.0`; a client comparing an integer with it, or a
    schema validator demanding an integer, is misled. No bound here is beyond 2**53."""
    if isinstance(node, dict):
        return {key: _integral(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_integral(value) for value in node]
    if isinstance(node, float) and node.is_integer() and abs(node) <= 2**53:
        return int(node)
    return node


def _signed(dependant: Dependant) -> bool:
    return any(d.call is authenticated for d in _walk(dependant))


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _walk(sub)


def _complete(operation: dict[str, Any], path: str, signed: bool) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    statuses: dict[int, str] = dict(_ALWAYS)
    if signed:
        statuses.update(_SIGNED)
        operation["security"] = [{name: [] for name in SIGNATURE_SCHEMES}]
    if signed or operation.get("parameters") or operation.get("requestBody"):
        statuses[422] = _INPUT
    if "{" in path:
        statuses[404] = _PATH
    for status, description in statuses.items():
        responses.setdefault(str(status), {"description": description})
    if responses["422" if "422" in responses else "413"].get("description") == "Validation Error":
        responses["422"]["description"] = _INPUT
    for code, response in responses.items():
        if code[0] in "45":
            response.setdefault("content", {}).setdefault("application/json", {})["schema"] = ERROR_REF
    responses["429"].setdefault("headers", {})["Retry-After"] = {
        "description": "seconds until the throttling window ends",
        "schema": {"type": "integer"},
    }

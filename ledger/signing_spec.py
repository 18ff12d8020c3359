"""The signing specification as data: every signed thing, its EIP-712 domain, types and wire form.

Served by the API at `GET /signing` so that a client in any language can sign without
reading this code. Everything here is generated from the definitions the server
verifies with and the SDK signs with: the message dataclasses (`TypedMessage.types()`),
the request type of `ledger.request_auth`, the act table `ledger.chain.act_specs.ACTS`
and the domain builders. Only the wire mapping of the hand-written membership and
catalogue routes is written out (`_OVERRIDES`), and a test holds it equal to their
request bodies. A client reads a signed thing's `fields` in order: each names the
EIP-712 member, its type, and where its value comes from (a body field, a path
parameter, a header, the request itself), with the transformation applied.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import IntEnum
from typing import Any

from ledger.chain.act_specs import ACTS
from ledger.chain.catalogue_registry import PublishCatalogueMessage
from ledger.chain.eip712 import EIP712_DOMAIN_TYPE, TypedMessage, camel
from ledger.chain.membership import (
    Action,
    ApproveMessage,
    InstitutionKind,
    ProposeMessage,
    RegisterEnterpriseMessage,
    ReinstateEnterpriseMessage,
    Role,
    RotateKeyMessage,
    SuspendEnterpriseMessage,
)
from ledger.chain.publications import PublicationKind, PublishMessage
from ledger.evaluation_release.request import EvaluationRequestMessage, evaluation_domain
from ledger.release.request import DataRequestMessage, request_domain
from ledger.request_auth import (
    API_REQUEST_TYPES,
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_SIGNER,
    HEADER_TIMESTAMP,
    api_domain,
)

SPEC_VERSION = 1
MAX_SAFE_INTEGER = 2**53 - 1

#: how a value on the wire becomes the signed member's value
TRANSFORMS = {
    "as_is": "the value itself (uint: a decimal string or a JSON integer, parsed to an integer)",
    "keccak256_utf8": "keccak-256 of the UTF-8 bytes of the string (e.g. usccHash of a 统一社会信用代码)",
    "keccak256_bytes": (
        "keccak-256 of the exact bytes (the request body as sent; empty body: keccak-256 of no bytes)"
    ),
    "enum": "the integer of the lower-case name in `enum` (a uint8)",
    "upper": "the string in upper case (the HTTP method: GET, POST …)",
    "decimal": "the header's decimal digits as an integer (unix seconds)",
    "publication_document_id": (
        "keccak-256 of the UTF-8 bytes of '<kind>:<key>', kind one of white_list, loan_product, "
        "kpi_snapshot (ledger.chain.publications.document_id)"
    ),
    "constant": "the `value` the endpoint fixes (with `enum`: that name's integer); nothing on the wire",
    "unix_seconds": "the ISO 8601 instant (with its offset) as integer unix seconds",
    "unix_seconds_or_zero": "the ISO 8601 instant as integer unix seconds; absent or null: 0 (open-ended)",
    "raw_path_and_query": (
        "the path exactly as sent on the request line, percent-encoding included (not decoded), "
        "then, when there is a query, '?' and the raw query string as sent"
    ),
}


@dataclass(frozen=True)
class Source:
    """Where a signed member's value is on the wire: `where` is body, path, header or request;
    or `constant`, a value the endpoint fixes (`field` then holds that value)."""

    where: str
    field: str
    transform: str = "as_is"
    enum: type[IntEnum] | None = None

    def describe(self) -> dict[str, Any]:
        if self.where == "constant":
            described: dict[str, Any] = {"from": "constant", "value": self.field, "transform": "constant"}
        else:
            described = {"from": self.where, "field": self.field, "transform": self.transform}
        if self.enum is not None:
            described["enum"] = {m.name.lower(): int(m) for m in self.enum}
        return described


@dataclass(frozen=True)
class SignedThing:
    """One kind of signed message: its type, its domain, where it is sent and how it is carried."""

    primary_type: str
    types: dict[str, list[dict[str, str]]]
    domain: str  # a key of the document's `domains`
    method: str
    path: str  # "*": every signed route
    sources: dict[str, Source]  # EIP-712 member name -> its wire source
    carried: str  # "headers" or "body"
    nonce: str
    note: str = ""
    nonce_contract: str | None = None  # sequential nonce on this contract; None: 32 random bytes

    def describe(self) -> dict[str, Any]:
        members = self.types[self.primary_type]
        return {
            "primaryType": self.primary_type,
            "domain": self.domain,
            "types": self.types,
            "type_string": f"{self.primary_type}({','.join(m['type'] + ' ' + m['name'] for m in members)})",
            "endpoint": {"method": self.method, "path": self.path},
            "carried_in": self.carried,
            "signature": (
                {"from": "header", "field": HEADER_SIGNATURE, "signer_field": HEADER_SIGNER}
                if self.carried == "headers"
                else {"from": "body", "field": "signature"}
            ),
            "nonce": self.nonce,
            "nonce_from": _nonce_from(self.nonce_contract),
            "fields": [
                {"name": m["name"], "type": m["type"], **self.sources[m["name"]].describe()} for m in members
            ],
            **({"note": self.note} if self.note else {}),
        }


def _nonce_from(contract: str | None) -> dict[str, Any]:
    """Where a client gets the nonce, machine-readable."""
    if contract is None:
        return {"random_bytes": 32}
    if contract == "CatalogueRegistry":
        return {"method": "GET", "path": "/catalogue/signing/{address}", "field": "nonce"}
    return {"method": "GET", "path": "/members/{address}", "field": f"nonces.{contract}"}


def _body_sources(message: type[TypedMessage], **overrides: Source) -> dict[str, Source]:
    """Each member from the body field of the same name in snake_case, unless overridden."""
    return {camel(f.name): overrides.get(camel(f.name), Source("body", f.name)) for f in fields(message)}


def _contract_nonce(contract: str) -> str:
    return (
        f"the signer's next nonce on {contract} (sequential, OpenZeppelin Nonces): "
        f"GET /members/{{address}} -> nonces.{contract}"
    )


_RANDOM_NONCE = "32 random bytes, never reused (0x + 64 hex digits)"


def _message_thing(
    message: type[TypedMessage],
    domain: str,
    method: str,
    path: str,
    nonce: str,
    note: str = "",
    **sources: Source,
) -> SignedThing:
    return SignedThing(
        message.PRIMARY_TYPE,
        message.types(),
        domain,
        method,
        path,
        _body_sources(message, **sources),
        "body",
        nonce,
        note,
        None if nonce == _RANDOM_NONCE else domain,
    )


def _api_request() -> SignedThing:
    return SignedThing(
        "ApiRequest",
        API_REQUEST_TYPES,
        "api",
        "*",
        "*",
        {
            "method": Source("request", "method", "upper"),
            "path": Source("request", "path", "raw_path_and_query"),
            "bodyHash": Source("request", "body", "keccak256_bytes"),
            "timestamp": Source("header", HEADER_TIMESTAMP, "decimal"),
            "nonce": Source("header", HEADER_NONCE),
        },
        "headers",
        f"header {HEADER_NONCE}: {_RANDOM_NONCE}; refused (409) when seen before",
        "every operation whose OpenAPI `security` names the Ledger* schemes; "
        f"{HEADER_SIGNER} names the signer (an address)",
    )


_USCC_FROM_PATH = Source("path", "uscc", "keccak256_utf8")

#: the membership and catalogue routes: hand-written bodies, so their mapping is written here
_OVERRIDES: tuple[SignedThing, ...] = (
    _message_thing(
        ProposeMessage,
        "Membership",
        "POST",
        "/governance/proposals",
        _contract_nonce("Membership"),
        action=Source("body", "action", "enum", Action),
        role=Source("body", "role", "enum", Role),
        kind=Source("body", "kind", "enum", InstitutionKind),
    ),
    _message_thing(
        ApproveMessage,
        "Membership",
        "POST",
        "/governance/proposals/{proposal_id}/approvals",
        _contract_nonce("Membership"),
        id=Source("path", "proposal_id"),
    ),
    _message_thing(
        RegisterEnterpriseMessage,
        "Membership",
        "POST",
        "/enterprises",
        _contract_nonce("Membership"),
        usccHash=Source("body", "uscc", "keccak256_utf8"),
        nameHash=Source("body", "name", "keccak256_utf8"),
    ),
    _message_thing(
        SuspendEnterpriseMessage,
        "Membership",
        "POST",
        "/enterprises/{uscc}/suspension",
        _contract_nonce("Membership"),
        usccHash=_USCC_FROM_PATH,
    ),
    _message_thing(
        ReinstateEnterpriseMessage,
        "Membership",
        "POST",
        "/enterprises/{uscc}/reinstatement",
        _contract_nonce("Membership"),
        usccHash=_USCC_FROM_PATH,
    ),
    _message_thing(
        RotateKeyMessage,
        "Membership",
        "POST",
        "/enterprises/{uscc}/key-rotation",
        _contract_nonce("Membership"),
        usccHash=_USCC_FROM_PATH,
    ),
    _message_thing(
        PublishCatalogueMessage,
        "CatalogueRegistry",
        "POST",
        "/catalogue/versions",
        "the signer's next nonce on CatalogueRegistry: GET /catalogue/signing/{address} -> nonce",
        "contentHash is SHA-256 of the RFC 8785 JSON of the catalogue document",
        version=Source("body", "catalogue.version"),
    ),
)


def _publish(path: str, kind: Source, what: str) -> SignedThing:
    """`Publish` of a financing document at `path`: the act's fields are the document's own."""
    return _message_thing(
        PublishMessage,
        "Publications",
        "POST",
        path,
        _contract_nonce("Publications"),
        f"contentHash is SHA-256 of the RFC 8785 JSON of the {what}; the publisher is the request's signer",
        kind=kind,
        documentId=Source("body", "document.key", "publication_document_id"),
        version=Source("body", "document.version"),
        validFrom=Source("body", "document.valid_from", "unix_seconds"),
        validUntil=Source("body", "document.valid_until", "unix_seconds_or_zero"),
        publisher=Source("header", HEADER_SIGNER),
    )


#: the financing documents' publications (issue 18): white lists and loan products (district
#: operators and institutions), and the operators' monthly KPI snapshots (kind fixed by the route)
_PUBLICATIONS: tuple[SignedThing, ...] = (
    _publish(
        "/financing/publications",
        Source("body", "kind", "enum", PublicationKind),
        "document (after the platform's own normalisation, e.g. a white list's codes upper-cased and sorted)",
    ),
    _publish(
        "/kpis/snapshots",
        Source("constant", "kpi_snapshot", enum=PublicationKind),
        "KpiSnapshotDocument (key: the month; body: the export of GET /kpis/export)",
    ),
)


def signed_things() -> list[SignedThing]:
    """Every signed thing the API takes, in a stable order."""
    things = [
        _api_request(),
        _message_thing(
            DataRequestMessage,
            "DataRequest",
            "POST",
            "/releases",
            _RANDOM_NONCE,
            "the signed body is its own authentication: no request headers",
        ),
        _message_thing(
            EvaluationRequestMessage,
            "EvaluationRequest",
            "POST",
            "/evaluations",
            _RANDOM_NONCE,
            "the signed body is its own authentication: no request headers",
        ),
    ]
    things.extend(
        _message_thing(
            spec.message,
            spec.contract,
            "POST",
            f"/acts/{spec.name}",
            _contract_nonce(spec.contract),
            f"relays {spec.contract}.{spec.function}; the request headers must be signed by the "
            f"member named in `{spec.actor_field}`",
        )
        for spec in ACTS.values()
    )
    things.extend(_OVERRIDES)
    things.extend(_PUBLICATIONS)
    return things


def domains(
    chain_id: int, addresses: dict[str, str], contract_domains: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Every domain a client signs under, keyed as the signed things name them, with its source.

    `contract_domains` are the contracts' own answers to ERC-5267 `eip712Domain()`.
    """
    found: dict[str, dict[str, Any]] = {
        "api": {
            "domain": api_domain(chain_id, addresses["Membership"]),
            "erc5267": False,
            "source": "the platform's request domain, bound to the chain and the Membership contract",
        },
        "DataRequest": {
            "domain": request_domain(chain_id, addresses["Consents"]),
            "erc5267": False,
            "source": (
                "the data-request domain, bound to the chain and the Consents contract "
                "(whose authorize decides)"
            ),
        },
        "EvaluationRequest": {
            "domain": evaluation_domain(chain_id, addresses["ModelRegistry"]),
            "erc5267": False,
            "source": "the evaluation-request domain, bound to the chain and the ModelRegistry contract",
        },
    }
    for name, domain in sorted(contract_domains.items()):
        found[name] = {
            "domain": domain,
            "erc5267": True,
            "source": f"eip712Domain() (ERC-5267) of the {name} contract at {domain['verifyingContract']}",
        }
    return found


def document(
    chain_id: int,
    addresses: dict[str, str],
    contract_domains: dict[str, dict[str, Any]],
    examples: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The whole specification, as `GET /signing` serves it."""
    return {
        "spec_version": SPEC_VERSION,
        "chain_id": chain_id,
        "EIP712Domain": EIP712_DOMAIN_TYPE,
        "domains": domains(chain_id, addresses, contract_domains),
        "signed": [thing.describe() for thing in signed_things()],
        "transforms": TRANSFORMS,
        "headers": {
            HEADER_SIGNER: "the signer's address, 0x + 40 hex digits (checksummed or lower case)",
            HEADER_TIMESTAMP: "unix seconds, decimal digits; refused when too far from the server's clock",
            HEADER_NONCE: "0x + 64 hex digits: 32 random bytes, never reused",
            HEADER_SIGNATURE: "0x + 130 hex digits: the 65-byte signature r ‖ s ‖ v",
        },
        "signature_form": (
            "65 bytes r ‖ s ‖ v, hex with 0x; v is 27 or 28 (0/1 refused), s at most n/2 (low s, EIP-2); "
            "EIP-712 digest keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(message))"
        ),
        "numbers": {
            "rule": (
                "every uint in a request body travels as a decimal string (digits only); a JSON integer "
                "is accepted too up to 2**53-1. A larger JSON integer, a float, a sign, an exponent or "
                "hex is refused: 422 invalid_input naming the field. bytes32 and addresses are 0x hex; "
                "bool is a JSON boolean; strings are as signed (EIP-712 hashes a string's UTF-8 bytes)"
            ),
            "max_safe_integer": MAX_SAFE_INTEGER,
            "decimal_pattern": "^[0-9]{1,78}$",
        },
        "casing": "a body field is the snake_case of its camelCase EIP-712 member (usccHash: uscc_hash) "
        "unless `fields` names another source",
        "response_hash": {
            "what": "receipt.response_hash of POST /releases and POST /evaluations",
            "algorithm": "SHA-256 over the RFC 8785 (JCS) canonical JSON of `data`",
            "bytes": (
                'the response body is exactly {"data":D,"receipt":R} where D are those canonical bytes: '
                'hash the bytes after the 8-byte prefix {"data": up to the last ,"receipt":'
            ),
        },
        "refusals": (
            "a signature that recovers to another address is refused 401 unauthenticated (acts: 403 "
            "contract_error InvalidSigner), naming the primaryType and the domain it was verified under"
        ),
        "examples": examples or [],
    }

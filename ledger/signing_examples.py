# ruff: noqa: E501  (hex digests and signatures are kept whole)
"""The worked examples of the signing specification: fixed inputs and the outputs they must give.

Quoted in the README ("Signing requests"), served in `GET /signing` -> `examples`, and
checked two ways: `tests/unit/test_signing_examples.py` recomputes every expected value
with the functions the SDK signs with, and the JavaScript client (`tests/js/client.mjs`)
recomputes them with ethers v6 from the published types. The key is anvil's public test
account 0 (DEVNET ONLY); the domains name chain 31337 and the addresses the devnet's
first deployments get, fixed here so that the examples never change.
"""

from __future__ import annotations

from typing import Any

#: anvil's public test account 0 (0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266): DEVNET ONLY
EXAMPLE_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
EXAMPLE_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
EXAMPLE_INSTITUTION = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
EXAMPLE_CHAIN_ID = 31337
EXAMPLE_MEMBERSHIP = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
EXAMPLE_CONSENTS = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
EXAMPLE_USCC = "91350200776049653A"


def _domain(name: str, contract: str) -> dict[str, Any]:
    return {"name": name, "version": "1", "chainId": EXAMPLE_CHAIN_ID, "verifyingContract": contract}


#: the inputs; `expected` of each is filled from EXPECTED
INPUTS: list[dict[str, Any]] = [
    {
        "name": "api_request_with_body",
        "what": "POST /objections with a JSON body, signed by its member: the four headers",
        "primaryType": "ApiRequest",
        "domain": _domain("credit-ledger API", EXAMPLE_MEMBERSHIP),
        "key": EXAMPLE_KEY,
        "request": {
            "method": "post",
            "path": "/objections",
            "body": '{"record_id":"r-1","reasons":"金额有误","evidence":[]}',
            "timestamp": 1767225600,
            "nonce": "0x" + "11" * 32,
        },
    },
    {
        "name": "api_request_path_as_sent",
        "what": "GET with a percent-encoded query and no body: the path is signed as sent, bodyHash of no bytes",
        "primaryType": "ApiRequest",
        "domain": _domain("credit-ledger API", EXAMPLE_MEMBERSHIP),
        "key": EXAMPLE_KEY,
        "request": {
            "method": "GET",
            "path": "/records/by-source-ref?ref=%E7%A8%8E%2F2026-01",
            "body": "",
            "timestamp": 1767225600,
            "nonce": "0x" + "22" * 32,
        },
    },
    {
        "name": "data_request",
        "what": "POST /releases: the signed body (categories above 2**53 as a decimal string)",
        "primaryType": "DataRequest",
        "domain": _domain("credit-ledger DataRequest", EXAMPLE_CONSENTS),
        "key": EXAMPLE_KEY,
        "body": {
            "institution": EXAMPLE_ADDRESS,
            "subject": EXAMPLE_USCC,
            "categories": str(2**70 + 4),
            "purpose": "1",
            "agreement_id": 1,
            "raw": False,
            "nonce": "0x" + "33" * 32,
            "deadline": 1767225720,
        },
    },
    {
        "name": "grant",
        "what": "POST /acts/Grant: an enterprise's consent; usccHash is keccak-256 of the code's UTF-8",
        "primaryType": "Grant",
        "domain": _domain("credit-ledger Consents", EXAMPLE_CONSENTS),
        "key": EXAMPLE_KEY,
        "uscc": EXAMPLE_USCC,
        "body": {
            "institution": EXAMPLE_INSTITUTION,
            "agreement_id": "0",
            "categories": str(2**70 + 4),
            "purposes": "1",
            "raw_categories": "0",
            "expires_at": "1769904000",
            "enterprise": EXAMPLE_ADDRESS,
            "nonce": "0",
            "deadline": "1767229200",
        },
    },
    {
        "name": "response_hash",
        "what": "receipt.response_hash: SHA-256 of the RFC 8785 canonical JSON of `data`",
        "primaryType": "ResponseHash",
        "data": {
            "subject": EXAMPLE_USCC,
            "records": [
                {"category": "tax", "fields": {"tax_officer_name": "张*", "amount": 1234.5, "year": 2026}}
            ],
        },
    },
]

#: what the inputs give (recomputed by the tests with the SDK's functions and with ethers)
EXPECTED: dict[str, dict[str, Any]] = {
    "api_request_with_body": {
        "bodyHash": "0x17c3e863590695737884d7ceeb5d5b25907c6045c4b5cbec8767b6927354ec00",
        "digest": "0x2f3c1bd15c4e0044185dd1a67f53d286eb529243bff3d1ab6f57d3bbb3614fd4",
        "headers": {
            "X-Ledger-Signer": "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
            "X-Ledger-Timestamp": "1767225600",
            "X-Ledger-Nonce": "0x1111111111111111111111111111111111111111111111111111111111111111",
            "X-Ledger-Signature": "0x9dbcdbf0e365f0c0db94cdc5b535fe7006bedfe19895987bdeae245bc1ac44cf7a2e49f8d708209aff0e160d92f71f350f9d9c59753eda556bb7243d8be458651c",
        },
    },
    "api_request_path_as_sent": {
        "bodyHash": "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470",
        "digest": "0x552fc4db94713acbb6f6ba109645670329d6600e6d2afab197d8cfe8571741e8",
        "headers": {
            "X-Ledger-Signer": "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
            "X-Ledger-Timestamp": "1767225600",
            "X-Ledger-Nonce": "0x2222222222222222222222222222222222222222222222222222222222222222",
            "X-Ledger-Signature": "0x84588722d35614465799eb769f12974954492bd598e48c52ac516010361d0b5f62ee4c3d8463bd41726c8451cc1034bd57849d00941679e054cd6b4dd7e1c88e1b",
        },
    },
    "data_request": {
        "digest": "0x4df1f4e10a06f672dafffbaafda6458f2d99aaa3846f23bd5e874b97240a8700",
        "signature": "0xf61f04247ad15ea724cef3b06118438d23e3b306ffe1d03c7766bf1398aa711c7ca124c523bf6b5a95824689c19fb5802d424ac15a6bf342b2a4a9cb65e93cac1b",
        "body": {
            "institution": "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
            "subject": "91350200776049653A",
            "categories": "1180591620717411303428",
            "purpose": "1",
            "agreement_id": 1,
            "raw": False,
            "nonce": "0x3333333333333333333333333333333333333333333333333333333333333333",
            "deadline": 1767225720,
            "signature": "0xf61f04247ad15ea724cef3b06118438d23e3b306ffe1d03c7766bf1398aa711c7ca124c523bf6b5a95824689c19fb5802d424ac15a6bf342b2a4a9cb65e93cac1b",
        },
    },
    "grant": {
        "usccHash": "0xa06aa0a9bb4d29af7ead387018c53649669ef3ce8181750a798179bbc041d12c",
        "digest": "0x7f057dd19ea1ce9543764ae26add6ec3782865e7eeddec87133c52794031ac29",
        "signature": "0x0f06945acdff47da1169b4a0c603c537eb38b289dd697b94cacd09f08115057d3b9acbe9ab10685ac7ff0ac4962677759436d2ab5d96854642fb082167ece6cb1c",
        "body": {
            "uscc_hash": "0xa06aa0a9bb4d29af7ead387018c53649669ef3ce8181750a798179bbc041d12c",
            "institution": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
            "agreement_id": "0",
            "categories": "1180591620717411303428",
            "purposes": "1",
            "raw_categories": "0",
            "expires_at": "1769904000",
            "enterprise": "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
            "nonce": "0",
            "deadline": "1767229200",
            "signature": "0x0f06945acdff47da1169b4a0c603c537eb38b289dd697b94cacd09f08115057d3b9acbe9ab10685ac7ff0ac4962677759436d2ab5d96854642fb082167ece6cb1c",
        },
    },
    "response_hash": {
        "canonical": '{"records":[{"category":"tax","fields":{"amount":1234.5,"tax_officer_name":"张*","year":2026}}],"subject":"91350200776049653A"}',
        "response_hash": "0x5b9bfb010e818a38ec78e80cb2e2140e4aa2212283922a17775aa354386ed195",
    },
}


def examples() -> list[dict[str, Any]]:
    """Every worked example with its expected outputs, as `GET /signing` serves them."""
    return [{**example, "expected": EXPECTED[example["name"]]} for example in INPUTS]

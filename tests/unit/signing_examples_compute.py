"""Recomputes the signing specification's worked examples with the functions the SDK signs with."""

from __future__ import annotations

import hashlib
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from ledger.chain.consents import GrantMessage
from ledger.chain.eip712 import sign, typed_message
from ledger.chain.membership import uscc_hash
from ledger.logs.canonical_json import canonical_json
from ledger.release.request import DataRequestMessage, request_from_json, request_to_json
from ledger.request_auth import API_REQUEST_TYPES, sign_request
from ledger.sdk import act_body


def digest(domain: dict[str, Any], types: dict[str, Any], primary: str, message: dict[str, Any]) -> str:
    signable = encode_typed_data(full_message=typed_message(domain, types, primary, message))
    return "0x" + keccak(b"\x19" + signable.version + signable.header + signable.body).hex()


def api_request(example: dict[str, Any]) -> dict[str, Any]:
    r = example["request"]
    body = r["body"].encode()
    nonce = bytes.fromhex(r["nonce"][2:])
    headers = sign_request(
        example["key"], example["domain"], r["method"], r["path"], body, timestamp=r["timestamp"], nonce=nonce
    )
    message = {
        "method": r["method"].upper(), "path": r["path"], "bodyHash": keccak(body),
        "timestamp": r["timestamp"], "nonce": nonce,
    }  # fmt: skip
    return {
        "bodyHash": "0x" + keccak(body).hex(),
        "digest": digest(example["domain"], API_REQUEST_TYPES, "ApiRequest", message),
        "headers": headers,
    }


def data_request(example: dict[str, Any]) -> dict[str, Any]:
    account = Account.from_key(example["key"])
    unsigned = request_from_json({**example["body"], "signature": "0x" + "00" * 65}).message
    assert isinstance(unsigned, DataRequestMessage)
    signed = sign(account, example["domain"], unsigned)
    return {
        "digest": digest(example["domain"], unsigned.types(), "DataRequest", unsigned.message()),
        "signature": "0x" + signed.signature.hex(),
        "body": request_to_json(signed),
    }


def grant(example: dict[str, Any]) -> dict[str, Any]:
    account = Account.from_key(example["key"])
    b = example["body"]
    message = GrantMessage(
        uscc_hash(example["uscc"]), b["institution"], int(b["agreement_id"]), int(b["categories"]),
        int(b["purposes"]), int(b["raw_categories"]), int(b["expires_at"]), b["enterprise"], int(b["nonce"]),
        int(b["deadline"]),
    )  # fmt: skip
    signed = sign(account, example["domain"], message)
    return {
        "usccHash": "0x" + uscc_hash(example["uscc"]).hex(),
        "digest": digest(example["domain"], message.types(), "Grant", message.message()),
        "signature": "0x" + signed.signature.hex(),
        "body": act_body(signed),
    }


def response(example: dict[str, Any]) -> dict[str, Any]:
    canonical = canonical_json(example["data"])
    return {"canonical": canonical.decode(), "response_hash": "0x" + hashlib.sha256(canonical).hexdigest()}


COMPUTE = {"ApiRequest": api_request, "DataRequest": data_request, "Grant": grant, "ResponseHash": response}


def compute(example: dict[str, Any]) -> dict[str, Any]:
    return COMPUTE[example["primaryType"]](example)

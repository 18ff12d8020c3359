"""Client SDK: talks to the API as one member, signing every request and every act.

The member's key never leaves the caller's process: requests are authenticated with an
EIP-712 request signature, and each act (proposal, approval, registration …) is
signed locally under the contract's domain, which the API publishes at `GET /chain`.
"""

from __future__ import annotations

import json
import time
from dataclasses import fields
from typing import Any

import httpx
from eth_account.signers.local import LocalAccount

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
    _Message,
    name_hash,
    sign,
    uscc_hash,
)
from ledger.errors import LedgerError
from ledger.release.request import request_domain, request_to_json, sign_data_request
from ledger.request_auth import sign_request
from ledger.services.acts import ACTS

DEFAULT_VALIDITY_SECONDS = 3600


class ApiError(LedgerError):
    """The API answered with an error status."""

    code = "api_error"

    def __init__(self, status: int, body: Any) -> None:
        detail = body.get("detail") if isinstance(body, dict) else body
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status
        self.body = body


class LedgerClient:
    """The API as seen by the member holding `account`."""

    def __init__(self, base_url: str, account: LocalAccount, *, http: httpx.Client | None = None) -> None:
        self.account = account
        self.http = http or httpx.Client(base_url=base_url, timeout=30.0)
        self._chain: dict[str, Any] | None = None

    # -- transport ----------------------------------------------------------------------

    def request(self, method: str, path: str, body: Any = None) -> Any:
        content = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        headers = sign_request(self.account.key, self.chain()["api_domain"], method, path, content)
        if body is not None:
            headers["Content-Type"] = "application/json"
        response = self.http.request(method, path, content=content, headers=headers)
        return _result(response)

    def chain(self) -> dict[str, Any]:
        """Chain id, contract addresses and EIP-712 domains (public, cached)."""
        if self._chain is None:
            self._chain = _result(self.http.get("/chain"))
        return self._chain

    def _domain(self, contract: str) -> dict[str, Any]:
        return dict(self.chain()["contracts"][contract]["eip712_domain"])

    def _nonce(self, contract: str) -> int:
        return int(self.request("GET", f"/members/{self.account.address}")["nonces"][contract])

    def act(self, message_type: type[_Message], **values: Any) -> dict[str, Any]:
        """Sign and relay one act on agreements, commitments, consents or the catalogue.

        `values` are the message's fields except the actor, nonce and deadline, which are
        filled in for this member (e.g. `act(GrantMessage, uscc_hash=..., institution=...)`).
        """
        spec = ACTS[message_type.PRIMARY_TYPE]
        build: Any = message_type  # each message dataclass has its own fields
        message = build(
            **values,
            **{spec.actor_field: self.account.address},
            nonce=self._nonce(spec.contract),
            deadline=self._deadline(),
        )
        signed = sign(self.account, self._domain(spec.contract), message)
        body: dict[str, Any] = {}
        for field in fields(message):
            value = getattr(message, field.name)
            body[field.name] = "0x" + value.hex() if isinstance(value, bytes) else value
        body["signature"] = "0x" + signed.signature.hex()
        result: dict[str, Any] = self.request("POST", f"/acts/{spec.name}", body)
        return result

    @staticmethod
    def _deadline() -> int:
        return int(time.time()) + DEFAULT_VALIDITY_SECONDS

    # -- membership ---------------------------------------------------------------------

    def members(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request("GET", "/members")
        return result

    def member(self, address: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", f"/members/{address}")
        return result

    def propose(
        self,
        action: Action,
        *,
        account: str = "0x" + "00" * 20,
        role: Role = Role.NONE,
        kind: InstitutionKind = InstitutionKind.NONE,
        name: str | None = None,
        new_quorum: int = 0,
    ) -> dict[str, Any]:
        message = ProposeMessage(
            action, account, role, kind, name_hash(name) if name else bytes(32), new_quorum,
            self.account.address, self._nonce("Membership"), self._deadline(),
        )  # fmt: skip
        signed = sign(self.account, self._domain("Membership"), message)
        body = {
            "action": action.name.lower(), "account": account, "role": role.name.lower(),
            "kind": kind.name.lower(), "name_hash": "0x" + message.name_hash.hex(), "new_quorum": new_quorum,
            "proposer": self.account.address, "nonce": message.nonce, "deadline": message.deadline,
            "signature": "0x" + signed.signature.hex(),
        }  # fmt: skip
        result: dict[str, Any] = self.request("POST", "/governance/proposals", body)
        return result

    def approve(self, proposal_id: int) -> dict[str, Any]:
        message = ApproveMessage(
            proposal_id, self.account.address, self._nonce("Membership"), self._deadline()
        )
        signed = sign(self.account, self._domain("Membership"), message)
        body = {
            "approver": self.account.address, "nonce": message.nonce, "deadline": message.deadline,
            "signature": "0x" + signed.signature.hex(),
        }  # fmt: skip
        result: dict[str, Any] = self.request("POST", f"/governance/proposals/{proposal_id}/approvals", body)
        return result

    def register_enterprise(self, account: str, uscc: str, name: str) -> dict[str, Any]:
        message = RegisterEnterpriseMessage(
            account, uscc_hash(uscc), name_hash(name), self.account.address,
            self._nonce("Membership"), self._deadline(),
        )  # fmt: skip
        signed = sign(self.account, self._domain("Membership"), message)
        body = {
            "account": account, "uscc": uscc, "name": name, "operator": self.account.address,
            "nonce": message.nonce, "deadline": message.deadline, "signature": "0x" + signed.signature.hex(),
        }  # fmt: skip
        result: dict[str, Any] = self.request("POST", "/enterprises", body)
        return result

    def set_enterprise_suspended(self, uscc: str, suspended: bool) -> dict[str, Any]:
        kind = SuspendEnterpriseMessage if suspended else ReinstateEnterpriseMessage
        message = kind(uscc_hash(uscc), self.account.address, self._nonce("Membership"), self._deadline())
        signed = sign(self.account, self._domain("Membership"), message)
        body = {
            "operator": self.account.address, "nonce": message.nonce, "deadline": message.deadline,
            "signature": "0x" + signed.signature.hex(),
        }  # fmt: skip
        path = f"/enterprises/{uscc}/" + ("suspension" if suspended else "reinstatement")
        result: dict[str, Any] = self.request("POST", path, body)
        return result

    def rotate_key(self, uscc: str, new_account: str) -> dict[str, Any]:
        message = RotateKeyMessage(uscc_hash(uscc), new_account, self._nonce("Membership"), self._deadline())
        signed = sign(self.account, self._domain("Membership"), message)
        body = {
            "new_account": new_account, "nonce": message.nonce, "deadline": message.deadline,
            "signature": "0x" + signed.signature.hex(),
        }  # fmt: skip
        result: dict[str, Any] = self.request("POST", f"/enterprises/{uscc}/key-rotation", body)
        return result

    # -- credit records, catalogue and logs (issue 4) ------------------------------------
    # Imports are local to this section so it stays self-contained in a shared file.

    def send_bytes(self, method: str, path: str, content: bytes, content_type: str) -> Any:
        """A signed request with a raw body (NDJSON bulk submissions)."""
        headers = sign_request(self.account.key, self.chain()["api_domain"], method, path, content)
        headers["Content-Type"] = content_type
        return _result(self.http.request(method, path, content=content, headers=headers))

    def submit_record(self, record: dict[str, Any]) -> dict[str, Any]:
        """Submit one record; returns its receipt (log index, leaf hash). Idempotent by source_ref."""
        result: dict[str, Any] = self.request("POST", "/records", record)
        return result

    def submit_records(self, records: Any, *, mode: str = "all_or_nothing") -> dict[str, Any]:
        """Submit records in bulk as NDJSON: an iterable of dicts, or NDJSON bytes as they are."""
        if isinstance(records, bytes | bytearray):
            content = bytes(records)
        else:
            content = b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records)
        result: dict[str, Any] = self.send_bytes(
            "POST", f"/records/bulk?mode={mode}", content, "application/x-ndjson"
        )
        return result

    def record_versions(self, record_id: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request("GET", f"/records/{record_id}")
        return result

    def records_by_source_ref(self, source_ref: str) -> list[dict[str, Any]]:
        from urllib.parse import quote

        path = f"/records/by-source-ref?ref={quote(source_ref, safe='')}"
        result: list[dict[str, Any]] = self.request("GET", path)
        return result

    def open_record(self, record_id: str, version: int) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", f"/records/{record_id}/versions/{version}")
        return result

    def record_proof(self, record_id: str, version: int, *, with_opening: bool = False) -> dict[str, Any]:
        """The proof bundle that `credit-ledger records verify-proof` checks against the chain."""
        query = "?with_opening=true" if with_opening else ""
        result: dict[str, Any] = self.request("GET", f"/records/{record_id}/versions/{version}/proof{query}")
        return result

    def catalogue(self, version: int | None = None) -> dict[str, Any]:
        path = "/catalogue" if version is None else f"/catalogue/versions/{version}"
        result: dict[str, Any] = self.request("GET", path)
        return result

    def publish_catalogue(self, document: dict[str, Any]) -> dict[str, Any]:
        """Sign and publish a catalogue version (operators): hash and public mask computed here."""
        from ledger.chain.catalogue_registry import PublishCatalogueMessage
        from ledger.domain.catalogue import Catalogue
        from ledger.records.catalogues import public_mask

        catalogue = Catalogue.model_validate(document)
        signing = self.request("GET", f"/catalogue/signing/{self.account.address}")
        message = PublishCatalogueMessage(
            catalogue.version, catalogue.content_hash(), public_mask(catalogue), self.account.address,
            int(signing["nonce"]), self._deadline(),
        )  # fmt: skip
        signed = sign(self.account, dict(signing["domain"]), message)
        body = {
            "catalogue": document, "content_hash": "0x" + message.content_hash.hex(),
            "public_categories": message.public_categories, "operator": self.account.address,
            "nonce": message.nonce, "deadline": message.deadline, "signature": "0x" + signed.signature.hex(),
        }  # fmt: skip
        result: dict[str, Any] = self.request("POST", "/catalogue/versions", body)
        return result

    def log_info(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", f"/logs/{name}")
        return result

    def log_consistency(self, name: str, first: int, second: int) -> dict[str, Any]:
        path = f"/logs/{name}/consistency?first={first}&second={second}"
        result: dict[str, Any] = self.request("GET", path)
        return result

    # -- release ----------------------------------------------------------------------------

    def release(
        self, subject: str, categories: int, purpose: int, agreement_id: int, *, raw: bool = False
    ) -> dict[str, Any]:
        """Sign a data request for this institution and ask for the release."""
        chain = self.chain()
        domain = request_domain(chain["chain_id"], chain["contracts"]["Consents"]["address"])
        signed = sign_data_request(
            self.account, domain, subject=subject, categories=categories, purpose=purpose,
            agreement_id=agreement_id, raw=raw,
        )  # fmt: skip
        return self.send_release(request_to_json(signed))

    def send_release(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST an already signed data request (its signature is its authentication)."""
        result: dict[str, Any] = _result(self.http.post("/releases", json=body))
        return result

    def accesses(
        self, subject: str | None = None, *, after: int = -1, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Access-trail entries this member may see (an enterprise names its own USCC)."""
        query = f"?after={after}&limit={limit}" + (f"&subject={subject}" if subject else "")
        result: list[dict[str, Any]] = self.request("GET", f"/accesses{query}")
        return result

    def release_proof(self, index: int) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", f"/releases/{index}/proof")
        return result


def _result(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        body = response.text
    if response.status_code >= 400:
        raise ApiError(response.status_code, body)
    return body

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

from ledger.chain.act_specs import ACTS
from ledger.chain.eip712 import Signed, TypedMessage, sign
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
    name_hash,
    uscc_hash,
)
from ledger.errors import LedgerError
from ledger.release.request import request_domain, request_to_json, sign_data_request
from ledger.request_auth import sign_request

DEFAULT_VALIDITY_SECONDS = 3600


class ApiError(LedgerError):
    """The API answered with an error status."""

    code = "api_error"

    def __init__(self, status: int, body: Any) -> None:
        detail = body.get("detail") if isinstance(body, dict) else body
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status
        self.body = body


class ApiUnreachable(LedgerError):
    """No answer from the API at all (refused connection, timeout, broken transfer)."""

    code = "api_unreachable"


#: longer than the server's worst case for an act (the receipt's 30 s and then finality's
#: 30 s, by default), so a slow act reaches the member as the server's clear 503, not as a
#: client timeout that says nothing of whether it took effect
HTTP_TIMEOUT_SECONDS = 90.0


class LedgerClient:
    """The API as seen by the member holding `account`."""

    def __init__(self, base_url: str, account: LocalAccount, *, http: httpx.Client | None = None) -> None:
        self.account = account
        self.http = http or httpx.Client(base_url=base_url, timeout=HTTP_TIMEOUT_SECONDS)
        self._chain: dict[str, Any] | None = None

    # -- transport ----------------------------------------------------------------------

    def request(self, method: str, path: str, body: Any = None) -> Any:
        content = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        headers = sign_request(self.account.key, self.chain()["api_domain"], method, _as_sent(path), content)
        if body is not None:
            headers["Content-Type"] = "application/json"
        return self._send(method, path, content=content, headers=headers)

    def _send(self, method: str, path: str, **kwargs: Any) -> Any:
        """One HTTP exchange; its answer, `ApiError` for an error status, `ApiUnreachable` for none."""
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise ApiUnreachable(f"no answer from the API at {self.http.base_url}: {exc}") from exc
        return _result(response)

    def chain(self) -> dict[str, Any]:
        """Chain id, contract addresses and EIP-712 domains (public, cached)."""
        if self._chain is None:
            self._chain = self._send("GET", "/chain")
        return self._chain

    def _domain(self, contract: str) -> dict[str, Any]:
        return dict(self.chain()["contracts"][contract]["eip712_domain"])

    def _nonce(self, contract: str) -> int:
        return int(self.request("GET", f"/members/{self.account.address}")["nonces"][contract])

    def act(self, message_type: type[TypedMessage], **values: Any) -> dict[str, Any]:
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
        result: dict[str, Any] = self.request("POST", f"/acts/{spec.name}", act_body(signed))
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

    # -- credit records, catalogue and logs ----------------------------------------------
    # Imports are local to this section so it stays self-contained in a shared file.

    def send_bytes(self, method: str, path: str, content: bytes, content_type: str) -> Any:
        """A signed request with a raw body (NDJSON bulk submissions)."""
        headers = sign_request(self.account.key, self.chain()["api_domain"], method, _as_sent(path), content)
        headers["Content-Type"] = content_type
        return self._send(method, path, content=content, headers=headers)

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

    def record_proof_at(self, log_index: int, *, with_opening: bool = False) -> dict[str, Any]:
        """The same bundle, found by the record's credit-record log index (its receipt's `log_index`)."""
        query = "?with_opening=true" if with_opening else ""
        result: dict[str, Any] = self.request("GET", f"/records/by-log-index/{log_index}/proof{query}")
        return result

    def catalogue(self, version: int | None = None) -> dict[str, Any]:
        path = "/catalogue" if version is None else f"/catalogue/versions/{version}"
        result: dict[str, Any] = self.request("GET", path)
        return result

    def publish_catalogue(self, document: dict[str, Any]) -> dict[str, Any]:
        """Sign and publish a catalogue version (operators): hash and public mask computed here."""
        from ledger.chain.catalogue_registry import PublishCatalogueMessage
        from ledger.domain.catalogue import Catalogue

        catalogue = Catalogue.model_validate(document)
        signing = self.request("GET", f"/catalogue/signing/{self.account.address}")
        message = PublishCatalogueMessage(
            catalogue.version, catalogue.content_hash(), catalogue.public_mask(), self.account.address,
            int(signing["nonce"]), self._deadline(),
        )  # fmt: skip
        signed = sign(self.account, dict(signing["domain"]), message)
        body = {
            "catalogue": document, "content_hash": "0x" + message.content_hash.hex(),
            "public_categories": str(message.public_categories), "operator": self.account.address,
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
        result: dict[str, Any] = self._send("POST", "/releases", json=body)
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

    # -- credit evaluation -------------------------------------------------------------------

    def store_model_documents(self, model: dict[str, Any], card: dict[str, Any]) -> dict[str, Any]:
        """Store a model document and its card (operators): their hashes and input categories."""
        result: dict[str, Any] = self.request("POST", "/models/documents", {"model": model, "card": card})
        return result

    def model_version(self, version: int) -> dict[str, Any]:
        """A model version on chain: hashes, indicator version, input categories, status."""
        result: dict[str, Any] = self.request("GET", f"/models/versions/{version}")
        return result

    def model_proposal(self, proposal: int) -> dict[str, Any]:
        """A model proposal on chain: action, version, approvals, whether executed."""
        result: dict[str, Any] = self.request("GET", f"/models/proposals/{proposal}")
        return result

    def model_monitoring(self, version: int) -> dict[str, Any]:
        """Population stability of a model version today, with its warnings (operators)."""
        result: dict[str, Any] = self.request("GET", f"/models/versions/{version}/monitoring")
        return result

    def evaluate(self, subject: str, model_version: int, purpose: int, agreement_id: int) -> dict[str, Any]:
        """Sign an evaluation request for this institution and ask for the evaluation."""
        from ledger.evaluation_release.request import (
            evaluation_domain,
            evaluation_request_to_json,
            sign_evaluation_request,
        )

        chain = self.chain()
        domain = evaluation_domain(chain["chain_id"], chain["contracts"]["ModelRegistry"]["address"])
        signed = sign_evaluation_request(
            self.account, domain, subject=subject, model_version=model_version, purpose=purpose,
            agreement_id=agreement_id,
        )  # fmt: skip
        return self.send_evaluation(evaluation_request_to_json(signed))

    def self_evaluation(self, subject: str, *, model_version: int | None = None) -> dict[str, Any]:
        """The enterprise's own evaluation (free): score, grade, reasons, portrait, guidance."""
        result: dict[str, Any] = self._get("/self/evaluation", subject=subject, model_version=model_version)
        return result

    def send_evaluation(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST an already signed evaluation request (its signature is its authentication)."""
        result: dict[str, Any] = self._send("POST", "/evaluations", json=body)
        return result

    # -- enterprise self-service -----------------------------------------------------------
    # Consent listings, free self-query, self-declared information, objections, credit
    # repair, the working-day calendar and notices. Imports are local to this section.

    # -- loan reporting and the KPIs (ledger.financing) -----------------------------------

    def report_loan(self, report: dict[str, Any]) -> dict[str, Any]:
        """Send one loan report (a decision or a repayment status); its receipt."""
        result: dict[str, Any] = self.request("POST", "/loans/reports", report)
        return result

    def loan_versions(self, loan_ref: str) -> list[dict[str, Any]]:
        from urllib.parse import quote

        result: list[dict[str, Any]] = self.request("GET", f"/loans/{quote(loan_ref, safe='')}/versions")
        return result

    def kpis(
        self,
        *,
        month: str | None = None,
        district: str | None = None,
        industry: str | None = None,
        format: str = "json",
    ) -> Any:
        """The KPI report (a dict), or its CSV text with `format="csv"`."""
        return self._get("/kpis", month=month, district=district, industry=industry, format=format)

    def kpi_export(self, month: str) -> dict[str, Any]:
        """The canonical export of `month`'s KPI snapshot (operators)."""
        result: dict[str, Any] = self._get("/kpis/export", month=month)
        return result

    def kpi_snapshot(self, month: str, version: int | None = None) -> dict[str, Any]:
        """A published KPI snapshot: `document` (as anchored, the export in its body) and `anchor`."""
        result: dict[str, Any] = self._get(f"/kpis/snapshots/{month}", version=version)
        return result

    def publish_kpi_snapshot(self, month: str) -> dict[str, Any]:
        """Export a month's KPIs as the next version of its snapshot, sign and publish it (operators)."""
        from datetime import UTC, datetime

        from ledger.financing.documents import KpiSnapshotDocument

        try:
            version = int(self.kpi_snapshot(month)["anchor"]["version"]) + 1
        except ApiError as exc:
            if exc.status != 404:
                raise
            version = 1
        document = KpiSnapshotDocument(
            key=month, version=version, valid_from=datetime.now(UTC).replace(microsecond=0),
            body=self.kpi_export(month),
        )  # fmt: skip
        return self.send_kpi_snapshot(document)

    def send_kpi_snapshot(self, document: Any) -> dict[str, Any]:
        """Sign `Publish` over a `KpiSnapshotDocument` under the Publications domain and send both."""
        from ledger.chain.publications import PublishMessage

        message = PublishMessage(
            **document.message_fields(), publisher=self.account.address,
            nonce=self._nonce("Publications"), deadline=self._deadline(),
        )  # fmt: skip
        signed = sign(self.account, self._domain("Publications"), message)
        body = {
            "document": document.model_dump(mode="json"), "content_hash": "0x" + message.content_hash.hex(),
            "nonce": message.nonce, "deadline": message.deadline, "signature": "0x" + signed.signature.hex(),
        }  # fmt: skip
        result: dict[str, Any] = self.request("POST", "/kpis/snapshots", body)
        return result

    def _get(self, path: str, **query: Any) -> Any:
        from urllib.parse import urlencode

        params = {k: str(v).lower() if isinstance(v, bool) else v for k, v in query.items() if v is not None}
        return self.request("GET", path + (f"?{urlencode(params)}" if params else ""))

    def institutions(self) -> dict[str, Any]:
        """Active institutions with their agreements active now (`at` names block B)."""
        result: dict[str, Any] = self._get("/consents/institutions")
        return result

    def grants(self, subject: str | None = None) -> dict[str, Any]:
        """This enterprise's grants with status live/revoked/expired (operators name a subject)."""
        result: dict[str, Any] = self._get("/consents/grants", subject=subject)
        return result

    def commit(self, kind: int, document: bytes | str) -> int:
        """Sign a credit commitment of `kind` (CommitmentKind) to `document` (hashed with keccak256)."""
        from eth_utils import keccak

        from ledger.chain.agreements import CommitmentKind, CommitMessage

        data = document.encode() if isinstance(document, str) else document
        return int(
            self.act(CommitMessage, kind=CommitmentKind(kind), document_hash=keccak(data))["created_id"]
        )

    def self_records(
        self, subject: str, *, category: str | None = None, with_proofs: bool = True
    ) -> list[dict[str, Any]]:
        """Free self-query: every record about this enterprise, in full, with history and proofs."""
        result: list[dict[str, Any]] = self._get(
            "/self/records", subject=subject, category=category, with_proofs=with_proofs
        )
        return result

    def self_record(self, subject: str, record_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._get(f"/self/records/{record_id}", subject=subject)
        return result

    def declare(
        self,
        subject: str,
        source_ref: str,
        fields: dict[str, Any],
        commitment_id: int,
        *,
        event_date: str | None = None,
        corrects: int | None = None,
    ) -> dict[str, Any]:
        """Self-declared information (自愿申报) under an EnterpriseTruthfulness commitment."""
        body: dict[str, Any] = {
            "subject": subject, "source_ref": source_ref, "fields": fields, "commitment_id": commitment_id,
        }  # fmt: skip
        if event_date is not None:
            body["event_date"] = event_date
        if corrects is not None:
            body["corrects"] = corrects
        result: dict[str, Any] = self.request("POST", "/self/declarations", body)
        return result

    def object_to(self, record_id: str, reasons: str, evidence: list[str] | None = None) -> dict[str, Any]:
        """File an objection (异议) to a record about this enterprise."""
        body = {"record_id": record_id, "reasons": reasons, "evidence": evidence or []}
        result: dict[str, Any] = self.request("POST", "/objections", body)
        return result

    def objections(
        self, subject: str | None = None, *, status: str | None = None, overdue: bool = False
    ) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._get(
            "/objections", subject=subject, status=status, overdue=overdue or None
        )
        return result

    def objection(self, objection_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", f"/objections/{objection_id}")
        return result

    def forward_objection(self, objection_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("POST", f"/objections/{objection_id}/forwarding", {})
        return result

    def decide_objection(
        self, objection_id: str, outcome: str, reasons: str, correction: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Corrected (with `correction`: {"fields": {...}, ...}) or upheld, by the provider or an operator."""
        body: dict[str, Any] = {"outcome": outcome, "reasons": reasons}
        if correction is not None:
            body["correction"] = correction
        result: dict[str, Any] = self.request("POST", f"/objections/{objection_id}/decision", body)
        return result

    def withdraw_objection(self, objection_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("POST", f"/objections/{objection_id}/withdrawal", {})
        return result

    def escalate_objections(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request("POST", "/objections/escalations", {})
        return result

    def apply_for_repair(
        self, record_id: str, proofs: list[str], commitment_id: int, statement: str | None = None
    ) -> dict[str, Any]:
        """Apply for the credit repair (信用修复) of a dishonesty record about this enterprise."""
        body: dict[str, Any] = {"record_id": record_id, "proofs": proofs, "commitment_id": commitment_id}
        if statement is not None:
            body["statement"] = statement
        result: dict[str, Any] = self.request("POST", "/repairs", body)
        return result

    def repairs(
        self, subject: str | None = None, *, status: str | None = None, overdue: bool = False
    ) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._get(
            "/repairs", subject=subject, status=status, overdue=overdue or None
        )
        return result

    def repair(self, application_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", f"/repairs/{application_id}")
        return result

    def decide_repair(self, application_id: str, outcome: str, reasons: str) -> dict[str, Any]:
        body = {"outcome": outcome, "reasons": reasons}
        result: dict[str, Any] = self.request("POST", f"/repairs/{application_id}/decision", body)
        return result

    def escalate_repairs(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request("POST", "/repairs/escalations", {})
        return result

    def calendar(self, year: int) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._get("/calendar/days", year=year)
        return result

    def set_calendar_day(self, day: str, kind: str, name: str) -> dict[str, Any]:
        """Operators: `kind` holiday (a weekday off) or workday (a weekend day worked)."""
        result: dict[str, Any] = self.request("PUT", f"/calendar/days/{day}", {"kind": kind, "name": name})
        return result

    def delete_calendar_day(self, day: str) -> None:
        self.request("DELETE", f"/calendar/days/{day}")

    def notices(self, subject: str, *, since: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The notification feed: dishonesty information recorded, objections and repairs changing state."""
        result: list[dict[str, Any]] = self._get("/notices", subject=subject, since=since, limit=limit)
        return result

    # -- financing services (issue 18) -----------------------------------------------------
    # White lists, loan products, demands, matching and loan applications. Imports are
    # local to this section (the document models are pure; nothing of the server).

    def _publish(self, kind: str, document: Any) -> dict[str, Any]:
        """Sign `Publish` over the (already parsed) document under the Publications domain and send both."""
        from ledger.chain.publications import PublishMessage

        message = PublishMessage(
            **document.message_fields(), publisher=self.account.address,
            nonce=self._nonce("Publications"), deadline=self._deadline(),
        )  # fmt: skip
        signed = sign(self.account, self._domain("Publications"), message)
        body = {
            "kind": kind, "document": document.model_dump(mode="json"),
            "content_hash": "0x" + message.content_hash.hex(),
            "nonce": message.nonce, "deadline": message.deadline, "signature": "0x" + signed.signature.hex(),
        }  # fmt: skip
        result: dict[str, Any] = self.request("POST", "/financing/publications", body)
        return result

    def publish_white_list(self, document: dict[str, Any]) -> dict[str, Any]:
        """Publish a white-list version (operators); codes are checked and normalised here first."""
        from ledger.financing.whitelist_document import parse_white_list

        return self._publish("white_list", parse_white_list(document))

    def publish_product(self, document: dict[str, Any]) -> dict[str, Any]:
        """Publish a loan-product version (its institution); eligibility rules are checked here first."""
        from ledger.financing.products import parse_product

        return self._publish("loan_product", parse_product(document))

    def white_lists(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._get("/financing/white-lists")
        return result

    def white_list(self, key: str, version: int | None = None) -> dict[str, Any]:
        from urllib.parse import quote

        result: dict[str, Any] = self._get(f"/financing/white-lists/{quote(key, safe='')}", version=version)
        return result

    def listings(self, uscc: str) -> list[dict[str, Any]]:
        """The white lists that named enterprise `uscc`: on it now or not, and since when."""
        result: list[dict[str, Any]] = self._get(f"/financing/enterprises/{uscc}/white-lists")
        return result

    def products(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._get("/financing/products")
        return result

    def product(self, key: str, version: int | None = None) -> dict[str, Any]:
        from urllib.parse import quote

        result: dict[str, Any] = self._get(f"/financing/products/{quote(key, safe='')}", version=version)
        return result

    def post_demand(
        self, subject: str, amount: int, term_months: int, use: str, collateral: str = ""
    ) -> dict[str, Any]:
        body = {
            "subject": subject,
            "amount": amount,
            "term_months": term_months,
            "use": use,
            "collateral": collateral,
        }
        result: dict[str, Any] = self.request("POST", "/financing/demands", body)
        return result

    def demands(self, subject: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._get("/financing/demands", subject=subject)
        return result

    def eligibility_profile(self, subject: str) -> dict[str, Any]:
        result: dict[str, Any] = self._get("/financing/profile", subject=subject)
        return result

    def matches(self, subject: str, demand_id: str) -> dict[str, Any]:
        """The demand matched against every product in force (the enterprise's own view)."""
        result: dict[str, Any] = self._get(f"/financing/demands/{demand_id}/matches", subject=subject)
        return result

    def apply_for_loan(
        self, subject: str, product_key: str, product_version: int, *, categories: list[str],
        expires_at: int, demand_id: str | None = None, agreement_id: int = 0,
    ) -> dict[str, Any]:  # fmt: skip
        """Apply to a product: sign one grant of `categories` to the product's institution for
        the loan-application purpose, until `expires_at`, and send it with the application."""
        from ledger.chain.consents import GrantMessage
        from ledger.domain.catalogue import default_catalogue
        from ledger.financing.products import LOAN_APPLICATION_PURPOSE

        catalogue = default_catalogue()
        institution = self.product(product_key, product_version)["anchor"]["publisher"]
        message = GrantMessage(
            uscc_hash(subject), institution, agreement_id, catalogue.category_mask(categories),
            catalogue.purpose_mask([LOAN_APPLICATION_PURPOSE]), 0, expires_at, self.account.address,
            self._nonce("Consents"), self._deadline(),
        )  # fmt: skip
        signed = sign(self.account, self._domain("Consents"), message)
        grant: dict[str, Any] = {
            f.name: ("0x" + v.hex() if isinstance(v, bytes) else v)
            for f in fields(message)
            for v in [getattr(message, f.name)]
        }
        grant["signature"] = "0x" + signed.signature.hex()
        body = {
            "subject": subject, "product_key": product_key, "product_version": product_version,
            "demand_id": demand_id, "grant": grant,
        }  # fmt: skip
        result: dict[str, Any] = self.request("POST", "/financing/applications", body)
        return result

    def loan_applications(self, subject: str | None = None) -> list[dict[str, Any]]:
        """Applications received (institutions) or made (the enterprise, naming itself)."""
        result: list[dict[str, Any]] = self._get("/financing/applications", subject=subject)
        return result


def act_body(signed: Signed[Any]) -> dict[str, Any]:
    """The wire form of a signed act (`POST /acts/{name}`): each message field under its
    snake_case name, bytes as 0x hex, every uint as a decimal string (the one form that is
    exact in every JSON parser, `GET /signing` -> numbers), and the signature."""
    body: dict[str, Any] = {}
    for field, solidity_type in zip(fields(signed.message), signed.message.EIP712_TYPES, strict=True):
        value = getattr(signed.message, field.name)
        if isinstance(value, bytes):
            body[field.name] = "0x" + value.hex()
        elif solidity_type.startswith("uint"):
            body[field.name] = str(int(value))
        else:
            body[field.name] = value
    body["signature"] = "0x" + signed.signature.hex()
    return body


def _as_sent(path: str) -> str:
    """`path` (with query) exactly as httpx puts it on the wire: what the request signature covers."""
    return httpx.URL(path).raw_path.decode("ascii")


def _result(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        body = response.text
    if response.status_code >= 400:
        raise ApiError(response.status_code, body)
    return body

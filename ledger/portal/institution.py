"""The institution's pages, assembled without HTTP: agreements, data requests, alerts, loans.

Each function reads the services it is handed and returns plain values for a template:
names instead of bit masks (`ledger.portal.labels`), statuses as the lower-case names of
the chain's enums (the template translates them). Nothing here signs: the data request is
signed in the member's browser, and `check_release` checks what the platform answered.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from ledger.alerts.rules import RuleSet
from ledger.chain.agreements import Agreement, AgreementStatus, Commitment
from ledger.domain.catalogue import Catalogue, is_chinese
from ledger.domain.log_names import ACCESS_TRAIL_LOG
from ledger.errors import LedgerError
from ledger.logs.bundles import ProofBundles
from ledger.logs.leaves import LeafError, decode_leaf
from ledger.logs.store import entry
from ledger.merkle.rfc9162 import hash_leaf
from ledger.portal.labels import Choice, FieldName, FieldValue, field_labels, mask_choices, named_labels
from ledger.storage.database import Database

__all__ = [
    "AgreementReads",
    "AgreementView",
    "AlertView",
    "Check",
    "CommitmentView",
    "DatabaseTrail",
    "ReleaseCheck",
    "RequestForm",
    "TrailReads",
    "agreements_of",
    "alert_views",
    "check_release",
    "commitments_of",
    "request_form",
    "split_release",
]


class AgreementReads(Protocol):
    """What these pages read of the Agreements contract (`ledger.chain.agreements`)."""

    def agreement_count(self) -> int: ...
    def agreement(self, agreement_id: int) -> Agreement | None: ...
    def commitment_count(self) -> int: ...
    def commitment(self, commitment_id: int) -> Commitment | None: ...


@dataclass(frozen=True)
class CommitmentView:
    id: int
    kind: str  # institution_usage, enterprise_truthfulness, repair_applicant
    breached: bool
    document_hash: str


@dataclass(frozen=True)
class AgreementView:
    id: int
    status: str  # proposed, active, suspended, terminated, expired
    categories: list[Choice]
    purposes: list[Choice]
    max_level: int
    valid_from: datetime
    valid_until: datetime
    commitment_id: int
    document_hash: str

    @property
    def active(self) -> bool:
        return self.status == AgreementStatus.ACTIVE.name.lower()


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def commitments_of(contract: AgreementReads, member: str) -> list[CommitmentView]:
    """Every commitment `member` signed, oldest first."""
    found = (contract.commitment(i) for i in range(1, contract.commitment_count() + 1))
    return [
        CommitmentView(c.id, c.kind.name.lower(), c.breached, _hex(c.document_hash))
        for c in found
        if c is not None and c.member.lower() == member.lower()
    ]


def agreements_of(
    contract: AgreementReads, institution: str, *, now: int, catalogue: Catalogue, locale: str
) -> list[AgreementView]:
    """Every agreement `institution` proposed, newest first, with its status at `now` (unix s)."""
    found = (contract.agreement(i) for i in range(contract.agreement_count(), 0, -1))
    return [
        AgreementView(
            a.id,
            a.status_at(now).name.lower(),
            mask_choices(catalogue, a.terms.categories, "categories", locale),
            mask_choices(catalogue, a.terms.purposes, "purposes", locale),
            a.terms.max_level,
            _at(a.terms.valid_from),
            _at(a.terms.valid_until),
            a.terms.commitment_id,
            _hex(a.terms.document_hash),
        )
        for a in found
        if a is not None and a.institution.lower() == institution.lower()
    ]


@dataclass(frozen=True)
class RequestForm:
    """What the browser needs to sign a data request: who, under which domain, with what choices."""

    institution: str
    domain: dict[str, Any]  # the DataRequest EIP-712 domain (`ledger.release.request.request_domain`)
    agreements: list[AgreementView]  # the active ones: a request names one
    lifetime_seconds: int  # the deadline the browser sets: now + this


def request_form(
    institution: str, domain: Mapping[str, Any], agreements: list[AgreementView], *, max_lifetime: int
) -> RequestForm:
    """The form over the institution's active agreements; the deadline well inside the platform's
    maximum lifetime so a slow hand still signs a request the platform accepts."""
    return RequestForm(
        institution,
        dict(domain),
        [a for a in agreements if a.active],
        max(30, min(300, max_lifetime // 2)),
    )


# -- the answer to a data request, and its receipt checked --------------------------------------


class TrailReads(Protocol):
    """The access trail as the receipt check reads it."""

    def leaf(self, index: int) -> bytes | None:
        """The exact bytes of access-trail entry `index`, None when there is none."""

    def anchored_proof(self, index: int) -> Mapping[str, Any] | None:
        """The entry's inclusion bundle, None until a checkpoint covers it."""


class DatabaseTrail:
    """`TrailReads` over the platform's database and its proof bundles."""

    def __init__(self, db: Database, bundles: ProofBundles) -> None:
        self.db = db
        self.bundles = bundles

    def leaf(self, index: int) -> bytes | None:
        with self.db.session() as session:
            row = entry(session, ACCESS_TRAIL_LOG, index)
            return None if row is None else bytes(row.leaf)

    def anchored_proof(self, index: int) -> Mapping[str, Any] | None:
        return self.bundles.anchored(ACCESS_TRAIL_LOG, index)


@dataclass(frozen=True)
class Check:
    """One step of the receipt check: `passed` None when it cannot be decided yet."""

    step: str  # response_hash, entry, leaf_hash, anchored
    passed: bool | None
    detail: str = ""


@dataclass(frozen=True)
class ReleaseCheck:
    receipt: dict[str, Any]
    data: dict[str, Any]
    checks: list[Check]
    #: the released records with their categories named, for display
    records: list[dict[str, Any]]

    @property
    def ok(self) -> bool:
        """Every decided step passed (an entry not yet anchored is not a failure)."""
        return all(c.passed is not False for c in self.checks)


class MalformedRelease(ValueError):
    """The text is not a release answer `{"data":…,"receipt":…}`."""


_PREFIX = b'{"data":'
_RECEIPT = b',"receipt":'


def split_release(body: bytes) -> tuple[bytes, dict[str, Any]]:
    """The exact bytes of `data` (what the response hash covers) and the parsed receipt.

    The platform sends `{"data":D,"receipt":R}` with D the canonical bytes it hashed
    (README "checking a release's response hash"), so D is cut out, never re-encoded.
    """
    end = body.rfind(_RECEIPT)
    if not body.startswith(_PREFIX) or end < 0:
        raise MalformedRelease('not a release answer: expected {"data":…,"receipt":…}')
    try:
        receipt = json.loads(body)["receipt"]
    except (ValueError, KeyError, TypeError):
        raise MalformedRelease("the answer is not JSON with a receipt") from None
    if not isinstance(receipt, dict):
        raise MalformedRelease("the receipt is not an object")
    return body[len(_PREFIX) : end], receipt


def _entry_check(
    payload: Mapping[str, Any], receipt: Mapping[str, Any], institution: str, nonce: str
) -> Check:
    request = payload.get("request") or {}
    mismatches = [
        name
        for name, ok in (
            ("institution", str(payload.get("institution", "")).lower() == institution.lower()),
            ("nonce", str(request.get("nonce", "")).lower() == nonce.lower()),
            ("block", payload.get("block") == receipt.get("block")),
            ("response_hash", payload.get("response_hash") == receipt.get("response_hash")),
        )
        if not ok
    ]
    return Check("entry", not mismatches, ", ".join(mismatches))


def check_release(
    body: bytes,
    *,
    institution: str,
    nonce: str,
    trail: TrailReads,
    verify_proof: Callable[[Mapping[str, Any]], object],
    catalogue: Catalogue,
    locale: str,
    field_name: FieldName,
    field_value: FieldValue | None = None,
) -> ReleaseCheck:
    """Check the platform's answer to `institution`'s data request with `nonce`.

    1. response_hash: SHA-256 of the data bytes received is the receipt's response hash;
    2. entry: the access-trail entry at the receipt's index is this release (this
       institution, this request's nonce, block B and response hash as the receipt says);
    3. leaf_hash: that entry's leaf hashes (RFC 9162) to the receipt's leaf hash;
    4. anchored: its inclusion proof verifies against the checkpoint anchored on chain
       (`verify_proof` raises when it does not); undecided until a checkpoint covers it.
    The released records' categories are named in `locale`, their fields by `field_name`, their
    values said by `field_value`.
    Raises `MalformedRelease` when `body` is not a release answer at all.
    """
    data_bytes, receipt = split_release(body)
    try:
        data = json.loads(data_bytes)
    except ValueError:
        raise MalformedRelease("the released data is not JSON") from None
    checks = [
        Check("response_hash", "0x" + hashlib.sha256(data_bytes).hexdigest() == receipt.get("response_hash"))
    ]
    index = receipt.get("index")
    index = index if isinstance(index, int) and index >= 0 else -1
    leaf = trail.leaf(index) if index >= 0 else None
    payload: Mapping[str, Any] | None = None
    if leaf is not None:
        try:
            payload = decode_leaf(leaf).payload
        except LeafError:
            payload = None
    if leaf is None or payload is None:
        checks.append(Check("entry", False, "no such entry"))
        checks.append(Check("leaf_hash", False))
        checks.append(Check("anchored", False))
    else:
        entry = _entry_check(payload, receipt, institution, nonce)
        checks.append(entry)
        checks.append(Check("leaf_hash", _hex(hash_leaf(leaf)) == receipt.get("leaf_hash")))
        checks.append(_anchored(trail, index, verify_proof) if entry.passed else Check("anchored", False))
    records = [
        {
            "category": str(r.get("category")),
            "label": named_labels(catalogue, [str(r.get("category"))], "categories", locale)[0],
            "detail": r.get("detail"),
            "fields": field_labels(
                catalogue, str(r.get("category")), r.get("fields") or {}, field_name, field_value
            ),
        }
        for r in (data.get("records") or [])
        if isinstance(r, dict)
    ]
    return ReleaseCheck(receipt, data, checks, records)


def _anchored(trail: TrailReads, index: int, verify_proof: Callable[[Mapping[str, Any]], object]) -> Check:
    bundle = trail.anchored_proof(index)
    if bundle is None:
        return Check("anchored", None)
    try:
        verify_proof(bundle)
    except LedgerError as exc:  # the proof does not hold: a failed check, shown with its reason
        return Check("anchored", False, str(exc)[:200])
    return Check("anchored", True, f"block {bundle.get('anchor', {}).get('block', '')}".strip())


# -- alerts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertView:
    alert_id: str
    state: str
    event: str
    event_text: str  # the rule's own text of its event in the reader's language; else the event id
    severity: str
    subject: str
    categories: list[str]
    attempts: int
    at: str
    trail_index: int | None


def alert_views(items: list[Any], *, catalogue: Catalogue, rules: RuleSet, locale: str) -> list[AlertView]:
    """Feed items (`ledger.alerts.feed.FeedItem`, whose payload is the thin webhook message
    `{"type", "timestamp", "data"}` of `ledger.alerts.signing`) with their categories named
    and their event said in words: the rules file's text (zh and en) of the rule of that event."""
    texts = {r.event: r.text.zh if is_chinese(locale) else r.text.en for r in reversed(rules.rules)}
    out = []
    for item in items:
        message: Mapping[str, Any] = item.payload
        data: Mapping[str, Any] = message.get("data") or {}
        out.append(
            AlertView(
                item.alert_id,
                item.state,
                str(message.get("type", "")),
                texts.get(str(message.get("type", "")), str(message.get("type", ""))),
                str(data.get("severity", "")),
                str(data.get("subject", "")),
                named_labels(catalogue, [str(c) for c in data.get("categories") or []], "categories", locale),
                item.attempts,
                str(message.get("timestamp", "")),
                data.get("trail_index"),
            )
        )
    return out

"""The release path, in the order the promises demand, failing closed at every step.

1. verify the institution's signature and the deadline of its data request;
2. ask the chain, in one call, whether the release is authorized and at which block B;
3. load the subject's current, releasable records of the categories;
4. desensitize them per the catalogue and the detail level the grant allows;
5. hash the exact response;
6. append the access-trail entry (with the request's nonce, refusing a replay) and wait
   until it is durable;
7. only then return the data with its receipt.

Any exception before step 7 means no data leaves: the caller gets the error, and the
refusal is written to the MLPS audit records without any data.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import rfc8785
from sqlalchemy import select

from ledger.chain.authorize_call import AuthorizeCaller
from ledger.chain.consents import AuthorizationQuery, Decision, Reason
from ledger.chain.membership import Signed, uscc_hash
from ledger.domain.catalogue import Catalogue, CatalogueError, default_catalogue
from ledger.domain.identifiers import validate_uscc
from ledger.domain.masking import mask_record
from ledger.errors import InvalidInput, LedgerError, NotAuthorized
from ledger.records.models import CreditRecord
from ledger.release.request import DataRequestMessage, request_domain, request_to_json, verify_data_request
from ledger.release.trail import ACCESS_TRAIL_LOG, AccessTrail
from ledger.selfservice.flags import NO_FLAGS, record_flags
from ledger.selfservice.publicity import publication_ended
from ledger.services import audit_events

if TYPE_CHECKING:
    from ledger.platform import Platform
    from ledger.records.service import RecordsService


#: record versions kept opened in memory (immutable, so never stale)
OPENED_CACHE_SIZE = 20_000


class ReleaseRefused(NotAuthorized):
    """The chain refused the release; `reason` is the contract's reason code."""

    code = "release_refused"

    def __init__(self, reason: Reason, block: int) -> None:
        super().__init__(f"release refused at block {block}: {reason.name.lower()}")
        self.reason = reason
        self.block = block


@dataclass(frozen=True)
class Receipt:
    log: str
    index: int
    leaf_hash: bytes
    block: int
    response_hash: bytes


@dataclass(frozen=True)
class Release:
    data: dict[str, Any]
    receipt: Receipt


def response_hash(data: dict[str, Any]) -> bytes:
    """SHA-256 of the RFC 8785 canonical JSON of exactly what is released."""
    return hashlib.sha256(rfc8785.dumps(data)).digest()


def _expired(row: CreditRecord, catalogue: Catalogue, today: date) -> bool:
    """A dishonesty record leaves publication, and sharing, at its maximum publicity period."""
    return publication_ended(catalogue, row.category, row.severity, row.event_date, today)


class ReleaseService:
    def __init__(
        self,
        platform: Platform,
        *,
        records: RecordsService,
        trail: AccessTrail,
        authorizer: AuthorizeCaller,
        catalogue: Catalogue | None = None,
    ) -> None:
        self.db = platform.db
        self.records = records
        self.trail = trail
        self.authorizer = authorizer
        self.catalogue = catalogue or default_catalogue()
        self._opened: OrderedDict[tuple[str, int], dict[str, Any]] = OrderedDict()
        self._cache_lock = threading.Lock()
        self.domain = request_domain(platform.deployment.chain_id, platform.deployment.addresses["Consents"])

    def release(self, signed: Signed[DataRequestMessage], *, now: float | None = None) -> Release:
        """Release what `signed` asks for, or raise; every refusal is audited."""
        try:
            return self._release(signed, time.time() if now is None else now)
        except LedgerError as exc:
            self._audit_refusal(signed, exc)
            raise

    def _release(self, signed: Signed[DataRequestMessage], now: float) -> Release:
        request = signed.message
        # 1. signature and deadline
        verify_data_request(signed, self.domain, now=now)
        categories = self._category_names(request.categories)
        self._check_purpose(request.purpose)
        subject = validate_uscc(request.subject, field="request.subject").code
        level = self.catalogue.max_level(categories, raw=request.raw)

        # 2. one authorization call; its answer names block B
        decision = self.authorizer.authorize(
            AuthorizationQuery(
                request.institution,
                uscc_hash(subject),
                request.categories,
                request.purpose,
                request.agreement_id,
                level,
            )
        )
        if not decision.allowed:
            raise ReleaseRefused(decision.reason, decision.block_number)
        raw_categories = decision.raw_categories if request.raw else 0

        # 3-5. records, desensitized, hashed
        data = self._released_data(subject, categories, raw_categories, decision, now)
        digest = response_hash(data)

        # 6. durable trail entry, refusing a replayed nonce
        payload = {
            "institution": request.institution,
            "subject": subject,
            "categories": str(request.categories),
            "purpose": str(request.purpose),
            "agreement_id": request.agreement_id,
            "grant_id": decision.grant_id,
            "raw_categories": str(raw_categories),
            "level": level,
            "block": decision.block_number,
            "response_hash": "0x" + digest.hex(),
            "released_at": datetime.fromtimestamp(now, UTC).isoformat(),
            "record_count": len(data["records"]),
            "request": request_to_json(signed),
        }
        entry = self.trail.append(payload, signer=request.institution, nonce="data:0x" + request.nonce.hex())

        # 7. only now does the data leave
        receipt = Receipt(ACCESS_TRAIL_LOG, entry.seq, entry.leaf_hash, decision.block_number, digest)
        return Release(data=data, receipt=receipt)

    def _category_names(self, mask: int) -> list[str]:
        if mask <= 0:
            raise InvalidInput("request.categories: name at least one category")
        try:
            return self.catalogue.categories_in_mask(mask)
        except CatalogueError as exc:
            raise InvalidInput(f"request.categories: {exc.message}") from None

    def _check_purpose(self, mask: int) -> None:
        known = {p.bit for p in self.catalogue.purposes}
        if mask <= 0 or mask & (mask - 1) or mask.bit_length() - 1 not in known:
            raise InvalidInput("request.purpose: exactly one purpose of the catalogue, as a one-bit mask")

    def _released_data(
        self, subject: str, categories: list[str], raw_categories: int, decision: Decision, now: float
    ) -> dict[str, Any]:
        today = datetime.fromtimestamp(now, UTC).date()
        with self.db.session() as session:
            rows = session.scalars(
                select(CreditRecord)
                .where(CreditRecord.subject == subject, CreditRecord.category.in_(categories))
                .order_by(CreditRecord.record_id, CreditRecord.version)
            ).all()
            flags = record_flags(session, {row.record_id for row in rows})  # objections, repairs: one query
        latest: dict[str, CreditRecord] = {}
        for row in rows:  # ordered by version: the last one per record wins
            latest[row.record_id] = row
        released = []
        for row in sorted(latest.values(), key=lambda r: (r.category, r.event_date, r.record_id)):
            if _expired(row, self.catalogue, today):
                continue
            flag = flags.get(row.record_id, NO_FLAGS)
            if flag.repaired:  # credit repair approved: never shared again
                continue
            fields = self._opened_fields(row)
            raw = bool(raw_categories >> self.catalogue.category(row.category).bit & 1)
            released.append({
                "record_id": row.record_id,
                "version": row.version,
                "category": row.category,
                "event_date": row.event_date.isoformat(),
                "severity": row.severity,
                "detail": "raw" if raw else "masked",
                "disputed": flag.disputed,  # an objection is open
                "fields": mask_record(row.category, fields, raw, catalogue=self.catalogue),
            })  # fmt: skip
        return {"subject": subject, "block": decision.block_number, "records": released}

    def _opened_fields(self, row: CreditRecord) -> dict[str, Any]:
        """The record version's fields, decrypted and checked against its commitment once.

        A record version never changes (a correction is a new version), so the opened
        fields are kept in a bounded cache: later releases skip decryption and the
        commitment check, which the auditor's verifier repeats independently anyway.
        """
        key = (row.record_id, row.version)
        with self._cache_lock:
            cached = self._opened.get(key)
            if cached is not None:
                self._opened.move_to_end(key)
                return cached
        fields = self.records.open_row(row).fields  # checks the record against its commitment
        with self._cache_lock:
            self._opened[key] = fields
            if len(self._opened) > OPENED_CACHE_SIZE:
                self._opened.popitem(last=False)
        return fields

    def _audit_refusal(self, signed: Signed[DataRequestMessage], exc: LedgerError) -> None:
        m = signed.message
        detail = (
            f"{exc.code}: {exc.message}; subject={m.subject} categories={m.categories} "
            f"purpose={m.purpose} agreement={m.agreement_id}"
        )
        with contextlib.suppress(LedgerError):  # the database is down: refused all the same
            audit_events.record(
                self.db, actor=m.institution, event="release", outcome="refused", detail=detail
            )

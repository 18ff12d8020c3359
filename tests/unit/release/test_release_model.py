"""Every release of a random batch, against a small reference model of what may be released.

For random requests (subject, categories, purpose, detail asked, institution, a nonce
reused or not), the chain's decisions (allowed or refused, which categories the grant
releases raw) and the records the batch's one read returns, each answer must be what the
model says: a replay or a refusal releases nothing; an allowed release carries exactly
the request's subject's current records in the request's categories, raw exactly where
the request asked and the grant allows, masked by the catalogue's rule elsewhere,
`never` fields absent; and its access-trail entry, naming the raw categories released,
was committed before the caller was answered.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.chain.consents import Decision, Reason
from ledger.domain.catalogue import MaskingRule, default_catalogue
from ledger.domain.masking import mask_value
from ledger.records.samples import sample_mobile, sample_resident_id, sample_uscc
from ledger.release.reader import CurrentRecord
from ledger.release.service import Release, ReleaseRefused
from ledger.release.trail import ReplayedDataRequest
from tests.unit.release.fakes import (
    BLOCK,
    INSTITUTION,
    OTHER_INSTITUTION,
    decision,
    nonce_of,
    record,
    refused,
    request,
    world,
)

CATALOGUE = default_catalogue()
SUBJECTS = [sample_uscc(n) for n in range(3)]
INSTITUTIONS = [INSTITUTION, OTHER_INSTITUTION]
BY_ADDRESS = {account.address: account for account in INSTITUTIONS}
CATEGORIES = ["registration", "judicial", "tax", "financial_asset_trading"]
BIT = {name: CATALOGUE.category(name).bit for name in CATEGORIES}


def fields_of(category: str, n: int) -> dict[str, Any]:
    """A record's fields with every masking rule of the category represented where it can be."""
    return {
        "registration": {
            "enterprise_name": f"企业{n}",
            "legal_representative": "王伟",
            "legal_representative_id": sample_resident_id(n),
            "contact_mobile": sample_mobile(n),
            "contact_email": f"boss{n}@example.cn",
        },
        "judicial": {"case_number": f"(2026)豫01民初{n}号", "amount_involved": 1_000 * (n + 1) ** 3},
        "tax": {"tax_year": 2025, "credit_grade": "B", "payment_account": f"62220212345678{n:05d}"},
        "financial_asset_trading": {
            "trade_reference": f"T-{n}",
            "settlement_account": f"62220298765432{n:05d}",
            "authentication_data": f"otp-{n}",
        },
    }[category]


@st.composite
def records(draw: st.DrawFn) -> list[CurrentRecord]:
    made = []
    for n in range(draw(st.integers(0, 7))):
        subject, category = draw(st.sampled_from(SUBJECTS)), draw(st.sampled_from(CATEGORIES))
        made.append(
            record(
                subject,
                category,
                fields_of(category, n),
                record_id=f"R{n}",
                repaired=draw(st.booleans()),
                disputed=draw(st.booleans()),
            )
        )
    return made


@dataclass(frozen=True)
class Asked:
    institution: int
    subject: str
    categories: list[str]
    purpose: int
    raw: bool
    reuse_nonce_of: int | None  # index of an earlier request whose nonce this one replays
    decision: Decision


@st.composite
def batches(draw: st.DrawFn) -> list[Asked]:
    asked: list[Asked] = []
    for i in range(draw(st.integers(1, 4))):
        categories = draw(st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=4, unique=True))
        mask = sum(1 << BIT[c] for c in categories)
        if draw(st.integers(0, 4)) == 0:
            chain = refused(draw(st.sampled_from([Reason.NO_COVERING_GRANT, Reason.CATEGORY_OUT_OF_SCOPE])))
        else:  # the contract names only requested categories as raw
            chain = decision(
                grant_id=draw(st.integers(1, 5)), raw_categories=draw(st.integers(0, mask)) & mask
            )
        asked.append(
            Asked(
                institution=draw(st.integers(0, 1)),
                subject=draw(st.sampled_from(SUBJECTS)),
                categories=categories,
                purpose=1 << draw(st.integers(0, 3)),
                raw=draw(st.booleans()),
                reuse_nonce_of=draw(st.none() | st.integers(0, i - 1)) if i and draw(st.booleans()) else None,
                decision=chain,
            )
        )
    return asked


def expected_record(r: CurrentRecord, raw: bool) -> dict[str, Any]:
    """The model's rendering: raw values, or each field through its catalogue rule; `never` dropped."""
    fields: dict[str, Any] = {}
    for f in CATALOGUE.category(r.category).fields:
        if f.name in r.fields and f.masking is not MaskingRule.NEVER:
            value = r.fields[f.name]
            fields[f.name] = value if raw else mask_value(f.masking, value)
    return {
        "record_id": r.record_id,
        "version": r.version,
        "category": r.category,
        "event_date": r.event_date.isoformat(),
        "severity": r.severity,
        "detail": "raw" if raw else "masked",
        "disputed": r.disputed,
        "fields": fields,
    }


def expected_release(a: Asked, stored: list[CurrentRecord]) -> dict[str, Any]:
    raw_bits = a.decision.raw_categories if a.raw else 0
    mine = sorted(
        (r for r in stored if r.subject == a.subject and r.category in a.categories and not r.repaired),
        key=lambda r: (r.category, r.event_date, r.record_id),
    )
    rendered = [expected_record(r, bool(raw_bits >> BIT[r.category] & 1)) for r in mine]
    return {"subject": a.subject, "block": BLOCK, "records": rendered}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stored=records(), asked=batches())
def test_every_answer_of_a_batch_is_what_the_model_allows(
    stored: list[CurrentRecord], asked: list[Asked]
) -> None:
    w = world(stored)
    try:
        signed = []
        for i, a in enumerate(asked):
            reused = signed[a.reuse_nonce_of] if a.reuse_nonce_of is not None else None
            signer = BY_ADDRESS[reused.message.institution] if reused else INSTITUTIONS[a.institution]
            w.chain.decisions[i + 1] = a.decision
            signed.append(
                request(
                    institution=signer,
                    subject=a.subject,
                    categories=sum(1 << BIT[c] for c in a.categories),
                    purpose=a.purpose,
                    agreement_id=i + 1,
                    raw=a.raw,
                    nonce=reused.message.nonce if reused else None,
                )
            )
        futures = w.release_together(signed)
        for a, s, future in zip(asked, signed, futures, strict=True):
            if a.reuse_nonce_of is not None:
                assert isinstance(future.exception(), ReplayedDataRequest)
                continue
            if not a.decision.allowed:
                error = future.exception()
                assert isinstance(error, ReleaseRefused) and error.reason is a.decision.reason
                assert w.trail.entry_of(s) is None
                continue
            release = future.result()
            assert isinstance(release, Release)
            want = expected_release(a, stored)
            assert release.data == want
            never = {
                f.name
                for c in CATEGORIES
                for f in CATALOGUE.category(c).fields
                if f.masking is MaskingRule.NEVER
            }
            assert not never & {k for r in release.data["records"] for k in r["fields"]}
            assert release.receipt.response_hash == hashlib.sha256(release.data_json).digest()
            entry = w.trail.entry_of(s)
            assert entry is not None
            assert entry.payload["subject"] == a.subject
            assert entry.payload["categories"] == str(s.message.categories)
            assert entry.payload["raw_categories"] == str(a.decision.raw_categories if a.raw else 0)
            assert entry.payload["record_count"] == len(want["records"])
            assert w.events.index(("commit", nonce_of(s))) < w.events.index(("answered", nonce_of(s)))
    finally:
        w.service.close()

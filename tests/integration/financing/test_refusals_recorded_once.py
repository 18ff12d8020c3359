"""A refused financing request is written to the MLPS audit records exactly once, by the edge.

Every 4xx answer is recorded by the HTTP edge (`api.edge`), as for records and every other
route; the financing services (loan reports, publications, KPI snapshots, demands) add no
second record of the same refusal. Against a real anvil and SQLite/PostgreSQL, over HTTP.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from ledger.records.samples import sample_uscc
from ledger.sdk import ApiError
from ledger.storage.models import AuditEvent
from tests.integration.financing.test_api_financing import white_list
from tests.integration.financing.test_loans_api import decision
from tests.integration.test_release import SUBJECT, World, world  # noqa: F401  (fixture)


def rows_after(w: World, after: int) -> list[AuditEvent]:
    with w.platform.db.session() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.id > after).order_by(AuditEvent.id)))


def last_id(w: World) -> int:
    with w.platform.db.session() as session:
        return int(session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0)


def refused_once(w: World, call: Callable[[], object], status: int, code: str, event: str) -> None:
    before = last_id(w)
    with pytest.raises(ApiError) as info:
        call()
    assert info.value.status == status, info.value.body
    refusals = [r for r in rows_after(w, before) if r.outcome == "refused"]
    assert len(refusals) == 1, [(r.event, r.detail) for r in refusals]
    (row,) = refusals
    assert row.event == event and code in (row.detail or ""), (row.event, row.detail)


def test_a_refused_financing_request_is_recorded_once(world: World) -> None:  # noqa: F811
    w = world
    bank = w.sdk(w.bank)
    # a loan report about an enterprise that never applied to the bank (403 no_application)
    refused_once(
        w, lambda: bank.report_loan(decision(w, "k-1", subject=sample_uscc(5))), 403, "no_application",
        "POST /loans/reports",
    )  # fmt: skip
    # a white list published by an institution (403: lists are the districts')
    refused_once(
        w, lambda: bank.publish_white_list(white_list(1, [sample_uscc(5)])), 403, "not_authorized",
        "POST /financing/publications",
    )  # fmt: skip
    # a demand filed by the bank for an enterprise (403: only the enterprise itself)
    refused_once(
        w, lambda: bank.post_demand(SUBJECT, 500_000, 12, "研发设备采购", "无"), 403, "not_the_subject",
        "POST /financing/demands",
    )  # fmt: skip

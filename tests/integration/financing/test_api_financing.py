"""The financing services through the API, signed by each member via the SDK, against a real
anvil and SQLite/PostgreSQL: a white list, products, a demand matched, an application, and
every refusal named, nothing stored, recorded."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from sqlalchemy import func, select

from ledger.chain.membership import Role
from ledger.chain.publications import PublicationKind, document_id
from ledger.financing.models import ApplicationRow, FinancingDocumentRow, WhiteListEntryRow
from ledger.records.samples import sample_uscc
from ledger.sdk import ApiError
from ledger.storage.models import AuditEvent
from tests.integration.conftest import Onboarding
from tests.integration.test_release import CREDIT, SUBJECT, World, world  # noqa: F401  (fixture)

OTHER = sample_uscc(1)
LIST = "金水区-科技型中小企业"
START = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)


@pytest.fixture
def district(onboarding: Onboarding) -> LocalAccount:
    """金水区's district operator, admitted by operator quorum (a key of its own: acts are relayed)."""
    account = Account.from_key(keccak(text="金水区 district operator"))
    return onboarding.admit(account, Role.DISTRICT_OPERATOR, name="郑州市金水区发展和改革委员会")


def white_list(version: int, enterprises: list[str]) -> dict[str, Any]:
    return {
        "key": LIST, "version": version, "valid_from": START.isoformat(), "name": "科技型中小企业白名单",
        "district": "金水区", "criteria": "经认定的科技型中小企业，无严重失信记录",
        "enterprises": enterprises,
    }  # fmt: skip


def product(key: str, rules: list[dict[str, Any]], **changes: Any) -> dict[str, Any]:
    return {
        "key": key, "version": 1, "valid_from": START.isoformat(), "name": f"{key} 科技贷",
        "product_kind": "科技贷", "amount": {"min": 100_000, "max": 3_000_000},
        "term_months": {"min": 6, "max": 36}, "annual_rate_percent": {"min": 3.45, "max": 4.35},
        "guarantee": "credit", "eligibility": rules, **changes,
    }  # fmt: skip


def refused(call: Callable[[], object], status: int, code: str) -> dict[str, Any]:
    with pytest.raises(ApiError) as info:
        call()
    assert info.value.status == status, info.value.body
    body = info.value.body
    assert isinstance(body, dict) and body["error"] == code, body
    return body


def count(w: World, table: Any) -> int:
    with w.platform.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def refusals(w: World, event: str) -> list[str]:
    with w.platform.db.session() as session:
        rows = session.scalars(
            select(AuditEvent.detail).where(AuditEvent.event == event, AuditEvent.outcome == "refused")
        ).all()
    return [r or "" for r in rows]


def test_white_list_products_demand_match_and_application(world: World, district: LocalAccount) -> None:  # noqa: F811
    w = world
    op, bank, ent, other_bank = w.sdk(w.operators[0]), w.sdk(w.bank), w.sdk(w.enterprise), w.sdk(w.guarantor)
    dist = w.sdk(district)
    pubs = w.platform.contracts.publications

    # a list naming an invalid code: refused, named, nothing anchored or stored, recorded
    bad = SUBJECT[:17] + ("0" if SUBJECT[17] != "0" else "1")
    with pytest.raises(ApiError) as info:
        dist._publish("white_list", _unchecked_white_list([SUBJECT, bad]))
    assert info.value.status == 422 and "enterprises[1]" in str(info.value.body)
    assert "check_char" in str(info.value.body)
    assert pubs.version_count(PublicationKind.WHITE_LIST, document_id(PublicationKind.WHITE_LIST, LIST)) == 0
    assert count(w, FinancingDocumentRow) == 0 and count(w, WhiteListEntryRow) == 0
    assert any("enterprises[1]" in r for r in refusals(w, "POST /financing/publications"))
    # an institution may not publish a list, nor a platform operator: lists are the districts'
    body = refused(lambda: bank.publish_white_list(white_list(1, [SUBJECT])), 403, "not_authorized")
    assert "district operators" in body["detail"]
    assert any("district operators" in r for r in refusals(w, "POST /financing/publications"))
    refused(lambda: op.publish_white_list(white_list(1, [SUBJECT])), 403, "not_authorized")
    assert count(w, FinancingDocumentRow) == 0

    published = dist.publish_white_list(white_list(1, [SUBJECT, OTHER]))
    anchor = published["anchor"]
    on_chain = pubs.latest(PublicationKind.WHITE_LIST, document_id(PublicationKind.WHITE_LIST, LIST))
    assert on_chain is not None and anchor["content_hash"] == "0x" + on_chain.content_hash.hex()
    assert published["document"]["enterprises"] == sorted([SUBJECT, OTHER])
    (listing,) = ent.listings(SUBJECT)
    assert listing["on_list"] and listing["since"] == START.isoformat()
    assert bank.listings(SUBJECT)[0]["on_list"]  # institutions query by enterprise too
    assert bank.white_list(LIST)["anchor"]["version"] == 1

    # a product with a rule over a field the platform does not hold: refused, named
    body = refused(
        lambda: bank._publish("loan_product", _unchecked_product(
            product("zz-tech", [{"field": "listed", "op": "equals", "value": True}])
        )),
        422, "eligibility_invalid",
    )  # fmt: skip
    assert "listed" in body["detail"]
    assert count(w, FinancingDocumentRow) == 1  # the list only
    assert any("listed" in r for r in refusals(w, "POST /financing/publications"))
    refused(lambda: op.publish_product(product("zz-tech", [])), 403, "not_authorized")

    fits = bank.publish_product(product("zz-tech", [
        {"field": "years_in_operation", "op": "min", "value": 1},
        {"field": "white_lists", "op": "includes", "value": LIST},
        {"field": "no_dishonesty_record", "op": "equals", "value": True},
    ]))  # fmt: skip
    assert fits["anchor"]["publisher"] == w.bank.address
    bank.publish_product(product("zz-big", [{"field": "registered_capital", "op": "min", "value": 10**12}]))
    bank.publish_product(product("zz-graded", [{"field": "evaluation_grade", "op": "min", "value": "B"}]))

    demand = ent.post_demand(SUBJECT, 500_000, 12, "研发设备采购", "无")
    # matching is the enterprise's own: no institution sees it, nor its demands or profile
    refused(lambda: bank.matches(SUBJECT, demand["id"]), 403, "not_the_subject")
    refused(lambda: bank.demands(SUBJECT), 403, "not_the_subject")
    refused(lambda: bank.eligibility_profile(SUBJECT), 403, "not_the_subject")

    matched = ent.matches(SUBJECT, demand["id"])
    assert [m["product"]["key"] for m in matched["eligible"]] == ["zz-tech"]
    reasons = {m["product"]["key"]: m["criteria"] for m in matched["not_eligible"]}
    big = next(c for c in reasons["zz-big"] if c["field"] == "registered_capital")
    assert not big["met"] and big["reason"]["zh"].startswith("注册资本") and "at least" in big["reason"]["en"]
    graded = next(c for c in reasons["zz-graded"] if c["field"] == "evaluation_grade")
    assert not graded["met"] and not graded["known"]  # no active model: unknown, so not met
    listed = next(c for c in matched["eligible"][0]["criteria"] if c["field"] == "white_lists")
    assert listed["met"] and LIST in listed["reason"]["zh"]

    # applying: one grant to the product's institution for the loan-application purpose
    expires = int(w.platform.chain.w3.eth.get_block("latest")["timestamp"]) + 86400
    application = ent.apply_for_loan(
        SUBJECT, "zz-tech", 1, categories=["registration", "tax"], expires_at=expires, demand_id=demand["id"]
    )
    grant = w.platform.contracts.consents.get_grant(application["grant_id"])
    assert grant is not None and grant.terms.institution == w.bank.address and grant.terms.purposes == CREDIT
    received = bank.loan_applications()
    assert [a["id"] for a in received] == [application["id"]] and received[0]["subject"] == SUBJECT
    assert received[0]["demand"] == {
        "amount": 500_000,
        "term_months": 12,
        "use": "研发设备采购",
        "collateral": "无",
    }
    assert other_bank.loan_applications() == []
    assert [a["id"] for a in ent.loan_applications(SUBJECT)] == [application["id"]]
    # the grant is what lets the bank read the enterprise's data, through the ordinary release path
    released: Any = w.release()
    assert released["data"]["records"] and released["data"]["records"][0]["category"] == "tax"

    # a stale product version, or another's demand: refused, nothing relayed
    refused(
        lambda: ent.apply_for_loan(SUBJECT, "zz-tech", 2, categories=["tax"], expires_at=expires),
        404, "document_unknown",
    )  # fmt: skip
    assert count(w, ApplicationRow) == 1

    # removal is a version: the enterprise is off the list from version 2, and matching says why
    dist.publish_white_list(white_list(2, [OTHER]))
    (listing,) = ent.listings(SUBJECT)
    assert not listing["on_list"] and listing["versions"] == [1] and listing["since"] is None
    rematched = ent.matches(SUBJECT, demand["id"])
    assert rematched["eligible"] == []
    off = next(
        c for m in rematched["not_eligible"] if m["product"]["key"] == "zz-tech"
        for c in m["criteria"] if c["field"] == "white_lists"
    )  # fmt: skip
    assert not off["met"] and off["reason"]["en"] == f"not on white list {LIST}"
    assert ent.listings(OTHER)[0]["since"] == START.isoformat()  # on versions 1 and 2: since 1


def _unchecked_white_list(enterprises: list[str]) -> Any:
    """A white-list document the client does not check (to reach the server's check)."""
    from ledger.financing.whitelist_document import WhiteListDocument

    return WhiteListDocument.model_construct(**{**white_list(1, enterprises), "valid_from": START})


def _unchecked_product(document: dict[str, Any]) -> Any:
    from ledger.financing.products import LoanProductDocument

    return LoanProductDocument.model_construct(**{**document, "valid_from": START, "valid_until": None})

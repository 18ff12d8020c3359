"""A self-service world: the release `World` plus a penalty record, a second enterprise and a clock.

Time is the test's: the self-service services follow a `FixedClock` injected through the
API's `get_clock` dependency; record event dates are set relative to the real date (the
ingestion refuses future events and the release path uses the real date for expiry).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from fastapi.testclient import TestClient

from api.routers.selfservice_deps import get_clock
from ledger.chain.agreements import CommitmentKind
from ledger.chain.membership import Role
from ledger.domain.catalogue import default_catalogue
from ledger.records.samples import sample_resident_id, sample_uscc
from ledger.sdk import ApiError, LedgerClient
from ledger.selfservice.clock import FixedClock
from tests.integration.conftest import Onboarding
from tests.integration.test_release import CREDIT, SUBJECT, World, world  # noqa: F401  (fixture)

CATALOGUE = default_catalogue()
PENALTY = CATALOGUE.category_mask(["administrative_penalty"])
TAX = CATALOGUE.category_mask(["tax"])
OTHER_SUBJECT = sample_uscc(1)


def today() -> date:
    return datetime.now(UTC).date()


def penalty(
    ref: str, *, days_ago: int, severity: str = "general", subject: str = SUBJECT, **fields: Any
) -> dict[str, Any]:
    when = today() - timedelta(days=days_ago)
    return {
        "category": "administrative_penalty",
        "subject": subject,
        "event_date": when.isoformat(),
        "source_ref": ref,
        "severity": severity,
        "fields": {
            "decision_number": f"郑市监罚〔{when.year}〕{ref}号",
            "decision_date": when.isoformat(),
            "authority": "郑州市市场监督管理局",
            "penalty_type": "fine",
            "violation": "虚假宣传",
            "reason": "在其网站发布与实际不符的产品功效宣传内容",
            "legal_basis": "《中华人民共和国反不正当竞争法》第二十条",
            "amount": 20000,
            "legal_representative": "王伟",
            "legal_representative_id": sample_resident_id(3),
            **fields,
        },
    }


def digest(text: str) -> str:
    return "0x" + keccak(text=text).hex()


@dataclass
class SelfWorld:
    w: World
    clock: FixedClock
    other: LocalAccount  # another enterprise
    other_provider: LocalAccount
    penalty_id: str  # a general administrative penalty about SUBJECT, 30 days old
    penalty_agreement: int  # the bank's agreement for administrative penalties (public: no grant needed)

    def sdk(self, account: LocalAccount) -> LedgerClient:
        return self.w.sdk(account)

    @property
    def ent(self) -> LedgerClient:
        return self.w.sdk(self.w.enterprise)

    @property
    def provider(self) -> LedgerClient:
        return self.w.sdk(self.w.provider)

    @property
    def operator(self) -> LedgerClient:
        return self.w.sdk(self.w.operators[0])

    def submit(self, record: dict[str, Any]) -> str:
        return str(self.provider.submit_record(record)["record_id"])

    def released(self, categories: int = PENALTY) -> list[dict[str, Any]]:
        """What the bank is released now about SUBJECT (administrative penalties by default)."""
        agreement = self.penalty_agreement if categories == PENALTY else self.w.agreement
        result = self.w.release(categories=categories, agreement=agreement)
        records: list[dict[str, Any]] = result["data"]["records"]  # type: ignore[index]
        return records

    def commitment(self, account: LocalAccount, kind: CommitmentKind) -> int:
        return self.sdk(account).commit(kind, f"{kind.name} by {account.address}")

    def set_today(self, day: date) -> None:
        self.clock.set_day(day)


@pytest.fixture
def sw(
    world: World,  # noqa: F811
    api: TestClient,
    onboarding: Onboarding,
    dev_accounts: list[LocalAccount],
) -> Iterator[SelfWorld]:
    clock = FixedClock(datetime.now(UTC))
    api.app.dependency_overrides[get_clock] = lambda: clock  # type: ignore[attr-defined]
    other = onboarding.enterprise(dev_accounts[8], OTHER_SUBJECT, "郑州市另一家有限公司")
    other_provider = onboarding.admit(dev_accounts[9], Role.PROVIDER, name="国家税务总局郑州市税务局")
    penalty_id = str(world.sdk(world.provider).submit_record(penalty("PEN-1", days_ago=30))["record_id"])
    agreement = world.agreement_for(world.bank, PENALTY, CREDIT)
    yield SelfWorld(world, clock, other, other_provider, penalty_id, agreement)
    api.app.dependency_overrides.clear()  # type: ignore[attr-defined]


def refused(call: Any, status: int, rule: str) -> ApiError:
    """`call()` is refused with `status`, and the body's `error` names `rule`."""
    with pytest.raises(ApiError) as info:
        call()
    error = info.value
    assert error.status == status, error.body
    assert isinstance(error.body, dict) and error.body.get("error") == rule, error.body
    return error


def leaf(w: World, index: int) -> Any:
    """The credit-record log's leaf at `index`, decoded."""
    from ledger.domain.log_names import CREDIT_RECORDS_LOG
    from ledger.logs.leaves import decode_leaf
    from ledger.logs.models import LogEntry

    with w.platform.db.session() as session:
        row = session.get(LogEntry, (CREDIT_RECORDS_LOG, index))
        assert row is not None
        return decode_leaf(bytes(row.leaf))


def ids(records: list[dict[str, Any]]) -> list[str]:
    return [r["record_id"] for r in records]


def find(records: list[dict[str, Any]], record_id: str) -> dict[str, Any]:
    return next(r for r in records if r["record_id"] == record_id)

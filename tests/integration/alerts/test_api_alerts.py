"""The alert routes through the API, each request signed by the institution via the SDK;
a real receiver on 127.0.0.1 answers the handshake and verifies what the sender pushes."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from eth_account.signers.local import LocalAccount
from sqlalchemy import func, select

from ledger.alerts.endpoint_model import AlertEndpoint
from ledger.chain.membership import InstitutionKind, Role
from ledger.platform import Platform
from ledger.sdk import ApiError, LedgerClient
from tests.alerts_receiver import Receiver
from tests.integration.alerts.support import FakeGate, add, draft, running, wait_for
from tests.integration.conftest import Onboarding

SdkFor = Callable[[LocalAccount], LedgerClient]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


@pytest.fixture
def bank(onboarding: Onboarding, dev_accounts: list[LocalAccount]) -> LocalAccount:
    return onboarding.admit(dev_accounts[5], Role.INSTITUTION, InstitutionKind.BANK, "郑州银行")


def _endpoints(platform: Platform) -> int:
    with platform.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(AlertEndpoint)) or 0)


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("https://10.0.0.5/hook", "endpoint_private_address"),
        ("https://[fd00::1]/hook", "endpoint_private_address"),
        ("https://169.254.169.254/latest", "endpoint_private_address"),
        ("http://93.184.216.34/hook", "endpoint_not_https"),
        ("ftp://127.0.0.1/hook", "endpoint_not_https"),
        ("https://user:pw@127.0.0.1/hook", "endpoint_url_invalid"),
        ("not a url", "endpoint_not_https"),
    ],
)
def test_a_refused_endpoint_is_named_and_nothing_is_stored(
    sdk: SdkFor, bank: LocalAccount, platform: Platform, url: str, code: str
) -> None:
    with pytest.raises(ApiError) as refused:
        sdk(bank).request("POST", "/alerts/endpoints", {"url": url})
    assert refused.value.status == 422 and refused.value.body["error"] == code
    assert _endpoints(platform) == 0


def test_an_endpoint_that_fails_the_handshake_is_not_stored(
    sdk: SdkFor, bank: LocalAccount, platform: Platform, receiver: Receiver
) -> None:
    receiver.configure("b", mode="fail")
    with pytest.raises(ApiError) as refused:
        sdk(bank).request("POST", "/alerts/endpoints", {"url": receiver.url("b")})
    assert refused.value.status == 422 and refused.value.body["error"] == "endpoint_unverified"
    assert _endpoints(platform) == 0


def test_only_an_institution_registers(
    sdk: SdkFor, onboarding: Onboarding, dev_accounts: list[LocalAccount], receiver: Receiver
) -> None:
    provider = onboarding.admit(dev_accounts[6], Role.PROVIDER, name="provider")
    with pytest.raises(ApiError) as refused:
        sdk(provider).request("POST", "/alerts/endpoints", {"url": receiver.url("p")})
    assert refused.value.status == 403


def test_register_push_feed_and_redeliver(
    sdk: SdkFor, bank: LocalAccount, platform: Platform, receiver: Receiver
) -> None:
    client = sdk(bank)
    registered = client.request("POST", "/alerts/endpoints", {"url": receiver.url("bank")})
    assert registered["secret"].startswith("whsec_")
    receiver.configure("bank", mode="fail", secrets=[registered["secret"]])
    assert client.request("GET", "/alerts/endpoints")["state"] == "active"
    ids = add(platform.db, draft(bank.address), draft(bank.address))
    with running(platform.db, FakeGate()):
        wait_for(lambda: {a["state"] for a in client.request("GET", "/alerts")["items"]} == {"dead"})
        page = client.request("GET", "/alerts?limit=1")
        assert [a["alert_id"] for a in page["items"]] == ids[:1]
        rest = client.request("GET", f"/alerts?after={page['next_cursor']}")
        assert [a["alert_id"] for a in rest["items"]] == ids[1:]
        assert rest["items"][0]["payload"]["data"]["alert_id"] == ids[1]
        receiver.configure("bank", mode="ok")
        assert client.request("POST", f"/alerts/{ids[0]}/redeliver")["state"] == "queued"
        wait_for(lambda: client.request("GET", f"/alerts/{ids[0]}")["state"] == "delivered")
    got = receiver.received("bank")
    assert [e["webhook_id"] for e in got] == [ids[0]] and got[0]["verified"]
    with pytest.raises(ApiError) as unknown:
        client.request("GET", "/alerts/msg_" + "0" * 32)
    assert unknown.value.status == 404
    with pytest.raises(ApiError) as bad_cursor:
        client.request("GET", "/alerts?after=abc")
    assert bad_cursor.value.status == 422


def test_rotation_and_removal(sdk: SdkFor, bank: LocalAccount, receiver: Receiver) -> None:
    client = sdk(bank)
    first = client.request("POST", "/alerts/endpoints", {"url": receiver.url("r")})["secret"]
    rotated = client.request("POST", "/alerts/endpoints/rotate", {})
    assert rotated["secret"] != first and rotated["previous_valid_until_ms"] > 0
    assert (
        client.request("GET", "/alerts/endpoints")["rotating_until_ms"] == rotated["previous_valid_until_ms"]
    )
    client.request("POST", "/alerts/endpoints/remove", {})
    assert client.request("GET", "/alerts/endpoints")["state"] == "disabled"
    with pytest.raises(ApiError) as gone:
        client.request("POST", "/alerts/endpoints/rotate", {})
    assert gone.value.status == 404

"""Which endpoint URLs are called: https outside private ranges in production, loopback in
development; the resolved addresses decide, every one of them, at registration and send."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from ledger.alerts.urls import EndpointRefused, check_url


def resolver(*answers: str):  # type: ignore[no-untyped-def]
    def _resolve(host: str, port: int) -> Sequence[str]:
        return list(answers)

    return _resolve


def refused(url: str, environment: str = "production", answers: Sequence[str] = ("93.184.216.34",)) -> str:
    with pytest.raises(EndpointRefused) as exc:
        check_url(url, environment=environment, resolver=resolver(*answers))  # type: ignore[arg-type]
    return exc.value.code


def test_a_public_https_endpoint_is_accepted_and_pinned_to_its_address() -> None:
    target = check_url(
        "https://hooks.bank.example:8443/alerts?x=1",
        environment="production",
        resolver=resolver("93.184.216.34"),
    )
    assert target.host == "hooks.bank.example"
    assert target.pinned_url == "https://93.184.216.34:8443/alerts?x=1"


@pytest.mark.parametrize(
    "address",
    [
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "127.0.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fd00::1",
        "fe80::1",
        "::ffff:10.0.0.1",
        "224.0.0.1",
    ],
)
def test_private_and_special_addresses_are_refused_in_production(address: str) -> None:
    assert refused("https://hooks.bank.example/a", answers=[address]) == "endpoint_private_address"


def test_one_private_answer_among_public_ones_is_enough_to_refuse() -> None:
    assert refused("https://h.example/", answers=["93.184.216.34", "10.0.0.1"]) == "endpoint_private_address"


def test_plain_http_is_refused_in_production_even_to_a_public_address() -> None:
    assert refused("http://hooks.bank.example/a") == "endpoint_not_https"


def test_development_allows_loopback_over_http_but_not_other_private_ranges() -> None:
    target = check_url(
        "http://localhost:9000/hook", environment="development", resolver=resolver("127.0.0.1")
    )
    assert target.pinned_url == "http://127.0.0.1:9000/hook"
    assert refused("http://192.168.0.2/hook", environment="development") == "endpoint_private_address"
    assert refused("http://hooks.bank.example/", environment="development") == "endpoint_not_https"


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("", "endpoint_url_invalid"),
        ("https://", "endpoint_url_invalid"),
        ("https://u:p@h.example/", "endpoint_url_invalid"),
        ("https://h.example/#frag", "endpoint_url_invalid"),
        ("https://h.example:99999/", "endpoint_url_invalid"),
        ("https://h.example/a b", "endpoint_url_invalid"),
        ("gopher://h.example/", "endpoint_not_https"),
        ("https://" + "a" * 2100 + ".example/", "endpoint_url_invalid"),
    ],
)
def test_malformed_urls_are_named(url: str, code: str) -> None:
    assert refused(url) == code


def test_a_name_that_does_not_resolve_is_named() -> None:
    def fails(host: str, port: int) -> Sequence[str]:
        raise OSError("Name or service not known")

    with pytest.raises(EndpointRefused) as exc:
        check_url("https://nowhere.example/", environment="production", resolver=fails)
    assert exc.value.code == "endpoint_unresolvable"
    assert refused("https://h.example/", answers=[]) == "endpoint_unresolvable"

"""Which endpoint URLs the platform will call, checked at registration AND at send time.

Production accepts only `https` URLs whose host resolves to public addresses; development
also accepts loopback (over http or https), so tests and local receivers work. A private,
link-local, reserved or otherwise non-global address is refused by name, wherever in the
host's answers it appears. The check runs again before every delivery and the sender
connects to the very address it checked (`Target`), so a name that later resolves to a
private address (DNS rebinding) is refused then, not followed.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import SplitResult, urlsplit, urlunsplit

from ledger.errors import InvalidInput

__all__ = ["EndpointRefused", "Resolver", "Target", "check_url", "system_resolver"]

Environment = Literal["development", "production"]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]

MAX_URL_LENGTH = 2048


class EndpointRefused(InvalidInput):
    """An endpoint URL the platform will not call; `code` names why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Target:
    """A checked URL and the address to connect to (the host name stays for Host and SNI)."""

    url: str
    host: str
    address: str
    #: the URL with its host replaced by `address`: what the sender connects to
    pinned_url: str


def system_resolver(host: str, port: int) -> list[str]:
    """The host's addresses, by the operating system's resolver (getaddrinfo)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _refuse_address(address: IPAddress, environment: Environment, host: str) -> None:
    if address.is_loopback:
        if environment == "development":
            return
        raise EndpointRefused("endpoint_private_address", f"{host} resolves to loopback {address}")
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        _refuse_address(mapped, environment, host)
        return
    if not address.is_global or address.is_multicast:
        raise EndpointRefused(
            "endpoint_private_address", f"{host} resolves to {address}, outside the public ranges"
        )


def _parts(url: str) -> SplitResult:
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise EndpointRefused("endpoint_url_invalid", f"an endpoint URL is 1-{MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise EndpointRefused("endpoint_url_invalid", f"not a URL: {exc}") from None
    if parts.scheme not in ("https", "http"):
        raise EndpointRefused("endpoint_not_https", f"URL scheme must be https, not {parts.scheme!r}")
    if not parts.hostname:
        raise EndpointRefused("endpoint_url_invalid", "endpoint URL has no host")
    if parts.username is not None or parts.password is not None:
        raise EndpointRefused("endpoint_url_invalid", "endpoint URL must not carry credentials")
    if parts.fragment:
        raise EndpointRefused("endpoint_url_invalid", "endpoint URL must not have a fragment")
    if any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        raise EndpointRefused("endpoint_url_invalid", "endpoint URL contains whitespace or controls")
    return parts


def check_url(url: str, *, environment: Environment, resolver: Resolver = system_resolver) -> Target:
    """The checked `Target` of `url`, or `EndpointRefused` naming the problem."""
    parts = _parts(url)
    host = str(parts.hostname)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        answers: Sequence[str] = [str(literal)]
    else:
        try:
            answers = resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise EndpointRefused("endpoint_unresolvable", f"{host} does not resolve: {exc}") from None
        if not answers:
            raise EndpointRefused("endpoint_unresolvable", f"{host} does not resolve")
    addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in answers]
    for address in addresses:  # every answer: a resolver may rotate among them
        _refuse_address(address, environment, host)
    if parts.scheme != "https" and not (
        environment == "development" and all(a.is_loopback for a in addresses)
    ):
        raise EndpointRefused(
            "endpoint_not_https", "endpoint URL must be https (plain http only to loopback in development)"
        )
    address = addresses[0]
    netloc_host = f"[{address}]" if address.version == 6 else str(address)
    netloc = f"{netloc_host}:{parts.port}" if parts.port else netloc_host
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    return Target(url=url, host=host, address=str(address), pinned_url=pinned)

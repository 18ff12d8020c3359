"""One HTTP attempt to an endpoint, and what came of it.

The URL is checked again right before the attempt (`ledger.alerts.urls.check_url`) and
the request goes to the very address checked, with the endpoint's host name kept for the
Host header and TLS (SNI and certificate check): a name re-pointed at a private address
after registration (DNS rebinding) is refused, not followed. Every failure a receiver can
cause - refused or reset connection, timeout, garbage, a 5xx - is an `Outcome`, never an
exception: the sender retries it and carries on with the others.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

import httpx

from ledger.alerts.urls import EndpointRefused, Environment, Resolver, Target, check_url, system_resolver

__all__ = ["Outcome", "attempt", "request_kwargs"]

Kind = Literal["delivered", "gone", "failed", "refused"]


@dataclass(frozen=True)
class Outcome:
    kind: Kind
    status: int | None = None
    detail: str = ""
    body: bytes = b""


def request_kwargs(target: Target, headers: dict[str, str]) -> dict[str, object]:
    """`httpx` arguments that send to the checked address under the endpoint's own host name."""
    port = httpx.URL(target.url).port
    host = f"[{target.host}]" if ":" in target.host else target.host
    if port is not None:
        host = f"{host}:{port}"
    return {
        "url": target.pinned_url,
        "headers": {**headers, "host": host},
        "extensions": {"sni_hostname": target.host},
    }


def _literal_host(url: str) -> bool:
    try:
        ipaddress.ip_address(urlsplit(url).hostname or "")
    except ValueError:
        return False
    return True


def classify(status: int, body: bytes) -> Outcome:
    if 200 <= status < 300:
        return Outcome("delivered", status, body=body)
    if status == 410:
        return Outcome("gone", status, "the endpoint answered 410 Gone")
    return Outcome("failed", status, f"the endpoint answered {status}")


async def attempt(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    body: bytes,
    *,
    environment: Environment,
    resolver: Resolver = system_resolver,
    max_response_bytes: int = 64 * 1024,
    executor: Executor | None = None,
) -> Outcome:
    """POST `body` to `url` once; the outcome, whatever the receiver does.

    The name is resolved in `executor` (a thread: the resolver blocks), unless it is an
    address already.
    """
    try:
        check = functools.partial(check_url, url, environment=environment, resolver=resolver)
        if _literal_host(url):
            target = check()
        else:
            target = await asyncio.get_running_loop().run_in_executor(executor, check)
    except EndpointRefused as exc:
        return Outcome("refused", None, f"{exc.code}: {exc.message}")
    try:
        kwargs = request_kwargs(target, headers)
        async with client.stream("POST", content=body, **kwargs) as response:  # type: ignore[arg-type]
            received = bytearray()
            async for chunk in response.aiter_bytes():
                received.extend(chunk)
                if len(received) > max_response_bytes:
                    break  # a receiver's answer body is not ours to store; the status decides
            return classify(response.status_code, bytes(received[:max_response_bytes]))
    except httpx.TimeoutException as exc:
        return Outcome("failed", None, f"timeout: {exc.__class__.__name__}")
    except httpx.HTTPError as exc:
        return Outcome("failed", None, f"{exc.__class__.__name__}: {exc}"[:200])
    except (OSError, ValueError) as exc:
        return Outcome("failed", None, f"{exc.__class__.__name__}: {exc}"[:200])

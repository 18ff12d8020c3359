"""A real webhook receiver on 127.0.0.1 for the alert tests and `bench/alerts.py`.

An ASGI app served by uvicorn (in a thread, or in a process of its own for the bench).
Each endpoint is a path `/ep/NAME` with a behaviour set through `PUT /_control/NAME`:

- `ok`: verify the Standard Webhooks signature with the `standardwebhooks` library against
  the endpoint's secrets, record the message, answer 204 (a bad signature: 400, recorded);
- `slow:SECONDS`: the same after waiting;  `fail`: 500;  `gone`: 410;
- `hang`: never answer. Junk in place of an HTTP answer, or a connection closed at once,
  come from a raw socket server instead (`GarbageServer`).

A verification message (`endpoint.verification`) is answered by echoing its challenge
when the endpoint's behaviour is `ok`/`slow`, so registration works through the API.
`GET /_control/log` returns what was received: endpoint, webhook-id, time, verified.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from standardwebhooks import Webhook, WebhookVerificationError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class _Endpoint:
    mode: str = "ok"
    secrets: list[str] = field(default_factory=list)


@dataclass
class ReceiverApp:
    endpoints: dict[str, _Endpoint] = field(default_factory=dict)
    log: list[dict[str, Any]] = field(default_factory=list)
    keep_bodies: bool = True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the sender went away mid-request (killed): nothing was received
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        path: str = scope["path"]
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        if path.startswith("/_control/"):
            await self._control(scope["method"], path.removeprefix("/_control/"), body, send)
            return
        name = path.removeprefix("/ep/")
        await self._deliver(name, headers, body, send)

    async def _control(self, method: str, name: str, body: bytes, send: Send) -> None:
        if name == "log" and method == "GET":
            await _answer(send, 200, json.dumps(self.log).encode())
            return
        if name == "log" and method == "DELETE":
            self.log.clear()
            await _answer(send, 204)
            return
        spec = json.loads(body)
        endpoint = self.endpoints.setdefault(name, _Endpoint())
        endpoint.mode = spec.get("mode", endpoint.mode)
        if "secrets" in spec:
            endpoint.secrets = list(spec["secrets"])
        await _answer(send, 204)

    async def _deliver(self, name: str, headers: dict[str, str], body: bytes, send: Send) -> None:
        endpoint = self.endpoints.setdefault(name, _Endpoint())
        mode = endpoint.mode
        if mode.startswith("slow:"):
            await asyncio.sleep(float(mode.split(":", 1)[1]))
        elif mode == "hang":
            await asyncio.sleep(3600)
        elif mode == "fail":
            await _answer(send, 500, b"internal error")
            return
        elif mode == "gone":
            await _answer(send, 410)
            return
        received = time.time()
        try:
            document = json.loads(body)
        except ValueError:
            document = {}
        if document.get("type") == "endpoint.verification":
            challenge = document["data"]["challenge"]
            await _answer(send, 200, json.dumps({"challenge": challenge}).encode())
            return
        verified = False
        for secret in endpoint.secrets:
            try:
                Webhook(secret).verify(body, headers)
                verified = True
                break
            except WebhookVerificationError:
                continue
        self.log.append(
            {
                "endpoint": name,
                "webhook_id": headers.get("webhook-id"),
                "signatures": len(headers.get("webhook-signature", "").split()),
                "at": received,
                "verified": verified,
                "body": body.decode() if self.keep_bodies else "",
            }
        )
        await _answer(send, 204 if verified else 400)


async def _answer(send: Send, status: int, body: bytes = b"") -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class Receiver:
    """The receiver app served by uvicorn in a daemon thread of this process."""

    def __init__(self) -> None:
        self.app = ReceiverApp()
        self.port = free_port()
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off", loop="asyncio"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        deadline = time.time() + 10
        while not self.server.started:
            if time.time() > deadline:
                raise RuntimeError("receiver did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/ep/{name}"

    def configure(self, name: str, mode: str | None = None, secrets: list[str] | None = None) -> None:
        endpoint = self.app.endpoints.setdefault(name, _Endpoint())
        if mode is not None:
            endpoint.mode = mode
        if secrets is not None:
            endpoint.secrets = list(secrets)

    def received(self, name: str | None = None) -> list[dict[str, Any]]:
        return [e for e in list(self.app.log) if name is None or e["endpoint"] == name]


def control(base: str, name: str, **spec: Any) -> None:
    """Configure an endpoint of a receiver running elsewhere (the bench's own process)."""
    httpx.put(f"{base}/_control/{name}", json=spec).raise_for_status()


class GarbageServer:
    """A raw TCP server that answers every connection with junk, or closes it at once."""

    def __init__(self, mode: str) -> None:
        assert mode in ("garbage", "close")
        self.mode = mode
        self.port = free_port()
        self.connections = 0
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", self.port))
        self._sock.listen(64)
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        self._sock.settimeout(0.1)
        while not self._stop:
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            with conn:
                if self.mode == "garbage":
                    try:
                        conn.recv(65536)
                        conn.sendall(b"\x00\xffNOT HTTP AT ALL\r\n\r\n garbage")
                    except OSError:
                        pass

    def __enter__(self) -> GarbageServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop = True
        self.thread.join(timeout=5)
        self._sock.close()

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


def main() -> None:
    """`python -m tests.alerts_receiver PORT`: the receiver as a process of its own (the bench)."""
    import sys

    app = ReceiverApp(keep_bodies="--no-bodies" not in sys.argv)
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", lifespan="off")


if __name__ == "__main__":
    main()

"""A JSON-RPC proxy in front of a node that remembers every method the platform calls.

The platform is pointed at the proxy, the test keeps the node's own address for its
devnet-only moves (`anvil_reorg`): whatever the platform's production paths asked the
node for (its web3 client, the release path's authorizer, the chain watch, the anchoring
worker) is in `methods`, so a test can show none of it is anvil-only.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

#: methods only development nodes answer: no production path may need them
ANVIL_ONLY_PREFIXES = ("anvil_", "evm_", "hardhat_")


class RecordingProxy:
    """Forwards POSTed JSON-RPC bodies to `upstream` and counts the methods in them."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.methods: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._http = httpx.Client(timeout=30.0)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the clients expect

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                proxy.record(body)
                try:
                    answer = proxy._http.post(
                        proxy.upstream, content=body, headers={"Content-Type": "application/json"}
                    )
                    status, content = answer.status_code, answer.content
                except httpx.HTTPError:
                    status, content = 502, b"upstream unavailable"
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, format: str, *args: object) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="rpc-recorder", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def record(self, body: bytes) -> None:
        try:
            request = json.loads(body)
        except ValueError:
            return
        calls = request if isinstance(request, list) else [request]
        with self._lock:
            self.methods.update(str(c.get("method")) for c in calls if isinstance(c, dict))

    def anvil_only(self) -> set[str]:
        with self._lock:
            return {m for m in self.methods if m.startswith(ANVIL_ONLY_PREFIXES)}

    def start(self) -> RecordingProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._http.close()

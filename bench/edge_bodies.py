"""Large unsigned bodies against the real API under uvicorn: what they cost the server's memory.

A throw-away anvil and PostgreSQL database, the API in one uvicorn process, and raw
sockets that send 150 MiB unsigned bodies to `POST /releases` and `POST /records/bulk`
(declared by Content-Length, and chunked without one), then six concurrent 60 MiB
unsigned bulk bodies. The server's resident memory (VmRSS) is sampled every 5 ms; the
figure is the peak during the requests over the level before them.

    .venv/bin/python bench/edge_bodies.py
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
from eth_account import Account

from ledger.chain.client import ChainClient
from ledger.chain.compile import compile_contracts
from ledger.chain.deploy import Governance, deploy_all
from ledger.devnet import Devnet, devnet_key
from ledger.paths import PROJECT_ROOT
from ledger.storage.database import migrate

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
MiB = 1024 * 1024
CHUNK = b"9" * (64 * 1024)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _database() -> Iterator[str]:
    name = f"ledger_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        migrate(url)
        yield url
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _post(port: int, path: str, size: int, *, declared: bool) -> tuple[str, int]:
    """Send `size` bytes of body (or until the server stops reading); its status line and bytes sent."""
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    head += f"Content-Length: {size}\r\n" if declared else "Transfer-Encoding: chunked\r\n"
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall((head + "\r\n").encode())
        try:
            while sent < size:
                if declared:
                    s.sendall(CHUNK)
                else:
                    s.sendall(b"%x\r\n%b\r\n" % (len(CHUNK), CHUNK))
                sent += len(CHUNK)
            if not declared:
                s.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered and closed without reading the rest
        try:
            answer = s.recv(4096).split(b"\r\n", 1)[0].decode()
        except OSError as exc:
            answer = f"(no answer: {exc})"
    return answer, sent


class _Sampler:
    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss(self.pid))
            time.sleep(0.005)

    def __enter__(self) -> _Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    artifacts = compile_contracts()
    with tempfile.TemporaryDirectory(prefix="bench-edge-") as tmp, _database() as url:
        node = Devnet(Path(tmp), port=_free_port())
        node.start()
        try:
            client = ChainClient.connect(node.url, devnet_key(0), artifacts=artifacts)
            operators = [Account.from_key(devnet_key(i)).address for i in (1, 2, 3)]  # DEVNET ONLY keys
            deployment = deploy_all(client, Governance(operators, 2, 3600, client.relayer.address))
            deployment.save(Path(tmp) / "deployment.json")
            port = _free_port()
            env = {
                **os.environ,
                "LEDGER_DATA_DIR": tmp,
                "LEDGER_DATABASE_URL": url,
                "LEDGER_RPC_URL": node.url,
            }
            server = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "api.main:create", "--factory", "--host", "127.0.0.1",
                 "--port", str(port), "--log-level", "warning"],
                env=env, cwd=PROJECT_ROOT, start_new_session=True,
            )  # fmt: skip
            try:
                deadline = time.monotonic() + 60
                while True:
                    try:
                        if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("the API did not start")
                    time.sleep(0.1)
                _measure(server.pid, port)
            finally:
                server.terminate()
                server.wait(timeout=30)
        finally:
            node.stop()


def _measure(pid: int, port: int) -> None:
    for path in ("/releases", "/records/bulk"):
        for declared in (True, False):
            before = _rss(pid)
            with _Sampler(pid) as sampler:
                answer, sent = _post(port, path, 150 * MiB, declared=declared)
            growth = max(sampler.peak - before, 0) / MiB
            how = "Content-Length" if declared else "chunked"
            print(f"  150 MiB unsigned to {path} ({how}): {answer!r}, client sent {sent / MiB:.1f} MiB, "
                  f"server RSS {before / MiB:.0f} MiB, peak growth {growth:.2f} MiB")  # fmt: skip
    before = _rss(pid)
    answers: list[str] = []
    with _Sampler(pid) as sampler:
        threads = [
            threading.Thread(
                target=lambda: answers.append(_post(port, "/records/bulk", 60 * MiB, declared=True)[0])
            )
            for _ in range(6)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    growth = max(sampler.peak - before, 0) / MiB
    print(f"  six concurrent 60 MiB unsigned /records/bulk: {sorted(set(answers))}, growth {growth:.2f} MiB")


if __name__ == "__main__":
    main()

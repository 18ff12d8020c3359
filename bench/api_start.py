"""An API process's cold start: from `python -m uvicorn` to a ready /healthz.

The platform is brought up once (`credit-ledger up --no-serve`: devnet, contracts, database),
then fresh API processes are started one after another, each the way `up` serves it
(uvicorn, one worker, uvloop, httptools), and measured until /healthz answers: wall time,
the process's own CPU time (user + system, from /proc: what the start costs the machine,
less sensitive than wall time to other load) and its resident memory. Two baselines from the
same run, started the same way: `hello`, an empty FastAPI application (`bench/hello_app.py`:
the floor of Python, uvicorn and FastAPI), and `platform only`, `bench/bare_read_app.py` (the
platform opened with one route and none of the API's). Import alone (`import api.main`, CPU) is measured too.

Run: .venv/bin/python bench/api_start.py [--rounds 5] [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.release import free_port

HERE = Path(__file__).resolve().parent
CLI = str(Path(sys.executable).parent / "credit-ledger")
_TICK = os.sysconf("SC_CLK_TCK")

APPS = {
    "hello": "bench.hello_app:create",
    "platform only": "bench.bare_read_app:create",
    "API": "api.main:create",
}


def _cpu_and_rss(pid: int) -> tuple[float, float]:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / _TICK
    rss = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    return cpu, rss


def start_once(app: str, env: dict[str, str]) -> tuple[float, float, float]:
    """(wall s, CPU s, RSS MB) of one fresh process from its start to its first HTTP answer."""
    port = free_port()
    began = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--factory", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1", "--loop", "uvloop", "--http", "httptools", "--log-level", "warning",
         "--no-access-log"],
        env=env, cwd=HERE.parent,
    )  # fmt: skip
    try:
        with httpx.Client(timeout=2) as client:
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{app} exited with {process.returncode}")
                try:
                    # any answer: the server is serving (the platform-only app has no /healthz)
                    if client.get(f"http://127.0.0.1:{port}/healthz").status_code < 500:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.02)
        wall = time.perf_counter() - began
        cpu, rss = _cpu_and_rss(process.pid)
        return wall, cpu, rss
    finally:
        process.terminate()
        process.wait(timeout=30)


def import_cpu(env: dict[str, str]) -> float:
    """CPU seconds of `import api.main` in a fresh interpreter."""
    code = (
        "import resource, api.main; r = resource.getrusage(resource.RUSAGE_SELF); "
        "print(r.ru_utime + r.ru_stime)"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=HERE.parent, check=True,
                         capture_output=True, text=True)  # fmt: skip
    return float(out.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", help="default: SQLite in the throw-away data directory")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-api-start-"))
    env = {**os.environ, "LEDGER_DATA_DIR": str(work / "data"), "LEDGER_DEVNET_PORT": str(free_port())}
    if args.database_url:
        env["LEDGER_DATABASE_URL"] = args.database_url
    try:
        print("bringing the platform up (devnet, contracts, database) ...", flush=True)
        subprocess.run([CLI, "up", "--no-serve"], env=env, check=True, capture_output=True)
        rows: dict[str, list[tuple[float, float, float]]] = {name: [] for name in APPS}
        imports = []
        for round_ in range(args.rounds):
            for name, app in APPS.items():  # interleaved: each round sees the same load
                rows[name].append(start_once(app, env))
            imports.append(import_cpu(env))
            print(f"round {round_ + 1}/{args.rounds} done", flush=True)
        load = os.getloadavg()[0]
        print(f"\nload average {load:.1f}; {args.rounds} starts each; medians")
        print(f"{'process':<16}{'wall s':>9}{'CPU s':>9}{'RSS MB':>9}")
        for name, samples in rows.items():
            wall, cpu, rss = (statistics.median(s[i] for s in samples) for i in range(3))
            print(f"{name:<16}{wall:>9.2f}{cpu:>9.2f}{rss:>9.1f}")
        print(f"`import api.main` alone: CPU {statistics.median(imports):.2f} s (median)")
        api_cpu = statistics.median(s[1] for s in rows["API"])
        hello_cpu = statistics.median(s[1] for s in rows["hello"])
        print(f"API / hello CPU: {api_cpu / hello_cpu:.2f}")
    finally:
        subprocess.run([CLI, "devnet", "down"], env=env, check=False, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

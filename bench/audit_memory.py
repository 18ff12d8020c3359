"""Peak memory and time of the audit's log checks on record logs of N entries (issue 22 part 4).

For each size the bench writes, in bulk (no HTTP, no chain), an export of N
credit-record leaves with their stored versions, computes the roots the chain would
anchor (a checkpoint every 20,000 entries, a fifth of a smaller log; the tail past the
last one unanchored), and runs, in a fresh process each, what `credit-ledger audit
verify` runs over it: `read_export` then `verify_offline` (steps 1-5) against a
snapshot holding those checkpoints. The child reports its peak resident memory
(VmHWM) and its time; size 0 is the baseline of the same run (the interpreter and the
verifier's imports), so "above baseline / N" is the memory the audit holds per entry.
With `--compare REV` each size is also audited by the `ledger` package of git revision
REV (extracted to a temporary directory and put first on the child's path), alternating
with the working tree's, so before and after come from one run on one machine load; a
digest of the findings is printed for each, so identical results show as equal digests.

The access trail is left empty here: its entries need real signatures and a chain
(bench/audit.py measures their speed); the record log is the big one.

    .venv/bin/python bench/audit_memory.py [--sizes 200000,1000000] [--compare main [--compare-up-to N]]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import ledger
from ledger.audit.chain import ChainSnapshot, CheckpointRecord
from ledger.audit.export import ExportHeader, StoredVersion, entry_line, header_line, read_export, record_line
from ledger.audit.verifier import verify_offline
from ledger.chain.deploy import CONTRACTS, ContractAddresses, Deployment
from ledger.domain.log_names import CREDIT_RECORDS_LOG
from ledger.logs.leaves import encode_leaf
from ledger.merkle.compact_range import StreamedTree
from ledger.merkle.rfc9162 import hash_leaf

CHECKPOINT_EVERY = 20_000
ADDRESSES = {name: "0x" + f"{i + 1:02x}" * 20 for i, name in enumerate(CONTRACTS)}
DEPLOYMENT = Deployment(31337, 1, ContractAddresses.from_names(ADDRESSES), {})


def _record(seq: int) -> tuple[str, bytes, bytes]:
    """Record entry `seq`: its record id, commitment and leaf bytes (the same each time asked)."""
    commitment = hashlib.sha256(seq.to_bytes(8, "big")).digest()
    record_id = f"{seq:08x}-0000-4000-8000-000000000000"
    payload = {"record_id": record_id, "version": 1, "commitment": "0x" + commitment.hex()}
    return record_id, commitment, encode_leaf("credit-record", seq, payload)


def write_export(n: int, directory: Path) -> tuple[Path, Path]:
    """The export of `n` record leaves and versions, and the checkpoints the chain would hold.

    Written in two passes over the sequence numbers (entries, then stored versions), the
    roots from a `StreamedTree`, so that writing holds nothing in proportion to `n`.
    """
    export, checkpoints = directory / f"export-{n}.ndjson", directory / f"checkpoints-{n}.json"
    header = ExportHeader(
        31337, ADDRESSES, 1, "2026-01-01T00:00:00+00:00", {CREDIT_RECORDS_LOG: n}, True, False
    )
    every = min(CHECKPOINT_EVERY, max(1, n // 5))
    sizes = list(range(every, n, every)) if n > 1 else []
    tree = StreamedTree(roots_at=sizes)
    with export.open("w", encoding="utf-8") as out:
        out.write(header_line(header) + "\n")
        for seq in range(n):
            leaf = _record(seq)[2]
            out.write(entry_line(CREDIT_RECORDS_LOG, seq, leaf) + "\n")
            tree.append(hash_leaf(leaf))
        for seq in range(n):
            record_id, commitment, leaf = _record(seq)
            out.write(record_line(StoredVersion(record_id, 1, seq, commitment, hash_leaf(leaf))) + "\n")
    anchored = [(prev, size, tree.root(size).hex()) for prev, size in zip([0, *sizes], sizes, strict=False)]
    checkpoints.write_text(json.dumps(anchored))
    return export, checkpoints


def child(export: Path, checkpoints: Path, workers: int) -> None:
    """Run the audit's offline steps over `export`; print time, peak RSS and a findings digest."""
    anchored = [
        CheckpointRecord(prev, size, bytes.fromhex(root), "0x" + "00" * 20, 10 + i, b"\x00" * 32, 0)
        for i, (prev, size, root) in enumerate(json.loads(checkpoints.read_text()))
    ]
    latest = {CREDIT_RECORDS_LOG: (anchored[-1].size, anchored[-1].root)} if anchored else {}
    snapshot = ChainSnapshot(
        31337, 10 + len(anchored), 1, ADDRESSES, (), {CREDIT_RECORDS_LOG: tuple(anchored)}, latest, ()
    )
    started = time.perf_counter()
    data = read_export(export)
    read = time.perf_counter() - started
    result = verify_offline(data, snapshot, DEPLOYMENT, workers=workers)
    total = time.perf_counter() - started
    findings = [str(f) for f in result.findings]
    print(
        json.dumps(
            {
                "read_seconds": read,
                "seconds": total,
                "peak_kib": _peak_kib(),
                "worker_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                "findings": len(findings),
                "digest": hashlib.sha256("\n".join(findings).encode()).hexdigest()[:16],
                "records": result.records.versions,
                "code": str(Path(ledger.__file__).parent.parent),
            }
        )
    )


def _peak_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def _extract(rev: str, into: Path) -> Path:
    """The `ledger` package as of git revision `rev`, in directory `into`."""
    root = Path(__file__).resolve().parent.parent
    archive = subprocess.run(
        ["git", "-C", str(root), "archive", rev, "ledger"], check=True, capture_output=True
    )
    into.mkdir()
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def _audit(export: Path, checkpoints: Path, code: Path | None, workers: int) -> dict[str, Any]:
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(code), env.get("PYTHONPATH")) if p)
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(export), str(checkpoints), "--workers", str(workers)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="200000,1000000", help="record-log sizes, comma-separated")
    parser.add_argument("--compare", metavar="REV", help="also audit with the ledger package of git REV")
    parser.add_argument(
        "--compare-up-to", type=int, metavar="N", help="audit with REV only the sizes up to N (default: all)"
    )
    parser.add_argument("--workers", type=int, default=1, help="the verifier's worker processes")
    parser.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child, args.workers)
        return
    sizes = [0, *(int(s) for s in args.sizes.split(","))]
    rows: list[tuple[str, int, int, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        # a copy, so that edits to the working tree during the run do not mix into it
        here = Path(tmp) / "working-tree"
        shutil.copytree(
            Path(ledger.__file__).parent, here / "ledger", ignore=shutil.ignore_patterns("__pycache__")
        )
        codes: list[tuple[str, Path | None]] = [("this tree", here)]
        if args.compare:
            codes.insert(0, (args.compare, _extract(args.compare, Path(tmp) / "reference")))
        for n in sizes:
            export, checkpoints = write_export(n, Path(tmp))
            for label, code in codes:
                if code is not here and args.compare_up_to is not None and n > args.compare_up_to:
                    continue
                rows.append(
                    (label, n, export.stat().st_size, _audit(export, checkpoints, code, args.workers))
                )
            export.unlink()
    load = os.getloadavg()[0]
    print(
        f"{os.cpu_count()} cores, load average {load:.1f} at the end; peak RSS is the audit"
        " process's VmHWM, worker MiB its worker process's (ru_maxrss)"
    )
    print(
        f"{'code':<12} {'entries':>10} {'export MB':>9} {'peak MiB':>8} {'above N=0':>9} {'B/entry':>8}"
        f" {'worker MiB':>10} {'read s':>7} {'total s':>7} {'findings':>8}  digest"
    )
    base = {label: r["peak_kib"] for label, n, _, r in rows if n == 0}
    for label, n, size, r in rows:
        above = (r["peak_kib"] - base[label]) * 1024
        per = f"{above / n:8.0f}" if n else f"{'':>8}"
        print(
            f"{label:<12} {n:>10,} {size / 1e6:>9.0f} {r['peak_kib'] / 1024:>8.0f}"
            f" {above / 2**20:>9.0f} {per} {r['worker_kib'] / 1024:>10.0f} {r['read_seconds']:>7.1f}"
            f" {r['seconds']:>7.1f} {r['findings']:>8}  {r['digest']}"
        )
    print("code audited: " + ", ".join(sorted({r["code"] for *_, r in rows})))


if __name__ == "__main__":
    main()

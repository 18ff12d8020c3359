"""Steps 3 and 5 streamed find exactly what they found with the whole export in memory.

Random small credit-record logs and records tables, each tampered with at random (leaves
logged twice, malformed, of another type, out of order, missing, served twice; versions
missing, repeated, pointing elsewhere, changed, opened wrongly), checked by the in-memory
steps (`in_memory_steps`, the verifier's code before it streamed) and by the streamed
ones over the same export in memory and written to a file: the same findings in the same
order, the same counts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
import tempfile
from pathlib import Path
from typing import Any

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.audit.export import (
    AuditExport,
    ExportedEntry,
    ExportHeader,
    Opening,
    StoredVersion,
    entry_line,
    header_line,
    read_export,
    record_line,
)
from ledger.audit.findings import Finding
from ledger.audit.verifier import check_record_side
from ledger.logs.leaves import encode_leaf
from ledger.merkle.rfc9162 import hash_leaf
from tests.unit.audit import in_memory_steps
from tests.unit.audit.fakes import snapshot

LOG = "credit-records"


def _document(i: int, amount: int = 1) -> dict[str, Any]:
    return {"record_id": f"r-{i}", "version": 1, "amount": amount * i}


def _salt(i: int) -> bytes:
    return bytes([i % 250 + 1]) * 32


def _commitment(i: int) -> bytes:
    return hashlib.sha256(_salt(i) + rfc8785.dumps(_document(i))).digest()


def _leaf(i: int, rng: random.Random) -> bytes:
    """Record leaf i, or with probability a fifth one of the kinds of damage step 3.2 or 5 sees."""
    payload: dict[str, Any] = {"record_id": f"r-{i}", "version": 1, "commitment": "0x" + _commitment(i).hex()}
    kind = rng.randrange(14)
    if kind == 0:
        payload["record_id"] = f"r-{rng.randrange(i + 1)}"  # logged again, maybe
    elif kind == 1:
        payload["commitment"] = "0xzz"
    elif kind == 2:
        return encode_leaf(rng.choice(["access", "objection"]), i, payload)
    elif kind == 3:
        return b'{"seq":%d, "type":"credit-record"}' % i
    elif kind == 4:
        return encode_leaf("credit-record", i + 1, payload)
    elif kind == 5:
        payload["commitment"] = "0x" + bytes(32).hex()
    return encode_leaf("credit-record", i, payload)


def _versions(n: int, rng: random.Random) -> list[StoredVersion]:
    out = []
    for i in range(n):
        opening = Opening(_salt(i), _document(i)) if rng.random() < 0.3 else None
        out.append(StoredVersion(f"r-{i}", 1, i, _commitment(i), b"", opening))
    for _ in range(rng.randrange(4)):
        if not out:
            break
        j = rng.randrange(len(out))
        v = out[j]
        change = rng.randrange(9)
        if change == 0:
            del out[j]
        elif change == 1:
            out.insert(rng.randrange(len(out) + 1), v)
        elif change == 2:
            out.append(dataclasses.replace(v, record_id=f"r-{n + j}"))  # the same entry again
        elif change == 3:
            out.append(dataclasses.replace(v, log_seq=rng.randrange(n + 3)))  # the same record again
        elif change == 4:
            out[j] = dataclasses.replace(v, commitment=bytes([7]) * 32)
        elif change == 5:
            out[j] = dataclasses.replace(v, leaf_hash=bytes([9]) * 32)
        elif change == 6:
            out[j] = dataclasses.replace(v, log_seq=n + 2 + rng.randrange(3))
        elif change == 7:
            out[j] = dataclasses.replace(v, record_id=f"r-{rng.randrange(n)}", version=rng.choice([1, 2]))
        else:
            document = _document(j, amount=2) if rng.random() < 0.5 else _document(j + 1)
            out[j] = dataclasses.replace(v, opening=Opening(_salt(j), document))
    if rng.random() < 0.3:
        rng.shuffle(out)
    return out


def _entries(data: list[bytes], rng: random.Random) -> list[ExportedEntry]:
    entries = [ExportedEntry(LOG, i, leaf) for i, leaf in enumerate(data)]
    for _ in range(rng.randrange(3)):
        change = rng.randrange(5)
        if change == 0 and entries:
            del entries[rng.randrange(len(entries))]
        elif change == 1 and entries:
            e = rng.choice(entries)
            leaf = e.leaf if rng.random() < 0.5 else encode_leaf("credit-record", e.seq, {"x": 1})
            entries.insert(rng.randrange(len(entries) + 1), ExportedEntry(LOG, e.seq, leaf))
        elif change == 2:
            rng.shuffle(entries)
        elif change == 3:  # far past the rest: kept apart from the dense range
            entries.append(
                ExportedEntry(LOG, len(data) + (1 << 20) + 40 + rng.randrange(3), data[0] if data else b"x")
            )
        else:
            entries.append(ExportedEntry(LOG, len(data) + rng.randrange(3), b"{}"))
    return entries


def _in_memory(
    entries: list[ExportedEntry], versions: list[StoredVersion], snap: Any, declared: int, included: bool
) -> tuple[list[Finding], tuple[Any, ...]]:
    findings: list[Finding] = []
    decoded, leaves, log = in_memory_steps.check_log(LOG, entries, snap, findings, declared_size=declared)
    records = in_memory_steps.check_records(decoded, leaves, versions, findings, included=included)
    return findings, (_log_counts(log), records)


def _log_counts(log: Any) -> tuple[Any, ...]:
    return (log.served, log.contiguous, log.anchored_size, log.unanchored, log.checkpoints)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_streamed_equals_in_memory(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randrange(14)
    data = [_leaf(i, rng) for i in range(n)]
    versions = [
        dataclasses.replace(v, leaf_hash=hash_leaf(data[v.log_seq]) if v.log_seq < n else bytes(32))
        if not v.leaf_hash
        else v
        for v in _versions(n, rng)
    ]
    entries = _entries(data, rng)
    anchored = data if rng.random() < 0.7 else [_leaf(i, random.Random(seed + 1)) for i in range(n)]
    sizes = sorted(rng.sample(range(1, n + 1), rng.randrange(min(n, 3) + 1))) if n else []
    snap = snapshot(anchored, sizes, LOG)
    declared = len({e.seq for e in entries}) + (1 if rng.random() < 0.1 else 0)
    flagged = rng.random() < 0.5
    included = bool(versions) or flagged
    expected = _in_memory(entries, versions, snap, declared, included)
    header = ExportHeader(31337, {}, 1, "2026-01-01T00:00:00+00:00", {LOG: declared}, flagged, False)
    in_memory = AuditExport(header=header, entries={LOG: entries}, records=versions)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.ndjson"
        # entries and stored versions interleaved at random, each kind in its own order
        kinds = sorted([0] * len(entries) + [1] * len(versions), key=lambda _: rng.random())
        queues = ([entry_line(LOG, e.seq, e.leaf) for e in entries], [record_line(v) for v in versions])
        lines = [queues[kind].pop(0) for kind in kinds]
        path.write_text("\n".join([header_line(header), *lines]) + "\n", encoding="utf-8")
        for export in (in_memory, read_export(path)):
            side = check_record_side(export, snap, [LOG], {LOG: declared})
            assert (side.findings, (_log_counts(side.logs[LOG]), side.records)) == expected

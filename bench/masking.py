"""Masking a registration record: time per record, beside copying the same dict.

Speed is measured here, never asserted in a test (a timing assertion fails on a loaded
machine, and under mutation testing each call goes through mutmut's trampolines).
Run: .venv/bin/python bench/masking.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger.domain.catalogue import default_catalogue
from ledger.domain.masking import mask_record
from tests.unit.test_masking import REGISTRATION as RECORD  # the unit tests' registration record

CALLS, ROUNDS = 2000, 7


def per_call(fn: object) -> float:
    start = time.perf_counter()
    for _ in range(CALLS):
        fn()  # type: ignore[operator]
    return (time.perf_counter() - start) / CALLS


def main() -> None:
    catalogue = default_catalogue()
    masked, copied = [], []
    for _ in range(ROUNDS):
        masked.append(per_call(lambda: mask_record("registration", RECORD, raw=False, catalogue=catalogue)))
        copied.append(per_call(lambda: dict(RECORD)))
    m, c = statistics.median(masked), statistics.median(copied)
    print(f"mask_record (registration, masked): {m * 1e6:8.1f} µs per record (median of {ROUNDS} rounds)")
    print(f"dict copy of the same record:       {c * 1e6:8.1f} µs per record (baseline, same run)")


if __name__ == "__main__":
    main()

"""The six bugs of issue 24 that once survived the whole suite, to plant one at a time by hand.

    .venv/bin/python tests/mutation/hand_mutants.py NAME   # plant it in the work tree
    .venv/bin/pytest -q tests/unit/release tests/unit/audit tests/unit/test_request_auth.py
    git checkout ledger/                                   # take it out again

Each must make a named test fail (see the README's "Mutation testing" section); NAME is
one of the keys of MUTANTS. An edit of the code it patches makes the planting fail loudly
rather than plant nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

MUTANTS = {
    "raw_ignores_request": (
        "ledger/release/service.py",
        "raw_categories = decision.raw_categories if job.signed.message.raw else 0",
        "raw_categories = decision.raw_categories",
    ),
    "one_raw_all_raw": (
        "ledger/release/service.py",
        "raw = bool(raw_categories >> self.catalogue.category(record.category).bit & 1)",
        "raw = bool(raw_categories)",
    ),
    "batch_not_filtered": (
        "ledger/release/service.py",
        "(r for r in found.get(job.subject, ()) if r.category in wanted)",
        "(r for r in found.get(job.subject, ()))",
    ),
    "answer_before_commit": (
        "ledger/release/service.py",
        "                appended = tx.append([_built_entry(job) for job in built])\n",
        "                appended = tx.append([_built_entry(job) for job in built])\n"
        "                for job, entry in zip(built, appended, strict=True):\n"
        "                    assert job.decision is not None\n"
        "                    receipt = Receipt(\n"
        "                        ACCESS_TRAIL_LOG, entry.seq, entry.leaf_hash,\n"
        "                        job.decision.block_number, job.digest,\n"
        "                    )\n"
        "                    job.result.set_result(Release(receipt=receipt, data_json=job.data_json))\n"
        "                built, appended = [], []\n",
    ),
    "deadline_finding_dropped": (
        "ledger/audit/verify_access.py",
        "        if timestamp > e.request.deadline:\n",
        "        if False:\n",
    ),
    "future_never_stale": (
        "ledger/request_auth.py",
        "if abs(now - timestamp) > max_age_seconds:",
        "if now - timestamp > max_age_seconds:",
    ),
}


def main() -> None:
    path, old, new = MUTANTS[sys.argv[1]]
    source = Path(path).read_text("utf-8")
    if source.count(old) != 1:
        raise SystemExit(f"{sys.argv[1]}: the code to mutate is not found once in {path}")
    Path(path).write_text(source.replace(old, new), "utf-8")
    print("planted", sys.argv[1], "in", path)


if __name__ == "__main__":
    main()

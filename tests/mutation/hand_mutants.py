"""Mutants planted by hand, one at a time, where mutmut cannot or did not plant them.

    .venv/bin/python tests/mutation/hand_mutants.py NAME           # plant it in the work tree
    .venv/bin/pytest -q tests/unit/release tests/unit/audit tests/unit/test_request_auth.py
    git checkout ledger/                                           # take it out again

    .venv/bin/python tests/mutation/hand_mutants.py --verify NAME...   # plant, run its tests, restore

NAME is one of the keys of MUTANTS. Two kinds:

- the six bugs of issue 24 that once survived the whole suite; each makes a named test fail
  (see the README's "Mutation testing" section);
- mutmut's mutants of `ledger.audit.rules._agreement_state`, named as mutmut names them: that
  function runs only while its module is imported (it builds the event handlers), so mutmut's
  per-call switch never reaches them. `tests/mutation/equivalent.md` lists them under "Killed
  by a hand-planted run" and `scores.py` counts them as killed, on the strength of
  `--verify` failing tests on each.

`--verify` runs the mutant's tests (`-x`, stopping at the first failure), restores the file
in every case, and exits non-zero if any mutant survived. An edit of the code a mutant
patches makes the planting fail loudly rather than plant nothing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import NamedTuple


class Mutant(NamedTuple):
    path: str
    old: str
    new: str
    tests: tuple[str, ...] = ("tests/unit/release", "tests/unit/audit", "tests/unit/test_request_auth.py")


_RULES = "ledger/audit/rules.py"
_RULES_TESTS = ("tests/unit/audit/test_rules.py",)
_LOOKUP = '        agreement = s.agreements.get(int(a["id"]))\n'
_STATE = "            agreement.state = state\n"

MUTANTS = {
    "raw_ignores_request": Mutant(
        "ledger/release/service.py",
        "raw_categories = decision.raw_categories if job.signed.message.raw else 0",
        "raw_categories = decision.raw_categories",
    ),
    "one_raw_all_raw": Mutant(
        "ledger/release/service.py",
        "raw = bool(raw_categories >> self.catalogue.category(record.category).bit & 1)",
        "raw = bool(raw_categories)",
    ),
    "batch_not_filtered": Mutant(
        "ledger/release/service.py",
        "(r for r in found.get(job.subject, ()) if r.category in wanted)",
        "(r for r in found.get(job.subject, ()))",
    ),
    "answer_before_commit": Mutant(
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
    "deadline_finding_dropped": Mutant(
        "ledger/audit/verify_access.py",
        "        if timestamp > e.request.deadline:\n",
        "        if False:\n",
    ),
    "future_never_stale": Mutant(
        "ledger/request_auth.py",
        "if abs(now - timestamp) > max_age_seconds:",
        "if now - timestamp > max_age_seconds:",
    ),
    "ledger.audit.rules.x__agreement_state__mutmut_1": Mutant(
        _RULES, _LOOKUP, "        agreement = None\n", _RULES_TESTS
    ),
    "ledger.audit.rules.x__agreement_state__mutmut_2": Mutant(
        _RULES, _LOOKUP, "        agreement = s.agreements.get(None)\n", _RULES_TESTS
    ),
    "ledger.audit.rules.x__agreement_state__mutmut_3": Mutant(
        _RULES, _LOOKUP, "        agreement = s.agreements.get(int(None))\n", _RULES_TESTS
    ),
    "ledger.audit.rules.x__agreement_state__mutmut_4": Mutant(
        _RULES, _LOOKUP, '        agreement = s.agreements.get(int(a["XXidXX"]))\n', _RULES_TESTS
    ),
    "ledger.audit.rules.x__agreement_state__mutmut_5": Mutant(
        _RULES, _LOOKUP, '        agreement = s.agreements.get(int(a["ID"]))\n', _RULES_TESTS
    ),
    "ledger.audit.rules.x__agreement_state__mutmut_6": Mutant(
        _RULES, "        if agreement is not None:\n", "        if agreement is None:\n", _RULES_TESTS
    ),
    "ledger.audit.rules.x__agreement_state__mutmut_7": Mutant(
        _RULES, _STATE, "            agreement.state = None\n", _RULES_TESTS
    ),
}


def plant(name: str) -> str:
    """Plant the mutant NAME in the work tree; return the file's original text."""
    mutant = MUTANTS[name]
    source = Path(mutant.path).read_text("utf-8")
    if source.count(mutant.old) != 1:
        raise SystemExit(f"{name}: the code to mutate is not found once in {mutant.path}")
    Path(mutant.path).write_text(source.replace(mutant.old, mutant.new), "utf-8")
    return source


def verify(name: str) -> bool:
    """Plant NAME, run its tests, restore the file; True when a test failed (killed)."""
    mutant = MUTANTS[name]
    original = plant(name)
    try:
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-x",
                "-p",
                "no:randomly",
                "-p",
                "no:cacheprovider",
                *mutant.tests,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        Path(mutant.path).write_text(original, "utf-8")
    lines = run.stdout.strip().splitlines()
    failed = next((line for line in lines if line.startswith("FAILED ")), "")
    summary = "; ".join(filter(None, [failed[:120], lines[-1] if lines else run.stderr.strip()]))
    killed = run.returncode == 1
    print(f"{name}: {'killed' if killed else 'SURVIVED'} ({summary})")
    return killed


def main() -> None:
    if sys.argv[1] == "--verify":
        names = sys.argv[2:] or list(MUTANTS)
        results = [verify(name) for name in names]
        raise SystemExit(0 if all(results) else 1)
    plant(sys.argv[1])
    print("planted", sys.argv[1], "in", MUTANTS[sys.argv[1]].path)


if __name__ == "__main__":
    main()

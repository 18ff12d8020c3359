"""Mutation score per module, from `mutmut results --all true` on standard input.

A mutant counts as killed when a test failed on it or it timed out. The list file named as
the first argument (`tests/mutation/equivalent.md`) sets two kinds apart by their mangled
names:

- `- \\`NAME\\`: why`: equivalent, no test can tell it from the code; left out of the score;
- `- killed by hand: \\`NAME\\`: ...`: a mutant mutmut cannot switch on (it survives mutmut's
  run without ever running), planted by hand instead with `tests/mutation/hand_mutants.py
  --verify NAME`, where a test fails on it; counted as killed, in its own column.

The score is killed (both kinds) over all mutants run, less the equivalent ones; "no test"
are those no fast test reaches at all, "unrun" those a stopped or partial run did not reach
(left out of the score, shown apart).
"""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

KILLED = {"killed", "timeout", "caught by type check", "killed by hand"}
_NAME = re.compile(r"^\s*(?P<name>(?P<module>[\w.]+?)\.x[_ǁ]\S+__mutmut_\d+): (?P<status>.+)$")
_EQUIVALENT = re.compile(r"^- `(?P<name>[^`]+__mutmut_\d+)`")
_BY_HAND = re.compile(r"^- killed by hand: `(?P<name>[^`]+__mutmut_\d+)`")


def listed(path: Path) -> tuple[set[str], set[str]]:
    """The equivalent mutants and those killed by a hand-planted run, named in PATH."""
    if not path.exists():
        return set(), set()
    lines = path.read_text("utf-8").splitlines()
    equivalent = {m["name"] for line in lines if (m := _EQUIVALENT.match(line))}
    by_hand = {m["name"] for line in lines if (m := _BY_HAND.match(line))}
    return equivalent, by_hand


def main() -> None:
    equivalent, by_hand = listed(Path(sys.argv[1])) if len(sys.argv) > 1 else (set(), set())
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    for line in sys.stdin:
        m = _NAME.match(line.rstrip("\n"))
        if m is None:
            continue
        status = m["status"].strip()
        if m["name"] in equivalent:
            status = "equivalent"
        elif m["name"] in by_hand and status != "not checked":
            status = "killed by hand"
        by_module[m["module"]][status] += 1
    print(
        f"{'module':<34} {'mutants':>7} {'unrun':>5} {'killed':>6} {'by hand':>7} {'surv.':>5} "
        f"{'no test':>7} {'equiv.':>6} {'score':>6}"
    )
    totals: Counter[str] = Counter()
    for module in sorted(by_module):
        counts = by_module[module]
        totals.update(counts)
        print(_row(module, counts))
    print(_row("all", totals))


def _row(name: str, counts: Counter[str]) -> str:
    total = sum(counts.values())
    killed = sum(counts[s] for s in KILLED)
    judged = total - counts["equivalent"] - counts["not checked"]
    score = f"{100 * killed / judged:5.1f}%" if judged else "  -  "
    return (
        f"{name:<34} {total:>7} {counts['not checked']:>5} {killed - counts['killed by hand']:>6} "
        f"{counts['killed by hand']:>7} {counts['survived']:>5} {counts['no tests']:>7} "
        f"{counts['equivalent']:>6} {score:>6}"
    )


if __name__ == "__main__":
    main()

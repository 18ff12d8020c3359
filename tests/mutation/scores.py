"""Mutation score per module, from `mutmut results --all true` on standard input.

A mutant counts as killed when a test failed on it or it timed out; a mutant listed
in the equivalence file named as the first argument (one mangled name per line, first
token) is set apart: no test can tell it from the code. The score is killed over all
mutants run, less the equivalent ones; "no tests" are those no fast test reaches at all,
"unrun" those a stopped or partial run did not reach (left out of the score, shown apart).
"""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

KILLED = {"killed", "timeout", "caught by type check"}
_NAME = re.compile(r"^\s*(?P<name>(?P<module>[\w.]+?)\.x[_ǁ]\S+__mutmut_\d+): (?P<status>.+)$")
_EQUIVALENT = re.compile(r"^- `(?P<name>[^`]+__mutmut_\d+)`")


def equivalent(path: Path) -> set[str]:
    if not path.exists():
        return set()
    return {m["name"] for line in path.read_text("utf-8").splitlines() if (m := _EQUIVALENT.match(line))}


def main() -> None:
    known_equivalent = equivalent(Path(sys.argv[1])) if len(sys.argv) > 1 else set()
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    for line in sys.stdin:
        m = _NAME.match(line.rstrip("\n"))
        if m is None:
            continue
        status = "equivalent" if m["name"] in known_equivalent else m["status"].strip()
        by_module[m["module"]][status] += 1
    print(
        f"{'module':<34} {'mutants':>7} {'unrun':>5} {'killed':>6} {'surv.':>5} {'no test':>7} "
        f"{'equiv.':>6} {'score':>6}"
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
        f"{name:<34} {total:>7} {counts['not checked']:>5} {killed:>6} {counts['survived']:>5} "
        f"{counts['no tests']:>7} {counts['equivalent']:>6} {score:>6}"
    )


if __name__ == "__main__":
    main()

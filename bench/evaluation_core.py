"""The evaluation core at population scale, on SYNTHETIC enterprises, in one process.

1. Portrait and score: 100,000 synthetic enterprises with about 20 records each are
   generated in chunks (not timed); for each, the portrait (30 indicators under the
   release rules), the score, grade and probability through our applier of the model
   document, and the four reason codes are computed (timed). Target: at least 5,000
   enterprises/s.
2. Training: a SYNTHETIC cohort of 100,000 enterprises (generation and portraits timed
   apart), then `training.train` on every sufficient portrait: monotone WoE binning,
   the logistic scorecard with PDO/odds scaling, the wrong-sign refit, the model
   document and its card (timed). Target: under 60 s. The applier is then held to
   optbinning's scores on every row.

Wall-clock and CPU times are both printed, with the load average: the machine is
shared, and CPU time is what the process itself spent.

    .venv/bin/python bench/evaluation_core.py                 # 100,000 and 100,000
    .venv/bin/python bench/evaluation_core.py --enterprises 20000 --train 20000
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import date

from ledger.evaluation.schema import default_indicators
from ledger.evaluation.scoring import Scorer
from ledger.evaluation.synthetic import SyntheticCohort
from ledger.evaluation.training import TrainingRow, TrainingSource, train

AS_OF = date(2025, 6, 30)
CHUNK = 5_000


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def training_rows(cohort: SyntheticCohort, count: int) -> tuple[list[TrainingRow], int, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    rows, excluded = [], 0
    for x in cohort.labelled(0, count):
        if x.portrait.sufficient:
            rows.append(TrainingRow(x.subject, x.portrait.values, x.default))
        else:
            excluded += 1
    return rows, excluded, time.perf_counter() - wall, time.process_time() - cpu


def bench_training(count: int) -> Scorer:
    indicators = default_indicators()
    cohort = SyntheticCohort(2025, AS_OF, indicators)
    rows, excluded, gen_wall, gen_cpu = training_rows(cohort, count)
    print(f"\nTRAINING on a SYNTHETIC cohort of {count:,} enterprises (seed 2025)")
    print(f"  generation + portraits: {gen_wall:.1f} s wall, {gen_cpu:.1f} s CPU (not part of training)")
    print(f"  rows with a sufficient portrait: {len(rows):,} ({excluded:,} insufficient, left out)")
    source = TrainingSource(
        synthetic=True,
        description_en="SYNTHETIC SME cohort (bench/evaluation_core.py)",
        description_zh="合成中小企业样本（bench/evaluation_core.py）",
        details={"generator": "ledger.evaluation.synthetic", "seed": 2025, "enterprises": count},
        excluded_insufficient=excluded,
    )
    wall, cpu = time.perf_counter(), time.process_time()
    trained = train(rows, indicators, source)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    card = trained.card
    met = "met" if wall < 60 else "NOT met"
    print(f"  training: {wall:.1f} s wall, {cpu:.1f} s CPU (target < 60 s: {met})")
    doc = trained.document
    print(f"  model sha256 {doc.content_hash().hex()}, {len(doc.indicators)} indicators")
    print(f"  left out, low IV: {', '.join(card.binning.dropped_low_iv) or '-'}")
    print(f"  left out, coefficient against the WoE: {', '.join(card.binning.dropped_wrong_sign) or '-'}")
    for name, m in (("train", card.metrics_train), ("test", card.metrics_test)):
        print(f"  SYNTHETIC {name}: rows {m.rows:,}, AUC {m.auc:.3f}, KS {m.ks:.3f}, Gini {m.gini:.3f}")
    print("  SYNTHETIC population per grade: " + ", ".join(
        f"{g.grade} {g.share:.1%} (defaults {g.observed_default_rate or 0:.1%})" for g in card.grades
    ))  # fmt: skip
    scorer = Scorer(trained.document)
    columns = {i: [r.values[i] for r in trained.rows] for i in trained.rows[0].values}
    theirs = trained.fitted.reference_scores(columns)
    ours = [scorer.score_only(r.values) for r in trained.rows]
    same = sum(1 for a, b in zip(ours, theirs, strict=True) if a == b)
    print(f"  our applier = optbinning's Scorecard.score on {same:,} of {len(ours):,} rows")
    return scorer


def bench_scoring(scorer: Scorer, count: int) -> None:
    indicators = default_indicators()
    cohort = SyntheticCohort(4242, AS_OF, indicators)  # other enterprises than the training ones
    evaluator = cohort.evaluator
    done = records = 0
    wall = cpu = 0.0
    grades: dict[str, int] = {}
    while done < count:
        n = min(CHUNK, count - done)
        chunk = [cohort.enterprise(k) for k in range(done, done + n)]  # not timed
        records += sum(len(e.records) for e in chunk)
        w, c = time.perf_counter(), time.process_time()
        for e in chunk:
            portrait = evaluator.evaluate(e.records, AS_OF)
            if portrait.sufficient:
                score = scorer.score(portrait.values)
                scorer.reasons(score)
                grades[score.grade] = grades.get(score.grade, 0) + 1
        wall += time.perf_counter() - w
        cpu += time.process_time() - c
        done += n
    print(f"\nPORTRAIT + SCORE of {count:,} SYNTHETIC enterprises ({records / count:.1f} records each)")
    print(f"  {count / wall:,.0f} enterprises/s wall ({wall:.1f} s), {count / cpu:,.0f} /s CPU ({cpu:.1f} s)")
    print(f"  target >= 5,000/s: {'met' if count / wall >= 5000 else 'NOT met'} (wall clock)")
    print(f"  scored {sum(grades.values()):,} (the rest insufficient); grades " + ", ".join(
        f"{g} {grades.get(g, 0) / max(1, sum(grades.values())):.1%}" for g in "ABCDE"
    ))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--enterprises", type=int, default=100_000, help="portraits and scores")
    parser.add_argument("--train", type=int, default=100_000, help="enterprises in the training cohort")
    args = parser.parse_args()
    print(f"evaluation core, SYNTHETIC data; {_load()}")
    scorer = bench_training(args.train)
    bench_scoring(scorer, args.enterprises)
    print(f"\n{_load()}")


if __name__ == "__main__":
    main()

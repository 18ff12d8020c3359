"""Credit evaluation: the SME portrait from records, and a published scorecard over it.

The pure core of the evaluation - no storage, no chain, no HTTP: records in (as the
release path would release them), portraits, scores, reasons and guidance out.

- `indicators` (+ `indicators-v1.json`, `indicators-v2.json`): the portrait's indicators
  as versioned data; `indicator_files`: every version held, by hash; `schema` and `facts`:
  what they may read (catalogue categories, conduct facts);
- `records`: records as plain data; `portrait`: the evaluator;
- `model`: the published model document; `scoring`: our applier of it (score, grade,
  probability, reason codes); `guidance`: what would change the grade;
- `synthetic`: the seeded SYNTHETIC SME cohort; `binning` (the only module importing
  optbinning) and `training`: the scorecard fit; `card`: the model card;
- `monitoring`: population stability and grade migration; `cohort_file`: cohort files.
"""

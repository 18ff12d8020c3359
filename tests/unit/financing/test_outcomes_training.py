"""`model train --outcomes`: observed outcomes when there are enough with both labels, the
synthetic cohort (said loudly) otherwise, a refusal without one. The observed file here is a
generated cohort relabelled as observed: the rule is about counts, not where rows come from."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ledger.cli import app

runner = CliRunner()


def synth(path: Path, count: int, seed: int) -> None:
    result = runner.invoke(
        app,
        [
            "model",
            "synth",
            "--out",
            str(path),
            "--count",
            str(count),
            "--seed",
            str(seed),
            "--as-of",
            "2025-06-30",
        ],
    )
    assert result.exit_code == 0, result.output


def as_observed(source: Path, target: Path) -> None:
    lines = source.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    header.update(
        synthetic=False, description_en="observed outcomes (test)", description_zh="观测结果（测试）"
    )
    target.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n", encoding="utf-8")


def train(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["model", "train", *args])
    return result.exit_code, result.stdout, result.stderr


def test_enough_observed_outcomes_are_trained_on(tmp_path: Path) -> None:
    synth(tmp_path / "gen.jsonl", 400, 5)
    as_observed(tmp_path / "gen.jsonl", tmp_path / "observed.jsonl")
    code, stdout, stderr = train(
        "--outcomes", str(tmp_path / "observed.jsonl"), "--min-outcomes", "50", "--out", str(tmp_path / "m")
    )
    assert code == 0, stderr
    trained = json.loads(stdout)
    assert trained["synthetic"] is False and trained["trained_on"].endswith("observed.jsonl")


def test_too_few_observed_outcomes_fall_back_to_the_synthetic_cohort(tmp_path: Path) -> None:
    synth(tmp_path / "few.jsonl", 60, 6)
    as_observed(tmp_path / "few.jsonl", tmp_path / "observed.jsonl")
    synth(tmp_path / "cohort.jsonl", 400, 7)
    code, stdout, stderr = train(
        "--outcomes", str(tmp_path / "observed.jsonl"), "--cohort", str(tmp_path / "cohort.jsonl"),
        "--min-outcomes", "500", "--out", str(tmp_path / "m"),
    )  # fmt: skip
    assert code == 0, stderr
    assert "fewer than 500" in stderr and "SYNTHETIC cohort" in stderr
    assert json.loads(stdout)["synthetic"] is True


def test_too_few_observed_outcomes_and_no_cohort_is_refused(tmp_path: Path) -> None:
    synth(tmp_path / "few.jsonl", 60, 6)
    as_observed(tmp_path / "few.jsonl", tmp_path / "observed.jsonl")
    code, _, stderr = train("--outcomes", str(tmp_path / "observed.jsonl"), "--out", str(tmp_path / "m"))
    assert code == 1 and "at least 500 with both labels" in stderr
    assert not (tmp_path / "m").exists()
    code, _, stderr = train("--out", str(tmp_path / "m"))
    assert code == 1 and "--cohort" in stderr

"""`credit-ledger model synth|train|show|monitor` end to end on a small SYNTHETIC cohort."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from typer.testing import CliRunner

from ledger.cli import app
from ledger.evaluation.cohort_file import read_cohort

runner = CliRunner()
AS_OF, LATER = "2025-06-30", "2025-12-31"


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["model", *args])
    return result.exit_code, result.stdout, result.stderr


def test_synth_train_show_monitor(tmp_path: Path) -> None:
    cohort, later, out = tmp_path / "cohort.jsonl", tmp_path / "later.jsonl", tmp_path / "model"
    code, stdout, _ = run("synth", "--out", str(cohort), "--count", "400", "--seed", "3", "--as-of", AS_OF)
    assert code == 0 and json.loads(stdout)["synthetic"] is True
    data = read_cohort(cohort)
    assert data.synthetic and len(data.entries) == 400 and data.header["seed"] == 3
    assert "SYNTHETIC" in data.header["description_en"]

    code, stdout, stderr = run("train", "--cohort", str(cohort), "--out", str(out), "--model-version", "7")
    assert code == 0, stderr
    trained = json.loads(stdout)
    assert trained["synthetic"] is True and trained["auc_test"] > 0.6
    assert hashlib.sha256((out / "model.json").read_bytes()).hexdigest() == trained["model_sha256"]
    assert hashlib.sha256((out / "card.json").read_bytes()).hexdigest() == trained["card_sha256"]

    code, stdout, _ = run("show", str(out / "model.json"), "--card", str(out / "card.json"))
    shown = json.loads(stdout)
    assert code == 0 and shown["sha256"] == trained["model_sha256"] and shown["model_version"] == "7"
    assert shown["card"]["synthetic"] is True and shown["card"]["training_rows"] > 300

    code, stdout, _ = run("synth", "--out", str(later), "--count", "200", "--seed", "4", "--as-of", LATER)
    html = tmp_path / "monitor.html"
    code, stdout, stderr = run(
        "monitor", "--model", str(out / "model.json"), "--card", str(out / "card.json"),
        "--current", str(later), "--previous", str(cohort), "--html", str(html),
    )  # fmt: skip
    assert code == 0, stderr
    report = json.loads(stdout)
    assert report["synthetic"] is True and report["population"] > 150
    assert {s["name"] for s in report["indicators"]} == {i["id"] for i in shown["indicators"]}
    assert report["migration"]["entered"] + report["migration"]["left"] > 0  # other enterprises
    assert "population stability" in html.read_text("utf-8")


def test_synth_with_records(tmp_path: Path) -> None:
    cohort = tmp_path / "cohort.jsonl"
    code, _, _ = run("synth", "--out", str(cohort), "--count", "5", "--records", "--as-of", "2025-06-30")
    lines = [json.loads(x) for x in cohort.read_text("utf-8").splitlines()]
    assert code == 0 and len(lines) == 6 and all(len(x["records"]) > 0 for x in lines[1:])


def test_show_refuses_a_malformed_model_naming_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "model.json"
    bad.write_text(json.dumps({"format": "credit-ledger/scorecard", "format_version": 1}), "utf-8")
    code, _, stderr = run("show", str(bad))
    assert code == 1 and "model_id: Field required" in stderr
    code, _, stderr = run("synth", "--out", str(tmp_path / "x.jsonl"), "--as-of", "30/06/2025")
    assert code == 1 and "--as-of" in stderr


def test_train_refuses_a_cohort_of_other_indicators(tmp_path: Path) -> None:
    cohort = tmp_path / "cohort.jsonl"
    cohort.write_text(json.dumps({"kind": "cohort", "indicator_version": 9}) + "\n", "utf-8")
    code, _, stderr = run("train", "--cohort", str(cohort), "--out", str(tmp_path / "m"))
    assert code == 1 and "indicator file v9, not v1" in stderr
    header = json.dumps({"kind": "cohort", "indicator_version": 1})
    cohort.write_text(header + "\n" + '{"kind": "x"}\n', "utf-8")
    code, _, stderr = run("train", "--cohort", str(cohort), "--out", str(tmp_path / "m"))
    assert code == 1 and "cohort.jsonl:2.kind" in stderr


def test_synth_and_train_under_indicator_file_v2(tmp_path: Path) -> None:
    from ledger.evaluation.schema import indicator_files

    v2 = indicator_files().version(2)
    cohort, out = tmp_path / "cohort.jsonl", tmp_path / "model"
    code, _, stderr = run(
        "synth", "--out", str(cohort), "--count", "400", "--seed", "3", "--as-of", AS_OF, "--indicators", "2"
    )
    assert code == 0, stderr
    header = read_cohort(cohort).header
    assert (header["indicator_version"], header["indicator_sha256"]) == (2, v2.content_hash().hex())
    code, _, stderr = run("train", "--cohort", str(cohort), "--out", str(out))
    assert code == 0, stderr
    model = json.loads((out / "model.json").read_text("utf-8"))
    assert model["indicator_file"] == {"version": 2, "sha256": v2.content_hash().hex()}

    code, _, stderr = run("synth", "--out", str(cohort), "--count", "5", "--indicators", "3")
    assert code == 1 and "--indicators: indicator_file.version: no v3 is held here" in stderr
    # a header naming a hash the platform does not hold
    cohort.write_text(
        json.dumps({"kind": "cohort", "indicator_version": 2, "indicator_sha256": "ab" * 32}) + "\n"
    )
    code, _, stderr = run("train", "--cohort", str(cohort), "--out", str(out))
    assert code == 1 and "no indicator file abababababab… is held here" in stderr, stderr

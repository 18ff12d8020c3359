"""The stand-alone script in the README gives the platform's score, to the point.

The script is taken from the README itself (the indented block that starts with
`# score.py`), so the text an outsider copies is the text tested.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from ledger.evaluation.model import ModelDocument
from ledger.evaluation.scoring import Scorer
from ledger.evaluation.training import TrainedModel

README = Path(__file__).resolve().parents[3] / "README.md"


def readme_script() -> str:
    lines = README.read_text("utf-8").splitlines()
    start = next(k for k, line in enumerate(lines) if line.startswith("    # score.py:"))
    block: list[str] = []
    for line in lines[start:]:
        if line and not line.startswith("    "):
            break
        block.append(line)
    return textwrap.dedent("\n".join(block)).strip() + "\n"


def test_the_script_uses_the_standard_library_only() -> None:
    imports = [line for line in readme_script().splitlines() if line.startswith(("import ", "from "))]
    assert imports == ["import bisect", "import json", "import sys"]


def test_the_readme_script_scores_as_the_platform_does(trained: TrainedModel) -> None:
    namespace: dict[str, Any] = {"__name__": "readme"}
    exec(compile(readme_script(), "README.md:score.py", "exec"), namespace)
    model = json.loads(trained.document.canonical())  # the published bytes, as an outsider reads them
    scorer = Scorer(trained.document)
    portraits = [dict(r.values) for r in trained.rows]
    assert any(v is None for p in portraits for v in p.values())  # missing bins are exercised
    for portrait in portraits:
        ours = scorer.score(portrait)
        total, grade, probability = namespace["score"](model, portrait)
        assert (total, grade) == (ours.score, ours.grade)
        assert probability == pytest.approx(ours.probability, rel=1e-12)


def test_the_readme_script_as_a_program(trained: TrainedModel, tmp_path: Path) -> None:
    script, model, portrait = tmp_path / "score.py", tmp_path / "model.json", tmp_path / "portrait.json"
    script.write_text(readme_script(), "utf-8")
    model.write_bytes(trained.document.canonical())
    row = trained.rows[0]
    portrait.write_text(json.dumps(dict(row.values)), "utf-8")
    command = [sys.executable, "-I", str(script), str(model), str(portrait)]
    run = subprocess.run(command, capture_output=True, text=True, check=True)
    ours = Scorer(trained.document).score(row.values)
    assert run.stdout.strip() == f"{ours.score} {ours.grade} {ours.probability:.6f}"


def test_the_readme_script_on_bin_edges_and_missing_values(model: ModelDocument) -> None:
    """Values exactly on a split, and no value: where an off-by-one would show."""
    namespace: dict[str, Any] = {"__name__": "readme"}
    exec(compile(readme_script(), "README.md:score.py", "exec"), namespace)
    published = json.loads(model.canonical())
    scorer = Scorer(model)
    for grade in (None, 0.0, 1.5, 3.5, 4.0):
        for penalties in (0.0, 0.5, 2.5, 3.0):
            for patents in (None, 0.5):
                portrait = {"tax_credit_grade": grade, "penalties": penalties, "patents": patents}
                ours = scorer.score(portrait)
                assert namespace["score"](published, portrait)[:2] == (ours.score, ours.grade)

"""Applying a model loads no training machinery: the portrait, the score, the reasons and
the guidance run on the standard library and pydantic alone (optbinning, pandas, numpy and
scikit-learn load only to train or to write a card), and read no catalogue or storage."""

from __future__ import annotations

import subprocess
import sys


def test_applying_a_model_loads_no_training_library_and_no_storage() -> None:
    code = (
        "import sys; import ledger.evaluation.portrait, ledger.evaluation.scoring, "
        "ledger.evaluation.guidance, ledger.evaluation.model, ledger.evaluation.monitoring; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('optbinning', 'pandas', 'numpy', 'sklearn', 'sqlalchemy', 'web3', 'fastapi') "
        "or m.startswith(('ledger.domain', 'ledger.storage', 'ledger.chain'))))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"

"""Under mutation testing (`scripts/mutation`), a property test that fails is not shrunk.

A mutant is killed by any failing example; shrinking it to the smallest one only costs
time, once for each of hundreds of mutants.
"""

from __future__ import annotations

import os

from hypothesis import Phase, settings

settings.register_profile("mutation", phases=[Phase.explicit, Phase.reuse, Phase.generate])
if os.environ.get("LEDGER_MUTATION"):
    settings.load_profile("mutation")

"""Each test starts with the auditor's memo caches empty; property tests are not shrunk under mutation.

The caches (the signer per public key, the subject hash per subject, the checksum verdict
per address) only save work, but a test that finds them warm never runs the code that
fills them. Under mutation testing (`scripts/mutation`) every mutant's tests run in a
process forked after the clean run, where they are all warm: emptying them here is what
lets a mutant of that code be caught. A property test that fails there is not shrunk
(see `tests/unit/release/conftest.py`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import Phase, settings

from ledger.audit import leaves, request_sig

settings.register_profile("mutation", phases=[Phase.explicit, Phase.reuse, Phase.generate])
if os.environ.get("LEDGER_MUTATION"):
    settings.load_profile("mutation")


@pytest.fixture(autouse=True)
def _cold_caches() -> Iterator[None]:
    for cache in (request_sig._addresses, request_sig._subject_hashes, leaves._checksums):
        cache.clear()
    yield

"""The step both release paths share once the chain answered: freshness of B, the refusal."""

from __future__ import annotations

import pytest

from ledger.chain.consents import Decision, Reason
from ledger.chain.errors import ChainStale
from ledger.evaluation_release.service import EvaluationRefused
from ledger.release.outcome import check_fresh
from ledger.release.service import ReleaseRefused


def decision(timestamp: int) -> Decision:
    return Decision(True, Reason.ALLOWED, 1, 0, 42, timestamp)


def test_a_block_exactly_as_old_as_allowed_passes_one_second_older_is_stale() -> None:
    check_fresh(decision(1_000), 1_030, 30, nothing="released")
    with pytest.raises(ChainStale) as stale:
        check_fresh(decision(1_000), 1_031, 30, nothing="released")
    assert stale.value.message == "the chain's latest block 42 is 31 s old (at most 30 s): nothing released"
    with pytest.raises(ChainStale, match=r"\(at most 30 s\): nothing evaluated$"):
        check_fresh(decision(1_000), 1_031, 30, nothing="evaluated")


def test_each_path_names_its_refusal() -> None:
    release, evaluation = (
        ReleaseRefused(Reason.NO_COVERING_GRANT, 7),
        EvaluationRefused(Reason.NO_COVERING_GRANT, 7),
    )
    assert (release.code, release.message) == (
        "release_refused",
        "release refused at block 7: no_covering_grant",
    )
    assert (evaluation.code, evaluation.message) == (
        "evaluation_refused",
        "evaluation refused at block 7: no_covering_grant",
    )
    assert (
        (release.reason, release.block)
        == (evaluation.reason, evaluation.block)
        == (Reason.NO_COVERING_GRANT, 7)
    )

"""What every path that releases through the access trail shares once the chain has answered.

A data release (`ledger.release.service`) and an evaluation, the release of a derived
result (`ledger.evaluation_release.service`), take the same step after `authorize` at
block B: the decision must rest on a block fresh at the release's own time (else the
chain is stale and nothing leaves), a refusal names the contract's reason and block, and
what leaves is canonical JSON with a receipt of the trail entry logged before it. Written
once here; each path names its refusal (`noun`, `code`) and what was not done.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

from ledger.chain.consents import Decision, Reason
from ledger.chain.errors import ChainStale
from ledger.errors import NotAuthorized

__all__ = ["ChainRefused", "Receipt", "Released", "check_fresh"]


class ChainRefused(NotAuthorized):
    """The chain refused at block B; `reason` is the contract's reason code."""

    #: what was refused, as the message names it ("release", "evaluation")
    noun: ClassVar[str] = "release"

    def __init__(self, reason: Reason, block: int) -> None:
        super().__init__(f"{self.noun} refused at block {block}: {reason.name.lower()}")
        self.reason = reason
        self.block = block


def check_fresh(decision: Decision, at: int, max_block_age_seconds: int, *, nothing: str) -> None:
    """Refuse (`ChainStale`) a decision whose block is older than allowed at the release's time `at`.

    The chain's latest block on an idle or lagging node can be minutes old; a decision
    there may miss a revocation or suspension the network already holds. Expiries are
    judged at the release's time whatever the block's, so only the block's age is bounded.
    `nothing` says what did not happen ("released", "evaluated").
    """
    age = at - decision.block_timestamp
    if age > max_block_age_seconds:
        raise ChainStale(
            f"the chain's latest block {decision.block_number} is {age} s old "
            f"(at most {max_block_age_seconds} s): nothing {nothing}"
        )


@dataclass(frozen=True)
class Receipt:
    log: str
    index: int
    leaf_hash: bytes
    block: int
    response_hash: bytes


@dataclass(frozen=True)
class Released:
    receipt: Receipt
    #: what was released as RFC 8785 canonical JSON: the bytes `receipt.response_hash`
    #: covers, which the API sends as they are
    data_json: bytes

    @property
    def data(self) -> dict[str, Any]:
        """What was released, as a fresh object."""
        data: dict[str, Any] = json.loads(self.data_json)
        return data

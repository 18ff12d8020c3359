"""What the verifier reports: numbered steps and typed findings ("expected X, got Y").

Every check of the audit belongs to one numbered step, so a finding says exactly which
promise failed and where (log, entry index), and a regulator reading the report can
look the step up in the list below. A finding is data, not an exception: the verifier
goes on after one, so a single run reports every problem in the trail.

Steps
-----
1     deployment: the endpoint is the manifest's chain, the contracts have code, and the
      export names the same deployment.
2.1   checkpoint history: the CheckpointAnchored events of each log chain up from 0,
      each growing the log.
2.2   latest checkpoint: `Checkpoints.latest(log)` is the last event's (size, root).
3.1   sequence: the entries of each log are numbered 0, 1, 2 … with no gap or duplicate.
3.2   leaf: each leaf is canonical JSON with the log's type tag and its own index.
3.3   root: the entries rebuild the root anchored at every checkpoint.
3.4   consistency: the RFC 9162 consistency proof between consecutive checkpoints,
      computed from the entries, verifies against the anchored roots.
3.5   completeness: no anchored entry is missing from the export.
4.1   access payload: the access-trail entry has every field, with the right types.
4.2   request match: the signed request names exactly what the entry says was released.
4.3   signature: the request is the institution's EIP-712 signature (low-s, bound to
      chain id and the Consents contract).
4.4   nonce: no two entries carry the same request nonce.
4.5   block and deadline: block B is on chain, after the deployment, and its timestamp
      is not past the request's deadline.
4.6   authorization: replayed from the contracts' events at block B, authorization
      allows the release with the same grant and exactly the raw categories released.
4.7   on-chain confirmation: the contract's own `authorize` at block B agrees with the
      local replay (on a sample, and on every entry the replay refused).
4.8   sensitivity level: the level authorization was asked at is the level of what was
      requested under the catalogue in force at B (recognised by its on-chain content
      hash), so no release passed an agreement's maximum by understating it.
5.1   record version: each stored record version matches its log leaf (record id,
      version, commitment, leaf hash).
5.2   record completeness: every record leaf has exactly one stored version.
5.3   record opening: SHA-256(salt ‖ canonical record) recomputes the leaf's commitment.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

__all__ = ["Finding", "Step"]


class Step(Enum):
    """A numbered step of the audit; the value is its number, `title` what it checks."""

    DEPLOYMENT = "1"
    CHECKPOINT_HISTORY = "2.1"
    CHECKPOINT_LATEST = "2.2"
    SEQUENCE = "3.1"
    LEAF = "3.2"
    ROOT = "3.3"
    CONSISTENCY = "3.4"
    COMPLETENESS = "3.5"
    ACCESS_PAYLOAD = "4.1"
    REQUEST_MATCH = "4.2"
    SIGNATURE = "4.3"
    NONCE = "4.4"
    BLOCK = "4.5"
    AUTHORIZATION = "4.6"
    ONCHAIN = "4.7"
    LEVEL = "4.8"
    RECORD_VERSION = "5.1"
    RECORD_COMPLETENESS = "5.2"
    RECORD_OPENING = "5.3"
    EVALUATION_MODEL = "6.1"
    EVALUATION_INPUTS = "6.2"
    EVALUATION_RESULT = "6.3"
    EVALUATION_REQUEST = "6.4"

    @property
    def title(self) -> str:
        return _TITLES[self]


_TITLES = {
    Step.DEPLOYMENT: "deployment",
    Step.CHECKPOINT_HISTORY: "checkpoint history",
    Step.CHECKPOINT_LATEST: "latest checkpoint",
    Step.SEQUENCE: "sequence numbers",
    Step.LEAF: "leaf encoding",
    Step.ROOT: "anchored roots",
    Step.CONSISTENCY: "consistency proofs",
    Step.COMPLETENESS: "completeness",
    Step.ACCESS_PAYLOAD: "access payload",
    Step.REQUEST_MATCH: "request matches release",
    Step.SIGNATURE: "request signature",
    Step.NONCE: "request nonce",
    Step.BLOCK: "block and deadline",
    Step.AUTHORIZATION: "authorization replay",
    Step.ONCHAIN: "on-chain confirmation",
    Step.LEVEL: "sensitivity level",
    Step.RECORD_VERSION: "record version",
    Step.RECORD_COMPLETENESS: "record completeness",
    Step.RECORD_OPENING: "record opening",
    Step.EVALUATION_MODEL: "evaluation model approved at B",
    Step.EVALUATION_INPUTS: "evaluation inputs opened",
    Step.EVALUATION_RESULT: "evaluation recomputed",
    Step.EVALUATION_REQUEST: "evaluation request signed",
}


@dataclass(frozen=True)
class Finding:
    """One failed check: which step, where (log and entry index, when it has one), what."""

    step: Step
    log: str | None
    index: int | None
    what: str
    expected: str | None = None
    got: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step.value,
            "check": self.step.title,
            "log": self.log,
            "index": self.index,
            "what": self.what,
            "expected": self.expected,
            "got": self.got,
        }

    def __str__(self) -> str:
        where = "" if self.log is None else f" {self.log}" + ("" if self.index is None else f"[{self.index}]")
        detail = ""
        if self.expected is not None or self.got is not None:
            detail = f" (expected {self.expected}, got {self.got})"
        return f"step {self.step.value} {self.step.title}{where}: {self.what}{detail}"

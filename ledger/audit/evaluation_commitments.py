"""Step 6.2, credit commitments: an evaluation named exactly the subject's commitments at B.

An evaluation reads the subject's credit commitments from the chain at its block B and
names each in its trail entry (`commitments`: id, kind, signing account, transaction,
block, block time and business day, breached or kept as of B, and the breach's block).
Re-derived here from the contracts' events alone (the audit's chain snapshot), replayed
in chain order up to B, as documented in the README ("Evaluation as a release"):

* the subject's accounts: every account `EnterpriseRegistered` or `EnterpriseKeyRotated`
  (old and new) under keccak256 of its USCC, at or before B - an account is admitted once,
  so a rotated-away key's commitments stay the enterprise's;
* its commitments: every `CommitmentMade` by one of those accounts at or before B, of an
  enterprise's kinds (`EnterpriseTruthfulness` 1, `RepairApplicant` 2);
* breached: a `CommitmentBreached` for its id at or before B;
* its date: the business day - China Standard Time, UTC+8, the platform's calendar as the
  README states it - of its block's timestamp.

A commitment left out, one named that is not the subject's by B, or one named with
another state (a breached one reported kept), transaction, block or date, is a finding.
Nothing here is imported from the writing side.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from eth_utils import keccak

from ledger.audit.events import ChainEvent
from ledger.audit.findings import Finding, Step
from ledger.audit.leaves import ACCESS_TRAIL_LOG

__all__ = ["COMMITMENT_PREFIX", "CommitmentReplay", "check_commitments", "commitment_views"]

#: the platform's business day: China Standard Time (README "Evaluation as a release")
BUSINESS_TIME = timezone(timedelta(hours=8))
#: `IAgreements.CommitmentKind` of the kinds an enterprise signs, as the entry names them
ENTERPRISE_KINDS = {1: "enterprise_truthfulness", 2: "repair_applicant"}
#: a commitment's id among the portrait's inputs
COMMITMENT_PREFIX = "commitment-"


@dataclass(frozen=True, slots=True)
class _Made:
    id: int
    kind: int
    member: str
    block: int
    transaction_hash: bytes


class CommitmentReplay:
    """The commitment, membership and breach events of a chain snapshot, asked at any block."""

    def __init__(self, events: Sequence[ChainEvent]) -> None:
        self._accounts: dict[bytes, list[tuple[int, str]]] = {}  # uscc hash -> (block, account)
        self._made: dict[str, list[_Made]] = {}  # account -> its commitments
        self._breached: dict[int, int] = {}  # commitment id -> block of its first breach
        for e in sorted(events, key=lambda e: e.position):
            a = e.args
            if e.name == "EnterpriseRegistered":
                self._accounts.setdefault(bytes(a["usccHash"]), []).append((e.block, str(a["account"])))
            elif e.name == "EnterpriseKeyRotated":
                for account in (str(a["oldAccount"]), str(a["newAccount"])):
                    self._accounts.setdefault(bytes(a["usccHash"]), []).append((e.block, account))
            elif e.name == "CommitmentMade":
                made = _Made(int(a["id"]), int(a["kind"]), str(a["member"]), e.block, e.transaction_hash)
                self._made.setdefault(made.member, []).append(made)
            elif e.name == "CommitmentBreached":
                self._breached.setdefault(int(a["id"]), e.block)

    def blocks(self) -> set[int]:
        """The blocks of every commitment made: their timestamps date the commitments."""
        return {m.block for made in self._made.values() for m in made}

    def at(
        self, subject: str, block: int, timestamp: Callable[[int], int | None]
    ) -> dict[int, dict[str, Any]]:
        """By id, the subject's commitments as of `block`, as its evaluation's entry should name them."""
        accounts = {a for b, a in self._accounts.get(keccak(subject.encode("utf-8")), ()) if b <= block}
        out: dict[int, dict[str, Any]] = {}
        for account in accounts:
            for m in self._made.get(account, ()):
                if m.block > block or m.kind not in ENTERPRISE_KINDS:
                    continue
                breach = self._breached.get(m.id)
                breached_block = breach if breach is not None and breach <= block else None
                made_at = timestamp(m.block)
                out[m.id] = {
                    "id": m.id,
                    "kind": ENTERPRISE_KINDS[m.kind],
                    "member": m.member,
                    "tx": "0x" + m.transaction_hash.hex(),
                    "block": m.block,
                    "made_at": made_at,
                    "made_on": None if made_at is None else _day(made_at),
                    "breached": breached_block is not None,
                    "breached_block": breached_block,
                }
        return dict(sorted(out.items()))


def _day(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).astimezone(BUSINESS_TIME).date().isoformat()


def check_commitments(
    index: int,
    payload: Mapping[str, Any],
    replay: CommitmentReplay,
    timestamp: Callable[[int], int | None],
    findings: list[Finding],
) -> bool:
    """6.2: the entry names exactly the subject's commitments at its block B, each as of B."""
    block, subject = int(payload["block"]), str(payload["subject"])
    expected = replay.at(subject, block, timestamp)
    named: dict[Any, Mapping[str, Any]] = {c.get("id"): c for c in payload.get("commitments", [])}
    clean = True
    for commitment_id in sorted(expected.keys() - named.keys()):
        _finding(findings, index,
                 f"credit commitment {commitment_id} of the subject on chain by block {block} left out",
                 _text(expected[commitment_id]), "not named")  # fmt: skip
        clean = False
    for commitment_id in sorted(named.keys() - expected.keys(), key=str):
        _finding(findings, index,
                 f"credit commitment {commitment_id} is not one the subject's accounts made by block {block}",
                 "not a commitment of the subject", _text(named[commitment_id]))  # fmt: skip
        clean = False
    for commitment_id in sorted(named.keys() & expected.keys()):
        want, got = expected[commitment_id], named[commitment_id]
        if any(got.get(k) != v for k, v in want.items()) or set(got) != set(want):
            what = (
                f"credit commitment {commitment_id} is not as the chain's events give it at block {block} "
                "(kept or breached, account, transaction, block, date)"
            )
            _finding(findings, index, what, _text(want), _text(got))
            clean = False
    return clean


def commitment_views(payload: Mapping[str, Any]) -> list[tuple[str, str, str, bool]]:
    """The commitments the entry names as the portrait reads them: (input id, kind, day, breached)."""
    return [
        (f"{COMMITMENT_PREFIX}{c['id']}", str(c["kind"]), str(c["made_on"]), bool(c["breached"]))
        for c in payload.get("commitments", [])
    ]


def _text(c: Mapping[str, Any]) -> str:
    state = f"breached at block {c.get('breached_block')}" if c.get("breached") else "kept"
    where = f"in block {c.get('block')} ({c.get('made_on')}, {c.get('tx')})"
    return f"{c.get('kind')} by {c.get('member')} {where}, {state}"


def _finding(findings: list[Finding], index: int, what: str, expected: str, got: str) -> None:
    findings.append(Finding(Step.EVALUATION_INPUTS, ACCESS_TRAIL_LOG, index, what, expected, got))

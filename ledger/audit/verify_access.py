"""Step 4: every release in the access trail was asked for, signed, and authorized.

Evaluations (``evaluation`` leaves: a score and portrait released as a derived result)
go through the same checks with their own request's fields: the model's input
categories at the masked level, nothing raw (`ledger.audit.leaves.parse_evaluation_authorization`);
their signature, under the evaluation domain, is step 6.4's. Nonces are unique across
both kinds: a 32-byte random nonce occurs once in a trail.

For each access-trail entry: the payload is well-formed (4.1); the signed request names
exactly what the entry says was released (4.2) and is the institution's EIP-712
signature (4.3); its nonce appears once in the trail (4.4); block B is on chain, its
timestamp is not past the request's deadline, and it was fresh at the release's own
time: no older than the bound on a decision block's age (4.5); authorization replayed
at B, with expiries judged at the release's time, allowed the release with the same
grant and exactly the raw categories released (4.6),
asked at the sensitivity level the catalogue in force gives what was requested (4.8).

The per-leaf parts (decoding, parsing, recovering the signer) happen beforehand in
`ledger.audit.examine`, in worker processes for a long trail. The replay walks the
entries in block order while applying the contracts' events of
each block before deciding the entries at it (`ledger.audit.rules`); on-chain
confirmation (4.7) happens in `ledger.audit.onchain`.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_utils import keccak

from ledger.audit.catalogue import release_level
from ledger.audit.chain import ChainSnapshot
from ledger.audit.examine import Examined
from ledger.audit.findings import Finding, Step
from ledger.audit.leaves import ACCESS_TRAIL_LOG, ALERT_LEAF_TYPE, EVALUATION_LEAF_TYPE, AccessEntry
from ledger.audit.progress import NO_PROGRESS, Progress
from ledger.audit.rules import AuthorizationState, LocalDecision, Query
from ledger.audit.subject import subject_problem

__all__ = ["AccessResult", "Replayed", "check_access"]

LOG = ACCESS_TRAIL_LOG
#: the oldest a decision's block B may be at the release's time, by default: the release
#: path's `LEDGER_MAX_BLOCK_AGE_SECONDS` default, restated here so the audit stands alone
DEFAULT_MAX_BLOCK_AGE_SECONDS = 30
_REQUEST_FIELDS = ("subject", "categories", "purpose", "agreement_id")


@dataclass
class Replayed:
    """One entry's authorization replay: the query, its block, and the local decision."""

    query: Query
    block: int
    decision: LocalDecision


@dataclass
class AccessResult:
    #: well-formed releases (``access`` leaves)
    entries: list[AccessEntry] = field(default_factory=list)
    #: well-formed evaluations (``evaluation`` leaves), authorized as releases are
    evaluations: list[AccessEntry] = field(default_factory=list)
    #: well-formed alerts (``alert`` leaves), authorized as masked releases are
    alerts: list[AccessEntry] = field(default_factory=list)
    replayed: dict[int, Replayed] = field(default_factory=dict)
    #: entries whose replay did not allow exactly what was released
    unauthorized: list[int] = field(default_factory=list)
    per_institution_purpose: Counter[tuple[str, int]] = field(default_factory=Counter)
    levels_checked: int = 0
    #: releases at blocks whose catalogue document the export did not provide
    levels_unchecked: int = 0
    replay_seconds: float = 0.0


def _payloads(
    examined: Sequence[Examined], findings: list[Finding]
) -> tuple[list[AccessEntry], list[AccessEntry], list[AccessEntry]]:
    """4.1 well-formed payloads: (releases, evaluations, alerts); leaves of other types fail step 3.2."""
    releases: list[AccessEntry] = []
    evaluations: list[AccessEntry] = []
    alerts: list[AccessEntry] = []
    for x in examined:
        if x.payload_problem is not None:
            field_name, expected, got = x.payload_problem
            findings.append(Finding(Step.ACCESS_PAYLOAD, LOG, x.seq, f"field {field_name}", expected, got))
        elif x.entry is not None:
            tag = x.leaf.type if x.leaf is not None else None
            kind = (
                evaluations if tag == EVALUATION_LEAF_TYPE else alerts if tag == ALERT_LEAF_TYPE else releases
            )
            kind.append(x.entry)
    return releases, evaluations, alerts


def _request_match(e: AccessEntry, findings: list[Finding]) -> None:
    """4.2 the request names what was released, its subject a canonical USCC."""
    r = e.request
    problem = subject_problem(r.subject)
    if problem is not None:
        findings.append(
            Finding(
                Step.REQUEST_MATCH,
                LOG,
                e.index,
                f"request subject is not a canonical 统一社会信用代码: {problem}",
                "18 characters of the USCC alphabet with a valid check character",
                r.subject,
            )
        )
    if r.institution.lower() != e.institution.lower():
        findings.append(
            Finding(
                Step.REQUEST_MATCH,
                LOG,
                e.index,
                "request is by another institution",
                e.institution,
                r.institution,
            )
        )
    for name in _REQUEST_FIELDS:
        released, asked = getattr(e, name), getattr(r, name)
        if released != asked:
            findings.append(
                Finding(
                    Step.REQUEST_MATCH,
                    LOG,
                    e.index,
                    f"released {name} differs from the request",
                    str(asked),
                    str(released),
                )
            )


def _signatures(examined: Sequence[Examined], findings: list[Finding]) -> None:
    """4.3 each request is its institution's signature."""
    for x in examined:
        e, signer = x.entry, x.signer
        if e is None or signer is None:
            continue
        if isinstance(signer, str):
            findings.append(Finding(Step.SIGNATURE, LOG, e.index, f"request signature invalid: {signer}"))
        elif signer != bytes.fromhex(e.request.institution[2:]):
            findings.append(
                Finding(
                    Step.SIGNATURE,
                    LOG,
                    e.index,
                    "request is not signed by the institution it names",
                    e.request.institution,
                    "0x" + signer.hex(),
                )
            )


def _nonces(entries: list[AccessEntry], findings: list[Finding]) -> None:
    """4.4 no nonce used twice."""
    first: dict[bytes, int] = {}
    for e in entries:
        earlier = first.setdefault(e.request.nonce, e.index)
        if earlier != e.index:
            findings.append(
                Finding(
                    Step.NONCE,
                    LOG,
                    e.index,
                    f"request nonce already used by entry {earlier}: a replayed request",
                    "a fresh nonce",
                    "0x" + e.request.nonce.hex(),
                )
            )


def _blocks(
    entries: list[AccessEntry],
    snapshot: ChainSnapshot,
    findings: list[Finding],
    max_block_age: int,
    pushed: frozenset[int] = frozenset(),
) -> list[AccessEntry]:
    """4.5 block B on chain, not past the deadline, fresh at the release's time.

    Returns the entries that can be replayed (a stale block is a finding, and the
    replay still runs: it judges expiries at the release's time). `pushed` are the indices
    of alerts, which answer no request and so have no deadline.
    """
    out: list[AccessEntry] = []
    for e in entries:
        if not snapshot.deployment_block <= e.block <= snapshot.head:
            findings.append(
                Finding(
                    Step.BLOCK,
                    LOG,
                    e.index,
                    "authorization block is not a block of this deployment",
                    f"{snapshot.deployment_block}..{snapshot.head}",
                    str(e.block),
                )
            )
            continue
        timestamp = snapshot.timestamp(e.block)
        if timestamp is None:
            findings.append(Finding(Step.BLOCK, LOG, e.index, f"timestamp of block {e.block} unknown"))
            continue
        if e.index not in pushed and timestamp > e.request.deadline:
            findings.append(
                Finding(
                    Step.BLOCK,
                    LOG,
                    e.index,
                    f"authorized in block {e.block} after the request's deadline",
                    f"block time <= {e.request.deadline}",
                    str(timestamp),
                )
            )
        if e.at - timestamp > max_block_age:
            findings.append(
                Finding(
                    Step.BLOCK,
                    LOG,
                    e.index,
                    f"decided at block {e.block}, {e.at - timestamp} s older than the release",
                    f"block time >= {e.at - max_block_age}",
                    str(timestamp),
                )
            )
        out.append(e)
    return out


_uscc_hashes: dict[str, bytes] = {}


def _kind(e: AccessEntry, evaluated: frozenset[int], pushed: frozenset[int] = frozenset()) -> str:
    return "evaluation" if e.index in evaluated else "alert" if e.index in pushed else "release"


def _query(e: AccessEntry) -> Query:
    uscc_hash = _uscc_hashes.get(e.subject)
    if uscc_hash is None:
        uscc_hash = _uscc_hashes[e.subject] = keccak(e.subject.encode("utf-8"))
    return Query(e.institution.lower(), uscc_hash, e.categories, e.purpose, e.agreement_id, e.level, e.at)


def _level(
    e: AccessEntry, catalogue: Mapping[str, Any] | None, result: AccessResult, findings: list[Finding]
) -> None:
    """4.8 the level asked is the catalogue's level of what was requested."""
    if catalogue is None:
        result.levels_unchecked += 1
        return
    result.levels_checked += 1
    expected = release_level(catalogue, e.categories, e.request.raw)
    if expected is None:
        findings.append(
            Finding(
                Step.LEVEL,
                LOG,
                e.index,
                "categories name a bit the catalogue in force does not",
                None,
                str(e.categories),
            )
        )
    elif expected != e.level:
        findings.append(
            Finding(
                Step.LEVEL,
                LOG,
                e.index,
                f"authorization asked at another sensitivity level than the catalogue's at block {e.block}",
                str(expected),
                str(e.level),
            )
        )


def _replay(
    entries: list[AccessEntry],
    snapshot: ChainSnapshot,
    catalogues: Mapping[bytes, Mapping[str, Any]],
    result: AccessResult,
    findings: list[Finding],
    progress: Progress,
    evaluated: frozenset[int] = frozenset(),
    pushed: frozenset[int] = frozenset(),
) -> None:
    """4.6 authorization at B allowed exactly this release; 4.8 at the right level.

    `evaluated` and `pushed` are the indices of evaluations and alerts among `entries`
    (named so in findings).
    """
    state = AuthorizationState()
    events = snapshot.events
    next_event = 0
    ordered = sorted(entries, key=lambda e: (e.block, e.index))
    with progress.task("replaying authorization", len(ordered)) as task:
        for n, e in enumerate(ordered, start=1):
            while next_event < len(events) and events[next_event].block <= e.block:
                state.apply(events[next_event])
                next_event += 1
            query = _query(e)
            timestamp = snapshot.timestamps[e.block]
            decision = state.decide(query, timestamp)
            result.replayed[e.index] = Replayed(query, e.block, decision)
            _level(e, catalogues.get(state.catalogue_hash), result, findings)
            if not decision.allowed:
                result.unauthorized.append(e.index)
                findings.append(
                    Finding(
                        Step.AUTHORIZATION,
                        LOG,
                        e.index,
                        f"{_kind(e, evaluated, pushed)} not authorized at block {e.block}: "
                        f"{decision.reason.name}",
                        "ALLOWED",
                        decision.reason.name,
                    )
                )
            else:
                raw = decision.raw_categories if e.request.raw else 0
                if decision.grant_id != e.grant_id:
                    result.unauthorized.append(e.index)
                    findings.append(
                        Finding(
                            Step.AUTHORIZATION,
                            LOG,
                            e.index,
                            f"{_kind(e, evaluated, pushed)} names another grant than the one covering it "
                            f"at block {e.block}",
                            str(decision.grant_id),
                            str(e.grant_id),
                        )
                    )
                elif raw != e.raw_categories:
                    result.unauthorized.append(e.index)
                    findings.append(
                        Finding(
                            Step.AUTHORIZATION,
                            LOG,
                            e.index,
                            "released raw (unmasked) categories differ from what the grant and request allow",
                            str(raw),
                            str(e.raw_categories),
                        )
                    )
            if n % 1024 == 0:
                task.advance(1024)
        task.advance(len(ordered) % 1024)


def check_access(
    examined: Sequence[Examined],
    snapshot: ChainSnapshot,
    findings: list[Finding],
    *,
    catalogues: Mapping[bytes, Mapping[str, Any]] | None = None,
    progress: Progress = NO_PROGRESS,
    max_block_age: int = DEFAULT_MAX_BLOCK_AGE_SECONDS,
) -> AccessResult:
    """Steps 4.1-4.6 and 4.8 over the examined access-trail leaves (`ledger.audit.examine`):
    releases, and evaluations as the releases of derived results they are.

    `catalogues` are catalogue documents by content hash, for step 4.8; `max_block_age`
    the oldest (seconds) a decision's block may be at the release's time (4.5).
    """
    releases, evaluations, alerts = _payloads(examined, findings)
    result = AccessResult(entries=releases, evaluations=evaluations, alerts=alerts)
    for e in releases:
        _request_match(e, findings)
        result.per_institution_purpose[(e.institution, e.purpose)] += 1
    for e in evaluations:
        _request_match(e, findings)
    _signatures(examined, findings)
    _nonces(sorted(releases + evaluations, key=lambda e: e.index), findings)
    entries = sorted(releases + evaluations + alerts, key=lambda e: e.index)  # alerts answer no request
    started = time.perf_counter()
    pushed = frozenset(e.index for e in alerts)
    replayable = _blocks(entries, snapshot, findings, max_block_age, pushed)
    evaluated = frozenset(e.index for e in evaluations)
    _replay(replayable, snapshot, catalogues or {}, result, findings, progress, evaluated, pushed)
    result.replay_seconds = time.perf_counter() - started
    return result

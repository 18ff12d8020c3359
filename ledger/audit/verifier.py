"""The independent verifier: an export of the logs and a chain endpoint in, a report out.

Steps (numbers as in `ledger.audit.findings`, where each is described):

1. deployment — the endpoint, the manifest and the export agree on chain and contracts;
2. checkpoints — each log's CheckpointAnchored history chains up to `latest` (2.1, 2.2);
3. entries — contiguous, canonical, bound to their index, rebuilding every anchored
   root, consistent between checkpoints, none missing (3.1-3.5);
4. releases — each access-trail entry well-formed, matching its signed request, signed
   by the institution, with a fresh nonce and a live deadline, and authorized at its
   block by a local replay of the contracts' events (4.1-4.6), confirmed by the
   contract itself on a sample (4.7), at the catalogue's sensitivity level (4.8);
5. records — the records table matches the record log (5.1-5.3).

Steps 1-4.6 and 5 are pure functions of the export and a `ChainSnapshot`
(`verify_offline`), so tamper drills re-run them cheaply against one snapshot. The
`Verifier` reads the snapshot, runs them, asks the contract for step 4.7 and builds the
report. It takes its collaborators keyword-only and does no I/O until `verify`;
`Verifier.production` does the wiring for a JSON-RPC endpoint.

Nothing here imports the platform's writing side: leaves, the request's EIP-712 type
and the authorization rules are re-stated from their documentation; only the pure
RFC 9162 functions (`ledger.merkle`) and the compiled ABIs are shared.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ledger.audit.catalogue import content_hash
from ledger.audit.chain import ChainReader, ChainSnapshot
from ledger.audit.evaluation_commitments import CommitmentReplay
from ledger.audit.evaluation_inputs import RecordLog
from ledger.audit.evaluations import (
    EvaluationsResult,
    check_evaluations,
    evaluation_entries,
    evaluation_separator,
    model_reader,
)
from ledger.audit.examine import Examination
from ledger.audit.export import AuditExport
from ledger.audit.findings import Finding, Step
from ledger.audit.leaves import ACCESS_TRAIL_LOG, CREDIT_RECORDS_LOG
from ledger.audit.onchain import Authorizer, OnChainCheck, choose_sample, confirm_on_chain
from ledger.audit.progress import NO_PROGRESS, Progress
from ledger.audit.report import AuditReport, build_report
from ledger.audit.request_sig import RequestDomain
from ledger.audit.result import OfflineResult
from ledger.audit.verify_access import DEFAULT_MAX_BLOCK_AGE_SECONDS, check_access
from ledger.audit.verify_logs import LogResult, check_log, served
from ledger.audit.verify_records import check_records
from ledger.chain.deploy import Deployment

__all__ = ["OfflineResult", "Verifier", "VerifyOptions", "verify_offline"]

#: the logs every deployment has, checked even when the export serves none of their entries
STANDARD_LOGS = (CREDIT_RECORDS_LOG, ACCESS_TRAIL_LOG)

TimestampSource = Callable[[Sequence[int]], Mapping[int, int]]


@dataclass(frozen=True)
class VerifyOptions:
    #: entries confirmed on chain besides every refused one; None: all, 0: none
    onchain_sample: int | None = 256
    seed: int = 0
    #: processes recovering request signatures
    workers: int = 1
    #: the oldest (seconds) a release's decision block may be at the release's time
    max_block_age_seconds: int = DEFAULT_MAX_BLOCK_AGE_SECONDS


def log_names(export: AuditExport) -> list[str]:
    names = set(STANDARD_LOGS) | set(export.entries)
    if export.header is not None:
        names |= set(export.header.logs)
    return sorted(names)


def _deployment(
    export: AuditExport, snapshot: ChainSnapshot, deployment: Deployment, findings: list[Finding]
) -> None:
    """Step 1: chain id, contract code, and the deployment the export names."""
    if snapshot.chain_id != deployment.chain_id:
        findings.append(
            Finding(
                Step.DEPLOYMENT,
                None,
                None,
                "the endpoint is another chain than the manifest's",
                str(deployment.chain_id),
                str(snapshot.chain_id),
            )
        )
    for name in snapshot.missing_code:
        findings.append(
            Finding(
                Step.DEPLOYMENT,
                None,
                None,
                f"no code for {name} at the manifest's address",
                "contract code",
                "none",
            )
        )
    header = export.header
    if header is None:
        return
    if header.chain_id != deployment.chain_id:
        findings.append(
            Finding(
                Step.DEPLOYMENT,
                None,
                None,
                "the export is of another chain",
                str(deployment.chain_id),
                str(header.chain_id),
            )
        )
    for name, address in deployment.addresses.by_name().items():
        stated = header.contracts.get(name)
        if stated is not None and stated.lower() != address.lower():
            findings.append(
                Finding(
                    Step.DEPLOYMENT, None, None, f"the export names another {name} contract", address, stated
                )
            )


def verify_offline(
    export: AuditExport,
    snapshot: ChainSnapshot,
    deployment: Deployment,
    *,
    timestamps: TimestampSource | None = None,
    progress: Progress = NO_PROGRESS,
    workers: int = 1,
    max_block_age: int = DEFAULT_MAX_BLOCK_AGE_SECONDS,
) -> OfflineResult:
    """Steps 1-4.6, 4.8 and 5 over `export` against `snapshot`.

    `timestamps` fetches block timestamps the snapshot lacks (the verifier learns which
    blocks it needs only once the access entries are decoded); without it, blocks not in
    the snapshot are reported as unknown.
    """
    findings: list[Finding] = []
    seconds: dict[str, float] = {}
    # 1. deployment
    _deployment(export, snapshot, deployment, findings)
    # 3.2, 4.1 and 4.3 for each access-trail leaf on its own: started first, in worker
    # processes when asked, while the other logs are checked
    trail_entries = export.entries.get(ACCESS_TRAIL_LOG, [])
    domain = RequestDomain(deployment.chain_id, deployment.addresses.consents)
    examination = Examination(sorted(served(trail_entries).items()), domain.separator, workers=workers)
    try:
        return _verify(export, snapshot, examination, findings, seconds, timestamps, progress, max_block_age)
    finally:
        examination.close()


def _verify(
    export: AuditExport,
    snapshot: ChainSnapshot,
    examination: Examination,
    findings: list[Finding],
    seconds: dict[str, float],
    timestamps: TimestampSource | None,
    progress: Progress,
    max_block_age: int,
) -> OfflineResult:
    """`verify_offline` once the examination of the access trail has started."""
    trail_entries = export.entries.get(ACCESS_TRAIL_LOG, [])
    # 2.-3. checkpoints and entries of the other logs; 5. records
    logs: dict[str, LogResult] = {}
    declared = export.header.logs if export.header is not None else {}
    names = [n for n in log_names(export) if n != ACCESS_TRAIL_LOG]
    with progress.task("checking logs and anchored roots", len(names)) as task:
        for name in names:
            logs[name] = check_log(
                name, export.entries.get(name, []), snapshot, findings, declared_size=declared.get(name)
            )
            task.advance()
    started = time.perf_counter()
    record_log = logs[CREDIT_RECORDS_LOG]
    records = check_records(
        record_log.decoded, record_log.leaves, export.records, findings, included=export.includes_records
    )
    seconds["records"] = time.perf_counter() - started
    # 2.-3. of the access trail, with its leaves as examined; 4. releases
    started = time.perf_counter()
    with progress.task("examining releases (leaf, request, signature)", len(trail_entries)) as task:
        examined = examination.results(task.advance)
    seconds["examine"] = time.perf_counter() - started
    logs[ACCESS_TRAIL_LOG] = check_log(
        ACCESS_TRAIL_LOG,
        trail_entries,
        snapshot,
        findings,
        declared_size=declared.get(ACCESS_TRAIL_LOG),
        predecoded={x.seq: x.leaf if x.leaf is not None else str(x.leaf_problem) for x in examined},
    )
    seconds["leaves"] = sum(r.leaf_seconds for r in logs.values())
    seconds["merkle"] = sum(r.merkle_seconds for r in logs.values())
    if timestamps is not None:
        blocks = {x.entry.block for x in examined if x.entry is not None}
        snapshot = _with_timestamps(snapshot, blocks, timestamps)
    catalogues = {content_hash(c.document): c.document for c in export.catalogues}
    access = check_access(
        examined, snapshot, findings, catalogues=catalogues, progress=progress, max_block_age=max_block_age
    )
    seconds["replay"] = access.replay_seconds
    return OfflineResult(snapshot, findings, logs, access, records, seconds)


def _with_timestamps(snapshot: ChainSnapshot, blocks: set[int], fetch: TimestampSource) -> ChainSnapshot:
    wanted = sorted(
        b for b in blocks if snapshot.deployment_block <= b <= snapshot.head and b not in snapshot.timestamps
    )
    if not wanted:
        return snapshot
    return dataclasses.replace(snapshot, timestamps={**snapshot.timestamps, **fetch(wanted)})


class Verifier:
    """Verifies an export against the chain; see the module docstring for the steps."""

    def __init__(
        self,
        *,
        chain: ChainReader,
        authorizer: Authorizer | None,
        deployment: Deployment,
        progress: Progress = NO_PROGRESS,
        options: VerifyOptions | None = None,
        labels: Mapping[str, Mapping[int, str]] | None = None,
    ) -> None:
        self._chain = chain
        self._authorizer = authorizer
        self._deployment = deployment
        self._progress = progress
        self._options = options or VerifyOptions()
        self._labels = labels or {}

    @classmethod
    def production(
        cls,
        rpc_url: str,
        deployment: Deployment,
        *,
        progress: Progress = NO_PROGRESS,
        options: VerifyOptions | None = None,
        labels: Mapping[str, Mapping[int, str]] | None = None,
    ) -> Verifier:
        """A verifier reading `rpc_url` for the contracts of `deployment`."""
        from ledger.chain.authorize_call import AuthorizeCaller

        return cls(
            chain=ChainReader.connect(rpc_url, deployment),
            authorizer=AuthorizeCaller(rpc_url, deployment.addresses.consents, timeout=30.0),
            deployment=deployment,
            progress=progress,
            options=options,
            labels=labels,
        )

    def snapshot(self, export: AuditExport) -> ChainSnapshot:
        """The chain as the audit of `export` needs it (no block timestamps yet)."""
        with self._progress.task("reading the chain (events, checkpoints)", None):
            return self._chain.snapshot(logs=log_names(export))

    def verify(self, export: AuditExport) -> AuditReport:
        """Every step; the report lists each finding."""
        started = time.perf_counter()
        snapshot = self.snapshot(export)
        chain_seconds = time.perf_counter() - started
        result = verify_offline(
            export,
            snapshot,
            self._deployment,
            timestamps=self._chain.timestamps,
            progress=self._progress,
            workers=self._options.workers,
            max_block_age=self._options.max_block_age_seconds,
        )
        result.seconds["chain"] = chain_seconds
        result.evaluations = self.recompute_evaluations(export, result)
        checks = self.confirm(result)
        result.seconds["total"] = time.perf_counter() - started
        return build_report(
            export,
            result,
            self._deployment,
            checks,
            generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
            labels=self._labels,
        )

    def recompute_evaluations(self, export: AuditExport, result: OfflineResult) -> EvaluationsResult:
        """Step 6: every evaluation of the trail recomputed (models read at each block B)."""
        started = time.perf_counter()
        trail = [(e.seq, e.leaf) for e in export.entries.get(ACCESS_TRAIL_LOG, [])]
        model_at = model_reader(self._chain.rpc.call, self._deployment.addresses.model_registry)
        registry = self._deployment.addresses.model_registry
        catalogues = {content_hash(c.document): c.document for c in export.catalogues}
        published = [e for e in result.snapshot.events if e.name == "CataloguePublished"]

        def catalogue_at(block: int) -> Mapping[str, Any] | None:
            """The catalogue document in force at `block`: the last one published by then."""
            found = [e for e in published if e.block <= block]
            return catalogues.get(bytes(found[-1].args["contentHash"])) if found else None

        record_log = RecordLog(
            leaves=result.logs[CREDIT_RECORDS_LOG].leaves,
            anchored=result.snapshot.checkpoints.get(CREDIT_RECORDS_LOG, ()),
            versions=export.records,
            catalogue_at=catalogue_at,
        )
        entries = evaluation_entries(trail)
        commitments = CommitmentReplay(result.snapshot.events)
        times = dict(result.snapshot.timestamps)
        made = sorted(commitments.blocks() - times.keys()) if entries else []
        if made:  # the blocks dating the commitments
            times |= self._chain.timestamps(made)
        checked = check_evaluations(
            entries,
            export.records,
            export.evaluation_models,
            model_at,
            result.findings,
            separator=evaluation_separator(self._deployment.chain_id, registry),
            record_log=record_log,
            commitments=commitments,
            timestamp=times.get,
        )
        result.seconds["evaluations"] = time.perf_counter() - started
        return checked

    def confirm(self, result: OfflineResult) -> list[OnChainCheck]:
        """Step 4.7 on the sample; appends disagreements to `result.findings`."""
        if self._authorizer is None or (self._options.onchain_sample == 0 and not result.access.unauthorized):
            return []
        started = time.perf_counter()
        sample = choose_sample(
            result.access.replayed,
            result.access.unauthorized,
            self._options.onchain_sample,
            self._options.seed,
        )
        checks = confirm_on_chain(
            self._authorizer, result.access.replayed, sample, result.findings, progress=self._progress
        )
        result.seconds["onchain"] = time.perf_counter() - started
        return checks

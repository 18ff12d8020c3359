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
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
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
from ledger.audit.examine import Examination, Examined
from ledger.audit.export import Export
from ledger.audit.findings import Finding, Step
from ledger.audit.leaves import (
    ACCESS_TRAIL_LOG,
    CREDIT_RECORDS_LOG,
    RecordLeaf,
    decode_leaf,
    parse_record_leaf,
)
from ledger.audit.onchain import Authorizer, OnChainCheck, choose_sample, confirm_on_chain
from ledger.audit.progress import NO_PROGRESS, Progress
from ledger.audit.report import AuditReport, build_report
from ledger.audit.request_sig import RequestDomain
from ledger.audit.result import OfflineResult
from ledger.audit.verify_access import DEFAULT_MAX_BLOCK_AGE_SECONDS, check_access
from ledger.audit.verify_logs import LogResult, LogScan, ServedLeaves
from ledger.audit.verify_records import RecordLeaves, RecordsResult, check_records
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


def log_names(export: Export) -> list[str]:
    names = set(STANDARD_LOGS) | export.served_logs()
    if export.header is not None:
        names |= set(export.header.logs)
    return sorted(names)


def _deployment(
    export: Export, snapshot: ChainSnapshot, deployment: Deployment, findings: list[Finding]
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


def _resolve(export: Export, indices: Collection[int]) -> dict[int, RecordLeaf]:
    """The record leaves first served at `indices` of the record log, read again from the export."""
    wanted = set(indices)
    out: dict[int, RecordLeaf] = {}
    for entry in export.iter_entries([CREDIT_RECORDS_LOG]):
        if entry.seq in wanted and entry.seq not in out:
            out[entry.seq] = parse_record_leaf(entry.seq, decode_leaf(entry.leaf).payload)
            if len(out) == len(wanted):
                break
    return out


@dataclass
class _RecordSide:
    """What the logs other than the access trail, and the records step, found."""

    logs: dict[str, LogResult]
    findings: list[Finding]
    records: RecordsResult
    seconds: float


def check_record_side(
    export: Export,
    snapshot: ChainSnapshot,
    names: Sequence[str],
    declared: Mapping[str, int],
    progress: Progress = NO_PROGRESS,
) -> _RecordSide:
    """Steps 2-3 of the logs `names` (the credit-record log among them) and step 5, in one
    pass over their entries and one or two over the stored versions."""
    findings: list[Finding] = []
    scans = {name: LogScan(name, expected=export.count(name)) for name in names}
    record_leaves = RecordLeaves()
    with progress.task("checking logs and anchored roots", len(names)) as task:
        for entry in export.iter_entries(scans):
            scan = scans[entry.log]
            if scan.add(entry):
                leaf = scan.leaf(entry.seq, entry.leaf)
                if leaf is not None and entry.log == CREDIT_RECORDS_LOG:
                    record_leaves.add(entry.seq, leaf)
        logs: dict[str, LogResult] = {}
        for name in names:
            logs[name] = scans[name].finish(snapshot, findings, declared_size=declared.get(name))
            task.advance()
    started = time.perf_counter()
    record_scan, contiguous = scans[CREDIT_RECORDS_LOG], logs[CREDIT_RECORDS_LOG].contiguous
    records = check_records(
        record_leaves,
        export.iter_records,
        findings,
        included=export.includes_records,
        leaf_hash_at=lambda seq: record_scan.hash_at(seq) if seq < contiguous else None,
        resolve=lambda indices: _resolve(export, indices),
    )
    return _RecordSide(logs, findings, records, time.perf_counter() - started)


#: access-trail leaves examined per batch: what the trail costs in memory before it is examined
EXAMINE_BATCH = 50_000


def _examine_trail(
    export: Export, separator: bytes, workers: int, progress: Progress
) -> tuple[LogScan, list[Examined]]:
    """3.1 and the per-leaf parts of 3.2, 4.1 and 4.3 over the access trail, read in batches."""
    scan = LogScan(ACCESS_TRAIL_LOG, expected=export.count(ACCESS_TRAIL_LOG))
    examined: list[Examined] = []
    batch: list[tuple[int, bytes]] = []
    with progress.task(
        "examining releases (leaf, request, signature)", export.count(ACCESS_TRAIL_LOG)
    ) as task:
        for entry in export.iter_entries([ACCESS_TRAIL_LOG]):
            if scan.add(entry):
                batch.append((entry.seq, entry.leaf))
            if len(batch) == EXAMINE_BATCH:
                examined.extend(Examination(batch, separator, workers=workers).results(task.advance))
                batch = []
        examined.extend(Examination(batch, separator, workers=workers).results(task.advance))
    examined.sort(key=lambda x: x.seq)
    return scan, examined


def verify_offline(
    export: Export,
    snapshot: ChainSnapshot,
    deployment: Deployment,
    *,
    timestamps: TimestampSource | None = None,
    progress: Progress = NO_PROGRESS,
    workers: int = 1,
    max_block_age: int = DEFAULT_MAX_BLOCK_AGE_SECONDS,
) -> OfflineResult:
    """Steps 1-4.6, 4.8 and 5 over `export` against `snapshot`.

    The export is read in passes, never held: the logs other than the access trail and
    the records step in one process, the access trail in another when `workers` > 1
    (and in `workers` - 1 more for its signatures when more are given).

    `timestamps` fetches block timestamps the snapshot lacks (the verifier learns which
    blocks it needs only once the access entries are decoded); without it, blocks not in
    the snapshot are reported as unknown.
    """
    findings: list[Finding] = []
    seconds: dict[str, float] = {}
    # 1. deployment
    _deployment(export, snapshot, deployment, findings)
    declared = export.header.logs if export.header is not None else {}
    names = [n for n in log_names(export) if n != ACCESS_TRAIL_LOG]
    separator = RequestDomain(deployment.chain_id, deployment.addresses.consents).separator
    # 2.-3. checkpoints and entries of the other logs; 5. records; meanwhile 3.1, 3.2, 4.1
    # and 4.3 for each access-trail leaf on its own
    started = time.perf_counter()
    if workers > 1:
        with ProcessPoolExecutor(max_workers=1) as pool:
            side = pool.submit(check_record_side, export, snapshot, names, declared)
            trail, examined = _examine_trail(export, separator, workers - 1, progress)
            seconds["examine"] = time.perf_counter() - started
            record_side = side.result()
    else:
        record_side = check_record_side(export, snapshot, names, declared, progress)
        started = time.perf_counter()
        trail, examined = _examine_trail(export, separator, 1, progress)
        seconds["examine"] = time.perf_counter() - started
    findings.extend(record_side.findings)
    logs = record_side.logs
    seconds["records"] = record_side.seconds
    # 2.-3. of the access trail, with its leaves as examined; 4. releases
    for x in examined:
        trail.leaf(x.seq, None, x.leaf if x.leaf is not None else str(x.leaf_problem))
    logs[ACCESS_TRAIL_LOG] = trail.finish(snapshot, findings, declared_size=declared.get(ACCESS_TRAIL_LOG))
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
    return OfflineResult(snapshot, findings, logs, access, record_side.records, seconds)


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

    def snapshot(self, export: Export) -> ChainSnapshot:
        """The chain as the audit of `export` needs it (no block timestamps yet)."""
        with self._progress.task("reading the chain (events, checkpoints)", None):
            return self._chain.snapshot(logs=log_names(export))

    def verify(self, export: Export) -> AuditReport:
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

    def recompute_evaluations(self, export: Export, result: OfflineResult) -> EvaluationsResult:
        """Step 6: every evaluation of the trail recomputed (models read at each block B)."""
        started = time.perf_counter()
        trail = ((e.seq, e.leaf) for e in export.iter_entries([ACCESS_TRAIL_LOG]))
        opened = [v for v in export.iter_records() if v.opening is not None]
        model_at = model_reader(self._chain.rpc.call, self._deployment.addresses.model_registry)
        registry = self._deployment.addresses.model_registry
        catalogues = {content_hash(c.document): c.document for c in export.catalogues}
        published = [e for e in result.snapshot.events if e.name == "CataloguePublished"]

        def catalogue_at(block: int) -> Mapping[str, Any] | None:
            """The catalogue document in force at `block`: the last one published by then."""
            found = [e for e in published if e.block <= block]
            return catalogues.get(bytes(found[-1].args["contentHash"])) if found else None

        record_log = RecordLog(
            leaves=ServedLeaves(export, CREDIT_RECORDS_LOG, result.logs[CREDIT_RECORDS_LOG].contiguous),
            anchored=result.snapshot.checkpoints.get(CREDIT_RECORDS_LOG, ()),
            versions=opened,
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
            opened,
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

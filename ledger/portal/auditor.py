"""The auditor's pages, assembled without HTTP: a verification run in the background, its
progress, its report, and the entry a finding points at.

A run reads the export exactly as the auditors' API serves it (the same page functions of
`ledger.audit_export`, the same line format, parsed by the verifier's own
`ledger.audit.export.parse_lines`) and hands it to the independent verifier
(`ledger.audit.verifier.Verifier`), which checks it against the chain endpoint. The
auditor's key stays in the browser, so the run cannot page through the signed API as
`credit-ledger audit verify --api` does; the portal session (an auditor's) stands for
that signature. The verifier reports its steps through `ledger.audit.progress`; a
`RecordingProgress` keeps them for the page, which polls them with htmx.
"""

from __future__ import annotations

import io
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ledger.audit.export import parse_lines
from ledger.audit.findings import Step
from ledger.audit.progress import Progress, ProgressTask
from ledger.audit.report import AuditReport
from ledger.audit.verifier import Verifier, VerifyOptions
from ledger.audit_export import export_header, write_export
from ledger.chain.deploy import Deployment
from ledger.domain.catalogue import Catalogue
from ledger.errors import LedgerError, NotFound
from ledger.logs.bundles import ProofBundles
from ledger.logs.leaves import LeafError, decode_leaf
from ledger.logs.store import entry
from ledger.merkle.rfc9162 import hash_leaf
from ledger.portal.labels import join_labels
from ledger.storage.database import Database

__all__ = [
    "AuditRun",
    "AuditRuns",
    "EntryView",
    "RecordingProgress",
    "StepProgress",
    "entry_view",
    "platform_audit",
    "report_view",
]

#: runs kept per portal process (the oldest finished ones are forgotten first)
MAX_RUNS = 20


@dataclass
class StepProgress:
    """One step of a run as the page shows it: what, how far (`total` None: unknown), done."""

    description: str
    total: int | None
    done: int = 0
    finished: bool = False

    @property
    def percent(self) -> int:
        if self.finished:
            return 100
        if not self.total:
            return 0
        return min(100, self.done * 100 // self.total)


class _Task:
    def __init__(self, step: StepProgress, lock: threading.Lock) -> None:
        self._step = step
        self._lock = lock

    def advance(self, n: int = 1) -> None:
        with self._lock:
            self._step.done += n


class RecordingProgress:
    """A `ledger.audit.progress.Progress` that keeps every step for another thread to read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._steps: list[StepProgress] = []

    @contextmanager
    def task(self, description: str, total: int | None) -> Iterator[ProgressTask]:
        step = StepProgress(description, total)
        with self._lock:
            self._steps.append(step)
        try:
            yield _Task(step, self._lock)
        finally:
            with self._lock:
                step.finished = True

    def steps(self) -> list[StepProgress]:
        """A copy of the steps so far, oldest first."""
        with self._lock:
            return [StepProgress(s.description, s.total, s.done, s.finished) for s in self._steps]


@dataclass
class AuditRun:
    id: str
    auditor: str
    started_at: datetime
    progress: RecordingProgress = field(default_factory=RecordingProgress)
    state: str = "running"  # running, done, failed
    report: dict[str, Any] | None = None
    error: str | None = None
    finished_at: datetime | None = None


AuditJob = Callable[[Progress], AuditReport]


class AuditRuns:
    """Verification runs in background threads, one at a time per auditor.

    `job` carries out one audit and reports its steps to the progress it is given. A run
    that fails says why (`error`); it never takes the portal down with it.
    """

    def __init__(self, job: AuditJob, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._job = job
        self._clock = clock
        self._lock = threading.Lock()
        self._runs: dict[str, AuditRun] = {}

    def start(self, auditor: str) -> AuditRun:
        """A new run for `auditor`, or the one it already has running."""
        with self._lock:
            for run in self._runs.values():
                if run.auditor == auditor and run.state == "running":
                    return run
            run = AuditRun(uuid.uuid4().hex, auditor, self._clock())
            self._runs[run.id] = run
            self._forget_old()
        threading.Thread(target=self._carry_out, args=(run,), name=f"audit-{run.id[:8]}", daemon=True).start()
        return run

    def get(self, run_id: str, auditor: str) -> AuditRun:
        """Run `run_id` of `auditor`; `NotFound` for another's or an unknown one."""
        with self._lock:
            run = self._runs.get(run_id)
        if run is None or run.auditor != auditor:
            raise NotFound(f"no audit run {run_id!r} of {auditor}")
        return run

    def latest(self, auditor: str) -> AuditRun | None:
        with self._lock:
            mine = [r for r in self._runs.values() if r.auditor == auditor]
        return max(mine, key=lambda r: r.started_at) if mine else None

    def _forget_old(self) -> None:
        finished = sorted(
            (r for r in self._runs.values() if r.state != "running"), key=lambda r: r.started_at
        )
        for run in finished[: max(0, len(self._runs) - MAX_RUNS)]:
            del self._runs[run.id]

    def _carry_out(self, run: AuditRun) -> None:
        try:
            report = self._job(run.progress)
        except LedgerError as exc:
            run.error, run.state = exc.message, "failed"
        except Exception as exc:  # a run that breaks says so on its page; the portal goes on
            run.error, run.state = f"{type(exc).__name__}: {exc}"[:500], "failed"
        else:
            run.report, run.state = report.to_json(), "done"
        run.finished_at = self._clock()


def platform_audit(
    db: Database, deployment: Deployment, rpc_url: str, *, options: VerifyOptions | None = None
) -> AuditJob:
    """The audit of this platform's trail as its auditors' API serves it, against `rpc_url`."""

    def job(progress: Progress) -> AuditReport:
        total = sum(export_header(db, deployment).logs.values())
        buffer = io.StringIO()
        with progress.task("reading the trail from the API", total) as task:
            write_export(db, deployment, buffer, on_lines=task.advance)
        export = parse_lines(buffer.getvalue().splitlines())
        verifier = Verifier.production(
            rpc_url, deployment, progress=progress, options=options or VerifyOptions(workers=1)
        )
        return verifier.verify(export)

    return job


# -- the report, for a page ---------------------------------------------------------------------

#: the verifier's step descriptions (`ledger.audit.verifier`), as the template translates them
STEP_KEYS = {
    "reading the trail from the API": "read",
    "reading the chain (events, checkpoints)": "chain",
    "checking logs and anchored roots": "logs",
    "examining releases (leaf, request, signature)": "examine",
    "replaying authorization": "replay",
    "confirming on chain (eth_call)": "onchain",
}


def report_view(report: Mapping[str, Any], *, catalogue: Catalogue, locale: str) -> dict[str, Any]:
    """The report with purposes named in `locale` and each finding linked to its entry."""
    access = dict(report.get("access") or {})
    access["per_institution_purpose"] = [
        {**row, "purpose_labels": catalogue.names_in_mask(int(row["purpose"]), purposes=True, locale=locale)}
        for row in access.get("per_institution_purpose", [])
    ]
    findings = [
        {**f, "entry": (f["log"], f["index"]) if f.get("log") and f.get("index") is not None else None}
        for f in report.get("findings", [])
    ]
    return {
        **report,
        "access": access,
        "findings": findings,
        "steps": {s.value: s.name.lower() for s in Step},
    }


# -- an entry of a log, as a finding points at it ----------------------------------------------

#: payload keys holding masks, and whether they mask purposes (else categories)
_MASKS = {"categories": False, "raw_categories": False, "purpose": True}


@dataclass(frozen=True)
class EntryView:
    log: str
    index: int
    type: str
    leaf_hash: str
    fields: list[tuple[str, Any]]  # the payload, masks named
    proof: dict[str, Any] | None  # the inclusion bundle, None until anchored


def entry_view(
    db: Database, bundles: ProofBundles, log: str, index: int, *, catalogue: Catalogue, locale: str
) -> EntryView:
    """Entry `index` of `log` with its payload and inclusion proof; `NotFound` when there is none."""
    with db.session() as session:
        row = entry(session, log, index)
        leaf = None if row is None else bytes(row.leaf)
    if leaf is None:
        raise NotFound(f"log {log} has no entry {index}")
    try:
        decoded = decode_leaf(leaf)
    except LeafError as exc:
        return EntryView(log, index, "?", "0x" + hash_leaf(leaf).hex(), [("leaf", exc.message)], None)
    fields: list[tuple[str, Any]] = []
    for key, value in decoded.payload.items():
        purposes = _MASKS.get(key)
        if purposes is not None and isinstance(value, str) and value.isdigit():
            value = join_labels(catalogue.names_in_mask(int(value), purposes=purposes, locale=locale), locale)
        fields.append((key, value))
    proof = bundles.anchored(log, index)
    return EntryView(log, index, decoded.type, "0x" + hash_leaf(leaf).hex(), fields, proof)

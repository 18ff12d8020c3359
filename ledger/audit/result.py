"""What the offline steps of the verifier found: the input of step 4.7 and of the report."""

from __future__ import annotations

from dataclasses import dataclass, field

from ledger.audit.chain import ChainSnapshot
from ledger.audit.evaluations import EvaluationsResult
from ledger.audit.findings import Finding
from ledger.audit.verify_access import AccessResult
from ledger.audit.verify_logs import LogResult
from ledger.audit.verify_records import RecordsResult

__all__ = ["OfflineResult"]


@dataclass
class OfflineResult:
    """What steps 1-4.6, 4.8 and 5 found, and what the report and step 4.7 need."""

    snapshot: ChainSnapshot
    findings: list[Finding]
    logs: dict[str, LogResult]
    access: AccessResult
    records: RecordsResult
    seconds: dict[str, float] = field(default_factory=dict)
    #: step 6, once run (`Verifier.recompute_evaluations`); None: not run (offline steps only)
    evaluations: EvaluationsResult | None = None

"""The audit report: one JSON document for machines, rendered to HTML for people.

The JSON is the report; the HTML (`ledger.audit.html`) is drawn from it alone, so
the two never say different things. What a regulator needs to see: the deployment and
chain head audited, each log's checkpoints and whether the served entries rebuild them,
releases per institution and purpose, how each release's authorization was checked
(locally, and on chain for the sample), refusals from the platform's audit records,
and every finding with its step, place, expected and actual values.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.audit.export import Export
from ledger.audit.findings import Finding
from ledger.audit.leaves import ACCESS_TRAIL_LOG
from ledger.audit.onchain import OnChainCheck
from ledger.audit.result import OfflineResult
from ledger.chain.deploy import Deployment

__all__ = ["REPORT_FORMAT", "AuditReport", "build_report", "catalogue_labels"]

REPORT_FORMAT = "credit-ledger/audit-report/1"
_MAX_LISTED = 1_000


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


@dataclass(frozen=True)
class AuditReport:
    findings: list[Finding]
    data: dict[str, Any]

    @property
    def clean(self) -> bool:
        return not self.findings

    def to_json(self) -> dict[str, Any]:
        return self.data

    def write_json(self, path: Path) -> None:
        path.write_text(json.dumps(self.data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    def write_html(self, path: Path) -> None:
        from ledger.audit.html import render_html

        path.write_text(render_html(self.data), encoding="utf-8")


def catalogue_labels(catalogue: Mapping[str, Any]) -> dict[str, dict[int, str]]:
    """Display names for purpose and category masks, from a catalogue document (data only)."""
    return {
        "purposes": {1 << int(p["bit"]): str(p["name"]) for p in catalogue.get("purposes", [])},
        "categories": {1 << int(c["bit"]): str(c["name"]) for c in catalogue.get("categories", [])},
    }


def _mask_names(mask: int, names: Mapping[int, str]) -> str:
    parts = [names.get(1 << bit, f"bit {bit}") for bit in range(mask.bit_length()) if mask >> bit & 1]
    return ", ".join(parts) or "none"


def _logs(result: OfflineResult) -> list[dict[str, Any]]:
    out = []
    for name, log in sorted(result.logs.items()):
        out.append(
            {
                "name": name,
                "served": log.served,
                "contiguous": log.contiguous,
                "anchored_size": log.anchored_size,
                "unanchored": log.unanchored,
                "checkpoints": [
                    {
                        "previous_size": c.previous_size,
                        "size": c.size,
                        "root": _hex(c.root),
                        "block": c.block,
                        "transaction": _hex(c.transaction_hash),
                        "rebuilt": c.rebuilt,
                        "consistent": c.consistent,
                    }
                    for c in log.checkpoints
                ],
            }
        )
    return out


def _replay(result: OfflineResult, checks: Sequence[OnChainCheck]) -> dict[str, Any]:
    both = [c.index for c in checks if c.agrees is True]
    disagreed = [c.index for c in checks if c.agrees is False]
    not_checked = [c for c in checks if c.agrees is None]
    reasons = Counter(c.reason or "" for c in not_checked)
    return {
        "replayed_locally": len(result.access.replayed),
        "checked_both_ways": len(both),
        "checked_both_ways_entries": both[:_MAX_LISTED],
        "disagreements": disagreed[:_MAX_LISTED],
        "not_checked_on_chain": len(not_checked),
        "not_checked_on_chain_reasons": dict(reasons),
        "not_checked_on_chain_entries": [
            {"index": c.index, "block": c.block, "reason": c.reason} for c in not_checked[:_MAX_LISTED]
        ],
        "local_only": len(result.access.replayed) - len(checks),
    }


def _access(result: OfflineResult, labels: Mapping[str, Mapping[int, str]]) -> dict[str, Any]:
    purposes = labels.get("purposes", {})
    per = [
        {
            "institution": institution,
            "purpose": str(purpose),
            "purpose_name": _mask_names(purpose, purposes),
            "releases": count,
        }
        for (institution, purpose), count in sorted(result.access.per_institution_purpose.items())
    ]
    trail = result.logs.get(ACCESS_TRAIL_LOG)
    return {
        "entries": 0 if trail is None else trail.served,
        "well_formed": len(result.access.entries),
        "evaluations_well_formed": len(result.access.evaluations),
        "alerts_well_formed": len(result.access.alerts),
        "not_authorized": len(result.access.unauthorized),
        "levels_checked": result.access.levels_checked,
        "levels_not_checked": result.access.levels_unchecked,
        "per_institution_purpose": per,
    }


def _refusals(export: Export) -> dict[str, Any]:
    by_event = Counter(r.event for r in export.refusals)
    return {
        "count": len(export.refusals),
        "by_event": dict(sorted(by_event.items())),
        "items": [
            {"at": r.at, "actor": r.actor, "event": r.event, "outcome": r.outcome, "detail": r.detail}
            for r in export.refusals[:_MAX_LISTED]
        ],
    }


def _rate(count: int, seconds: float) -> float | None:
    return round(count / seconds, 1) if seconds > 0 else None


def _evaluations(result: OfflineResult) -> dict[str, Any]:
    """Step 6: the evaluations of the trail checked, and those recomputed without a finding."""
    done = result.evaluations
    if done is None:
        return {"run": False, "checked": 0, "recomputed": 0}
    return {"run": True, "checked": done.checked, "recomputed": done.recomputed}


def _performance(result: OfflineResult) -> dict[str, Any]:
    s = result.seconds
    entries = sum(log.served for log in result.logs.values())
    releases = len(result.access.entries)
    return {
        "seconds": {k: round(v, 3) for k, v in s.items()},
        "entries": entries,
        "releases": releases,
        "merkle_entries_per_second": _rate(entries, s.get("merkle", 0.0)),
        "leaf_decoding_entries_per_second": _rate(entries, s.get("leaves", 0.0)),
        "releases_examined_per_second": _rate(releases, s.get("examine", 0.0)),
        "replay_entries_per_second": _rate(releases, s.get("replay", 0.0)),
    }


def build_report(
    export: Export,
    result: OfflineResult,
    deployment: Deployment,
    checks: Sequence[OnChainCheck],
    *,
    generated_at: str,
    labels: Mapping[str, Mapping[int, str]] | None = None,
) -> AuditReport:
    if not labels and export.catalogues:  # name purposes after the latest catalogue the export holds
        labels = catalogue_labels(max(export.catalogues, key=lambda c: c.version).document)
    findings = sorted(
        result.findings,
        key=lambda f: (tuple(int(p) for p in f.step.value.split(".")), f.log or "", f.index or 0),
    )
    snapshot = result.snapshot
    header = export.header
    by_step = Counter(f"{f.step.value} {f.step.title}" for f in findings)
    data: dict[str, Any] = {
        "format": REPORT_FORMAT,
        "verdict": "clean" if not findings else "findings",
        "generated_at": generated_at,
        "chain": {
            "chain_id": snapshot.chain_id,
            "head": snapshot.head,
            "deployment_block": deployment.block,
            "contracts": deployment.addresses.by_name(),
        },
        "export": None
        if header is None
        else {"exported_at": header.exported_at, "declared_logs": header.logs, "openings": header.openings},
        "logs": _logs(result),
        "access": _access(result, labels or {}),
        "replay": _replay(result, checks),
        "records": {
            "leaves": result.records.leaves,
            "stored_versions": result.records.versions,
            "openings_checked": result.records.openings,
            "checked": result.records.checked,
        },
        "evaluations": _evaluations(result),
        "refusals": _refusals(export),
        "findings_by_step": dict(sorted(by_step.items())),
        "findings": [f.to_json() for f in findings],
        "performance": _performance(result),
    }
    return AuditReport(findings, data)

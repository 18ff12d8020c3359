"""A month's KPI snapshot: the figures with the rows they are computed from, hashed and anchored.

The export (`export_document`) is one RFC 8785 JSON document: the month's figures as the
database computed them (`KpiService.report`), the settings they depend on, and the input
rows (`KpiService.snapshot_inputs`): records received in the month grouped by category,
provider, district and industry; enterprises onboarded by the month's end (with their
district and industry) and loans decided by then, each enterprise under a pseudonym keyed
per snapshot. Format 2 added the industry columns and breakdowns; a format 1 export (as
anchored before) is still recomputed by its own columns and figures. Its SHA-256 is what an
operator anchors on chain (`Publications`, kind KPI snapshot, key the month).

`recompute` is a second, independent computation of the figures from the rows, in plain
Python; `check_export` holds the figures to it and the document to an anchored hash. So
anyone holding the export can recompute every published figure and match the document to
the chain: a changed loan amount changes both the recomputed volume and the hash.
"""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import rfc8785

from ledger.errors import InvalidInput
from ledger.financing.kpis import (
    ENTERPRISE_COLUMNS,
    LOAN_COLUMNS,
    RECORD_COLUMNS,
    KpiFilter,
    KpiService,
    by_key,
    enterprise_breakdown,
    loan_metrics,
    ratio,
)

__all__ = [
    "SNAPSHOT_FORMAT",
    "SnapshotCheck",
    "check_export",
    "check_export_document",
    "export_document",
    "export_of",
    "recompute",
    "report_csv",
    "snapshot_hash",
]

SNAPSHOT_FORMAT = "credit-ledger/kpi-snapshot"
#: 2: records and enterprises carry the enterprise's industry (1: without; still verified)
FORMAT_VERSION = 2
_V1_RECORD_COLUMNS = tuple(c for c in RECORD_COLUMNS if c != "industry")
_V1_ENTERPRISE_COLUMNS = tuple(c for c in ENTERPRISE_COLUMNS if c != "industry")


class InvalidSnapshot(InvalidInput):
    code = "invalid_kpi_snapshot"


def _pseudonymiser() -> Callable[[str], str]:
    key = secrets.token_bytes(32)  # kept nowhere: the pseudonyms mean nothing outside this export
    return lambda subject: hashlib.sha256(key + subject.encode()).hexdigest()[:32]


def export_document(service: KpiService, month: str, *, now: datetime | None = None) -> bytes:
    """The canonical export of `month`'s snapshot (RFC 8785 bytes: what is hashed)."""
    figures = service.report(KpiFilter(month))
    document: dict[str, Any] = {
        "format": SNAPSHOT_FORMAT,
        "format_version": FORMAT_VERSION,
        "month": month,
        "generated_at": (now or datetime.now(UTC)).replace(microsecond=0).isoformat(),
        "figures": figures,
        "inputs": service.snapshot_inputs(month, _pseudonymiser()),
    }
    return bytes(rfc8785.dumps(document))


def snapshot_hash(document: bytes | dict[str, Any]) -> bytes:
    """SHA-256 of the document's RFC 8785 form (the bytes as exported, re-canonicalised)."""
    if isinstance(document, bytes):
        document = parse_export(document)
    return hashlib.sha256(rfc8785.dumps(document)).digest()


def parse_export(raw: bytes) -> dict[str, Any]:
    """A snapshot file: the bare export, or the published document wrapping it in `body`."""
    import json

    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise InvalidSnapshot(f"the export is not JSON: {exc}") from None
    if not isinstance(document, dict) or export_of(document).get("format") != SNAPSHOT_FORMAT:
        raise InvalidSnapshot(f"the file is not a {SNAPSHOT_FORMAT} export (bare or published)")
    return document


def export_of(document: dict[str, Any]) -> dict[str, Any]:
    """The export inside a published document (its `body`), or the document itself."""
    body = document.get("body")
    return body if isinstance(body, dict) and "key" in document else document


# -- the independent recomputation ----------------------------------------------------------


def _table(inputs: dict[str, Any], name: str, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    table = inputs.get(name)
    if not isinstance(table, dict) or tuple(table.get("columns", ())) != columns:
        raise InvalidSnapshot(f"inputs.{name}: expected columns {list(columns)}")
    return [dict(zip(columns, row, strict=True)) for row in table.get("rows", [])]


def _record_rows(
    rows: Iterable[dict[str, Any]], key: Callable[[dict[str, Any]], str | None]
) -> list[dict[str, Any]]:
    totals: dict[str | None, list[int]] = {}
    for r in rows:
        t = totals.setdefault(key(r), [0, 0])
        t[0] += r["collected"]
        t[1] += r["timely"]
    return by_key([{"key": k, "collected": n, "timely": t} for k, (n, t) in totals.items()])


def _loan_sums(loans: list[dict[str, Any]]) -> list[int]:
    approved = [x for x in loans if x["approved"]]
    credit = [x for x in approved if x["credit"]]
    return [
        len(loans),
        len(approved),
        sum(x["amount_fen"] for x in approved),
        len(credit),
        sum(x["amount_fen"] for x in credit),
        len({x["enterprise"] for x in approved if x["first_loan"]}),
        sum(x["rate_ppm"] for x in approved),
        sum(x["decision_days"] for x in loans),
    ]


def _loan_breakdown(loans: list[dict[str, Any]], column: str) -> list[dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for x in loans:
        groups.setdefault(x[column], []).append(x)
    return by_key([{"key": k, **loan_metrics(_loan_sums(g))} for k, g in groups.items()])


def recompute(document: dict[str, Any]) -> dict[str, Any]:
    """The figures from the export's own rows: what `figures` must equal."""
    month = str(document.get("month"))
    settings = document.get("figures", {}).get("settings", {})
    inputs = document.get("inputs")
    if not isinstance(inputs, dict):
        raise InvalidSnapshot("inputs: missing")
    v1 = document.get("format_version") == 1
    records = _table(inputs, "records", _V1_RECORD_COLUMNS if v1 else RECORD_COLUMNS)
    enterprises = _table(inputs, "enterprises", _V1_ENTERPRISE_COLUMNS if v1 else ENTERPRISE_COLUMNS)
    loans = _table(inputs, "loans", LOAN_COLUMNS)
    collected = sum(r["collected"] for r in records)
    timely = sum(r["timely"] for r in records)
    onboarded = {e["enterprise"] for e in enterprises}
    market = settings.get("market_entities")
    with_loan = {x["enterprise"] for x in loans if x["approved"] and x["enterprise"] in onboarded}
    in_month = [x for x in loans if x["month"] == month]
    figures: dict[str, Any] = {
        "filter": KpiFilter(month).to_json(),
        "settings": {"market_entities": market, "timely_days": settings.get("timely_days")},
        "records": {
            "collected": collected,
            "timely": timely,
            "timely_share": ratio(timely, collected),
            "by_category": _record_rows(records, lambda r: r["category"]),
            "by_provider": _record_rows(records, lambda r: r["provider"]),
            "by_district": _record_rows(records, lambda r: r["district"]),
            **({} if v1 else {"by_industry": _record_rows(records, lambda r: r["industry"])}),
            "by_month": _record_rows(records, lambda _r: month),
        },
        "enterprises": {
            "onboarded": len(onboarded),
            "market_entities": market,
            "onboarded_share": ratio(len(onboarded), market),
            "with_loan": len(with_loan),
            "with_loan_share": ratio(len(with_loan), len(onboarded)),
        },
        "loans": {
            **loan_metrics(_loan_sums(in_month)),
            "by_district": _loan_breakdown(in_month, "district"),
            "by_industry": _loan_breakdown(in_month, "industry"),
            "by_month": _loan_breakdown(in_month, "month"),
        },
    }
    if not v1:
        per_industry: dict[str | None, list[int]] = {}
        for e in enterprises:
            per_industry.setdefault(e["industry"], [0, 0])[0] += 1
            per_industry[e["industry"]][1] += e["enterprise"] in with_loan
        figures["enterprises"]["by_industry"] = enterprise_breakdown(per_industry.items())
    return figures


@dataclass(frozen=True)
class SnapshotCheck:
    """The outcome of checking an export: recomputed figures and the anchored hash."""

    month: str
    content_hash: str
    figures_match: bool
    differences: list[str]
    anchored_hash: str | None
    hash_matches: bool

    @property
    def ok(self) -> bool:
        return self.figures_match and self.hash_matches

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "month": self.month,
            "content_hash": self.content_hash,
            "anchored_hash": self.anchored_hash,
            "hash_matches": self.hash_matches,
            "figures_match": self.figures_match,
            "differences": self.differences,
        }


def _differences(published: Any, recomputed: Any, path: str = "figures") -> list[str]:
    if isinstance(published, dict) and isinstance(recomputed, dict):
        keys = sorted(set(published) | set(recomputed))
        return [d for k in keys for d in _differences(published.get(k), recomputed.get(k), f"{path}.{k}")]
    if isinstance(published, list) and isinstance(recomputed, list) and len(published) == len(recomputed):
        return [
            d for i, (a, b) in enumerate(zip(published, recomputed, strict=True))
            for d in _differences(a, b, f"{path}[{i}]")
        ]  # fmt: skip
    return [] if published == recomputed else [f"{path}: published {published!r}, recomputed {recomputed!r}"]


def check_export_document(export: dict[str, Any]) -> list[str]:
    """Every figure of `export` that its rows do not recompute to (empty: all agree)."""
    try:
        return _differences(export.get("figures"), recompute(export))
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidSnapshot(f"the export's rows cannot be read: {exc!r}") from None


def check_export(raw: bytes, anchored_hash: bytes | None) -> SnapshotCheck:
    """Recompute the figures from the file's rows and match its hash to the anchored one.

    The hash is of the whole file as published (the document wrapping the export), in its
    RFC 8785 form.
    """
    document = parse_export(raw)
    export = export_of(document)
    digest = snapshot_hash(document)
    differences = check_export_document(export)
    return SnapshotCheck(
        month=str(export.get("month")),
        content_hash="0x" + digest.hex(),
        figures_match=not differences,
        differences=differences[:50],
        anchored_hash=None if anchored_hash is None else "0x" + anchored_hash.hex(),
        hash_matches=anchored_hash is not None and anchored_hash == digest,
    )


# -- CSV ---------------------------------------------------------------------------------------


def report_csv(report: dict[str, Any]) -> str:
    """The report flattened: one line per figure (section, breakdown, key, figure, value)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "breakdown", "key", "figure", "value"])
    for section in ("records", "enterprises", "loans"):
        for name, value in report[section].items():
            if isinstance(value, list):
                for row in value:
                    for figure, v in row.items():
                        if figure != "key":
                            writer.writerow([section, name.removeprefix("by_"), row["key"], figure, _cell(v)])
            else:
                writer.writerow([section, "total", "", name, _cell(value)])
    return out.getvalue()


def _cell(value: Any) -> str:
    return "" if value is None else str(value)

"""The audit report as a self-contained HTML page, drawn only from the JSON report.

No template engine and no external assets: one file an auditor can attach to a letter
to the regulator and open anywhere. Every value is escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

__all__ = ["render_html"]

_CSS = """
body{font-family:system-ui,"Segoe UI","Noto Sans CJK SC",sans-serif;margin:2rem;color:#1b1b1b}
body{max-width:78rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.9rem}
th,td{border:1px solid #d0d0d0;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
code{font-size:.8rem;word-break:break-all}
.verdict{display:inline-block;padding:.3rem .8rem;border-radius:.3rem;font-weight:600;color:#fff}
.clean{background:#2e7d32}.findings{background:#c62828}.muted{color:#666}.ok{color:#2e7d32}.bad{color:#c62828}
"""


def _cell(value: Any) -> str:
    if value is None:
        return '<td class="muted">—</td>'
    if isinstance(value, bool):
        return f'<td class="{"ok" if value else "bad"}">{"yes" if value else "NO"}</td>'
    if isinstance(value, int | float):
        return f'<td class="num">{value:,}</td>'
    text = str(value)
    if text.startswith("0x") and len(text) > 20:
        return f"<td><code>{escape(text)}</code></td>"
    return f"<td>{escape(text)}</td>"


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], empty: str = "none") -> str:
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    if not body:
        return f'<p class="muted">{escape(empty)}</p>'
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _summary(r: dict[str, Any]) -> str:
    chain = r["chain"]
    export = r.get("export") or {}
    rows = [
        ("chain id", str(chain["chain_id"])),
        ("chain head audited (block)", str(chain["head"])),
        ("deployment block", str(chain["deployment_block"])),
        ("export taken at", export.get("exported_at")),
        ("report generated at", r["generated_at"]),
        ("findings", len(r["findings"])),
    ]
    contracts = [(name, address) for name, address in sorted(chain["contracts"].items())]
    return (
        _table(("", ""), rows)
        + "<h3>Contracts (from the auditor's deployment manifest)</h3>"
        + _table(("contract", "address"), contracts)
    )


_TAIL_NOTE = (
    "Entries after the latest checkpoint are not anchored yet: until they are, only their own "
    "evidence (the institution's signature, the authorization replay, the sensitivity level) "
    "vouches for them, and their unsigned fields (response hash, time, record count) are not "
    "yet tamper-evident."
)


def _logs(r: dict[str, Any]) -> str:
    parts = (
        [f'<p class="muted">{escape(_TAIL_NOTE)}</p>'] if any(log["unanchored"] for log in r["logs"]) else []
    )
    for log in r["logs"]:
        parts.append(f"<h3>{escape(log['name'])}</h3>")
        parts.append(
            _table(
                ("entries served", "anchored size", "entries not yet anchored"),
                [(log["served"], log["anchored_size"], log["unanchored"])],
            )
        )
        parts.append(
            _table(
                (
                    "from size",
                    "to size",
                    "root",
                    "block",
                    "transaction",
                    "entries rebuild root",
                    "consistent",
                ),
                [
                    (
                        c["previous_size"],
                        c["size"],
                        c["root"],
                        str(c["block"]),
                        c["transaction"],
                        c["rebuilt"],
                        c["consistent"],
                    )
                    for c in log["checkpoints"]
                ],
                empty="no checkpoint anchored",
            )
        )
    return "".join(parts)


def _access(r: dict[str, Any]) -> str:
    a, rp = r["access"], r["replay"]
    counts = _table(
        ("institution", "purpose", "purpose (mask)", "releases"),
        [
            (p["institution"], p["purpose_name"], p["purpose"], p["releases"])
            for p in a["per_institution_purpose"]
        ],
        empty="no release in the trail",
    )
    replay = _table(
        ("", ""),
        [
            ("entries in the access trail", a["entries"]),
            ("well-formed releases", a["well_formed"]),
            ("releases replayed locally from contract events", rp["replayed_locally"]),
            ("… and confirmed by the contract at their block (both ways)", rp["checked_both_ways"]),
            ("… on which the contract disagrees", len(rp["disagreements"])),
            ("… not checked on chain (state no longer kept by the node)", rp["not_checked_on_chain"]),
            ("… checked locally only (not in the sample)", rp["local_only"]),
            ("releases NOT authorized as recorded", a["not_authorized"]),
            ("sensitivity levels recomputed from the catalogue in force", a.get("levels_checked")),
            ("… not recomputed (catalogue document not in the export)", a.get("levels_not_checked")),
        ],
    )
    both = ", ".join(str(i) for i in rp["checked_both_ways_entries"][:200])
    more = " …" if rp["checked_both_ways"] > 200 else ""
    listed = f'<p class="muted">Entries checked both ways: {escape(both)}{more}</p>' if both else ""
    reasons = _table(
        ("why not checked on chain", "entries"), sorted(rp["not_checked_on_chain_reasons"].items()), empty=""
    )
    return counts + replay + listed + reasons


def _records(r: dict[str, Any]) -> str:
    rec = r["records"]
    return _table(
        ("", ""),
        [
            ("record leaves in the log", rec["leaves"]),
            ("stored record versions in the export", rec["stored_versions"]),
            ("openings recomputed (salt and record)", rec["openings_checked"]),
            ("completeness checked", rec["checked"]),
        ],
    )


def _evaluations(r: dict[str, Any]) -> str:
    ev = r.get("evaluations") or {"run": False, "checked": 0, "recomputed": 0}
    if not ev["run"]:
        return '<p class="muted">Not recomputed in this run (step 6 needs the chain).</p>'
    return _table(
        ("", ""),
        [
            ("evaluations checked (step 6)", ev["checked"]),
            ("recomputed from their inputs, complete, with no finding", ev["recomputed"]),
        ],
    )


def _refusals(r: dict[str, Any]) -> str:
    ref = r["refusals"]
    by_event = _table(
        ("event", "refusals"), sorted(ref["by_event"].items()), empty="no refusal in the export"
    )
    items = _table(
        ("at", "actor", "event", "outcome", "detail"),
        [(i["at"], i["actor"], i["event"], i["outcome"], i["detail"]) for i in ref["items"]],
        empty="",
    )
    return by_event + items


def _findings(r: dict[str, Any]) -> str:
    if not r["findings"]:
        return '<p class="ok">No finding: every check passed.</p>'
    by_step = _table(("step", "findings"), sorted(r["findings_by_step"].items()))
    items = _table(
        ("step", "check", "log", "entry", "what", "expected", "got"),
        [
            (f["step"], f["check"], f["log"], f["index"], f["what"], f["expected"], f["got"])
            for f in r["findings"][:5_000]
        ],
    )
    return by_step + items


def render_html(report: dict[str, Any]) -> str:
    verdict = report["verdict"]
    label = "CLEAN — no finding" if verdict == "clean" else f"{len(report['findings'])} FINDING(S)"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>credit-ledger audit report</title>"
        f"<style>{_CSS}</style></head><body>"
        "<h1>credit-ledger audit report</h1>"
        f'<p><span class="verdict {escape(verdict)}">{escape(label)}</span></p>'
        '<p class="muted">Verified independently from the chain and the logs\' entries: checkpoints, '
        "completeness and order of both logs, each release's signed request and its authorization "
        "at its block, and the stored record versions against their log leaves. No credit data was "
        "needed.</p>"
        f"<h2>Summary</h2>{_summary(report)}"
        f"<h2>Findings</h2>{_findings(report)}"
        f"<h2>Logs and on-chain checkpoints</h2>{_logs(report)}"
        f"<h2>Releases (access trail)</h2>{_access(report)}"
        f"<h2>Credit records</h2>{_records(report)}"
        f"<h2>Credit evaluations (recomputed)</h2>{_evaluations(report)}"
        f"<h2>Refusals (platform audit records)</h2>{_refusals(report)}"
        "</body></html>\n"
    )

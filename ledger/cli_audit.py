"""`credit-ledger audit verify|export`: the auditor's verifier and the platform's export tool.

`verify` needs only a chain endpoint, the deployment manifest and the logs' entries (an
export file, or the auditors' API); it exits 0 when every check passes, 1 on any
finding, 2 when the audit could not be carried out. `export` is run by the operator
on the platform's own database.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ledger.errors import LedgerError
from ledger.settings import Settings

if TYPE_CHECKING:
    from ledger.audit.export import AuditExport
    from ledger.audit.progress import Progress
    from ledger.chain.deploy import Deployment

audit_app = typer.Typer(
    help="Independent audit of the logs, the access trail and the records.", no_args_is_help=True
)

EXIT_FINDINGS = 1
EXIT_NOT_AUDITED = 2
_SHOWN = 50


def _not_audited(message: str) -> typer.Exit:
    typer.secho(f"audit not carried out: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=EXIT_NOT_AUDITED)


def _deployment(manifest: Path | None, settings: Settings) -> Deployment:
    from ledger.chain.deploy import Deployment, IncompleteManifest

    path = manifest or settings.manifest_path
    try:
        return Deployment.load(path)
    except IncompleteManifest as exc:
        raise _not_audited(
            f"the deployment manifest {path} names no address for {', '.join(exc.missing)}"
        ) from None
    except (OSError, ValueError, KeyError) as exc:
        raise _not_audited(f"cannot read the deployment manifest {path}: {exc}") from None


def _labels(catalogue: Path | None) -> dict[str, dict[int, str]]:
    """Names of purposes for the report, from a catalogue file (default: the packaged one)."""
    from ledger.audit.report import catalogue_labels
    from ledger.paths import PROJECT_ROOT

    path = catalogue or PROJECT_ROOT / "ledger" / "catalogue" / "catalogue-v1.json"
    try:
        return catalogue_labels(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _from_api(
    api: str, keystore: Path | None, key_env: str | None, deployment: Deployment, progress: Progress
) -> AuditExport:
    import httpx
    from eth_account import Account

    from ledger.audit.api_source import ApiExportSource
    from ledger.keystore import load_keystore

    if keystore is not None:
        password = os.environ.get("LEDGER_KEY_PASSWORD") or typer.prompt("keystore password", hide_input=True)
        account = load_keystore(keystore, password)
    elif key_env is not None and key_env in os.environ:
        account = Account.from_key(os.environ[key_env])
    else:
        raise _not_audited(
            "reading through the API needs the auditor's key: --keystore FILE or --key-env VAR"
        )
    with httpx.Client(base_url=api, timeout=60.0) as http:
        return ApiExportSource(http=http, auditor=account, deployment=deployment, progress=progress).read()


def _parse_sample(sample: str) -> int | None:
    if sample == "all":
        return None
    try:
        value = int(sample)
    except ValueError:
        raise typer.BadParameter("a number of entries, or 'all'") from None
    if value < 0:
        raise typer.BadParameter("a number of entries, or 'all'")
    return value


@audit_app.command("verify")
def verify(
    export: Annotated[
        Path | None, typer.Option("--export", help="export file (NDJSON) from `audit export`", dir_okay=False)
    ] = None,
    api: Annotated[
        str | None, typer.Option(help="read the entries from this API as an auditor instead")
    ] = None,
    keystore: Annotated[Path | None, typer.Option(help="auditor keystore for --api")] = None,
    key_env: Annotated[str | None, typer.Option(help="DEVELOPMENT: variable holding the auditor key")] = None,
    rpc_url: Annotated[str | None, typer.Option(help="chain node (default: from settings)")] = None,
    manifest: Annotated[
        Path | None, typer.Option(help="deployment manifest (default: from settings)")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="write the JSON report here")] = None,
    html_out: Annotated[Path | None, typer.Option("--html", help="write the HTML report here")] = None,
    sample: Annotated[
        str, typer.Option(help="releases also confirmed by eth_call at their block: a number, or 'all'")
    ] = "256",
    seed: Annotated[int, typer.Option(help="seed of the on-chain sample")] = 0,
    workers: Annotated[int, typer.Option(min=1, help="processes recovering request signatures")] = max(
        1, min(4, os.cpu_count() or 1)
    ),
    catalogue: Annotated[
        Path | None, typer.Option(help="catalogue file naming purposes in the report")
    ] = None,
    quiet: Annotated[bool, typer.Option(help="no progress bars")] = False,
    max_block_age: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="oldest a decision block may be, seconds (default: LEDGER_MAX_BLOCK_AGE_SECONDS)",
        ),
    ] = None,
) -> None:
    """Verify checkpoints, entries, every release's signature and authorization, and the records."""
    from ledger.audit.errors import AuditError
    from ledger.audit.export import Export, read_export
    from ledger.audit.progress import NO_PROGRESS, RichProgress
    from ledger.audit.verifier import Verifier, VerifyOptions

    if (export is None) == (api is None):
        raise _not_audited("name the entries to audit: --export FILE or --api URL (one of them)")
    settings = Settings()
    deployment = _deployment(manifest, settings)
    progress: Progress = NO_PROGRESS if quiet or not sys.stderr.isatty() else RichProgress()
    options = VerifyOptions(
        onchain_sample=_parse_sample(sample),
        seed=seed,
        workers=workers,
        max_block_age_seconds=max_block_age or settings.max_block_age_seconds,
    )
    try:
        data: Export
        if export is not None:
            data = read_export(export)
        else:
            assert api is not None
            data = _from_api(api, keystore, key_env, deployment, progress)
        verifier = Verifier.production(
            rpc_url or settings.effective_rpc_url,
            deployment,
            progress=progress,
            options=options,
            labels=_labels(catalogue),
        )
        report = verifier.verify(data)
    except AuditError as exc:
        raise _not_audited(exc.message) from None
    except LedgerError as exc:
        raise _not_audited(exc.message) from None
    if json_out is not None:
        report.write_json(json_out)
    if html_out is not None:
        report.write_html(html_out)
    _print_summary(report.to_json())
    if not report.clean:
        raise typer.Exit(code=EXIT_FINDINGS)


def _print_summary(d: dict[str, Any]) -> None:
    for log in d["logs"]:
        typer.echo(
            f"{log['name']}: {log['served']} entries, {len(log['checkpoints'])} checkpoints, "
            f"anchored {log['anchored_size']}, not yet anchored {log['unanchored']}"
        )
    rp = d["replay"]
    typer.echo(
        f"releases: {d['access']['well_formed']} replayed locally, {rp['checked_both_ways']} also confirmed "
        f"on chain, {rp['not_checked_on_chain']} not checkable on chain; "
        f"records: {d['records']['stored_versions']} stored versions, "
        f"{d['records']['openings_checked']} opened"
    )
    findings = d["findings"]
    if not findings:
        typer.secho("CLEAN: no finding", fg=typer.colors.GREEN)
        return
    typer.secho(f"{len(findings)} FINDING(S):", fg=typer.colors.RED)
    for f in findings[:_SHOWN]:
        where = "" if f["log"] is None else f" {f['log']}" + ("" if f["index"] is None else f"[{f['index']}]")
        detail = (
            ""
            if f["expected"] is None and f["got"] is None
            else f" (expected {f['expected']}, got {f['got']})"
        )
        typer.echo(f"  step {f['step']} {f['check']}{where}: {f['what']}{detail}")
    if len(findings) > _SHOWN:
        typer.echo(f"  … and {len(findings) - _SHOWN} more (see the JSON or HTML report)")


@audit_app.command("export")
def export_command(
    out: Annotated[Path, typer.Option(help="the export file to write (NDJSON)", dir_okay=False)] = Path(
        "audit-export.ndjson"
    ),
    openings: Annotated[
        bool, typer.Option(help="include record openings (salt and values: personal data, stays in-house)")
    ] = False,
    refusals: Annotated[bool, typer.Option(help="include refusals from the MLPS audit records")] = True,
) -> None:
    """Write the audit export from the platform's database (operators)."""
    from ledger.audit_export import write_export
    from ledger.records.crypto import Keyring
    from ledger.storage.database import Database

    settings = Settings()
    deployment = _deployment(None, settings)
    try:
        keyring = Keyring.from_settings(settings) if openings else None
        tmp = out.with_suffix(out.suffix + ".tmp")
        with tmp.open("w", encoding="utf-8") as handle:
            counts = write_export(
                Database(settings.effective_database_url),
                deployment,
                handle,
                keyring=keyring,
                with_refusals=refusals,
            )
        tmp.replace(out)
    except LedgerError as exc:
        typer.secho(f"error: {exc.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from None
    logs = ", ".join(f"{name} {n}" for name, n in sorted(counts.entries.items()))
    typer.echo(
        f"export written to {out}: entries {logs or 'none'}; {counts.records} record versions "
        f"({counts.openings} opened); {counts.refusals} refusals"
    )

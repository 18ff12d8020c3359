"""`credit-ledger loans report|versions|outcomes` and `credit-ledger kpi report|snapshot|verify`.

`loans report` sends an institution's signed loan reports (decisions, repayment status)
through the API; `loans outcomes` (on the platform's host: it reads the database) writes
the reported outcomes as a cohort file for `model train --outcomes`.

`kpi report` prints the indicators as JSON or CSV; `kpi snapshot` (operators) fetches a
month's canonical export, checks that its figures recompute from its rows, anchors its
hash on chain (`Publications`, a signed `Publish` act relayed by the API) and writes the
export; `kpi verify` needs only the export and a chain node: it recomputes the figures
and matches the document's hash to the anchored one, exit 1 on any difference.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from ledger.cli_records import ApiOption, KeyEnvOption, KeystoreOption, RpcOption, fail, member_client
from ledger.errors import LedgerError
from ledger.settings import Settings

loans_app = typer.Typer(
    help="Loan reporting (institutions) and the outcomes it yields.", no_args_is_help=True
)
kpi_app = typer.Typer(help="The KPIs of 四(四): report, monthly snapshot anchored on chain, verify.")

PublicationsOption = Annotated[
    str | None, typer.Option(help="Publications contract address (default: from the deployment manifest)")
]


def _api_call(call: Any) -> Any:
    from ledger.sdk import ApiError, ApiUnreachable

    try:
        return call()
    except (ApiError, ApiUnreachable) as exc:
        raise fail(f"refused: {exc.message}") from None
    except LedgerError as exc:
        raise fail(exc.message) from None


@loans_app.command("report")
def loans_report(
    file: Annotated[Path, typer.Argument(help="a JSON report, or a JSON list of reports", dir_okay=False)],
    api: ApiOption = None,
    keystore: KeystoreOption = None,
    key_env: KeyEnvOption = None,
) -> None:
    """Send loan reports (institutions). Re-running is safe: idempotent by idempotency_key."""
    try:
        loaded = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise fail(f"cannot read {file}: {exc}") from None
    reports = loaded if isinstance(loaded, list) else [loaded]
    client = member_client(api, keystore, key_env)
    for report in reports:
        typer.echo(json.dumps(_api_call(lambda r=report: client.report_loan(r)), ensure_ascii=False))


@loans_app.command("versions")
def loans_versions(
    loan_ref: Annotated[str, typer.Argument(help="the institution's loan reference")],
    api: ApiOption = None,
    keystore: KeystoreOption = None,
    key_env: KeyEnvOption = None,
) -> None:
    """Every accepted version of one of your loans (institutions)."""
    client = member_client(api, keystore, key_env)
    typer.echo(json.dumps(_api_call(lambda: client.loan_versions(loan_ref)), ensure_ascii=False, indent=2))


@loans_app.command("outcomes")
def loans_outcomes(
    out: Annotated[Path, typer.Option(help="the cohort file to write (JSON lines)")],
) -> None:
    """Write the reported outcomes as a cohort file (platform host: reads the database)."""
    from ledger.evaluation.schema import default_indicators
    from ledger.financing.outcomes import OutcomesExport
    from ledger.platform import Platform
    from ledger.release.reader import RecordReader
    from ledger.wiring import records_service

    settings = Settings()
    try:
        platform = Platform.open(settings)
        reader = RecordReader(records_service(platform))
        export = OutcomesExport(
            platform.db,
            reader=reader,
            indicators=default_indicators(),
            default_days_overdue=settings.loan_default_days_overdue,
            window_months=settings.loan_outcome_window_months,
        )
        with out.open("w", encoding="utf-8") as handle:
            header = export.write(handle, as_of=date.today())
        reader.close()
    except (OSError, LedgerError) as exc:
        raise fail(str(exc)) from None
    typer.echo(json.dumps({"out": str(out), **header}, ensure_ascii=False))


@kpi_app.command("report")
def kpi_report(
    month: Annotated[str | None, typer.Option(help="YYYY-MM: that month's flows, stocks at its end")] = None,
    district: Annotated[str | None, typer.Option(help="GB/T 2260 six-digit code")] = None,
    industry: Annotated[
        str | None,
        typer.Option(help="GB/T 4754-2017 section A-T (enterprises: registered; loans: the loan's)"),
    ] = None,
    format: Annotated[str, typer.Option(help="json or csv")] = "json",
    api: ApiOption = None,
    keystore: KeystoreOption = None,
    key_env: KeyEnvOption = None,
) -> None:
    """Print the KPIs (any member)."""
    if format not in ("json", "csv"):
        raise fail(f"--format: {format!r} is not json or csv")
    client = member_client(api, keystore, key_env)
    result = _api_call(lambda: client.kpis(month=month, district=district, industry=industry, format=format))
    typer.echo(result if format == "csv" else json.dumps(result, ensure_ascii=False, indent=2), nl=False)
    if format == "json":
        typer.echo()


def publications_reader(rpc: str | None, publications: str | None) -> Any:
    """The Publications contract read through `rpc` with no key of ours (address from the manifest)."""
    from eth_account import Account

    from ledger.chain.client import ChainClient
    from ledger.chain.deploy import Deployment
    from ledger.chain.publications import PublicationsContract

    settings = Settings()
    if publications is None:
        if not settings.manifest_path.exists():
            raise fail(f"no deployment manifest at {settings.manifest_path}; pass --publications")
        publications = Deployment.load(settings.manifest_path).addresses.publications
    reader = ChainClient.connect(
        rpc or settings.effective_rpc_url, Account.create().key.hex(), poa=settings.poa
    )
    return PublicationsContract(reader, publications)


@kpi_app.command("snapshot")
def kpi_snapshot(
    month: Annotated[str, typer.Option(help="YYYY-MM")],
    out: Annotated[Path, typer.Option(help="where to write the published document (what is anchored)")],
    api: ApiOption = None,
    keystore: KeystoreOption = None,
    key_env: KeyEnvOption = None,
) -> None:
    """Publish a month's KPI snapshot (operators): exported, checked, anchored on chain; written to OUT.

    The platform refuses a snapshot whose figures do not recompute from its rows; the
    document written is the one whose hash is on chain (RFC 8785, so `sha256sum` of the
    file is the anchored hash).
    """
    import rfc8785

    from ledger.financing.kpi_snapshot import check_export

    client = member_client(api, keystore, key_env)
    published = _api_call(lambda: client.publish_kpi_snapshot(month))
    raw = bytes(rfc8785.dumps(published["document"]))
    anchor = published["anchor"]
    check = check_export(raw, bytes.fromhex(anchor["content_hash"].removeprefix("0x")))
    try:
        out.write_bytes(raw)
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc}") from None
    if not check.ok:  # the platform checked it too: a difference here is a defect, said loudly
        raise fail(f"the published snapshot does not check: {check.to_json()}")
    typer.echo(json.dumps({"out": str(out), **anchor}, ensure_ascii=False))


@kpi_app.command("verify")
def kpi_verify(
    export: Annotated[Path, typer.Argument(help="an export written by `kpi snapshot`", dir_okay=False)],
    version: Annotated[
        int | None, typer.Option(min=1, help="the anchored version (default: the one the file names)")
    ] = None,
    rpc: RpcOption = None,
    publications: PublicationsOption = None,
) -> None:
    """Recompute the figures from the export and match its hash to the chain; exit 1 on any failure."""
    from ledger.chain.publications import PublicationKind, document_id
    from ledger.financing.kpi_snapshot import check_export, export_of, parse_export

    try:
        raw = export.read_bytes()
        document = parse_export(raw)
        month = str(export_of(document).get("month"))
        if version is None and isinstance(document.get("version"), int):
            version = int(document["version"])  # the version the published document names
        contract = publications_reader(rpc, publications)
        doc_id = document_id(PublicationKind.KPI_SNAPSHOT, month)
        if version is None:
            anchored = contract.latest(PublicationKind.KPI_SNAPSHOT, doc_id)
        else:
            anchored = contract.publication(PublicationKind.KPI_SNAPSHOT, doc_id, version)
        check = check_export(raw, None if anchored is None else anchored.content_hash)
    except (OSError, LedgerError) as exc:
        raise fail(getattr(exc, "message", str(exc))) from None
    result = check.to_json()
    if anchored is not None:
        result.update(version=anchored.version, block=anchored.block_number, publisher=anchored.publisher)
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
    if not check.ok:
        reasons = []
        if anchored is None:
            reasons.append(f"no KPI snapshot of {month} is anchored")
        elif not check.hash_matches:
            reasons.append("the export's hash is not the anchored hash")
        if not check.figures_match:
            reasons.append(f"{len(check.differences)} figure(s) do not recompute from the rows")
        raise fail("; ".join(reasons))

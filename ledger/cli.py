"""The `credit-ledger` command: run the platform, manage the devnet, keys and deployment."""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ledger.cli_alerts import alerts_app, start_alert_sender
from ledger.cli_audit import audit_app
from ledger.cli_backup import backup_app
from ledger.cli_chain import chain_app
from ledger.cli_db import db_app
from ledger.cli_evaluation import evaluation_app
from ledger.cli_financing import financing_app
from ledger.cli_loans import kpi_app, loans_app
from ledger.cli_model import model_app
from ledger.cli_records import anchor_app, catalogue_app, records_app, start_anchoring
from ledger.cli_release import release_app
from ledger.cli_watches import watch_app
from ledger.errors import LedgerError
from ledger.keystore import create_keystore
from ledger.settings import Settings

app = typer.Typer(
    help="credit-ledger: permissioned credit-data sharing on an EVM chain.", no_args_is_help=True
)
devnet_app = typer.Typer(
    help="The local chain: anvil, or an ethereumjs network (state kept under the data directory).",
    no_args_is_help=True,
)
keys_app = typer.Typer(help="Member keys in encrypted keystore files.", no_args_is_help=True)
app.add_typer(devnet_app, name="devnet")
app.add_typer(keys_app, name="keys")
app.add_typer(records_app, name="records")  # records, catalogue, anchoring
app.add_typer(catalogue_app, name="catalogue")
app.add_typer(anchor_app, name="anchor")
app.add_typer(audit_app, name="audit")  # the independent audit
app.add_typer(release_app, name="release")  # data requests
app.add_typer(alerts_app, name="alerts")  # alerts to institutions: the sender
app.add_typer(watch_app, name="watch")  # watches (institutions) and evasion flags (operators)
app.add_typer(chain_app, name="chain")  # the watermark and acts the chain lost
app.add_typer(model_app, name="model")  # the credit scorecard and its governance on chain
app.add_typer(evaluation_app, name="evaluation")  # evaluations as releases
app.add_typer(loans_app, name="loans")  # loan reporting and its outcomes
app.add_typer(kpi_app, name="kpi")  # the KPIs of 四(四) and their anchored snapshots
app.add_typer(financing_app, name="financing")  # white lists, loan products, demands, applications
app.add_typer(backup_app, name="backup")  # the database dump plus the chain, and restore
app.add_typer(db_app, name="db")  # the database's upkeep: monthly partitions


#: how long `up`'s supervisor waits for an API process's answer before replacing it
WORKER_HEALTHCHECK_SECONDS = 30


def _fail(exc: LedgerError) -> typer.Exit:
    typer.secho(f"error: {exc.message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def _require_free_address(host: str, port: int) -> None:
    """Refuse at once, in one line, when the API's address is taken: before a chain, a worker
    or a sender is started, which a bind failing in the server would leave to be torn down."""
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
            probe.bind(address)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise _fail(
            LedgerError(
                f"cannot serve the API on {host}:{port}: {reason.lower()} "
                "(another process holds it? free it, or set LEDGER_API_PORT)"
            )
        ) from None


@app.command()
def up(
    serve: Annotated[bool, typer.Option(help="serve the API after bringing everything up")] = True,
    api_processes: Annotated[
        int | None,
        typer.Option(min=1, help="API processes to serve with (default: LEDGER_API_WORKERS, 1)"),
    ] = None,
) -> None:
    """Bring up the whole platform: devnet (unless LEDGER_RPC_URL), contracts, database, API.

    One `up` is one node: its own process runs the anchoring worker and the alert sender,
    each leading while it holds its database lock (standing by otherwise), and serves the
    API itself or, with several API processes, supervises them (README: Several processes)."""
    import uvicorn

    from ledger.platform import bootstrap, devnet_for

    settings = Settings()
    if api_processes is not None:
        settings = settings.model_copy(update={"api_workers": api_processes})
    if serve:
        _require_free_address(settings.api_host, settings.api_port)
    devnet = devnet_for(settings) if settings.uses_devnet else None
    # A devnet started here is stopped (cleanly, so its state is written) when `up` ends;
    # one started beforehand with `credit-ledger devnet up` is left running.
    owns_devnet = devnet is not None and devnet.pid() is None
    # uvicorn re-raises SIGTERM after its graceful shutdown; turn it into an exit so the
    # `finally` below runs instead of the process dying on the default handler.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    background: list[Callable[[], None] | None] = []

    def say(msg: str) -> None:
        typer.echo(f"· {msg}")

    try:
        platform, _ = bootstrap(settings, on_step=say)
        if serve:
            background.append(start_anchoring(platform, say=say))  # unless LEDGER_ANCHOR_IN_UP=false
            background.append(start_alert_sender(platform, say=say))  # unless LEDGER_ALERTS_IN_UP=false
            typer.echo(
                f"· serving the API on http://{settings.api_host}:{settings.api_port} (docs at /docs)"
                + (f" from {settings.api_workers} processes" if settings.api_workers > 1 else "")
            )
            uvicorn.run(
                "api.main:create",
                factory=True,
                host=settings.api_host,
                port=settings.api_port,
                workers=settings.api_workers,
                # uvicorn's 5 s default also bounds a new API process's start (re-importing
                # the CLI, then the app): on a loaded machine that took longer, and the
                # supervisor killed and restarted its API processes in a loop, never serving
                timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
                log_level="warning",
            )
    except LedgerError as exc:
        raise _fail(exc) from exc
    finally:
        for stop in background:  # leaders hand over at once: their locks are released
            if stop is not None:
                stop()
        if devnet is not None and owns_devnet and serve:
            typer.echo("· stopping the local chain (state is kept)")
            devnet.stop()


@app.command()
def demo(url: Annotated[str, typer.Option(help="the platform's API")] = "http://127.0.0.1:8000") -> None:
    """Walk the whole story against a running devnet platform (devnet operator keys: DEVNET ONLY).

    Its members' keystores are saved under $LEDGER_DATA_DIR/demo-keys/RUN (DEVELOPMENT ONLY password)."""
    from ledger.demo import run

    try:
        run(url, Settings().data_dir / "demo-keys")
    except LedgerError as exc:
        raise _fail(exc) from exc


@app.command("mlps-records")
def mlps_records(
    prune: Annotated[
        bool, typer.Option(help="delete records older than LEDGER_AUDIT_RETENTION_DAYS (at least 183)")
    ] = False,
) -> None:
    """The size of the MLPS audit records (rows, refusals, stored characters, time span)."""
    from ledger.services import audit_events
    from ledger.storage.database import Database

    settings = Settings()
    db = Database(settings.effective_database_url)
    try:
        if prune:
            deleted = audit_events.prune(db, settings.audit_retention_days)
            typer.echo(f"deleted {deleted} record(s) older than {settings.audit_retention_days} days")
        size = audit_events.size(db)
    except LedgerError as exc:
        raise _fail(exc) from exc
    typer.echo(
        json.dumps({
            "records": size.records,
            "refusals": size.refusals,
            "stored_chars": size.stored_chars,
            "oldest": size.oldest.isoformat() if size.oldest else None,
            "newest": size.newest.isoformat() if size.newest else None,
            "retention_days": settings.audit_retention_days,
        })
    )  # fmt: skip


@app.command()
def migrate() -> None:
    """Migrate the database to the latest schema."""
    from ledger.storage.database import migrate as run_migrations

    run_migrations(Settings().effective_database_url)
    typer.echo("database is at the latest revision")


@app.command()
def deploy() -> None:
    """Deploy the contracts, or check that the manifest matches chain and code."""
    from ledger.chain.deploy import ensure_deployed
    from ledger.platform import connect_chain, governance_for

    settings = Settings()
    try:
        deployment, now = ensure_deployed(
            connect_chain(settings), settings.manifest_path, governance_for(settings)
        )
    except LedgerError as exc:
        raise _fail(exc) from exc
    typer.echo(("deployed" if now else "already deployed, manifest matches") + f" ({settings.manifest_path})")
    typer.echo(json.dumps(deployment.addresses.by_name(), indent=2))


class ChainClientKind(StrEnum):
    """The devnet's client: anvil (one node) or ethereumjs (a Clique network of N nodes)."""

    anvil = "anvil"
    ethereumjs = "ethereumjs"


ClientOption = Annotated[
    ChainClientKind, typer.Option("--client", help="anvil, or ethereumjs: a second EVM client")
]


@devnet_app.command("up")
def devnet_up(
    client: ClientOption = ChainClientKind.anvil,
    nodes: Annotated[int, typer.Option(min=1, help="ethereumjs: sealing nodes, each a signer")] = 2,
) -> None:
    """Start the local chain in the background."""
    from ledger.platform import devnet_for, ethereumjs_network_for

    settings = Settings()
    try:
        if client is ChainClientKind.ethereumjs:
            network = ethereumjs_network_for(settings, nodes)
            network.start()
            for node in network.nodes:
                typer.echo(
                    f"ethereumjs node {node.index} at {node.url} (pid {node.pid()}), signer {node.signer}"
                )
            typer.echo("run the platform on it with (the worker may use another node's URL):")
            for name, value in network.platform_env().items():
                typer.echo(f"  {name}='{value}'")
            return
        anvil = devnet_for(settings)
        anvil.start()
    except LedgerError as exc:
        raise _fail(exc) from exc
    typer.echo(f"devnet running at {anvil.url} (pid {anvil.pid()}), state in {anvil.data_dir}")


@devnet_app.command("down")
def devnet_down(client: ClientOption = ChainClientKind.anvil) -> None:
    """Stop the local chain cleanly; its state is written to disk."""
    from ledger.platform import devnet_for, ethereumjs_network_for

    settings = Settings()
    try:
        if client is ChainClientKind.ethereumjs:
            ethereumjs_network_for(settings).stop()
        else:
            devnet_for(settings).stop()
    except LedgerError as exc:
        raise _fail(exc) from exc
    typer.echo("devnet stopped")


@devnet_app.command("status")
def devnet_status(client: ClientOption = ChainClientKind.anvil) -> None:
    """Whether the local chain runs, its block, and its disk use (each node's, for ethereumjs)."""
    from ledger.platform import devnet_for, ethereumjs_network_for

    settings = Settings()
    found = (
        ethereumjs_network_for(settings).status()
        if client is ChainClientKind.ethereumjs
        else [devnet_for(settings).status()]
    )
    typer.echo(json.dumps([s.__dict__ for s in found] if len(found) > 1 else found[0].__dict__, indent=2))
    if not all(s.running for s in found):
        raise typer.Exit(code=3)


@keys_app.command("create")
def keys_create(
    path: Annotated[Path, typer.Argument(help="keystore file to write")],
    password_env: Annotated[
        str, typer.Option(help="environment variable holding the password (otherwise prompted)")
    ] = "LEDGER_KEY_PASSWORD",
) -> None:
    """Create a member key in an encrypted keystore file and print its address."""
    password = os.environ.get(password_env) or typer.prompt(
        "password", hide_input=True, confirmation_prompt=True
    )
    try:
        account = create_keystore(path, password)
    except LedgerError as exc:
        raise _fail(exc) from exc
    typer.echo(account.address)


if __name__ == "__main__":  # pragma: no cover
    app()

"""`credit-ledger backup create|restore`: the database dump plus the chain (`ledger.backup`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ledger.errors import LedgerError
from ledger.settings import Settings

backup_app = typer.Typer(
    help="Back up and restore the database with the chain it agrees with.", no_args_is_help=True
)


def _say(message: str) -> None:
    typer.echo(message, err=True)


def _fail(exc: LedgerError) -> typer.Exit:
    typer.secho(f"error: {exc.message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


@backup_app.command("create")
def backup_create(
    destination: Annotated[Path, typer.Argument(help="an empty or new directory for the backup")],
) -> None:
    """Take a backup while the platform runs: the chain's block (and devnet state), then the database."""
    from ledger.backup import create_backup
    from ledger.chain.deploy import Deployment
    from ledger.platform import connect_chain, devnet_for

    settings = Settings()
    try:
        if not settings.manifest_path.exists():
            raise LedgerError(f"no deployment at {settings.manifest_path}: nothing to back up yet")
        devnet_state = None
        if settings.uses_devnet:
            node = devnet_for(settings)
            if node.pid() is None:
                raise LedgerError(
                    "the devnet is not running: start the platform or `credit-ledger devnet up`"
                )
            devnet_state = node.durable_state_file()
        manifest = create_backup(
            connect_chain(settings),
            Deployment.load(settings.manifest_path),
            settings.effective_database_url,
            destination,
            devnet_state=devnet_state,
            on_step=_say,
        )
    except LedgerError as exc:
        raise _fail(exc) from exc
    typer.echo(f"backup of chain {manifest.chain_id} at block {manifest.head_number} in {destination}")


@backup_app.command("restore")
def backup_restore(
    source: Annotated[Path, typer.Argument(help="a directory written by `backup create`")],
) -> None:
    """Restore into a new database (and, on the devnet, a stopped devnet), then check the chain agrees."""
    from ledger.backup import DEPLOYMENT, restore_backup, restore_devnet_state, verify_backup_files
    from ledger.platform import connect_chain, devnet_for

    settings = Settings()
    try:
        verify_backup_files(source)
        wanted = (source / DEPLOYMENT).read_text(encoding="utf-8")
        if settings.manifest_path.exists() and settings.manifest_path.read_text(encoding="utf-8") != wanted:
            raise LedgerError(f"{settings.manifest_path} names other contracts than the backup's")
        node = devnet_for(settings) if settings.uses_devnet else None
        if node is not None:
            if node.pid() is not None:
                raise LedgerError("stop the devnet (`credit-ledger devnet down`) before restoring its state")
            restore_devnet_state(source, node.state_file)
            _say(f"devnet state restored into {node.state_file}")
            node.start()
        try:
            restore_backup(source, connect_chain(settings), settings.effective_database_url, on_step=_say)
        finally:
            if node is not None:
                node.stop()
        settings.manifest_path.parent.mkdir(parents=True, exist_ok=True)
        settings.manifest_path.write_text(wanted, encoding="utf-8")
    except LedgerError as exc:
        raise _fail(exc) from exc
    typer.echo(
        "restored; start the platform (`credit-ledger up`): acts the chain lacks are sent again and"
        " unanchored entries anchored; then check with `credit-ledger audit verify`"
    )

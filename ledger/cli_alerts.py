"""`credit-ledger alerts`: the alert sender alone, and a look at the outbox."""

from __future__ import annotations

import gc
import logging
import signal
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import typer

from ledger.errors import LedgerError
from ledger.settings import Settings

if TYPE_CHECKING:
    from ledger.platform import Platform

__all__ = ["alerts_app", "start_alert_sender"]

alerts_app = typer.Typer(help="Alerts to institutions: the sender and the outbox.", no_args_is_help=True)


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def _logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


@alerts_app.command("run")
def alerts_run() -> None:
    """Run the alert sender alone (`credit-ledger up` also runs one). Safe to run twice:
    a database lock lets one lead, the other stands by."""
    from ledger.platform import Platform
    from ledger.wiring import alert_sender

    _logging()
    try:
        sender = alert_sender(Platform.open(Settings()))
    except LedgerError as exc:
        raise _fail(exc.message) from None
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    # What start-up built (web3, the ABIs, the catalogue …) lives as long as the process: kept
    # out of the collector's full passes, which otherwise walked it all, pausing the sender
    # for 0.5-0.9 s at a time (measured on a batch of 250 alerts through the gate).
    gc.collect()
    gc.freeze()
    sender.run(stop)


@alerts_app.command("status")
def alerts_status() -> None:
    """Alerts in the outbox by state, endpoints by state, and the leading sender."""
    from sqlalchemy import func, select

    from ledger.alerts.endpoint_model import AlertEndpoint
    from ledger.alerts.outbox import OutboxAlert
    from ledger.alerts.sender import LOCK_NAME
    from ledger.storage.database import Database
    from ledger.storage.locks import lock_holder

    db = Database(Settings().effective_database_url)
    try:
        with db.session() as session:
            alerts = session.execute(
                select(OutboxAlert.state, func.count()).group_by(OutboxAlert.state)
            ).all()
            endpoints = session.execute(
                select(AlertEndpoint.state, func.count()).group_by(AlertEndpoint.state)
            ).all()
        leader = lock_holder(db, LOCK_NAME)
    except LedgerError as exc:
        raise _fail(exc.message) from None
    for state, count in alerts:
        typer.echo(f"alerts {state}: {count}")
    for state, count in endpoints:
        typer.echo(f"endpoints {state}: {count}")
    typer.echo(f"sender leader: {leader or 'none'}")


def start_alert_sender(
    platform: Platform, say: Callable[[str], None] = lambda _m: None
) -> Callable[[], None] | None:
    """Run the alert sender in a daemon thread of `credit-ledger up` (unless
    LEDGER_ALERTS_IN_UP=false, e.g. when `credit-ledger alerts run` runs as its own service).
    Returns the function that stops it (and waits for it), to call before the interpreter shuts
    down: its executors refuse work from then on, and it could not release its lock."""
    import atexit

    from ledger.alerts.sender import start_in_background
    from ledger.wiring import alert_sender

    if not platform.settings.alerts_in_up:
        return None
    _logging()
    thread, stop = start_in_background(alert_sender(platform))

    def _stop() -> None:
        stop.set()
        thread.join(timeout=5)

    atexit.register(_stop)  # in case the caller does not stop it first
    say("alert sender running")
    return _stop


@alerts_app.command("seal-secrets")
def alerts_seal_secrets() -> None:
    """Seal the webhook secrets still stored plain (rows from before migration 0013) under
    the records' keyring; registration and rotation seal new ones."""
    from ledger.alerts.secret_seal import seal_stored_secrets
    from ledger.records.crypto import Keyring
    from ledger.storage.database import Database

    settings = Settings()
    try:
        sealed = seal_stored_secrets(
            Database(settings.effective_database_url), Keyring.from_settings(settings)
        )
    except LedgerError as exc:
        raise _fail(exc.message) from None
    typer.echo(f"sealed {sealed} secret(s)")

"""`credit-ledger db`: the database's own upkeep (monthly partitions on PostgreSQL)."""

from __future__ import annotations

import json

import typer

from ledger.settings import Settings

db_app = typer.Typer(help="The database's upkeep: monthly partitions (PostgreSQL).", no_args_is_help=True)


@db_app.command("partitions")
def partitions() -> None:
    """Close last month's partitions and create the MLPS records' months ahead (idempotent).

    `credit-ledger up` and `migrate` run it at every start; run it from cron on the 1st of
    each month as well (`5 0 1 * *`), so each month's partition ends where the month did."""
    from ledger.storage import partitions as upkeep
    from ledger.storage.database import make_engine

    url = Settings().effective_database_url
    if not url.startswith("postgresql"):
        typer.echo("SQLite: no partitions")
        return
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            done = upkeep.maintain(conn)
    finally:
        engine.dispose()
    typer.echo(
        json.dumps({
            "closed": [
                {"table": t, "partition": p, "from_seq": lo, "to_seq": hi} for t, p, lo, hi in done.closed
            ],
            "created": list(done.created),
        })
    )  # fmt: skip

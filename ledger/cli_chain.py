"""`credit-ledger chain status`: the watermark, the chain's head and the acts the chain lost.

For operators: an act the chain lost and the contract refused when it was sent again
(its deadline passed, its nonce was used) is listed here with the reason, so its member
can be asked to sign it again (`ledger.services.chain_watch`).
"""

from __future__ import annotations

import typer

from ledger.errors import LedgerError
from ledger.settings import Settings

chain_app = typer.Typer(help="The chain as the platform relies on it.", no_args_is_help=True)


@chain_app.command("status")
def chain_status() -> None:
    """The highest block relied on, the chain's head, and every act lost for good."""
    from ledger.chain.journal import ActJournal
    from ledger.platform import Platform

    try:
        platform = Platform.open(Settings())
        journal = ActJournal(platform.db, platform.deployment.chain_id)
        mark = journal.watermark()
        head = platform.chain.block_at("latest")
        lost = journal.lost_calls()
    except LedgerError as exc:
        typer.secho(f"error: {exc.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"watermark: {'none' if mark is None else f'block {mark.number} 0x{mark.hash.hex()}'}")
    typer.echo(f"chain head: {'none' if head is None else f'block {head[0]} 0x{head[1].hex()}'}")
    typer.echo(f"acts lost for good: {len(lost)}")
    for call in lost:
        typer.echo(
            f"  #{call.id} {call.function} on {call.contract}, first in block {call.block_number} "
            f"(tx 0x{bytes(call.transaction_hash).hex()}): {call.detail}"
        )

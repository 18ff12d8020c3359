"""`credit-ledger chain status`: the watermark, the chain's head and the acts the chain lost.

For operators: an act the chain lost and the contract refused when it was sent again
(its deadline passed, its nonce was used) is listed here with the reason, so its member
can be asked to sign it again (`ledger.services.chain_watch`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

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


@chain_app.command("declare-node")
def chain_declare_node(
    enode: Annotated[str, typer.Argument(help="the node's enode URL (enode://<public key>@host:port)")],
    keystore: Annotated[Path, typer.Option(help="the declaring member's keystore")],
    password_env: Annotated[
        str, typer.Option(help="environment variable holding the keystore password (otherwise prompted)")
    ] = "LEDGER_KEY_PASSWORD",
) -> None:
    """Declare, with a member's key, that the member runs node `enode` (printed as JSON)."""
    from ledger.chain.deploy import Deployment
    from ledger.chain.node_permissions import declare_node
    from ledger.keystore import load_keystore

    settings = Settings()
    try:
        deployment = Deployment.load(settings.manifest_path)
        password = os.environ.get(password_env) or typer.prompt("password", hide_input=True)
        member = load_keystore(keystore, password)
        declared = declare_node(member, deployment.chain_id, deployment.addresses.membership, enode)
    except (LedgerError, OSError) as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from None
    typer.echo(json.dumps(declared.to_json(), indent=2))


@chain_app.command("node-allowlist")
def chain_node_allowlist(
    declarations: Annotated[Path, typer.Argument(help="JSON list of node declarations")],
    out: Annotated[Path, typer.Option(help="Besu permissions_config.toml to write")] = Path(
        "permissions_config.toml"
    ),
) -> None:
    """Write Besu's node allowlist: the declared nodes of active members that may run one."""
    from ledger.chain.membership import MembershipContract
    from ledger.chain.node_permissions import decide_nodes, read_declarations, render_besu_allowlist
    from ledger.platform import Platform

    try:
        platform = Platform.open(Settings())
        membership = MembershipContract(platform.chain, platform.deployment.addresses.membership)
        decisions = decide_nodes(membership, read_declarations(declarations))
    except LedgerError as exc:
        typer.secho(f"error: {exc.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from None
    for decision in decisions:
        mark = "allowed" if decision.allowed else "refused"
        typer.echo(f"{mark}: {decision.enode[:24]}… of {decision.member}: {decision.reason}")
    out.write_text(render_besu_allowlist(decisions), encoding="utf-8")
    typer.echo(f"{sum(d.allowed for d in decisions)} node(s) allowed, written to {out}")

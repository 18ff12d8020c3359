"""`credit-ledger watch`: an institution's watches, signed here and sent; an operator's evasion flag.

Every request is signed on this machine with the member's key (an encrypted keystore or, for
development, an environment variable): creating, listing and ending a watch are signed
requests of the institution, a flag of malicious debt evasion (恶意逃废债) an operator's.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from ledger.cli_records import ApiOption, KeyEnvOption, KeystoreOption, fail, member_client
from ledger.errors import LedgerError

__all__ = ["watch_app"]

watch_app = typer.Typer(
    help="Watches for post-loan management (institutions); evasion flags (operators).", no_args_is_help=True
)


def _send(
    api: str | None, keystore: Any, key_env: str | None, method: str, path: str, body: Any = None
) -> None:
    try:
        answer = member_client(api, keystore, key_env).request(method, path, body)
    except LedgerError as exc:
        raise fail(exc.message) from None
    typer.echo(json.dumps(answer, ensure_ascii=False, indent=2))


@watch_app.command("create")
def watch_create(
    subject: Annotated[str, typer.Argument(help="the enterprise's 统一社会信用代码")],
    categories: Annotated[str, typer.Option(help="catalogue category names, comma-separated")],
    agreement: Annotated[int, typer.Option(help="your agreement allowing post-loan management")],
    api: ApiOption = None,
    keystore: KeystoreOption = None,
    key_env: KeyEnvOption = None,
) -> None:
    """Watch SUBJECT's categories (refused by name unless the chain allows it now)."""
    names = [c.strip() for c in categories.split(",") if c.strip()]
    body = {"subject": subject, "categories": names, "agreement_id": agreement}
    _send(api, keystore, key_env, "POST", "/watches", body)


@watch_app.command("list")
def watch_list(
    subject: Annotated[str | None, typer.Option(help="only watches of this subject")] = None,
    include_ended: Annotated[bool, typer.Option(help="ended watches too")] = False,
    api: ApiOption = None,
    keystore: KeystoreOption = None,
    key_env: KeyEnvOption = None,
) -> None:
    """Your watches, newest first."""
    query = [f"include_ended={'true' if include_ended else 'false'}"]
    if subject:
        query.append(f"subject={subject}")
    _send(api, keystore, key_env, "GET", "/watches?" + "&".join(query))


@watch_app.command("end")
def watch_end(
    watch_id: Annotated[str, typer.Argument(help="the watch's id")],
    api: ApiOption = None,
    keystore: KeystoreOption = None,
    key_env: KeyEnvOption = None,
) -> None:
    """End one of your watches at once."""
    _send(api, keystore, key_env, "POST", f"/watches/{watch_id}/end")


@watch_app.command("flag-evasion")
def watch_flag_evasion(
    subject: Annotated[str, typer.Argument(help="the enterprise's 统一社会信用代码")],
    reference: Annotated[str, typer.Option(help="the decision or case the flag rests on")],
    api: ApiOption = None,
    keystore: KeystoreOption = None,
    key_env: KeyEnvOption = None,
) -> None:
    """Operators: flag SUBJECT for malicious debt evasion; every institution that watches it,
    holds an application of it or reported a loan to it is alerted (joint action)."""
    _send(api, keystore, key_env, "POST", "/evasion-flags", {"subject": subject, "reference": reference})

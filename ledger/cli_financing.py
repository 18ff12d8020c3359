"""`credit-ledger financing ...`: white lists, loan products, demands, matching, applications.

Every command is a member's act or query through the API, signed with the member's own
key (`--keystore`, or `--key-env` for development): operators publish white lists,
institutions publish their products and list the applications they received, an
enterprise posts demands, matches them, and applies. Documents are JSON files; a white
list's codes and a product's eligibility rules are checked here before anything is sent
(and again by the platform), the refusal naming the position or field.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from ledger.cli_records import ApiOption, KeyEnvOption, KeystoreOption, fail, member_client
from ledger.errors import LedgerError

financing_app = typer.Typer(
    help="Financing services: white lists, loan products, demands, matching, applications.",
    no_args_is_help=True,
)

SubjectOption = Annotated[str, typer.Option(help="the enterprise's own 统一社会信用代码")]


def _print(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2))


def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    from ledger.sdk import ApiError, ApiUnreachable

    try:
        return fn(*args, **kwargs)
    except (ApiError, ApiUnreachable, LedgerError) as exc:
        raise fail(getattr(exc, "message", str(exc))) from exc


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise fail(f"cannot read {path}: {exc}") from exc


@financing_app.command("publish-white-list")
def publish_white_list(
    document: Annotated[Path, typer.Argument(help="the white-list version (JSON)", dir_okay=False)],
    api: ApiOption = None, keystore: KeystoreOption = None, key_env: KeyEnvOption = None,
) -> None:  # fmt: skip
    """Publish a white-list version (operators): every code checked, the hash anchored on chain."""
    client = member_client(api, keystore, key_env)
    _print(_call(client.publish_white_list, _read(document))["anchor"])


@financing_app.command("publish-product")
def publish_product(
    document: Annotated[Path, typer.Argument(help="the loan-product version (JSON)", dir_okay=False)],
    api: ApiOption = None, keystore: KeystoreOption = None, key_env: KeyEnvOption = None,
) -> None:  # fmt: skip
    """Publish a loan-product version (the institution offering it)."""
    client = member_client(api, keystore, key_env)
    _print(_call(client.publish_product, _read(document))["anchor"])


@financing_app.command("white-list")
def white_list(
    key: Annotated[str, typer.Argument(help="the list's key")],
    version: Annotated[int | None, typer.Option(min=1, help="a version (default: the newest)")] = None,
    api: ApiOption = None, keystore: KeystoreOption = None, key_env: KeyEnvOption = None,
) -> None:  # fmt: skip
    """Show a white list and its anchor."""
    _print(_call(member_client(api, keystore, key_env).white_list, key, version))


@financing_app.command("listings")
def listings(
    uscc: Annotated[str, typer.Argument(help="the enterprise's 统一社会信用代码")],
    api: ApiOption = None, keystore: KeystoreOption = None, key_env: KeyEnvOption = None,
) -> None:  # fmt: skip
    """The white lists that named an enterprise: on each now or not, and since when."""
    _print(_call(member_client(api, keystore, key_env).listings, uscc))


@financing_app.command("products")
def products(api: ApiOption = None, keystore: KeystoreOption = None, key_env: KeyEnvOption = None) -> None:
    """Every loan product's newest version."""
    _print(_call(member_client(api, keystore, key_env).products))


@financing_app.command("demand")
def demand(
    subject: SubjectOption,
    amount: Annotated[int, typer.Option(min=1, help="yuan")],
    term_months: Annotated[int, typer.Option(min=1, max=360, help="months")],
    use: Annotated[str, typer.Option(help="what the money is for")],
    collateral: Annotated[str, typer.Option(help="collateral offered, if any")] = "",
    api: ApiOption = None, keystore: KeystoreOption = None, key_env: KeyEnvOption = None,
) -> None:  # fmt: skip
    """Post a financing demand (the enterprise itself)."""
    client = member_client(api, keystore, key_env)
    _print(_call(client.post_demand, subject, amount, term_months, use, collateral))


@financing_app.command("match")
def match(
    demand_id: Annotated[str, typer.Argument(help="the demand's id")],
    subject: SubjectOption,
    as_json: Annotated[bool, typer.Option("--json", help="the whole answer as JSON")] = False,
    api: ApiOption = None, keystore: KeystoreOption = None, key_env: KeyEnvOption = None,
) -> None:  # fmt: skip
    """Match a demand against every product in force (the enterprise's own view)."""
    found = _call(member_client(api, keystore, key_env).matches, subject, demand_id)
    if as_json:
        _print(found)
        return
    for group, title in (("eligible", "eligible / 符合"), ("not_eligible", "not eligible / 不符合")):
        typer.echo(f"== {title}: {len(found[group])}")
        for m in found[group]:
            p = m["product"]
            typer.echo(f"{p['key']} v{p['version']} {p['name']} ({p['kind']}) {p['institution']}")
            for c in m["criteria"]:
                mark = "+" if c["met"] else "-"
                typer.echo(f"   {mark} {c['reason']['zh']} / {c['reason']['en']}")


@financing_app.command("apply")
def apply(
    subject: SubjectOption,
    product: Annotated[str, typer.Option(help="the product's key")],
    version: Annotated[int, typer.Option(min=1, help="the product's version (its newest)")],
    categories: Annotated[str, typer.Option(help="categories granted, comma-separated")],
    days: Annotated[int, typer.Option(min=1, max=3650, help="the grant's validity in days")] = 90,
    demand_id: Annotated[str | None, typer.Option("--demand", help="the demand this applies for")] = None,
    api: ApiOption = None, keystore: KeystoreOption = None, key_env: KeyEnvOption = None,
) -> None:  # fmt: skip
    """Apply: one signed consent grant of `categories` to the product's institution."""
    client = member_client(api, keystore, key_env)
    names = [c.strip() for c in categories.split(",") if c.strip()]
    _print(_call(
        client.apply_for_loan, subject, product, version, categories=names,
        expires_at=int(time.time()) + days * 86400, demand_id=demand_id,
    ))  # fmt: skip


@financing_app.command("applications")
def applications(
    subject: Annotated[str | None, typer.Option(help="one enterprise (the caller's own, for one)")] = None,
    api: ApiOption = None, keystore: KeystoreOption = None, key_env: KeyEnvOption = None,
) -> None:  # fmt: skip
    """Applications received (institutions) or made (the enterprise)."""
    _print(_call(member_client(api, keystore, key_env).loan_applications, subject))

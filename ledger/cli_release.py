"""`credit-ledger release`: an institution's data request, signed here and sent; proofs of releases.

The request is built and signed (EIP-712) on this machine with the institution's key,
from an encrypted keystore or, for development, an environment variable; the signature
is the request's only authentication, so the key never travels. An answer is checked
before it is shown: its response hash must be the hash of the data received, and its
receipt names the access-trail entry that logged the release. Once the entry is
anchored, `release proof` fetches its inclusion proof and `release verify-proof` checks
it against the chain alone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ledger.cli_records import (
    ApiOption,
    CheckpointsOption,
    KeyEnvOption,
    KeystoreOption,
    OutOption,
    RpcOption,
    fail,
    member_client,
    verified_bundle,
    write_bundle,
)
from ledger.errors import LedgerError

release_app = typer.Typer(help="Data requests of an institution: ask, prove, verify.", no_args_is_help=True)


@release_app.command("request")
def release_request(
    subject: Annotated[str, typer.Argument(help="the enterprise's 统一社会信用代码 (USCC)")],
    categories: Annotated[
        str, typer.Option(help="catalogue categories, comma-separated, e.g. tax,social_insurance")
    ],
    purpose: Annotated[str, typer.Option(help="one catalogue purpose, e.g. credit_assessment")],
    agreement: Annotated[int, typer.Option(help="id of the countersigned agreement to ask under")],
    raw: Annotated[bool, typer.Option(help="unmasked values where the grant allows them")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the answer (data, receipt) as JSON")] = False,
    api: ApiOption = None,
    keystore: KeystoreOption = None,
    key_env: KeyEnvOption = None,
) -> None:
    """Sign a data request for SUBJECT, send it, check the answer's hash and show what was released."""
    from ledger.domain.catalogue import Catalogue
    from ledger.release.service import response_hash
    from ledger.sdk import ApiError

    client = member_client(api, keystore, key_env)
    try:
        catalogue = Catalogue.model_validate(client.catalogue()["catalogue"])  # the version in force
        names = [name.strip() for name in categories.split(",") if name.strip()]
        category_mask, purpose_mask = catalogue.category_mask(names), catalogue.purpose_mask([purpose])
    except LedgerError as exc:
        raise fail(exc.message) from None
    try:
        answer = client.release(subject, category_mask, purpose_mask, agreement, raw=raw)
    except ApiError as exc:
        raise fail(f"refused, nothing released: {exc.message}") from None
    except LedgerError as exc:
        raise fail(exc.message) from None
    data, receipt = answer["data"], answer["receipt"]
    if "0x" + response_hash(data).hex() != receipt["response_hash"]:
        raise fail(
            "the data received does not hash to the receipt's response hash: do not rely on it "
            f"(receipt: access-trail #{receipt['index']})"
        )
    if as_json:
        typer.echo(json.dumps(answer, ensure_ascii=False, indent=2))
        return
    _show(catalogue, data, receipt)
    masked = sorted({r["category"] for r in data["records"] if r["detail"] == "masked"})
    if raw and masked:
        listed = ", ".join(masked)
        typer.echo(f"note: raw detail was asked, but the enterprise's grant does not allow it for {listed}")


def _show(catalogue: Any, data: dict[str, Any], receipt: dict[str, Any]) -> None:
    records = data["records"]
    block = receipt["block"]
    typer.echo(f"released {len(records)} record(s) of {data['subject']}, authorized at block B={block}")
    for record in records:
        category = catalogue.category(record["category"])
        flags = " · DISPUTED (objection open)" if record["disputed"] else ""
        typer.echo(
            f"  {category.name_zh} {record['category']} · {record['record_id']} v{record['version']} · "
            f"{record['event_date']} · {record['detail']}{flags}"
        )
        for name, value in record["fields"].items():
            typer.echo(f"    {category.field(name).name_zh} ({name}): {value}")
    typer.echo(
        f"receipt: access-trail #{receipt['index']}, leaf {receipt['leaf_hash']}, "
        f"response hash {receipt['response_hash']} (checked against the data above)"
    )
    typer.echo(f"once anchored: credit-ledger release proof {receipt['index']}")


@release_app.command("proof")
def release_proof(
    index: Annotated[int, typer.Argument(help="the release's access-trail index (its receipt's)")],
    out: OutOption = None,
    api: ApiOption = None,
    keystore: KeystoreOption = None,
    key_env: KeyEnvOption = None,
) -> None:
    """Fetch the inclusion proof of a release's access-trail entry (anchored entries only)."""
    try:
        bundle = member_client(api, keystore, key_env).release_proof(index)
    except LedgerError as exc:
        raise fail(exc.message) from None
    write_bundle(bundle, out, f"access-trail entry {index}")


@release_app.command("verify-proof")
def release_verify_proof(
    bundle_file: Annotated[
        Path, typer.Argument(help="bundle from `release proof`", exists=True, dir_okay=False)
    ],
    response_hash: Annotated[
        str | None, typer.Option(help="also require this response hash (from the release's receipt)")
    ] = None,
    rpc: RpcOption = None,
    checkpoints: CheckpointsOption = None,
) -> None:
    """Verify a release's proof with only the bundle and a chain node; exit 1 on any failure."""
    from ledger.domain.catalogue import default_catalogue
    from ledger.domain.log_names import ACCESS_TRAIL_LOG
    from ledger.logs.verify import verify_inclusion_bundle
    from ledger.release.accesses import entry_names

    _, verified = verified_bundle(bundle_file, verify_inclusion_bundle, rpc, checkpoints)
    entry = verified.leaf.payload
    if verified.log != ACCESS_TRAIL_LOG:
        raise fail(f"the bundle proves an entry of {verified.log}, not of the access trail")
    if response_hash is not None and entry.get("response_hash") != response_hash.lower():
        raise fail(f"the entry logs response hash {entry.get('response_hash')}, not {response_hash}")
    names = entry_names(default_catalogue(), entry)
    what = "+".join(names.categories) or "no named category"
    raw = f", raw {'+'.join(names.raw_categories)}" if names.raw_categories else ""
    typer.echo(
        f"OK: the release of {what} ({', '.join(names.purpose) or 'no named purpose'}{raw}) about "
        f"{entry.get('subject')} to {entry.get('institution')} at block B={entry.get('block')} "
        f"(response hash {entry.get('response_hash')}) is access-trail entry {verified.index}, included in "
        f"the checkpoint of size {verified.tree_size} anchored in block {verified.block_number} "
        f"(tx 0x{verified.transaction_hash.hex()})"
    )

"""`credit-ledger evaluation request`: an institution's signed evaluation request, sent and checked.

The request is signed with the institution's own key on its own machine; the answer's
hash is checked against the receipt before anything is shown.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from ledger.cli_records import ApiOption, KeyEnvOption, KeystoreOption, fail, member_client
from ledger.errors import LedgerError

evaluation_app = typer.Typer(
    help="Credit evaluations of an institution: ask and check.", no_args_is_help=True
)


@evaluation_app.command("request")
def evaluation_request(
    subject: Annotated[str, typer.Argument(help="the enterprise's 统一社会信用代码 (USCC)")],
    model: Annotated[int, typer.Option(help="the active model version to evaluate with")],
    purpose: Annotated[str, typer.Option(help="one catalogue purpose, e.g. credit_assessment")],
    agreement: Annotated[int, typer.Option(help="id of the countersigned agreement to ask under")],
    as_json: Annotated[bool, typer.Option("--json", help="print the answer (data, receipt) as JSON")] = False,
    api: ApiOption = None,
    keystore: KeystoreOption = None,
    key_env: KeyEnvOption = None,
) -> None:
    """Sign an evaluation request for SUBJECT, send it, check the answer's hash and show it."""
    from ledger.domain.catalogue import Catalogue
    from ledger.release.service import response_hash
    from ledger.sdk import ApiError

    client = member_client(api, keystore, key_env)
    try:
        catalogue = Catalogue.model_validate(client.catalogue()["catalogue"])
        purpose_mask = catalogue.purpose_mask([purpose])
    except LedgerError as exc:
        raise fail(exc.message) from None
    try:
        answer = client.evaluate(subject, model, purpose_mask, agreement)
    except ApiError as exc:
        raise fail(f"refused, nothing evaluated: {exc.message}") from None
    except LedgerError as exc:
        raise fail(exc.message) from None
    data, receipt = answer["data"], answer["receipt"]
    if "0x" + response_hash(data).hex() != receipt["response_hash"]:
        raise fail(
            "the answer received does not hash to the receipt's response hash: do not rely on it "
            f"(receipt: access-trail #{receipt['index']})"
        )
    if as_json:
        typer.echo(json.dumps(answer, ensure_ascii=False, indent=2))
        return
    _show(data, receipt)


def _show(data: dict[str, Any], receipt: dict[str, Any]) -> None:
    model = data["model"]
    typer.echo(
        f"evaluation of {data['subject']} with model version {model['version']} "
        f"({model['model_id']} {model['model_version']}{', SYNTHETIC' if model['synthetic'] else ''}), "
        f"authorized at block B={receipt['block']}"
    )
    if data["status"] == "insufficient_data":
        typer.echo(f"  insufficient data: {', '.join(data['missing_dimensions'])}")
    else:
        low, high = data["probability_band"]
        typer.echo(
            f"  score {data['score']} · grade {data['grade']} · probability of default {low:.0%}-{high:.0%}"
        )
        for reason in data["reasons"]:
            typer.echo(f"  - {reason['text_zh']} / {reason['text_en']}")
    typer.echo(
        f"receipt: access-trail #{receipt['index']}, leaf {receipt['leaf_hash']}, "
        f"response hash {receipt['response_hash']} (checked against the answer above)"
    )

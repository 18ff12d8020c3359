"""`credit-ledger records|catalogue|anchor`: ingest, prove and verify records; run the worker.

Member commands talk to the API through the SDK and sign with the member's key, from
an encrypted keystore (`--keystore`, password in LEDGER_KEY_PASSWORD or prompted) or,
for development, from an environment variable holding the private key (`--key-env`).
`records verify-proof` needs no API and no key: only the bundle and a chain node.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from ledger.errors import LedgerError
from ledger.settings import Settings

if TYPE_CHECKING:
    from ledger.platform import Platform

records_app = typer.Typer(help="Credit records: ingest, prove, verify proofs offline.", no_args_is_help=True)
catalogue_app = typer.Typer(help="The public credit information catalogue.", no_args_is_help=True)
anchor_app = typer.Typer(
    help="The anchoring worker that checkpoints the logs on chain.", no_args_is_help=True
)

V = TypeVar("V")
OutOption = Annotated[Path | None, typer.Option(help="write the bundle here instead of stdout")]
ApiOption = Annotated[str | None, typer.Option("--api", help="API base URL (default: from settings)")]
KeystoreOption = Annotated[
    Path | None, typer.Option(help="member keystore file (password: LEDGER_KEY_PASSWORD)")
]
KeyEnvOption = Annotated[
    str | None, typer.Option(help="DEVELOPMENT: environment variable holding the member's private key")
]


def fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def member_client(api: str | None, keystore: Path | None, key_env: str | None) -> Any:
    from eth_account import Account

    from ledger.keystore import load_keystore
    from ledger.sdk import LedgerClient

    settings = Settings()
    if keystore is not None:
        password = os.environ.get("LEDGER_KEY_PASSWORD") or typer.prompt("keystore password", hide_input=True)
        try:
            account = load_keystore(keystore, password)
        except LedgerError as exc:  # unreadable file, wrong password
            raise fail(exc.message) from None
    elif key_env is not None:
        if key_env not in os.environ:
            raise fail(f"environment variable {key_env} is not set")
        try:
            account = Account.from_key(os.environ[key_env])
        except ValueError:
            raise fail(f"environment variable {key_env} holds no private key (32 bytes, hex)") from None
    else:
        raise fail("name the member's key: --keystore FILE or --key-env VARIABLE")
    base = api or f"http://{settings.api_host}:{settings.api_port}"
    return LedgerClient(base, account)


def _chunks(path: Path, size: int) -> Iterator[bytes]:
    """The NDJSON file in pieces of at most `size` non-blank lines, read as it goes."""
    batch: list[bytes] = []
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                batch.append(line if line.endswith(b"\n") else line + b"\n")
            if len(batch) >= size:
                yield b"".join(batch)
                batch = []
    if batch:
        yield b"".join(batch)


@records_app.command("ingest")
def records_ingest(
    file: Annotated[Path, typer.Argument(help="NDJSON file, one record a line", exists=True, dir_okay=False)],
    mode: Annotated[
        str, typer.Option(help="all_or_nothing or accept_valid (per request)")
    ] = "all_or_nothing",
    batch: Annotated[int, typer.Option(help="records per request")] = 10_000,
    receipts: Annotated[Path | None, typer.Option(help="write the receipts here (NDJSON)")] = None,
    api: ApiOption = None,
    keystore: KeystoreOption = None,
    key_env: KeyEnvOption = None,
) -> None:
    """Submit a file of records (data providers). Re-running it is safe: idempotent by source_ref."""
    from ledger.sdk import ApiError

    client = member_client(api, keystore, key_env)
    created = existing = rejected = 0
    offset = 0  # lines already sent, to report file line numbers
    out = receipts.open("w", encoding="utf-8") if receipts else None
    try:
        for body in _chunks(file, batch):
            lines = body.count(b"\n")
            try:
                report = client.submit_records(body, mode=mode)
            except ApiError as exc:
                if not isinstance(exc.body, dict) or "rejected" not in exc.body:
                    raise fail(exc.message) from None
                report = exc.body
                typer.secho(f"batch at line {offset + 1}: {exc.message}", fg=typer.colors.YELLOW, err=True)
            created += report["created"]
            existing += report["existing"]
            for r in report["rejected"]:
                rejected += 1
                problems = "; ".join(f"{e['field']}: {e['rule']} ({e['message']})" for e in r["errors"])
                typer.echo(f"line {offset + r['line']}: {r['source_ref'] or '-'}: {problems}", err=True)
            if out is not None:
                for receipt in report["receipts"]:
                    out.write(
                        json.dumps({**receipt, "line": offset + receipt["line"]}, ensure_ascii=False) + "\n"
                    )
            offset += lines
    except LedgerError as exc:
        raise fail(exc.message) from None
    finally:
        if out is not None:
            out.close()
    typer.echo(f"{created} created, {existing} already stored, {rejected} rejected")
    if rejected:
        raise typer.Exit(code=2)


@records_app.command("proof")
def records_proof(
    record_id: Annotated[str | None, typer.Argument(help="the record's id (or give --log-index)")] = None,
    version: Annotated[int, typer.Option(help="record version")] = 1,
    log_index: Annotated[
        int | None,
        typer.Option(min=0, help="instead of an id: the record's credit-record log index (its receipt's)"),
    ] = None,
    with_opening: Annotated[
        bool, typer.Option(help="include salt and canonical record (your own records)")
    ] = False,
    out: OutOption = None,
    api: ApiOption = None,
    keystore: KeystoreOption = None,
    key_env: KeyEnvOption = None,
) -> None:
    """Fetch a record's proof bundle: leaf, inclusion proof, anchored checkpoint and transaction."""
    if (record_id is None) == (log_index is None):
        raise fail("name the record by its id or by --log-index, not both or neither")
    try:
        client = member_client(api, keystore, key_env)
        if log_index is not None:
            bundle = client.record_proof_at(log_index, with_opening=with_opening)
            record_id, version = bundle["record"]["record_id"], bundle["record"]["version"]
        else:
            bundle = client.record_proof(record_id, version, with_opening=with_opening)
    except LedgerError as exc:
        raise fail(exc.message) from None
    write_bundle(bundle, out, f"record {record_id} v{version}")


def write_bundle(bundle: dict[str, Any], out: Path | None, what: str) -> None:
    """A proof bundle as JSON to `out`, or to stdout."""
    text = json.dumps(bundle, ensure_ascii=False, indent=2)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"proof of {what} written to {out}")


def checkpoints_reader(rpc: str | None, checkpoints: str | None) -> Any:
    """The Checkpoints contract, read through `rpc` (default: from settings) with no key of ours.

    `checkpoints` defaults to the address in the deployment manifest.
    """
    from eth_account import Account

    from ledger.chain.checkpoints import CheckpointsContract
    from ledger.chain.client import ChainClient
    from ledger.chain.deploy import Deployment

    settings = Settings()
    if checkpoints is None:
        if not settings.manifest_path.exists():
            raise fail(f"no deployment manifest at {settings.manifest_path}; pass --checkpoints")
        checkpoints = Deployment.load(settings.manifest_path).addresses.checkpoints
    url = rpc or settings.effective_rpc_url
    reader = ChainClient.connect(url, Account.create().key.hex(), poa=settings.poa)  # reads only
    return CheckpointsContract(reader, checkpoints)


def verified_bundle(
    bundle_file: Path, verify: Callable[..., V], rpc: str | None, checkpoints: str | None
) -> tuple[dict[str, Any], V]:
    """The bundle in `bundle_file` and what `verify` found it proves; exits 1 on any failure."""
    try:
        bundle = json.loads(bundle_file.read_text(encoding="utf-8"))
        return bundle, verify(bundle, checkpoints=checkpoints_reader(rpc, checkpoints))
    except (LedgerError, ValueError) as exc:
        raise fail(getattr(exc, "message", str(exc))) from None


RpcOption = Annotated[str | None, typer.Option(help="chain node (default: from settings)")]
CheckpointsOption = Annotated[
    str | None, typer.Option(help="Checkpoints contract address (default: from the deployment manifest)")
]


@records_app.command("verify-proof")
def records_verify_proof(
    bundle_file: Annotated[
        Path, typer.Argument(help="bundle from `records proof`", exists=True, dir_okay=False)
    ],
    rpc: RpcOption = None,
    checkpoints: CheckpointsOption = None,
) -> None:
    """Verify a proof offline: only the bundle and a chain node; exit 1 on any failure."""
    from ledger.records.verify import verify_record_bundle

    bundle, verified = verified_bundle(bundle_file, verify_record_bundle, rpc, checkpoints)
    opened = " and its opening" if bundle.get("opening") else ""
    typer.echo(
        f"OK: record {bundle['record']['record_id']} v{bundle['record']['version']}{opened} is entry "
        f"{verified.index} of {verified.log}, included in the checkpoint of size {verified.tree_size} "
        f"anchored in block {verified.block_number} (tx 0x{verified.transaction_hash.hex()})"
    )


@catalogue_app.command("publish")
def catalogue_publish(
    file: Annotated[
        Path | None, typer.Argument(help="catalogue JSON (default: the packaged catalogue)", dir_okay=False)
    ] = None,
    api: ApiOption = None,
    keystore: KeystoreOption = None,
    key_env: KeyEnvOption = None,
) -> None:
    """Publish a catalogue version (operators): validated, stored, anchored on chain."""
    from ledger.domain.catalogue import load_catalogue

    try:
        document = load_catalogue(file).model_dump(mode="json")
        result = member_client(api, keystore, key_env).publish_catalogue(document)
    except LedgerError as exc:
        raise fail(exc.message) from None
    typer.echo(
        f"catalogue v{result['version']} published: hash {result['content_hash']}, tx {result['transaction']}"
    )


@catalogue_app.command("show")
def catalogue_show(
    version: Annotated[int | None, typer.Option(help="version (default: the one in force)")] = None,
    api: ApiOption = None,
    keystore: KeystoreOption = None,
    key_env: KeyEnvOption = None,
) -> None:
    try:
        typer.echo(
            json.dumps(member_client(api, keystore, key_env).catalogue(version), ensure_ascii=False, indent=2)
        )
    except LedgerError as exc:
        raise fail(exc.message) from None


@anchor_app.command("run")
def anchor_run(
    once: Annotated[bool, typer.Option(help="anchor what is pending now and exit")] = False,
    log: Annotated[
        list[str] | None, typer.Option(help="log to anchor (repeatable; default: LEDGER_ANCHOR_LOGS)")
    ] = None,
) -> None:
    """Run the anchoring worker alone (`credit-ledger up` also runs one). Safe to run twice."""
    from ledger.platform import Platform
    from ledger.wiring import anchor_worker

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    try:
        worker = anchor_worker(Platform.open(Settings()), logs=log or None)
    except LedgerError as exc:
        raise fail(exc.message) from None
    if once:
        try:
            for name in worker.logs:
                result = worker.anchor_now(name)
                typer.echo(f"{name}: " + ("nothing new" if result is None else f"anchored {result.size}"))
        except LedgerError as exc:
            raise fail(exc.message) from None
        finally:
            worker.close()
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    worker.run(stop)


@anchor_app.command("status")
def anchor_status() -> None:
    """Per log: entries stored, checkpoint recorded, checkpoint on chain, the leading worker."""
    from ledger.chain.checkpoints import log_id
    from ledger.logs.proofs import LogProofs
    from ledger.platform import Platform
    from ledger.storage.locks import lock_holder

    try:
        platform = Platform.open(Settings())
        proofs = LogProofs(platform.db)
        contract = platform.contracts.checkpoints
        for name in platform.settings.anchor_logs:
            recorded = proofs.latest_checkpoint(name)
            on_chain = contract.latest(log_id(name))
            typer.echo(
                f"{name}: {proofs.size(name)} entries; recorded checkpoint "
                f"{recorded.size if recorded else 0}; on chain {on_chain.size}; "
                f"leader {lock_holder(platform.db, name) or 'none'}"
            )
    except LedgerError as exc:
        raise fail(exc.message) from None


def start_anchoring(
    platform: Platform, say: Callable[[str], None] = lambda _m: None
) -> Callable[[], None] | None:
    """Run the anchoring worker in a daemon thread of `credit-ledger up` (unless
    LEDGER_ANCHOR_IN_UP=false, e.g. when `credit-ledger anchor run` runs as its own service).
    Several `up` processes are safe: the database lock lets one anchor at a time. Returns the
    function that stops it (and waits for it), to call before the interpreter shuts down."""
    import atexit

    from ledger.logs.anchor_worker import start_in_background
    from ledger.wiring import anchor_worker

    if not platform.settings.anchor_in_up:
        return None
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    thread, stop = start_in_background(anchor_worker(platform))

    def _stop() -> None:
        stop.set()
        thread.join(timeout=5)

    atexit.register(_stop)  # in case the caller does not stop it first
    say(f"anchoring worker running for {', '.join(platform.settings.anchor_logs)}")
    return _stop

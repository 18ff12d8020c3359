"""Backup and restore: the database dump plus the chain, and a check that they still agree.

What a backup holds (a directory, `backup.json` describing it with a SHA-256 per file):
- `deployment.json`: the contracts' addresses (as `credit-ledger deploy` writes it);
  the manifest names the chain and the block (number and hash) read *before* the dump;
- `devnet-state.json`, on the local devnet only: anvil's durable state file. A real
  network keeps its chain on its validators (each holds all of it); the backup only
  records which head it was taken against;
- `database.dump` (`pg_dump --format=custom`) or `ledger.db` (SQLite's online backup).

Order matters. The chain is read first and the database second, so the database is
never *behind* the chain it is restored with: every checkpoint the chain holds covers
entries the dump has; anything signed after the chain was read is either in the dump
(its journal row says so, and the chain watch re-submits what the chain lacks) or was
not yet acknowledged. The other order could restore a database missing entries a
checkpoint on chain already covers, which the auditor would rightly report as lost.

Restoring refuses to run against a chain that does not hold the backup's head block
(another network, or a chain that was itself reset): the database would describe acts
the chain never saw. On the devnet the state file is put back first, so the chain
comes back at (or after) that head.

Why not a library: the dump and the copy are PostgreSQL's and SQLite's own tools; what
is ours is the order, the manifest and the agreement check, which no tool knows.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from ledger.chain.client import ChainClient
from ledger.chain.deploy import Deployment
from ledger.chain.errors import ChainUnavailable
from ledger.chain.finality import acked_copy, complete_state_block
from ledger.errors import LedgerError

__all__ = [
    "BackupError",
    "BackupManifest",
    "create_backup",
    "restore_backup",
    "restore_devnet_state",
    "verify_backup_files",
]

MANIFEST = "backup.json"
DEPLOYMENT = "deployment.json"
DEVNET_STATE = "devnet-state.json"
POSTGRES_DUMP = "database.dump"
SQLITE_COPY = "ledger.db"
FORMAT = "credit-ledger-backup/1"
COPY_ATTEMPTS = 10


class BackupError(LedgerError):
    """A backup could not be taken or restored; nothing was changed on a refused restore."""

    code = "backup_error"


@dataclass(frozen=True)
class BackupManifest:
    """What `backup.json` says: when, against which chain head, and each file's digest."""

    created_at: str
    chain_id: int
    head_number: int
    head_hash: str
    database: str  # "postgresql" or "sqlite"
    files: dict[str, str]  # name -> sha256 hex

    def to_json(self) -> dict[str, object]:
        return {
            "format": FORMAT,
            "created_at": self.created_at,
            "chain_id": self.chain_id,
            "head": {"number": self.head_number, "hash": self.head_hash},
            "database": self.database,
            "files": self.files,
        }

    @classmethod
    def read(cls, directory: Path) -> BackupManifest:
        path = directory / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BackupError(f"{path} is not a credit-ledger backup manifest: {exc}") from None
        if data.get("format") != FORMAT:
            raise BackupError(f"{path}: unknown backup format {data.get('format')!r} (expected {FORMAT})")
        return cls(
            created_at=data["created_at"],
            chain_id=int(data["chain_id"]),
            head_number=int(data["head"]["number"]),
            head_hash=str(data["head"]["hash"]),
            database=str(data["database"]),
            files={str(k): str(v) for k, v in data["files"].items()},
        )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _database_kind(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in ("postgresql", "sqlite"):
        raise BackupError(f"cannot back up a {backend} database (PostgreSQL and SQLite are supported)")
    return backend


def _libpq_url(url: str) -> str:
    """The SQLAlchemy URL as `pg_dump` and `pg_restore` take it (no `+driver`)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(database)


def _run(command: list[str], what: str) -> None:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=3600, check=False)
    except FileNotFoundError:
        raise BackupError(f"{command[0]} not found: install the PostgreSQL client tools to {what}") from None
    if result.returncode != 0:
        raise BackupError(f"{what} failed ({command[0]} exited {result.returncode}): {result.stderr.strip()}")


def _chain_head(chain: ChainClient, destination: Path, devnet_state: Path | None) -> tuple[int, bytes]:
    """The block the backup is taken against, with the devnet's state copied when there is one.

    On the devnet, the block the copied state file covers (the chain restarts there); on
    a network, its `finalized` block where it has the tag, else its latest.
    """
    if devnet_state is not None:
        copy = destination / DEVNET_STATE
        covered = None
        for _attempt in range(COPY_ATTEMPTS):  # anvil rewrites state.json in place every second
            try:
                shutil.copyfile(devnet_state, copy)
            except OSError as exc:
                raise BackupError(f"cannot copy the devnet's state {devnet_state}: {exc}") from None
            if (covered := complete_state_block(copy.read_bytes())) is not None:
                break
            time.sleep(0.2)
        if covered is None:
            raise BackupError(f"the devnet's state {devnet_state} was being rewritten: take the backup again")
        head = chain.block_at(covered)
    else:
        try:
            head = chain.block_at("finalized")
        except ChainUnavailable:
            head = None
        head = head or chain.block_at("latest")
    if head is None:
        raise BackupError("the chain does not answer the block the backup is taken against")
    return head


def create_backup(
    chain: ChainClient,
    deployment: Deployment,
    database_url: str,
    destination: Path,
    *,
    devnet_state: Path | None = None,
    on_step: Callable[[str], None] | None = None,
) -> BackupManifest:
    """Take a backup into `destination` (created; must be empty): chain first, then the database."""
    say = on_step or (lambda _msg: None)
    kind = _database_kind(database_url)
    if destination.exists() and any(destination.iterdir()):
        raise BackupError(f"{destination} is not empty; a backup goes into a directory of its own")
    destination.mkdir(parents=True, exist_ok=True)

    number, block_hash = _chain_head(chain, destination, devnet_state)
    chain_id = chain.chain_id()
    say(
        f"chain {chain_id} at block {number} (0x{block_hash.hex()})"
        + (", devnet state copied" if devnet_state else "")
    )
    deployment.save(destination / DEPLOYMENT)

    if kind == "postgresql":
        say("dumping PostgreSQL (pg_dump --format=custom)")
        _run(
            [
                "pg_dump",
                "--format=custom",
                "--no-owner",
                f"--file={destination / POSTGRES_DUMP}",
                _libpq_url(database_url),
            ],
            "the database dump",
        )
    else:
        say("copying SQLite (online backup)")
        source = sqlite3.connect(_sqlite_path(database_url))
        target = sqlite3.connect(destination / SQLITE_COPY)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()

    files = {p.name: _sha256(p) for p in sorted(destination.iterdir()) if p.is_file() and p.name != MANIFEST}
    manifest = BackupManifest(
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        chain_id=chain_id,
        head_number=number,
        head_hash="0x" + block_hash.hex(),
        database=kind,
        files=files,
    )
    (destination / MANIFEST).write_text(json.dumps(manifest.to_json(), indent=2), encoding="utf-8")
    say(f"backup written to {destination} ({len(files)} files)")
    return manifest


def verify_backup_files(source: Path) -> BackupManifest:
    """The manifest, once every file it names is present with its digest (nothing else is read)."""
    manifest = BackupManifest.read(source)
    for name, digest in manifest.files.items():
        path = source / name
        if not path.is_file():
            raise BackupError(f"the backup lacks {name}")
        if _sha256(path) != digest:
            raise BackupError(f"{name} does not match the backup's manifest (changed or damaged)")
    return manifest


def restore_devnet_state(source: Path, state_file: Path) -> None:
    """Put the devnet's state back (the devnet must be stopped): step one of a devnet restore."""
    manifest = verify_backup_files(source)
    if DEVNET_STATE not in manifest.files:
        raise BackupError("this backup was taken against a network, not the devnet: it holds no chain state")
    state_file.parent.mkdir(parents=True, exist_ok=True)
    # The devnet resumes from whichever of its files covers most: drop the other timeline's.
    for stale in (acked_copy(state_file), state_file.with_suffix(".good.json")):
        stale.unlink(missing_ok=True)
    shutil.copyfile(source / DEVNET_STATE, state_file)


def restore_backup(
    source: Path,
    chain: ChainClient,
    database_url: str,
    *,
    on_step: Callable[[str], None] | None = None,
) -> BackupManifest:
    """Restore the database from `source` after checking the chain still holds the backup's head.

    The target database must be empty of tables (a new database): a restore never
    merges into a live one. On the devnet, call `restore_devnet_state` and start the
    devnet first.
    """
    say = on_step or (lambda _msg: None)
    manifest = verify_backup_files(source)
    kind = _database_kind(database_url)
    if kind != manifest.database:
        raise BackupError(f"the backup holds a {manifest.database} database, the target is {kind}")
    if chain.chain_id() != manifest.chain_id:
        raise BackupError(
            f"the chain is {chain.chain_id()}, the backup was taken on chain {manifest.chain_id}"
        )
    held = chain.block_at(manifest.head_number)
    if held is None or "0x" + held[1].hex() != manifest.head_hash:
        raise BackupError(
            f"the chain does not hold the backup's head block {manifest.head_number} ({manifest.head_hash}):"
            " restore the chain's nodes (or the devnet state) first"
        )
    say(f"chain {manifest.chain_id} holds block {manifest.head_number}: restoring the database")
    if kind == "postgresql":
        _run(
            [
                "pg_restore",
                "--exit-on-error",
                "--no-owner",
                "--single-transaction",
                f"--dbname={_libpq_url(database_url)}",
                str(source / POSTGRES_DUMP),
            ],
            "the database restore",
        )
    else:
        target = _sqlite_path(database_url)
        if target.exists() and target.stat().st_size > 0:
            raise BackupError(f"{target} exists: restore into a new database file")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / SQLITE_COPY, target)
    say("database restored")
    return manifest

"""When the chain will not lose a block: the platform's finality rule for acknowledgements.

A receipt says a transaction is in a block; it does not say the block will survive. A
devnet killed before its state reached the disk comes back without its last blocks; a
real network can re-organise its head. So every act the platform relays is answered
only once its block is *durable* under the configured rule (`LEDGER_FINALITY`):

- `devnet-state`: the local anvil's state file covers the block. anvil rewrites the
  whole file every `--state-interval` second, in place (a kill in the middle tears it);
  the file begins with the block environment it covers (`{"block":{"number":"0x53",…`),
  so its first bytes say which block is on disk. Once it covers the block, the complete
  file is copied to `state.acked.json` (written to a temporary file, fsynced, renamed):
  a later torn rewrite cannot take an acknowledged block with it, because the devnet
  restarts from whichever of the two files covers more (`ledger.devnet`).
- `finalized`: the network's `finalized` block tag has reached the block and the block
  at that height is still the receipt's (a BFT network such as QBFT finalizes at once;
  anvil's tag trails its head by 64 blocks, too far behind for a 1-second chain).
- `confirmations:N`: N blocks were built on top of it, and it is still the receipt's.
  Under both, a block replaced while the act waits (a reorganization) refuses the act
  at once: it is not acknowledged.
- `inclusion`: the receipt is enough. Only for tests that pin the chain themselves; a
  production deployment refuses it (see `ledger.settings`).

Waiting adds latency to every act (about half the state interval on the devnet); an
act whose block does not become durable in time is refused as unavailable, and its
member is told it may or may not take effect (it is in a block that may yet be lost):
read the chain before signing again. Its journal row stays `included`; should the chain
come back behind, the chain watch re-submits it with the others (`ledger.services.chain_watch`).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ledger.chain.errors import ChainUnavailable
from ledger.errors import InvalidInput

__all__ = [
    "Confirmations",
    "DevnetState",
    "Finality",
    "Finalized",
    "Inclusion",
    "NotDurable",
    "acked_copy",
    "complete_state_block",
    "parse_finality",
    "state_file_block",
]

POLL_SECONDS = 0.02
CHAIN_POLL_SECONDS = 0.25
_HEAD_BYTES = 512
_BLOCK_NUMBER = re.compile(rb'^\{"block":\{"number":"0x([0-9a-fA-F]+)"')


class NotDurable(ChainUnavailable):
    """The act's block did not become durable in time; it is not acknowledged."""

    code = "not_durable"


class Finality(Protocol):
    """Waits until a block will not be lost; `name` is the setting that chose it."""

    @property
    def name(self) -> str: ...

    def wait_durable(self, block_number: int, block_hash: bytes, timeout: float) -> None:
        """Return once block `block_number` (with hash `block_hash`) is durable; raise
        `NotDurable` after `timeout` seconds, `ChainUnavailable` if the block was replaced."""
        ...


@dataclass(frozen=True)
class Inclusion:
    """The receipt is enough (tests that control the chain themselves)."""

    name: str = "inclusion"

    def wait_durable(self, block_number: int, block_hash: bytes, timeout: float) -> None:
        return None


def state_file_block(path: Path) -> int | None:
    """The block an anvil state file covers, read from its first bytes; None if unreadable."""
    try:
        with path.open("rb") as file:
            head = file.read(_HEAD_BYTES)
    except FileNotFoundError:
        return None
    match = _BLOCK_NUMBER.match(head)
    return None if match is None else int(match.group(1), 16)


def _covered(path: Path) -> int:
    """The block a state file covers, -1 when none."""
    found = state_file_block(path)
    return -1 if found is None else found


def complete_state_block(raw: bytes) -> int | None:
    """The block a whole state file covers when it parses as JSON, else None (torn)."""
    try:
        return int(json.loads(raw)["block"]["number"], 16)
    except (ValueError, KeyError, TypeError):
        return None


def _read_whole(path: Path) -> tuple[int, bytes] | None:
    """(block covered, bytes) of a state file anvil is not writing, else None.

    Not a full parse: the file holds the preserved historical states and grows to tens
    of megabytes, and parsing it would hold the interpreter for a large part of a second
    on every act, next to the release path's threads. anvil truncates and rewrites the
    file in place, so a read during a write sees it shorter than it ends up or changing:
    the file must have the same size and modification time before and after the read,
    begin with the block header and end with the closing brace. The devnet parses in full
    before it restarts from a copy (`ledger.devnet`), so a copy that was torn after all
    is passed over there, never loaded.
    """
    before = path.stat()
    raw = path.read_bytes()
    after = path.stat()
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or len(
        raw
    ) != after.st_size:
        return None
    match = _BLOCK_NUMBER.match(raw[:_HEAD_BYTES])
    if match is None or not raw.rstrip().endswith(b"}"):
        return None
    return int(match.group(1), 16), raw


@dataclass(frozen=True)
class DevnetState:
    """The local anvil's state file covers the block (see the module docstring).

    The file tells only a block's number: once it covers the number, the chain is
    asked whether its block there is still the receipt's (`block_at`), since a node
    restarted meanwhile from older state reaches the same number with other blocks.
    """

    state_file: Path
    block_at: Callable[[int | str], tuple[int, bytes] | None] | None = None
    name: str = "devnet-state"

    @property
    def acked_file(self) -> Path:
        return acked_copy(self.state_file)

    def wait_durable(self, block_number: int, block_hash: bytes, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if _covered(self.acked_file) >= block_number:
                break  # a concurrent act already secured a copy covering this block
            covered = state_file_block(self.state_file)
            if covered is not None and covered >= block_number and self._secure(block_number):
                break
            if time.monotonic() >= deadline:
                raise NotDurable(
                    f"block {block_number} is not yet in the devnet's state on disk "
                    f"({self.state_file.name} covers {covered}) after {timeout:.0f} s: the act is "
                    "not acknowledged: it may or may not take effect; read the chain before signing it again"
                )
            time.sleep(POLL_SECONDS)
        if self.block_at is not None:
            _still_there(self.block_at, block_number, block_hash)

    def _secure(self, block_number: int) -> bool:
        """Copy a complete state file covering `block_number` to the acked copy, durably."""
        whole = _read_whole(self.state_file)
        if whole is None or whole[0] < block_number:
            return False  # caught anvil mid-write: read again
        covered, raw = whole
        lock_path = self.state_file.with_suffix(".acked.lock")
        with lock_path.open("ab") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # several processes may secure at once
            if _covered(self.acked_file) >= covered:
                return True
            temporary = self.acked_file.with_suffix(f".tmp-{os.getpid()}")
            with temporary.open("wb") as out:
                out.write(raw)
                out.flush()
                os.fsync(out.fileno())
            temporary.replace(self.acked_file)
            directory = os.open(self.state_file.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        return True


def acked_copy(state_file: Path) -> Path:
    """Where `DevnetState` keeps the last state file an acknowledgement relied on."""
    return state_file.with_suffix(".acked.json")


@dataclass(frozen=True)
class _HeadTracking:
    """Shared by the rules that read the chain: how deep a block is, and is it still there."""

    block_at: Callable[[int | str], tuple[int, bytes] | None]

    def wait(self, block_number: int, block_hash: bytes, timeout: float, tag: str, depth: int) -> None:
        """Wait until block `tag` is at least `depth` above the block, then check it is ours.

        The block is checked on every poll too: one reorganized away while the act waits
        is refused at once, not once the head has grown `depth` blocks past it.
        """
        deadline = time.monotonic() + timeout
        while True:
            _still_there(self.block_at, block_number, block_hash)
            reached = self.block_at(tag)
            if reached is not None and reached[0] >= block_number + depth:
                break
            if time.monotonic() >= deadline:
                if reached is None and tag == "finalized":
                    raise NotDurable(
                        f"block {block_number} not acknowledged: the chain answers no `finalized` block"
                        " (a Clique network, for one, has none): set LEDGER_FINALITY=confirmations:N"
                    )
                raise NotDurable(
                    f"block {block_number} did not become final ({tag} + {depth}) within {timeout:.0f} s"
                )
            time.sleep(CHAIN_POLL_SECONDS)
        _still_there(self.block_at, block_number, block_hash)


@dataclass(frozen=True)
class Finalized:
    """The network's `finalized` tag has reached the block."""

    tracking: _HeadTracking
    name: str = "finalized"

    def wait_durable(self, block_number: int, block_hash: bytes, timeout: float) -> None:
        self.tracking.wait(block_number, block_hash, timeout, "finalized", 0)


@dataclass(frozen=True)
class Confirmations:
    """`depth` blocks were built on top of the block."""

    tracking: _HeadTracking
    depth: int
    name: str = "confirmations"

    def wait_durable(self, block_number: int, block_hash: bytes, timeout: float) -> None:
        self.tracking.wait(block_number, block_hash, timeout, "latest", self.depth)


def _still_there(
    block_at: Callable[[int | str], tuple[int, bytes] | None], block_number: int, block_hash: bytes
) -> None:
    found = block_at(block_number)
    if found is None or found[1] != block_hash:
        raise ChainUnavailable(
            f"block {block_number} of the act was replaced on chain before it became durable; "
            "the act is not acknowledged: read the chain before signing it again"
        )


FINALITY_RULES = "devnet-state, finalized, confirmations:N, inclusion"


def parse_finality(
    spec: str,
    *,
    state_file: Path | None,
    block_at: Callable[[int | str], tuple[int, bytes] | None],
) -> Finality:
    """The rule named by `spec` (`LEDGER_FINALITY`); `state_file` is the devnet's, if any."""
    if spec == "inclusion":
        return Inclusion()
    if spec == "devnet-state":
        if state_file is None:
            raise InvalidInput("LEDGER_FINALITY=devnet-state needs the local devnet (no LEDGER_RPC_URL)")
        return DevnetState(state_file, block_at)
    if spec == "finalized":
        return Finalized(_HeadTracking(block_at))
    if spec.startswith("confirmations:"):
        try:
            depth = int(spec.split(":", 1)[1])
        except ValueError:
            depth = -1
        if depth < 1:
            raise InvalidInput(f"LEDGER_FINALITY={spec}: N must be a positive integer")
        return Confirmations(_HeadTracking(block_at), depth)
    raise InvalidInput(f"LEDGER_FINALITY={spec!r} is not one of: {FINALITY_RULES}")

"""The logs as C2SP tlog-tiles resources, read-only, for auditors, witnesses and any tiles client.

Per log: `tile/<L>/<N>[.p/<W>]` (hashes), `tile/entries/<N>[.p/<W>]` (entry bundles) and
`checkpoint` (the latest checkpoint anchored on chain as a C2SP tlog-checkpoint note
body). What a client does with them: fetch the checkpoint, check its (size, root) with
the Checkpoints contract on chain (`latest`, or the `CheckpointAnchored` event of the
named transaction), then read the tiles it needs for any proof and the entry bundles
for the leaves; every leaf hash is SHA-256(0x00 || entry), as tlog-tiles prescribes.

The note carries no note signature: the log's word is its on-chain anchor, which the
note names on its extension lines (chain, contract, log id, transaction, block), and
which a client must check instead of a signature.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ledger.chain.checkpoints import log_id
from ledger.errors import InvalidInput, NotFound
from ledger.logs.leaves import check_log_name
from ledger.logs.proofs import LogProofs
from ledger.logs.store import LogCorrupted
from ledger.logs.tile_store import read_tiles
from ledger.logs.tiles import TILE_WIDTH, decode_index
from ledger.merkle.rfc9162 import HASH_SIZE
from ledger.storage.database import DatabaseUnavailable

__all__ = ["TileRequest", "TlogTiles", "parse_tile"]

#: 256^8 leaves is beyond any log; deeper levels are refused as malformed
MAX_LEVEL = 7
_TILE = re.compile(r"^(?P<index>(?:x\d{3}/)*\d{3})(?:\.p/(?P<width>\d{1,3}))?$")
_MAX_ENTRY = 0xFFFF  # entries are length-prefixed with a big-endian uint16

_ENTRIES = text(
    "SELECT seq, leaf FROM log_entries WHERE log_name = :name AND seq >= :start AND seq < :stop ORDER BY seq"
)


@dataclass(frozen=True)
class TileRequest:
    """A tile path's index N and width W (256 for a full tile)."""

    index: int
    width: int


def parse_tile(path: str) -> TileRequest:
    """`<N>[.p/<W>]` as tlog-tiles spells it; `InvalidInput` naming the problem otherwise."""
    found = _TILE.match(path)
    if found is None:
        raise InvalidInput(
            f"tile path {path!r} is not <N>[.p/<W>] with N in groups of three digits (x001/234)"
        )
    index = decode_index(found["index"])
    if found["width"] is None:
        return TileRequest(index, TILE_WIDTH)
    width = int(found["width"])
    if not 1 <= width < TILE_WIDTH:
        raise InvalidInput(f"a partial tile's width must be 1..{TILE_WIDTH - 1}, got {width}")
    return TileRequest(index, width)


class TlogTiles:
    """Tiles, entry bundles and the anchored checkpoint of the logs, as bytes to serve."""

    def __init__(self, proofs: LogProofs, *, chain_id: int, checkpoints_contract: str) -> None:
        self.proofs = proofs
        self.chain_id = chain_id
        self.checkpoints_contract = checkpoints_contract

    def origin(self, name: str) -> str:
        """The checkpoint's origin line: unique per deployment and log, no spaces, no plus."""
        return f"credit-ledger/{self.chain_id}/{self.checkpoints_contract.lower()}/{name}"

    def tile(self, name: str, level: int, request: TileRequest) -> bytes:
        """The first `width` hashes of tile (level, index); `NotFound` until the log has them."""
        check_log_name(name)
        if not 0 <= level <= MAX_LEVEL:
            raise InvalidInput(f"tile level must be 0..{MAX_LEVEL}, got {level}")
        try:
            with self.proofs.db.engine.connect() as conn:
                stored = read_tiles(conn, name, [(level, request.index)]).get((level, request.index), b"")
        except SQLAlchemyError as exc:
            raise DatabaseUnavailable(f"database error: {exc.__class__.__name__}: {exc}") from exc
        want = request.width * HASH_SIZE
        if len(stored) < want:
            raise NotFound(
                f"log {name} has no tile {level}/{request.index} of width {request.width} "
                f"(it holds {len(stored) // HASH_SIZE} hashes there)"
            )
        return stored[:want]

    def entries(self, name: str, request: TileRequest) -> bytes:
        """Entry bundle `index`: its first `width` leaves, each as a uint16 length and the leaf's bytes."""
        check_log_name(name)
        start = request.index * TILE_WIDTH
        stop = start + request.width
        try:
            with self.proofs.db.engine.connect() as conn:
                rows = conn.execute(_ENTRIES, {"name": name, "start": start, "stop": stop}).all()
        except SQLAlchemyError as exc:
            raise DatabaseUnavailable(f"database error: {exc.__class__.__name__}: {exc}") from exc
        if len(rows) != request.width:
            raise NotFound(
                f"log {name} has no entry bundle {request.index} of width {request.width} "
                f"(it holds {len(rows)} of those entries)"
            )
        out = bytearray()
        for seq, leaf in rows:
            data = bytes(leaf)
            if len(data) > _MAX_ENTRY:
                raise LogCorrupted(f"log {name}: entry {seq} is {len(data)} bytes, over a bundle's 65,535")
            out += len(data).to_bytes(2, "big") + data
        return bytes(out)

    def checkpoint(self, name: str) -> str:
        """The latest anchored checkpoint as a tlog-checkpoint note body; `NotFound` before the first."""
        check_log_name(name)
        if self.proofs.watch is not None:  # its transaction may be among blocks the chain lost
            self.proofs.watch.require_current()
        anchored = self.proofs.latest_checkpoint(name)
        if anchored is None:
            raise NotFound(f"log {name} has no anchored checkpoint yet")
        lines = [
            self.origin(name),
            str(anchored.size),
            base64.b64encode(anchored.root).decode("ascii"),
            f"anchor eip155:{self.chain_id} {self.checkpoints_contract} log 0x{log_id(name).hex()}",
        ]
        if anchored.transaction_hash is not None:
            lines.append(f"anchor-tx 0x{anchored.transaction_hash.hex()} block {anchored.block_number}")
        return "\n".join(lines) + "\n"

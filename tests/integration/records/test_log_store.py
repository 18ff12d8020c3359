"""The generic log store: contiguous sequence numbers under concurrent writers and rollbacks."""

from __future__ import annotations

import random
import threading

import pytest
from sqlalchemy import delete, select, update

from ledger.logs.models import LogCheckpoint, LogEntry, LogHead, LogTile
from ledger.logs.proofs import LogProofs, record_checkpoint
from ledger.logs.store import LogCorrupted, committed_size, open_for_append
from ledger.logs.tree import TreeCache
from ledger.merkle.rfc9162 import consistency_proof, hash_leaf, inclusion_proof, root
from ledger.storage.database import Database

LOG = "test-log"


class Boom(Exception):
    pass


def _append(db: Database, writer_id: int, count: int, fail: bool = False) -> list[int]:
    with db.session() as session:
        writer = open_for_append(session, LOG)
        appended = writer.append([("entry", {"writer": writer_id, "i": i}) for i in range(count)])
        if fail:
            raise Boom
    return [a.seq for a in appended]


def test_concurrent_writers_get_contiguous_sequence_numbers(database: Database) -> None:
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def run(writer_id: int) -> None:
        rng = random.Random(writer_id)
        for round_ in range(6):
            fail = rng.random() < 0.3
            try:
                seqs = _append(database, writer_id, rng.randint(1, 40), fail=fail)
            except Boom:
                continue
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)
                return
            results.append(seqs)
            del round_

    threads = [threading.Thread(target=run, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    every = sorted(s for seqs in results for s in seqs)
    assert every == list(range(len(every)))  # no gap, no duplicate, rollbacks left no hole
    for seqs in results:  # each transaction's entries are one contiguous run
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    with database.session() as session:
        assert committed_size(session, LOG) == len(every)
        rows = session.execute(
            select(LogEntry.seq, LogEntry.leaf, LogEntry.leaf_hash).order_by(LogEntry.seq)
        ).all()
    assert [r.seq for r in rows] == every
    assert all(hash_leaf(r.leaf) == r.leaf_hash for r in rows)
    assert all(f'"seq":{r.seq},'.encode() in r.leaf for r in rows)
    # the tiles, written by each writer in its own transaction, are the tree of what committed
    hashes = [bytes(r.leaf_hash) for r in rows]
    tree = TreeCache().tree(database, LOG)
    for size in {1, len(hashes) // 3, len(hashes)}:
        assert tree.root(size) == root(hashes[:size])
        assert tree.inclusion_proof(size - 1, len(hashes)) == inclusion_proof(hashes, size - 1, len(hashes))


def _reset(db: Database) -> None:
    """What a restore of an empty backup does to the log tables."""
    with db.session() as session:
        session.execute(delete(LogEntry))
        session.execute(delete(LogTile))
        session.execute(delete(LogCheckpoint))
        session.execute(update(LogHead).values(size=0, frontier=b""))


def _hashes(db: Database) -> list[bytes]:
    with db.session() as session:
        return [bytes(h) for h in session.scalars(select(LogEntry.leaf_hash).order_by(LogEntry.seq))]


def test_proofs_from_tiles_equal_the_reference_and_survive_a_table_reset(database: Database) -> None:
    _append(database, 1, 37)
    _append(database, 1, 263)  # 300: one full tile at level 0, one partial
    cache = TreeCache()
    hashes = _hashes(database)
    tree = cache.tree(database, LOG)
    for size in (1, 2, 16, 17, 37, 256, 257, 300):
        assert tree.root(size) == root(hashes[:size])
        assert tree.inclusion_proof(size - 1, size) == inclusion_proof(hashes, size - 1, size)
        assert tree.consistency_proof(size // 2, size) == consistency_proof(hashes, size // 2, size)
    with database.session() as session:
        record_checkpoint(session, LOG, 300, tree.root(300), None, None)
    proofs = LogProofs(database, cache)
    assert proofs.inclusion(LOG, 20).path == inclusion_proof(hashes, 20, 300)  # full tile 0/0 now cached

    # the tables are emptied and refilled with other entries: the cached full tile is caught
    _reset(database)
    _append(database, 2, 300)
    other = _hashes(database)
    with database.session() as session:
        record_checkpoint(session, LOG, 300, root(other), None, None)
    assert proofs.inclusion(LOG, 20).path == inclusion_proof(other, 20, 300)


def test_consistency_needs_committed_sizes(database: Database) -> None:
    _append(database, 1, 3)
    proofs = LogProofs(database, TreeCache())
    first, second, proof = proofs.consistency(LOG, 1, 3)
    assert len(proof) == 2 and first != second
    with pytest.raises(Exception, match="no tree of size 4"):
        proofs.consistency(LOG, 1, 4)


def test_a_proof_reads_its_entry_s_tile_with_the_entry_and_still_catches_a_damaged_tile(
    database: Database,
) -> None:
    _append(database, 1, 300)  # tile 0/0 full, tile 0/1 partial
    hashes = _hashes(database)
    with database.session() as session:
        record_checkpoint(session, LOG, 300, root(hashes), None, None)
    proofs = LogProofs(database, TreeCache())
    # a fresh cache: the entry's own full tile comes with the entry, the partial one is read apart
    assert proofs.inclusion(LOG, 200).path == inclusion_proof(hashes, 200, 300)
    assert proofs.inclusion(LOG, 290).path == inclusion_proof(hashes, 290, 300)

    # one hash of the full tile altered in the table: a fresh reader hands out no path (the
    # root at 300 folds tile 1/0, not this tile, so the refusal blames the entry's place)
    with database.session() as session:
        stored = session.scalars(select(LogTile).where(LogTile.level == 0, LogTile.idx == 0)).one()
        damaged = bytearray(stored.hashes)
        damaged[5 * 32] ^= 1
        stored.hashes = bytes(damaged)
    with pytest.raises(LogCorrupted, match="stored entry 200 is not the entry that was anchored"):
        LogProofs(database, TreeCache()).inclusion(LOG, 200)

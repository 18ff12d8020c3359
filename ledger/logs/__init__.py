"""Append-only RFC 9162 Merkle logs stored in the database and anchored on chain.

Generic over the log: the credit-record log and the access trail both use it.
- `store`: append inside the caller's transaction (contiguous sequence numbers) and read;
- `tree`: a per-process cache of each log's Merkle tree, for O(log n) proofs;
- `proofs`: inclusion to the latest anchored checkpoint, consistency between sizes;
- `anchor_worker`: checkpoints logs on chain by size or time, safely and resumably;
- `verify`: offline verification of a proof bundle against the chain.
"""

from ledger.logs.leaves import Leaf, LeafError, check_log_name, decode_leaf, encode_leaf
from ledger.logs.proofs import AnchoredCheckpoint, InclusionProof, LogProofs, NotYetAnchored
from ledger.logs.store import AppendedEntry, LogCorrupted, LogWriter, committed_size, open_for_append
from ledger.logs.tree import TreeCache, default_cache

__all__ = [
    "AnchoredCheckpoint",
    "AppendedEntry",
    "InclusionProof",
    "Leaf",
    "LeafError",
    "LogCorrupted",
    "LogProofs",
    "LogWriter",
    "NotYetAnchored",
    "TreeCache",
    "check_log_name",
    "committed_size",
    "decode_leaf",
    "default_cache",
    "encode_leaf",
    "open_for_append",
]

"""Each access-trail leaf examined on its own: decoded, parsed, its signer recovered.

These are the per-entry parts of steps 3.2, 4.1 and 4.3: they need nothing but the
leaf, so they run in worker processes for a long trail (a third of a millisecond of
CPU per release, most of it libsecp256k1 and JSON) while the main process checks the
other logs. The results are plain data; `verify_logs` and `verify_access` turn them
into findings.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from ledger.audit.leaves import (
    ACCESS_LEAF_TYPE,
    ALERT_LEAF_TYPE,
    EVALUATION_LEAF_TYPE,
    AccessEntry,
    DecodedLeaf,
    LeafProblem,
    PayloadProblem,
    SignedRequest,
    decode_leaf,
    parse_access,
    parse_alert_authorization,
    parse_evaluation_authorization,
)
from ledger.audit.request_sig import SignatureProblem, recover_signer, request_digest

__all__ = ["Examination", "Examined", "examine"]

#: below this many leaves a process pool costs more than it saves
PARALLEL_FROM = 4_000


@dataclass(slots=True)
class Examined:
    """What one leaf is, on its own. Exactly one of `leaf` / `leaf_problem` is set.

    `entry` is what a release (``access``) or an evaluation (``evaluation``) leaf says was
    authorized; `signer` is recovered for releases only.
    """

    seq: int  # the index it is served at
    leaf: DecodedLeaf | None  # type and inner seq; the payload is `entry`, not kept here
    leaf_problem: str | None
    entry: AccessEntry | None = None
    payload_problem: tuple[str, str, str] | None = None  # field, expected, got
    signer: bytes | str | None = None  # 20-byte address, or why none recovers


def examine(separator: bytes, items: Sequence[tuple[int, bytes]]) -> list[Examined]:
    """Examine (seq, leaf bytes) pairs of the access trail under the request domain `separator`."""
    out: list[Examined] = []
    for seq, data in items:
        try:
            decoded = decode_leaf(data)
        except LeafProblem as exc:
            out.append(Examined(seq, None, str(exc)))
            continue
        head = DecodedLeaf(decoded.type, decoded.seq, {})
        if decoded.type not in (ACCESS_LEAF_TYPE, EVALUATION_LEAF_TYPE, ALERT_LEAF_TYPE):
            out.append(Examined(seq, head, None))
            continue
        try:
            if decoded.type == EVALUATION_LEAF_TYPE:
                entry = parse_evaluation_authorization(seq, decoded.payload)
            elif decoded.type == ALERT_LEAF_TYPE:
                entry = parse_alert_authorization(seq, decoded.payload)
            else:
                entry = parse_access(seq, decoded.payload)
        except PayloadProblem as exc:
            out.append(Examined(seq, head, None, payload_problem=(exc.field, exc.expected, exc.got)))
            continue
        if decoded.type in (EVALUATION_LEAF_TYPE, ALERT_LEAF_TYPE):
            # authorized like a release (step 4); an evaluation's signature, under the
            # evaluation domain, is step 6.4's; an alert has none (it is pushed to a watch)
            out.append(Examined(seq, head, None, entry))
            continue
        request = entry.request
        signer: bytes | str
        try:
            signer = recover_signer(request_digest(separator, request), request.signature)
        except SignatureProblem as exc:
            signer = str(exc)
        out.append(Examined(seq, head, None, entry, None, signer))
    return out


# Across processes results travel as plain tuples: pickling them costs a fraction of
# pickling the dataclasses, which matters at 100,000s of entries.
_Row = tuple[Any, ...]


def _to_row(x: Examined) -> _Row:
    e = x.entry
    entry = None
    if e is not None:
        r = e.request
        request = (
            r.institution,
            r.subject,
            r.categories,
            r.purpose,
            r.agreement_id,
            r.raw,
            r.nonce,
            r.deadline,
            r.signature,
        )
        entry = (
            e.index, e.institution, e.subject, e.categories, e.purpose, e.agreement_id, e.grant_id,
            e.raw_categories, e.level, e.block, e.response_hash, e.released_at, e.at, e.record_count, request,
        )  # fmt: skip
    leaf = None if x.leaf is None else (x.leaf.type, x.leaf.seq)
    return (x.seq, leaf, x.leaf_problem, entry, x.payload_problem, x.signer)


def _from_row(row: _Row) -> Examined:
    seq, leaf, leaf_problem, entry, payload_problem, signer = row
    access = None
    if entry is not None:
        *fields, request = entry
        access = AccessEntry(*fields, SignedRequest(*request))  # type: ignore[call-arg]  # arity: _to_row
    head = None if leaf is None else DecodedLeaf(leaf[0], leaf[1], {})
    return Examined(seq, head, leaf_problem, access, payload_problem, signer)


def _examine_rows(separator: bytes, items: Sequence[tuple[int, bytes]]) -> list[_Row]:
    return [_to_row(x) for x in examine(separator, items)]


class Examination:
    """`examine` over a whole trail, started at once and collected with `results()`.

    With `workers` > 1 and enough leaves it runs in a process pool meanwhile (the work
    is pure CPU, so threads would not help); otherwise inline when `results()` is called.
    """

    def __init__(self, items: Sequence[tuple[int, bytes]], separator: bytes, *, workers: int = 1) -> None:
        self._items = items
        self._separator = separator
        self._pool: ProcessPoolExecutor | None = None
        self._futures: list[Future[list[_Row]]] = []
        if workers > 1 and len(items) >= PARALLEL_FROM:
            size = max(1_000, len(items) // (workers * 4))
            # Forked workers inherit the whole export; unless it is frozen, their garbage
            # collector walks every inherited object, copying the pages it touches.
            gc.freeze()
            try:
                self._pool = ProcessPoolExecutor(max_workers=workers)
                self._futures = [
                    self._pool.submit(_examine_rows, separator, items[i : i + size])
                    for i in range(0, len(items), size)
                ]
            finally:
                gc.unfreeze()

    def results(self, on_done: Callable[[int], None] | None = None) -> list[Examined]:
        """Every leaf examined, in the order given."""
        if self._pool is None:
            out = examine(self._separator, self._items)
            if on_done is not None:
                on_done(len(out))
            return out
        out = []
        try:
            for future in self._futures:
                chunk = [_from_row(row) for row in future.result()]
                out.extend(chunk)
                if on_done is not None:
                    on_done(len(chunk))
        finally:
            self.close()
        return out

    def close(self) -> None:
        """Stop the worker processes (idempotent)."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)

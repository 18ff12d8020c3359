"""Steps 2-3 on hand-made logs: what each kind of damage is reported as, and where."""

from __future__ import annotations

import dataclasses

from ledger.audit.export import ExportedEntry
from ledger.audit.findings import Finding, Step
from ledger.audit.verify_logs import check_log
from ledger.logs.leaves import encode_leaf
from tests.unit.audit.fakes import LOG, entries, leaves, snapshot

SIZES = [3, 8, 13, 20]


def _check(served: list[ExportedEntry], snap=None, **kw) -> list[Finding]:  # type: ignore[no-untyped-def]
    findings: list[Finding] = []
    check_log(LOG, served, snap or snapshot(leaves(22), SIZES), findings, **kw)
    return findings


def _where(findings: list[Finding]) -> set[tuple[str, int | None]]:
    return {(f.step.value, f.index) for f in findings}


def test_a_clean_log_rebuilds_every_checkpoint_consistently() -> None:
    findings: list[Finding] = []
    result = check_log(LOG, entries(leaves(22)), snapshot(leaves(22), SIZES), findings, declared_size=22)
    assert findings == []
    assert [(c.size, c.rebuilt, c.consistent) for c in result.checkpoints] == [(s, True, True) for s in SIZES]
    assert (result.anchored_size, result.unanchored) == (20, 2)


def test_a_changed_entry_breaks_the_first_root_covering_it() -> None:
    data = leaves(22)
    data[9] = encode_leaf("entry", 9, {"n": "changed"})
    findings = _check(entries(data))
    assert _where(findings) == {("3.3", 8)}  # entries 8..12: after the checkpoint at 8
    assert "1 later checkpoint(s)" in findings[0].what  # the one at 20


def test_a_changed_unanchored_entry_breaks_no_root() -> None:
    data = leaves(22)
    data[21] = encode_leaf("entry", 21, {"n": "changed"})
    assert _check(entries(data)) == []  # only per-entry evidence (steps 4, 5) protects the tail


def test_gaps_duplicates_reorderings_and_truncation_are_located() -> None:
    data = leaves(22)
    served = entries(data)
    assert _where(_check([e for e in served if e.seq not in (4, 5)])) >= {("3.1", 4)}
    assert ("3.1", 6) in _where(_check([*served, ExportedEntry(LOG, 6, data[7])]))
    swapped = [*served]
    swapped[2], swapped[3] = ExportedEntry(LOG, 2, data[3]), ExportedEntry(LOG, 3, data[2])
    assert {("3.2", 2), ("3.2", 3), ("3.3", 0)} <= _where(_check(swapped))
    assert _where(_check(served[:15])) == {("3.5", 15)}
    assert ("3.5", None) in _where(_check(served, declared_size=23))


def test_leaf_format_and_type_are_checked() -> None:
    data = leaves(22)
    data[20] = data[20].replace(b'{"n"', b'{ "n"')
    data[21] = encode_leaf("other", 21, {"n": 21})
    findings = [f for f in _check(entries(data)) if f.step is Step.LEAF]
    assert {f.index for f in findings} == {20}  # unknown log: any type tag goes
    findings_access: list[Finding] = []
    check_log(
        "access-trail", entries(leaves(2), "access-trail"), snapshot([], [], "access-trail"), findings_access
    )
    assert {(f.step, f.index, f.got) for f in findings_access} == {
        (Step.LEAF, 0, "entry"),
        (Step.LEAF, 1, "entry"),
    }


def test_a_broken_checkpoint_history_is_reported() -> None:
    data = leaves(22)
    snap = snapshot(data, SIZES)
    history = list(snap.checkpoints[LOG])
    history[2] = dataclasses.replace(history[2], previous_size=9)
    findings = _check(entries(data), dataclasses.replace(snap, checkpoints={LOG: tuple(history)}))
    assert [(f.step, f.what[:40]) for f in findings] == [
        (Step.CHECKPOINT_HISTORY, "checkpoint in block 12 does not extend t")
    ]
    lying = snapshot(data, SIZES, latest=(21, bytes(32)))
    assert [f.step for f in _check(entries(data), lying)] == [Step.CHECKPOINT_LATEST]


def test_a_root_anchored_for_other_entries_is_reported_once() -> None:
    data = leaves(22)
    other = [encode_leaf("entry", i, {"n": -i}) for i in range(22)]
    findings = _check(entries(data), snapshot(other, SIZES))
    assert _where(findings) == {("3.3", 0)}

"""Steps 2-3 finding by finding: the exact words, place, expected and got of each kind of damage."""

from __future__ import annotations

import dataclasses

from ledger.audit.export import AuditExport, ExportedEntry
from ledger.audit.findings import Finding, Step
from ledger.audit.leaves import DecodedLeaf
from ledger.audit.verify_logs import LogScan, ServedLeaves, check_log
from ledger.logs.leaves import encode_leaf
from ledger.merkle.rfc9162 import EMPTY_ROOT, MerkleTree, hash_leaf
from tests.unit.audit.fakes import LOG, entries, leaves, snapshot

SIZES = [3, 8]


def run(
    served_entries: list[ExportedEntry], snap=None, name: str = LOG, **kw
) -> tuple[list[Finding], object]:  # type: ignore[no-untyped-def]
    findings: list[Finding] = []
    result = check_log(name, served_entries, snap or snapshot(leaves(10), SIZES), findings, **kw)
    return findings, result


def test_a_gap_names_the_missing_entries_and_what_follows() -> None:
    served_entries = [e for e in entries(leaves(10)) if e.seq not in (4, 5, 6, 8)]
    findings, result = run(served_entries)
    gaps = [f for f in findings if f.step is Step.SEQUENCE]
    assert gaps == [
        Finding(
            Step.SEQUENCE, LOG, 4, "entries 4..6 are missing", "entry 4 after entry 3", "next served entry 7"
        ),
        Finding(Step.SEQUENCE, LOG, 8, "entry 8 is missing", "entry 8 after entry 7", "next served entry 9"),
    ]
    assert (result.served, result.contiguous) == (6, 4)  # type: ignore[attr-defined]
    export = AuditExport(entries={LOG: served_entries})
    assert list(ServedLeaves(export, LOG, result.contiguous)) == leaves(10)[:4]  # type: ignore[attr-defined]


def test_a_log_not_starting_at_zero_is_a_gap_at_zero() -> None:
    findings, result = run(entries(leaves(10))[2:], snapshot(leaves(10), []))
    assert findings == [
        Finding(Step.SEQUENCE, LOG, 0, "entries 0..1 are missing", "entry 0 first", "next served entry 2")
    ]
    assert result.contiguous == 0  # type: ignore[attr-defined]


def test_a_sequence_number_served_twice_says_whether_the_leaves_differ() -> None:
    data = leaves(10)
    findings, result = run([*entries(data), ExportedEntry(LOG, 2, data[2]), ExportedEntry(LOG, 5, data[6])])
    assert findings == [
        Finding(
            Step.SEQUENCE,
            LOG,
            2,
            "sequence number served twice",
            "each sequence number once",
            "a second entry",
        ),
        Finding(
            Step.SEQUENCE,
            LOG,
            5,
            "sequence number served twice, with different leaves",
            "each sequence number once",
            "a second entry",
        ),
    ]
    assert result.served == 10  # type: ignore[attr-defined]
    scan = LogScan(LOG)
    assert [scan.add(ExportedEntry(LOG, 1, leaf)) for leaf in (b"a", b"b")] == [True, False]
    assert scan.hash_at(1) == hash_leaf(b"a") and scan.hash_at(0) is None


def test_a_leaf_with_another_index_inside_is_found_with_both_numbers() -> None:
    data = leaves(10)
    data[9] = encode_leaf("entry", 4, {"n": 9})
    findings, _ = run(entries(data))
    assert findings == [Finding(Step.LEAF, LOG, 9, "leaf carries another sequence number", "9", "4")]


def test_a_leaf_of_another_type_in_a_known_log_is_found_and_not_decoded() -> None:
    data = [encode_leaf("credit-record", i, {"n": i}) for i in range(3)]
    data[1] = encode_leaf("access", 1, {"n": 1})
    data[2] = encode_leaf("objection", 2, {"n": 2})  # a documented self-service leaf: in the roots only
    findings, _ = run(
        entries(data, "credit-records"), snapshot(data, [3], "credit-records"), "credit-records"
    )
    assert findings == [
        Finding(Step.LEAF, "credit-records", 1, "leaf of another type", "credit-record", "access")
    ]
    scan = LogScan("credit-records")
    kept = [scan.leaf(i, leaf) for i, leaf in enumerate(data)]
    assert [k.payload if k is not None else None for k in kept] == [{"n": 0}, None, None]


def test_predecoded_leaves_and_their_problems_are_taken_as_given() -> None:
    data = leaves(4)
    predecoded: dict[int, DecodedLeaf | str] = {
        0: DecodedLeaf("entry", 0, {"pre": True}),
        1: "leaf is not UTF-8 JSON",
    }
    findings, _ = run(entries(data), snapshot(data, [4]), predecoded=predecoded)
    assert findings == [Finding(Step.LEAF, LOG, 1, "leaf is not UTF-8 JSON")]
    scan = LogScan(LOG)
    kept = [scan.leaf(i, leaf, predecoded.get(i)) for i, leaf in enumerate(data)]
    assert kept[0] is not None and kept[0].payload == {"pre": True}
    assert kept[1] is None and kept[2] is not None and kept[2].payload == {"n": 2}


def test_a_leaf_that_does_not_decode_is_found_with_its_problem() -> None:
    data = leaves(4)
    data[3] = b'{"seq":3, "type":"entry"}'
    findings, _ = run(entries(data), snapshot(data, [3]))
    assert findings == [Finding(Step.LEAF, LOG, 3, "leaf bytes are not RFC 8785 canonical JSON")]


def test_a_root_that_does_not_rebuild_names_the_first_bad_checkpoint_and_counts_the_later() -> None:
    data = leaves(10)
    snap = snapshot(data, [2, 3, 8, 10])
    history = list(snap.checkpoints[LOG])
    history[1] = dataclasses.replace(history[1], root=b"\x01" * 32)
    snap = dataclasses.replace(snap, checkpoints={LOG: tuple(history)}, latest={LOG: (10, history[-1].root)})
    findings, result = run(entries(data), snap)
    tree = MerkleTree(hash_leaf(leaf) for leaf in data)
    assert findings == [
        Finding(
            Step.ROOT,
            LOG,
            2,
            "entries 2..2 do not rebuild the root anchored in block 11 at size 3",
            "0x" + "01" * 32,
            "0x" + tree.root(3).hex(),
        )
    ]
    assert [(c.rebuilt, c.consistent) for c in result.checkpoints] == [  # type: ignore[attr-defined]
        (True, True),
        (False, None),
        (True, None),  # its predecessor did not rebuild: nothing to prove consistency from
        (True, True),
    ]


def test_later_failing_roots_are_counted_in_the_first_finding() -> None:
    data = leaves(10)
    other = [encode_leaf("entry", i, {"n": -i}) for i in range(10)]
    snap = snapshot(other, [2, 3, 8])
    snap = dataclasses.replace(
        snap, checkpoints={LOG: (snapshot(data, [2]).checkpoints[LOG][0], *snap.checkpoints[LOG][1:])}
    )
    snap = dataclasses.replace(snap, latest={LOG: (8, snap.checkpoints[LOG][-1].root)})
    findings, _ = run(entries(data), snap)
    assert [f.what for f in findings] == [
        "entries 2..2 do not rebuild the root anchored in block 11 at size 3;"
        " 1 later checkpoint(s) fail as well"
    ]


def test_checkpoints_anchored_past_the_served_entries_are_not_rebuilt_and_the_log_is_incomplete() -> None:
    data = leaves(10)
    findings, result = run(entries(data)[:5], snapshot(data, [3, 8]))
    assert findings == [
        Finding(Step.COMPLETENESS, LOG, 5, "the chain anchors 8 entries but only 5 are served", "8", "5")
    ]
    assert [(c.size, c.rebuilt, c.consistent) for c in result.checkpoints] == [
        (3, True, True),
        (8, None, None),
    ]  # type: ignore[attr-defined]
    assert (result.anchored_size, result.unanchored) == (8, 0)  # type: ignore[attr-defined]


def test_a_declared_size_that_differs_from_the_entries_served_is_found() -> None:
    findings, _ = run(entries(leaves(10)), declared_size=9)
    assert findings == [
        Finding(
            Step.COMPLETENESS,
            LOG,
            None,
            "the export does not hold the number of entries its header declares",
            "9",
            "10",
        )
    ]
    assert run(entries(leaves(10)), declared_size=10)[0] == []


def test_a_checkpoint_that_shrinks_the_log_is_a_history_finding_and_not_consistent() -> None:
    data = leaves(10)
    snap = snapshot(data, [8, 3])
    findings, result = run(entries(data), snap)
    assert [f.step for f in findings] == [Step.CHECKPOINT_HISTORY, Step.CONSISTENCY]
    assert findings[0] == Finding(
        Step.CHECKPOINT_HISTORY,
        LOG,
        None,
        "checkpoint in block 11 does not extend the previous one",
        "growth from 8",
        "8 -> 3",
    )
    assert findings[1].what.startswith("checkpoints 8 -> 3 (block 11) not consistent: ")
    assert [(c.rebuilt, c.consistent) for c in result.checkpoints] == [(True, True), (True, False)]  # type: ignore[attr-defined]


def test_a_checkpoint_that_does_not_grow_is_a_history_finding() -> None:
    data = leaves(10)
    snap = snapshot(data, [3, 3])
    findings, _ = run(entries(data), snap)
    assert findings[0] == Finding(
        Step.CHECKPOINT_HISTORY,
        LOG,
        None,
        "checkpoint in block 11 does not extend the previous one",
        "growth from 3",
        "3 -> 3",
    )


def test_latest_on_an_empty_history_must_be_the_empty_tree() -> None:
    findings, _ = run([], snapshot([], [], latest=(0, EMPTY_ROOT)))
    assert findings == []
    findings, result = run([], snapshot([], [], latest=(1, b"\x02" * 32)))
    assert findings == [
        Finding(
            Step.CHECKPOINT_LATEST,
            LOG,
            None,
            "Checkpoints.latest differs from the last CheckpointAnchored event",
            "size 0 root 0x" + EMPTY_ROOT.hex(),
            "size 1 root 0x" + "02" * 32,
        )
    ]
    assert (result.served, result.contiguous, result.anchored_size, result.checkpoints) == (0, 0, 0, [])  # type: ignore[attr-defined]
    no_latest = dataclasses.replace(snapshot([], []), latest={})
    assert run([], no_latest)[0] == []


def test_timings_are_measured() -> None:
    _, result = run(entries(leaves(10)))
    assert result.merkle_seconds > 0 and result.leaf_seconds > 0  # type: ignore[attr-defined]


def test_leaves_after_one_that_does_not_decode_or_is_of_another_documented_kind_are_still_decoded() -> None:
    data = leaves(4)
    data[1] = b'{"seq":1, "type":"entry"}'
    findings, _ = run(entries(data), snapshot(data, [4]))
    assert findings == [Finding(Step.LEAF, LOG, 1, "leaf bytes are not RFC 8785 canonical JSON")]
    scan = LogScan(LOG)
    assert [i for i, leaf in enumerate(data) if scan.leaf(i, leaf) is not None] == [0, 2, 3]
    records = [encode_leaf("credit-record", i, {"n": i}) for i in range(3)]
    records[1] = encode_leaf("objection", 1, {"n": 1})
    findings, _ = run(
        entries(records, "credit-records"), snapshot(records, [3], "credit-records"), "credit-records"
    )
    scan = LogScan("credit-records")
    assert findings == [] and [i for i, leaf in enumerate(records) if scan.leaf(i, leaf)] == [0, 2]


def test_a_checkpoint_within_the_served_entries_is_rebuilt_after_one_beyond_them() -> None:
    data = leaves(10)
    findings, result = run(entries(data)[:5], snapshot(data, [8, 3]))
    assert [(c.size, c.rebuilt) for c in result.checkpoints] == [(8, None), (3, True)]  # type: ignore[attr-defined]
    assert [f.step for f in findings] == [Step.CHECKPOINT_HISTORY]  # the last anchors 3: all served


def test_every_later_failing_root_is_counted_and_a_consistency_finding_names_its_log() -> None:
    data = leaves(10)
    other = [encode_leaf("entry", i, {"n": -i}) for i in range(10)]
    snap = snapshot(other, [2, 3, 8, 9])
    snap = dataclasses.replace(
        snap, checkpoints={LOG: (snapshot(data, [2]).checkpoints[LOG][0], *snap.checkpoints[LOG][1:])}
    )
    findings, _ = run(entries(data), snap)
    assert [f.what for f in findings] == [
        "entries 2..2 do not rebuild the root anchored in block 11 at size 3;"
        " 2 later checkpoint(s) fail as well"
    ]
    findings, _ = run(entries(data), snapshot(data, [8, 3]))
    assert [(f.step, f.log) for f in findings] == [(Step.CHECKPOINT_HISTORY, LOG), (Step.CONSISTENCY, LOG)]


def test_nothing_served_against_anchored_entries_is_zero_served_and_the_result_names_its_log() -> None:
    findings, result = run([], snapshot(leaves(3), [3]))
    assert findings == [
        Finding(Step.COMPLETENESS, LOG, 0, "the chain anchors 3 entries but only 0 are served", "3", "0")
    ]
    assert result.name == LOG  # type: ignore[attr-defined]

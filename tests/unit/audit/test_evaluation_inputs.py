"""Step 6.2 completeness on a hand-built record log: what an evaluation at size n should read.

Leaves are written here in the documented form (RFC 8785 objects with type and seq), the
openings as the export carries them; no platform code is involved.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import rfc8785

from ledger.audit.chain import CheckpointRecord
from ledger.audit.evaluation_inputs import RecordLog, check_complete, expected_inputs
from ledger.audit.export import Opening, StoredVersion
from ledger.audit.findings import Finding, Step

SUBJECT, OTHER = "91350200776049653A", "91110000600037341L"
AS_OF = date(2026, 6, 1)
CATALOGUE: dict[str, Any] = {
    "categories": [
        {"name": "tax", "bit": 0, "dishonesty": None},
        {
            "name": "administrative_penalty",
            "bit": 1,
            "dishonesty": {"periods": {"minor": {"min_days": 0, "max_days": 90}}},
        },
        {"name": "registration", "bit": 2, "dishonesty": None},
    ]
}
READ = {"tax", "administrative_penalty"}  # what the indicator file reads (not registration)
MASK = 0b111


class Log:
    def __init__(self) -> None:
        self.leaves: list[bytes] = []
        self.versions: list[StoredVersion] = []

    def leaf(self, type_: str, **payload: Any) -> int:
        seq = len(self.leaves)
        self.leaves.append(rfc8785.dumps({"type": type_, "seq": seq, **payload}))
        return seq

    def record(
        self, record_id: str, version: int = 1, *, subject: str = SUBJECT, category: str = "tax",
        event_date: str = "2026-01-10", severity: str | None = None, opened: bool = True,
    ) -> int:  # fmt: skip
        seq = self.leaf("credit-record", record_id=record_id, version=version, commitment="0x" + "00" * 32)
        document = {"record_id": record_id, "version": version, "subject": subject, "category": category,
                    "event_date": event_date, "severity": severity, "fields": {}}  # fmt: skip
        opening = Opening(b"salt", document) if opened else None
        self.versions.append(StoredVersion(record_id, version, seq, bytes(32), bytes(32), opening))
        return seq

    def view(self, anchored: tuple[CheckpointRecord, ...] = ()) -> RecordLog:
        return RecordLog(self.leaves, anchored, self.versions, lambda block: CATALOGUE)


def at(log: Log, n: int, subject: str = SUBJECT) -> dict[tuple[str, int], bool] | None:
    expected = expected_inputs(log.view(), [(0, n, subject, MASK, AS_OF, 10, READ)])[0]
    return None if expected.inputs is None else dict(expected.inputs)


def facts_at(log: Log, n: int) -> dict[str, str]:
    """Case id -> "kind status record" of the facts an evaluation at size n reads."""
    expected = expected_inputs(log.view(), [(0, n, SUBJECT, MASK, AS_OF, 10, READ)])[0]
    return {k: f"{f['kind']} {f['status']} {f['record_id']}" for k, f in expected.facts.items()}


def test_latest_versions_flags_repairs_and_publicity_at_each_size() -> None:
    log = Log()
    log.record("R1")
    log.record("R2", category="registration")  # not read by the indicator file
    log.record("R3", subject=OTHER)
    n_before = log.record("R1", 2)  # R1 v2 supersedes v1 after this size
    log.leaf("objection", objection_id="O1", record_id="R1", filed_on="2026-02-01")
    n_disputed = len(log.leaves)
    log.leaf("objection-forward", objection_id="O1", record_id="R1")  # still open
    n_forwarded = len(log.leaves)
    log.leaf("objection-decision", objection_id="O1", record_id="R1", outcome="upheld")
    n_closed = len(log.leaves)
    log.record("P1", category="administrative_penalty", severity="minor", event_date="2026-05-01")
    log.record("P2", category="administrative_penalty", severity="minor", event_date="2026-01-01")  # expired
    log.leaf("repair-application", application_id="A1", record_id="P1", filed_on="2026-05-02")
    n_applied = len(log.leaves)
    log.leaf("repair-decision", application_id="A1", record_id="P1", outcome="rejected")
    n_rejected = len(log.leaves)
    log.leaf("repair-application", application_id="A2", record_id="P1", filed_on="2026-05-03")
    log.leaf("repair-decision", application_id="A2", record_id="P1", outcome="approved")

    assert at(log, n_before) == {("R1", 1): False}
    assert at(log, n_disputed) == {("R1", 2): True}
    assert at(log, n_forwarded) == {("R1", 2): True}
    assert at(log, n_closed) == {("R1", 2): False}
    assert at(log, n_rejected) == {("R1", 2): False, ("P1", 1): False}
    assert at(log, len(log.leaves)) == {("R1", 2): False}  # P1 repaired, P2 past its publicity
    assert at(log, len(log.leaves), OTHER) == {("R3", 1): False}
    # the conduct facts: cases about the records read, in the state their leaves give
    assert facts_at(log, n_before) == {}
    assert facts_at(log, n_forwarded) == {"O1": "objection forwarded R1"}
    assert facts_at(log, n_applied) == {"O1": "objection upheld R1", "A1": "repair_application pending P1"}
    assert facts_at(log, n_rejected)["A1"] == "repair_application rejected P1"
    assert facts_at(log, len(log.leaves)) == {"O1": "objection upheld R1"}  # P1 repaired: its facts go


def test_a_record_the_export_cannot_open_leaves_completeness_unshown() -> None:
    log = Log()
    log.record("R1")
    log.record("R9", opened=False)
    expected = expected_inputs(log.view(), [(0, 2, SUBJECT, MASK, AS_OF, 10, READ)])[0]
    assert expected.inputs is None and expected.problem is not None and "1 unopened" in expected.problem
    assert at(log, 1) == {("R1", 1): False}


def test_a_record_leaf_naming_no_record_leaves_completeness_unshown() -> None:
    log = Log()
    log.record("R1")
    log.leaf("objection", objection_id="O9", filed_on="2026-02-01")  # about no record: no fact
    assert at(log, 2) == {("R1", 1): False} and facts_at(log, 2) == {}
    log.leaf("credit-record", record_id=7, version=1, commitment="0x" + "00" * 32)
    log.leaf("credit-record", version=1, commitment="0x" + "00" * 32)
    expected = expected_inputs(log.view(), [(0, 4, SUBJECT, MASK, AS_OF, 10, READ)])[0]
    assert expected.inputs is None
    assert expected.problem == "the first 4 record-log entries hold 0 unopened and 2 unreadable record leaves"


def entry(
    n: Any, inputs: list[tuple[str, int, bool]], block: int = 10, facts: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "record_log_size": n, "block": block, "categories": str(MASK), "as_of": AS_OF.isoformat(),
        "subject": SUBJECT,
        "inputs": [{"record_id": r, "version": v, "disputed": d} for r, v, d in inputs],
        "facts": facts or [],
    }  # fmt: skip


O1 = {"kind": "objection", "id": "O1", "status": "open", "record_id": "R2", "filed_on": "2026-03-01"}


def findings_of(log: RecordLog, entries: list[tuple[int, dict[str, Any]]]) -> tuple[set[int], list[Finding]]:
    found: list[Finding] = []
    complete = check_complete(entries, log, READ, found)
    assert all(f.step is Step.EVALUATION_INPUTS for f in found)
    return complete, found


def test_each_way_an_entry_departs_from_the_set_is_named() -> None:
    log = Log()
    log.record("R1")
    log.record("R2")
    log.leaf("objection", objection_id="O1", record_id="R2", filed_on="2026-03-01")
    view = log.view()
    assert findings_of(view, [(5, entry(3, [("R1", 1, False), ("R2", 1, True)], facts=[O1]))]) == ({5}, [])

    complete, found = findings_of(view, [(5, entry(3, [("R2", 1, True)], facts=[O1]))])  # R1 dropped
    assert complete == set() and [(f.index, f.what.split(":")[0], f.expected) for f in found] == [
        (5, "input left out", "R1 v1")
    ]
    _, found = findings_of(view, [(5, entry(3, [("R1", 1, False), ("R2", 1, False)], facts=[O1]))])
    assert [f.what.split(" carries")[0] for f in found] == ["input record R2 v1"]
    # a conduct fact left out, or named in another state
    _, found = findings_of(view, [(5, entry(3, [("R1", 1, False), ("R2", 1, True)]))])
    assert [(f.expected, f.got) for f in found] == [("objection open about R2 filed 2026-03-01", "none")]
    upheld = O1 | {"status": "upheld"}
    _, found = findings_of(view, [(5, entry(3, [("R1", 1, False), ("R2", 1, True)], facts=[upheld]))])
    assert [f.got for f in found] == ["objection upheld about R2 filed 2026-03-01"]
    _, found = findings_of(view, [(5, entry(1, [("R1", 1, False), ("R2", 1, False)]))])
    assert [f.got for f in found] == ["R2 v1"] and "not a releasable record" in found[0].what


def test_the_size_is_bounded_by_the_anchor_the_earlier_evaluations_and_the_log() -> None:
    log = Log()
    for i in range(4):
        log.record(f"R{i}")
    anchored = (CheckpointRecord(0, 3, bytes(32), "0x", 8, bytes(32), 0),)
    view = log.view(anchored)
    everything = [(f"R{i}", 1, False) for i in range(4)]
    first_three = everything[:3]
    assert findings_of(view, [(1, entry(3, first_three, block=9)), (2, entry(4, everything))])[1] == []
    # anchored at block 8 with size 3: an evaluation at B=9 read at least 3
    _, found = findings_of(view, [(1, entry(2, first_three[:2], block=9))])
    assert [(f.expected, f.got) for f in found] == [("at least 3", "2")]
    assert "anchored on chain by block 9" in found[0].what
    # before the anchor's block, a smaller size is fine
    assert findings_of(view, [(1, entry(2, first_three[:2], block=7))])[1] == []
    # an evaluation later in the trail read less than an earlier one
    _, found = findings_of(view, [(1, entry(4, everything)), (2, entry(3, first_three, block=9))])
    assert [(f.index, f.expected) for f in found] == [(2, "at least 4")]
    assert "earlier evaluation" in found[0].what
    _, found = findings_of(view, [(1, entry(5, everything))])
    assert [(f.expected, f.got) for f in found] == [("at most 4", "5")]
    for bad in (None, -1, True, "3"):
        complete, found = findings_of(view, [(1, entry(bad, everything))])
        assert complete == set() and "names no record-log size" in found[0].what


def test_an_evaluation_of_an_empty_record_log_is_complete_when_nothing_is_anchored() -> None:
    """No checkpoint of the record log by block B bounds nothing: an evaluation that read the
    log empty (size 0, no input) is complete, and one below an anchored size is stale."""
    empty = Log()
    complete, found = findings_of(empty.view(), [(3, entry(0, []))])
    assert (complete, found) == ({3}, [])
    log = Log()
    log.record("R1")
    anchored = (CheckpointRecord(0, 1, bytes(32), "0x" + "00" * 20, 10, bytes(32), 0),)
    complete, found = findings_of(log.view(anchored), [(3, entry(0, []))])
    assert complete == set()
    assert [(f.what, f.expected, f.got) for f in found] == [
        ("the record-log size read is below the size anchored on chain by block 10", "at least 1", "0")
    ]

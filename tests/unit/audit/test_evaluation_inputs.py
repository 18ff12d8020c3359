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
from ledger.audit.leaves import ACCESS_TRAIL_LOG

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


ANCHORED_3_AT_8 = (CheckpointRecord(0, 3, bytes(32), "0x", 8, bytes(32), 0),)


Inputs = list[tuple[str, int, bool]]


def four_records(anchored: tuple[CheckpointRecord, ...] = ()) -> tuple[RecordLog, Inputs]:
    """A log of four records R0..R3 of the subject, and all four as an entry's inputs."""
    log = Log()
    for i in range(4):
        log.record(f"R{i}")
    return log.view(anchored), [(f"R{i}", 1, False) for i in range(4)]


def test_the_size_is_bounded_by_the_anchor_the_earlier_evaluations_and_the_log() -> None:
    view, everything = four_records(ANCHORED_3_AT_8)
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


# -- what a reader of the report sees for each departure ------------------------------------


UNSHOWN = "the inputs cannot be shown complete: "


def finding(index: int, what: str, expected: str | None = None, got: str | None = None) -> Finding:
    return Finding(Step.EVALUATION_INPUTS, ACCESS_TRAIL_LOG, index, what, expected, got)


def disputed_log() -> Log:
    """R1, R2 of the subject, R3 of the subject too; an objection O1 open against R2."""
    log = Log()
    log.record("R1")
    log.record("R2")
    log.record("R3")
    log.leaf("objection", objection_id="O1", record_id="R2", filed_on="2026-03-01")
    return log


ALL_FOUR = [("R1", 1, False), ("R2", 1, True), ("R3", 1, False)]


def test_each_departure_of_the_inputs_is_reported_with_its_entry_expected_and_got() -> None:
    """Every finding of 6.2 names the trail entry, says what departs, what the record log
    gives and what the entry holds, exactly; an entry with any one departure is not complete."""
    view = disputed_log().view()
    assert findings_of(view, [(5, entry(4, ALL_FOUR, facts=[O1]))]) == ({5}, [])

    left_out = [("R2", 1, True)]
    assert findings_of(view, [(5, entry(4, left_out, facts=[O1]))]) == (set(), [
        finding(5, "input left out: record R1 v1 of the subject was releasable at record-log size 4",
                "R1 v1", "not named"),
        finding(5, "input left out: record R3 v1 of the subject was releasable at record-log size 4",
                "R3 v1", "not named"),
    ])  # fmt: skip
    # at size 2 only R1 and R2 are in the log, and O1 is not filed yet
    assert findings_of(view, [(6, entry(2, [("R1", 1, False), ("R2", 1, False), ("R3", 1, False)]))]) == (
        set(),
        [finding(6, "input record R3 v1 is not a releasable record of the subject in the model's categories "
                    "at record-log size 2 (superseded, repaired, past its publicity, unknown or another's)",
                 "not an input", "R3 v1")],
    )  # fmt: skip
    flag_dropped = [("R1", 1, False), ("R2", 1, False), ("R3", 1, False)]
    assert findings_of(view, [(7, entry(4, flag_dropped, facts=[O1]))]) == (set(), [
        finding(7, "input record R2 v1 carries another dispute flag than its objections gave at "
                   "record-log size 4", "True", "False"),
    ])  # fmt: skip
    fact_text = (
        "conduct fact {} is not as the record log's first 4 entries give it "
        "(an objection or repair application about an input, with its status)"
    )
    assert findings_of(view, [(8, entry(4, ALL_FOUR))]) == (set(), [
        finding(8, fact_text.format("O1"), "objection open about R2 filed 2026-03-01", "none"),
    ])  # fmt: skip
    invented = O1 | {"id": "O0", "record_id": "R1", "filed_on": "2026-02-01"}
    assert findings_of(view, [(9, entry(4, ALL_FOUR, facts=[invented, O1]))]) == (set(), [
        finding(9, fact_text.format("O0"), "none", "objection open about R1 filed 2026-02-01"),
    ])  # fmt: skip


def test_an_entry_whose_inputs_cannot_be_shown_complete_is_reported_without_expected_or_got() -> None:
    log = Log()
    log.record("R1")
    log.record("R9", opened=False)
    assert findings_of(log.view(), [(4, entry(2, [("R1", 1, False)]))]) == (set(), [
        finding(4, UNSHOWN + "the first 2 record-log entries hold 1 unopened and 0 unreadable record leaves"),
    ])  # fmt: skip


def test_each_size_an_entry_cannot_be_held_to_is_reported_with_expected_and_got() -> None:
    view, everything = four_records(ANCHORED_3_AT_8)
    no_size = "the entry names no record-log size: its inputs cannot be shown complete"
    assert findings_of(view, [(1, entry(-1, everything))]) == (set(), [
        finding(1, no_size, "a non-negative integer", "-1")
    ])  # fmt: skip
    assert findings_of(view, [(1, entry(None, everything))])[1] == [
        finding(1, no_size, "a non-negative integer")
    ]
    assert findings_of(view, [(2, entry(2, everything[:2], block=9))])[1] == [
        finding(
            2, "the record-log size read is below the size anchored on chain by block 9", "at least 3", "2"
        )
    ]
    assert findings_of(view, [(3, entry(4, everything)), (4, entry(3, everything[:3], block=9))]) == ({3}, [
        finding(4, "the record-log size read is below the one an earlier evaluation read", "at least 4", "3")
    ])  # fmt: skip
    assert findings_of(view, [(5, entry(5, everything))]) == (set(), [
        finding(5, "the record-log size read is beyond the record log exported", "at most 4", "5")
    ])  # fmt: skip
    unplaced = entry(4, everything)
    del unplaced["block"]
    assert findings_of(view, [(6, unplaced)]) == (set(), [
        finding(6, "the entry cannot be placed in the record log: KeyError('block')")
    ])  # fmt: skip


def test_an_entry_beyond_the_log_still_bounds_the_ones_after_it() -> None:
    """The trail is written under one lock and the record log only grows: an evaluation
    after one that named size 5 cannot have read 4, even if 5 is beyond the export."""
    view, everything = four_records()
    complete, found = findings_of(view, [(1, entry(5, everything)), (2, entry(4, everything))])
    assert complete == set()
    assert [(f.index, f.expected, f.got) for f in found] == [(1, "at most 4", "5"), (2, "at least 5", "4")]


def test_two_evaluations_may_read_the_same_size_and_the_anchored_one() -> None:
    log = Log()
    for i in range(3):
        log.record(f"R{i}")
    anchored = (CheckpointRecord(0, 3, bytes(32), "0x", 8, bytes(32), 0),)
    everything = [(f"R{i}", 1, False) for i in range(3)]
    entries = [(1, entry(3, everything, block=8)), (2, entry(3, everything, block=9))]
    assert findings_of(log.view(anchored), entries) == ({1, 2}, [])


def test_the_entries_are_held_in_trail_order_whatever_order_they_come_in() -> None:
    view, everything = four_records()
    complete, found = findings_of(view, [(2, entry(3, everything[:3])), (1, entry(4, everything))])
    assert complete == {1}
    assert [(f.index, f.expected, f.got) for f in found] == [(2, "at least 4", "3")]


def test_the_evaluations_of_several_subjects_are_each_held_at_their_own_size() -> None:
    """The record log is swept once in size order: an evaluation of one subject at a small
    size, then one of another at a larger size, each sees the log as it was at its size."""
    log = Log()
    log.record("A1", subject=OTHER)
    log.record("S1")
    log.record("A2", subject=OTHER)
    log.record("S2")
    early = entry(2, [("S1", 1, False)])  # SUBJECT at size 2
    later = entry(4, [("A1", 1, False), ("A2", 1, False)]) | {"subject": OTHER}
    assert findings_of(log.view(), [(1, early), (2, later)]) == ({1, 2}, [])
    other_first = entry(1, [("A1", 1, False)]) | {"subject": OTHER}
    then = entry(4, [("S1", 1, False), ("S2", 1, False)])
    assert findings_of(log.view(), [(1, other_first), (2, then)]) == ({1, 2}, [])


def test_evaluations_given_out_of_size_order_are_each_answered_at_their_own_size() -> None:
    log = Log()
    log.record("R1")
    log.record("R2")
    log.record("R3")
    asked = [(0, 3, SUBJECT, MASK, AS_OF, 10, READ), (1, 1, SUBJECT, MASK, AS_OF, 10, READ)]
    expected = expected_inputs(log.view(), asked)
    assert dict(expected[0].inputs or {}) == {("R1", 1): False, ("R2", 1): False, ("R3", 1): False}
    assert dict(expected[1].inputs or {}) == {("R1", 1): False}


# -- the model's input categories and the catalogue in force at B ----------------------------


def test_only_the_categories_of_the_models_mask_are_inputs() -> None:
    """The entry's categories mask is the model's input categories: a record of a category
    the indicator file reads but the mask leaves out is not an input, and only the bits set
    name categories (0b010 names administrative_penalty alone, not tax below it)."""
    log = Log()
    log.record("T1")  # tax, bit 0
    log.record("P1", category="administrative_penalty", severity="minor", event_date="2026-05-01")  # bit 1
    only_penalty = entry(2, [("P1", 1, False)]) | {"categories": "2"}
    assert findings_of(log.view(), [(1, only_penalty)]) == ({1}, [])
    only_tax = entry(2, [("T1", 1, False)]) | {"categories": "1"}
    assert findings_of(log.view(), [(1, only_tax)]) == ({1}, [])
    tax_and_registration = entry(2, [("T1", 1, False)]) | {"categories": "5"}
    assert findings_of(log.view(), [(1, tax_and_registration)]) == ({1}, [])
    complete, found = findings_of(log.view(), [(1, only_penalty | {"inputs": [], "categories": "3"})])
    assert complete == set() and [f.expected for f in found] == ["P1 v1", "T1 v1"]


def test_a_mask_naming_a_bit_the_catalogue_lacks_or_no_catalogue_at_b_is_reported() -> None:
    """Either leaves the entry's inputs unshown, reported as such, and the entries after
    it are still held to the log."""
    log = Log()
    log.record("R1")
    good = entry(1, [("R1", 1, False)])
    complete, found = findings_of(log.view(), [(1, good | {"categories": str(0b1001)}), (2, good)])
    assert complete == {2}
    assert found == [finding(1, UNSHOWN + "the input categories 9 name a bit the catalogue does not")]
    no_catalogue = RecordLog(log.leaves, (), log.versions, lambda block: CATALOGUE if block >= 10 else None)
    complete, found = findings_of(no_catalogue, [(1, good | {"block": 9}), (2, good)])
    assert complete == {2}
    assert found == [finding(1, UNSHOWN + "the export holds no catalogue document in force at block 9")]
    log.record("R9", opened=False)
    complete, found = findings_of(log.view(), [(1, entry(2, [("R1", 1, False)])), (2, entry(2, []))])
    assert complete == set() and [f.index for f in found] == [1, 2]


def test_a_dishonesty_record_is_an_input_through_the_last_day_of_its_period() -> None:
    """administrative_penalty, minor: 90 days. An event on 2026-03-03 is public through
    2026-06-01 (the evaluation's date) and gone the day after; a severity the catalogue
    gives no period, or none, never ends."""
    log = Log()
    log.record("P1", category="administrative_penalty", severity="minor", event_date="2026-03-03")
    log.record("P2", category="administrative_penalty", severity="serious", event_date="2020-01-01")
    log.record("P3", category="administrative_penalty", severity=None, event_date="2020-01-01")
    log.record("T1", severity="minor", event_date="2020-01-01")  # tax: no dishonesty policy
    assert at(log, 4) == {("P1", 1): False, ("P2", 1): False, ("P3", 1): False, ("T1", 1): False}
    day_after = expected_inputs(log.view(), [(0, 4, SUBJECT, MASK, date(2026, 6, 2), 10, READ)])[0]
    assert dict(day_after.inputs or {}) == {("P2", 1): False, ("P3", 1): False, ("T1", 1): False}


# -- the record log's state at each size ----------------------------------------------------


def test_a_record_whose_new_version_names_another_subject_is_that_subjects_only() -> None:
    log = Log()
    log.record("R1")
    log.record("R1", 2, subject=OTHER)
    assert at(log, 1) == {("R1", 1): False}
    assert at(log, 2) == {}
    assert at(log, 2, OTHER) == {("R1", 2): False}


def test_a_record_stays_disputed_while_any_of_its_objections_is_open() -> None:
    log = Log()
    log.record("R1")
    log.leaf("objection", objection_id="O1", record_id="R1", filed_on="2026-02-01")
    log.leaf("objection", objection_id="O2", record_id="R1", filed_on="2026-02-02")
    log.leaf("objection-withdrawal", objection_id="O1", record_id="R1")
    assert at(log, 4) == {("R1", 1): True}
    log.leaf("objection-decision", objection_id="O2", record_id="R1", outcome="rejected")
    assert at(log, 5) == {("R1", 1): False}
    assert facts_at(log, 5) == {"O1": "objection withdrawn R1", "O2": "objection rejected R1"}


def test_a_step_of_a_case_the_log_never_filed_disputes_nothing_and_names_no_fact() -> None:
    """A forward, withdrawal or decision about an objection or application never filed
    in the log (or filed as the wrong kind) opens no case."""
    log = Log()
    log.record("R1")
    log.leaf("objection-forward", objection_id="O7", record_id="R1")
    log.leaf("objection-decision", objection_id="O8", record_id="R1", outcome="upheld")
    log.leaf("repair-decision", application_id="A7", record_id="R1", outcome="rejected")
    log.leaf("objection", objection_id=7, record_id="R1", filed_on="2026-02-01")  # an id not a string
    assert at(log, 5) == {("R1", 1): False}
    assert facts_at(log, 5) == {}


def test_a_filing_seen_again_keeps_the_first_filing_date() -> None:
    log = Log()
    log.record("R1")
    log.leaf("objection", objection_id="O1", record_id="R1", filed_on="2026-02-01")
    log.leaf("objection", objection_id="O1", record_id="R1", filed_on="2026-04-01")
    expected = expected_inputs(log.view(), [(0, 3, SUBJECT, MASK, AS_OF, 10, READ)])[0]
    assert expected.facts["O1"]["filed_on"] == "2026-02-01"
    assert dict(expected.inputs or {}) == {("R1", 1): True}


def test_a_record_leaf_with_a_version_that_is_not_an_integer_is_counted_unopened() -> None:
    log = Log()
    log.record("R1")
    log.leaf("credit-record", record_id="R1", version=[2], commitment="0x" + "00" * 32)
    log.leaf("credit-record", record_id="R1", version="1", commitment="0x" + "00" * 32)
    expected = expected_inputs(log.view(), [(0, 3, SUBJECT, MASK, AS_OF, 10, READ)])[0]
    assert (expected.inputs, expected.problem) == (
        None,
        "the first 3 record-log entries hold 2 unopened and 0 unreadable record leaves",
    )


def test_each_leaf_that_is_not_canonical_json_is_counted_unreadable() -> None:
    log = Log()
    log.record("R1")
    log.leaves.append(b'{"seq": 1, "type": "credit-record"}')
    log.leaves.append(b"not json")
    assert at(log, 1) == {("R1", 1): False}
    expected = expected_inputs(log.view(), [(0, 3, SUBJECT, MASK, AS_OF, 10, READ)])[0]
    assert expected.problem == "the first 3 record-log entries hold 0 unopened and 2 unreadable record leaves"


def test_an_entry_that_names_no_facts_is_held_as_naming_none() -> None:
    log = Log()
    log.record("R1")
    written_without = entry(1, [("R1", 1, False)])
    del written_without["facts"]
    assert findings_of(log.view(), [(1, written_without)]) == ({1}, [])


def test_an_entry_that_cannot_be_held_to_the_log_does_not_stop_the_ones_after_it() -> None:
    log = Log()
    log.record("R1")
    good = entry(1, [("R1", 1, False)])
    unplaced = entry(1, [("R1", 1, False)]) | {"as_of": "June"}
    complete, found = findings_of(log.view(), [(1, entry("1", [])), (2, unplaced), (3, good)])
    assert complete == {3}
    assert [(f.index, f.what.split(":")[0]) for f in found] == [
        (1, "the entry names no record-log size"),
        (2, "the entry cannot be placed in the record log"),
    ]

"""Step 6.2, completeness: an evaluation read the subject's whole releasable set.

Recomputing an evaluation from the inputs its entry names (6.3) shows the answer follows
from them; it cannot show that no input was left out, since leaving out a record whose
absence changes no indicator changes nothing recomputed. So each evaluation entry names
``record_log_size``: the size n of the credit-record log the platform read the subject's
records at (read in the trail's transaction, with the record log's head locked against
appends, so the records read are exactly those of its first n entries). From the export's
credit-record log and its openings, this module re-derives, at every such n:

* the latest version of each record among the first n record leaves, with its subject,
  category, event date and severity from its opening;
* whether it is disputed: an ``objection`` leaf about it among the first n whose
  ``objection_id`` no ``objection-withdrawal`` or ``objection-decision`` leaf closed;
* whether it is repaired: a ``repair-decision`` leaf about it with outcome ``approved``;

and holds the entry's inputs to exactly the subject's releasable records of the model's
input categories there: latest versions, not repaired, not past their maximum publicity
period at the evaluation's date (the catalogue in force at block B: a dishonesty category's
``periods[severity].max_days`` after the event date), each input's dispute flag the
record's state. The size itself is bounded from below, so the platform cannot pick a stale
n: not below the record log's size anchored on chain by block B (those entries were
committed before the decision), nor below the size an earlier evaluation in the trail read
(the trail is written under one lock, the record log only grows); and from above by the
log exported. Leaf formats as documented (`ledger.audit.leaves`, the self-service leaves
of README "Enterprise self-service"), re-stated here, not imported from the writing side.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from ledger.audit.chain import CheckpointRecord
from ledger.audit.export import StoredVersion
from ledger.audit.findings import Finding, Step
from ledger.audit.leaves import ACCESS_TRAIL_LOG, RECORD_LEAF_TYPE, DecodedLeaf, LeafProblem, decode_leaf

__all__ = [
    "Expected",
    "RecordLog",
    "anchored_by",
    "catalogue_categories",
    "check_complete",
    "expected_inputs",
    "publicity_ended",
]

OBJECTION = "objection"
OBJECTION_FORWARD = "objection-forward"
OBJECTION_WITHDRAWAL = "objection-withdrawal"
OBJECTION_DECISION = "objection-decision"
REPAIR_APPLICATION = "repair-application"
REPAIR_DECISION = "repair-decision"
APPROVED = "approved"
#: the fact kinds an evaluation reads (`ledger.evaluation.facts`), by the leaf that files them
OBJECTION_FACT = "objection"
REPAIR_FACT = "repair_application"
#: a case's state after each leaf about it (a decision's: its outcome)
_STATE_AFTER = {OBJECTION: "open", OBJECTION_FORWARD: "forwarded", OBJECTION_WITHDRAWAL: "withdrawn",
                REPAIR_APPLICATION: "pending"}  # fmt: skip

#: a catalogue document (the one in force at a block), by block
CatalogueAt = Callable[[int], Mapping[str, Any] | None]


@dataclass(frozen=True)
class RecordLog:
    """The credit-record log as the auditor holds it: the leaf bytes of its contiguous
    exported prefix, the checkpoints anchored on chain, the openings, and the catalogue in
    force at a block."""

    leaves: Sequence[bytes]
    anchored: Sequence[CheckpointRecord]
    versions: Iterable[StoredVersion]
    catalogue_at: CatalogueAt

    @property
    def size(self) -> int:
        return len(self.leaves)


@dataclass(frozen=True, slots=True)
class _Current:
    version: int
    subject: str
    category: str
    event_date: str
    severity: str | None


@dataclass(slots=True)
class _Case:
    """An objection or a repair application as its leaves tell it."""

    kind: str  # OBJECTION_FACT or REPAIR_FACT
    record_id: str
    filed_on: str
    status: str


@dataclass
class _State:
    """The record log's state after its first `seq` entries."""

    seq: int = 0
    current: dict[str, _Current] = field(default_factory=dict)
    by_subject: dict[str, set[str]] = field(default_factory=dict)
    open_objections: dict[Any, str] = field(default_factory=dict)
    disputes: dict[str, int] = field(default_factory=dict)
    cases: dict[str, _Case] = field(default_factory=dict)
    repaired: set[str] = field(default_factory=set)
    unopened: int = 0
    undecodable: int = 0


@dataclass(frozen=True)
class Expected:
    """What an evaluation at record-log size n should have read, or why that cannot be said."""

    inputs: Mapping[tuple[str, int], bool] | None  # (record id, version) -> disputed
    problem: str | None = None
    #: case id -> the fact as the entry names it (kind, id, status, record_id, filed_on)
    facts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def catalogue_categories(document: Mapping[str, Any], mask: int) -> dict[str, Mapping[str, Any]] | None:
    """The catalogue's categories named by the bits of `mask`, by name; None if a bit names none."""
    by_bit = {int(c["bit"]): c for c in document["categories"]}
    named: dict[str, Mapping[str, Any]] = {}
    bit = 0
    while mask >> bit:
        if mask >> bit & 1:
            category = by_bit.get(bit)
            if category is None:
                return None
            named[str(category["name"])] = category
        bit += 1
    return named


def publicity_ended(category: Mapping[str, Any], severity: str | None, event_date: str, as_of: date) -> bool:
    """A dishonesty record leaves publication, and sharing, the day after its maximum period."""
    policy = category.get("dishonesty")
    if not policy or severity is None:
        return False
    period = policy["periods"].get(severity)
    if period is None:
        return False
    return date.fromisoformat(event_date) + timedelta(days=int(period["max_days"])) < as_of


class _Sweep:
    """Walks the record log once, in order, answering for sizes asked in increasing order."""

    def __init__(self, log: RecordLog) -> None:
        self.log = log
        self.state = _State()
        self.opened = {(v.record_id, v.version): v for v in log.versions if v.opening is not None}

    def advance(self, n: int) -> _State:
        state = self.state
        while state.seq < n:
            try:
                leaf = decode_leaf(self.log.leaves[state.seq])
            except LeafProblem:
                state.undecodable += 1  # step 3.2 names it
            else:
                self._apply(state, leaf)
            state.seq += 1
        return state

    def _apply(self, state: _State, leaf: DecodedLeaf) -> None:
        p = leaf.payload
        record_id = p.get("record_id")
        if not isinstance(record_id, str):
            if leaf.type == RECORD_LEAF_TYPE:
                state.undecodable += 1
            return
        if leaf.type == RECORD_LEAF_TYPE:
            version = p.get("version")
            stored = self.opened.get((record_id, version)) if isinstance(version, int) else None
            if stored is None or stored.opening is None:
                state.unopened += 1
                return
            doc = stored.opening.document
            previous = state.current.get(record_id)
            if previous is not None:
                state.by_subject.get(previous.subject, set()).discard(record_id)
            subject = str(doc.get("subject"))
            state.current[record_id] = _Current(
                stored.version, subject, str(doc.get("category")), str(doc.get("event_date")),
                doc.get("severity"),
            )  # fmt: skip
            state.by_subject.setdefault(subject, set()).add(record_id)
        else:
            self._case(state, leaf.type, p, record_id)

    @staticmethod
    def _case(state: _State, type_: str, p: Mapping[str, Any], record_id: str) -> None:
        """An objection's or repair application's leaf: its state, and the record's dispute."""
        kind = OBJECTION_FACT if type_.startswith(OBJECTION) else REPAIR_FACT
        key = p.get("objection_id" if kind == OBJECTION_FACT else "application_id")
        if not isinstance(key, str):
            return
        if type_ in (OBJECTION, REPAIR_APPLICATION) and key not in state.cases:
            state.cases[key] = _Case(kind, record_id, str(p.get("filed_on")), _STATE_AFTER[type_])
        if type_ == REPAIR_DECISION and p.get("outcome") == APPROVED:
            state.repaired.add(record_id)
        case = state.cases.get(key)
        if case is None:
            return
        if type_ in (OBJECTION_DECISION, REPAIR_DECISION):
            case.status = str(p.get("outcome"))
        elif type_ in _STATE_AFTER:
            case.status = _STATE_AFTER[type_]
        if kind == OBJECTION_FACT:  # disputed while an objection is open or forwarded
            is_open = case.status in ("open", "forwarded")
            was_open = key in state.open_objections
            if is_open and not was_open:
                state.open_objections[key] = record_id
                state.disputes[record_id] = state.disputes.get(record_id, 0) + 1
            elif was_open and not is_open:
                state.disputes[state.open_objections.pop(key)] -= 1


def expected_inputs(
    log: RecordLog,
    evaluations: Sequence[tuple[int, int, str, int, date, int, Collection[str]]],
) -> dict[int, Expected]:
    """Per evaluation index, the inputs it should name.

    `evaluations` are (trail index, record-log size n, subject, categories mask, as_of,
    block B, categories the indicator file reads), n already checked to be within the
    exported log. One pass over the log serves them all.
    """
    sweep = _Sweep(log)
    out: dict[int, Expected] = {}
    for index, n, subject, mask, as_of, block, read in sorted(evaluations, key=lambda e: (e[1], e[0])):
        state = sweep.advance(n)
        document = log.catalogue_at(block)
        if document is None:
            out[index] = Expected(None, f"the export holds no catalogue document in force at block {block}")
            continue
        categories = catalogue_categories(document, mask)
        if categories is None:
            out[index] = Expected(None, f"the input categories {mask} name a bit the catalogue does not")
            continue
        if state.unopened or state.undecodable:
            what = f"{state.unopened} unopened and {state.undecodable} unreadable record leaves"
            out[index] = Expected(None, f"the first {n} record-log entries hold {what}")
            continue
        wanted = {name: c for name, c in categories.items() if name in read}
        inputs: dict[tuple[str, int], bool] = {}
        for record_id in state.by_subject.get(subject, ()):
            record = state.current[record_id]
            category = wanted.get(record.category)
            if category is None or record_id in state.repaired:
                continue
            if publicity_ended(category, record.severity, record.event_date, as_of):
                continue
            inputs[(record_id, record.version)] = state.disputes.get(record_id, 0) > 0
        released = {record_id for record_id, _ in inputs}
        facts = {
            key: {"kind": case.kind, "id": key, "status": case.status, "record_id": case.record_id,
                  "filed_on": case.filed_on}
            for key, case in state.cases.items()
            if case.record_id in released
        }  # fmt: skip
        out[index] = Expected(inputs, facts=facts)
    return out


def anchored_by(anchored: Sequence[CheckpointRecord], block: int) -> int:
    """The largest size of the log anchored on chain at or before `block` (0 for none)."""
    return max((c.size for c in anchored if c.block <= block), default=0)


def check_complete(
    entries: Sequence[tuple[int, Mapping[str, Any]]],
    log: RecordLog,
    read: Collection[str],
    findings: list[Finding],
) -> set[int]:
    """6.2 for each (trail index, evaluation payload): the record-log size it names, bounded,
    and its inputs exactly what it should have read there; the indices found complete.
    `read` are the categories the indicator file reads."""
    expected = _expected(entries, log, read, findings)
    complete = set()
    for index, payload in entries:
        if index in expected and _check_complete(index, payload, expected[index], findings):
            complete.add(index)
    return complete


def _expected(
    entries: Sequence[tuple[int, Mapping[str, Any]]],
    log: RecordLog,
    read: Collection[str],
    findings: list[Finding],
) -> dict[int, Expected]:
    """The record-log size each entry names, bounded; then what each should have read there."""
    asked = []
    earliest = 0  # the largest size an earlier evaluation of the trail read
    for index, payload in sorted(entries, key=lambda e: e[0]):

        def finding(what: str, expected: Any = None, got: Any = None, i: int = index) -> None:
            _finding(findings, i, what, expected, got)

        n = payload.get("record_log_size")
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            finding("the entry names no record-log size: its inputs cannot be shown complete",
                    "a non-negative integer", n)  # fmt: skip
            continue
        try:
            block = int(payload["block"])
            mask = int(str(payload["categories"]))
            as_of = date.fromisoformat(str(payload["as_of"]))
            subject = str(payload["subject"])
        except (KeyError, TypeError, ValueError) as exc:
            finding(f"the entry cannot be placed in the record log: {exc!r}")
            continue
        stale = False
        anchored = anchored_by(log.anchored, block)
        if n < anchored:
            finding(f"the record-log size read is below the size anchored on chain by block {block}",
                    f"at least {anchored}", n)  # fmt: skip
            stale = True
        if n < earliest:
            finding("the record-log size read is below the one an earlier evaluation read",
                    f"at least {earliest}", n)  # fmt: skip
            stale = True
        earliest = max(earliest, n)
        if n > log.size:
            finding("the record-log size read is beyond the record log exported", f"at most {log.size}", n)
            continue
        if not stale:
            asked.append((index, n, subject, mask, as_of, block, read))
    return expected_inputs(log, asked)


def _finding(findings: list[Finding], index: int, what: str, expected: Any = None, got: Any = None) -> None:
    findings.append(
        Finding(Step.EVALUATION_INPUTS, ACCESS_TRAIL_LOG, index, what,
                None if expected is None else str(expected), None if got is None else str(got))
    )  # fmt: skip


def _check_complete(
    index: int, payload: Mapping[str, Any], expected: Expected, findings: list[Finding]
) -> bool:
    """The inputs named are exactly the subject's releasable records there, flags as they were."""
    n = payload["record_log_size"]
    if expected.inputs is None:
        _finding(findings, index, f"the inputs cannot be shown complete: {expected.problem}")
        return False
    named = {(str(i["record_id"]), int(i["version"])): bool(i["disputed"]) for i in payload["inputs"]}
    complete = True
    for record_id, version in sorted(expected.inputs.keys() - named.keys()):
        _finding(findings, index,
                 f"input left out: record {record_id} v{version} of the subject was releasable at "
                 f"record-log size {n}", f"{record_id} v{version}", "not named")  # fmt: skip
        complete = False
    for record_id, version in sorted(named.keys() - expected.inputs.keys()):
        _finding(findings, index,
                 f"input record {record_id} v{version} is not a releasable record of the subject in the "
                 f"model's categories at record-log size {n} (superseded, repaired, past its publicity, "
                 "unknown or another's)", "not an input", f"{record_id} v{version}")  # fmt: skip
        complete = False
    for key in sorted(named.keys() & expected.inputs.keys()):
        if named[key] != expected.inputs[key]:
            _finding(findings, index,
                     f"input record {key[0]} v{key[1]} carries another dispute flag than its objections "
                     f"gave at record-log size {n}", expected.inputs[key], named[key])  # fmt: skip
            complete = False
    facts = {str(f["id"]): {k: str(v) for k, v in f.items()} for f in payload.get("facts", [])}
    for case in sorted(expected.facts.keys() | facts.keys()):
        if facts.get(case) != expected.facts.get(case):
            _finding(findings, index,
                     f"conduct fact {case} is not as the record log's first {n} entries give it "
                     "(an objection or repair application about an input, with its status)",
                     _fact_text(expected.facts.get(case)), _fact_text(facts.get(case)))  # fmt: skip
            complete = False
    return complete


def _fact_text(fact: Mapping[str, str] | None) -> str:
    if fact is None:
        return "none"
    return (
        f"{fact.get('kind')} {fact.get('status')} about {fact.get('record_id')} filed {fact.get('filed_on')}"
    )

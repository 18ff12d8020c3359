"""The deadline-bound case life cycle that objections and credit repair share.

A *case* is filed by the enterprise a record is about, against the record's current
version, and is due by a deadline in working days. While it is open it can be decided
(an objection can also be forwarded to the provider, or withdrawn); a decision is refused
once the record has another version (`record_superseded`). Open cases past their deadline are listed and
escalated once (an operator, e.g. from a scheduler). Who sees a case: its enterprise,
operators and auditors, and for some kinds the record's provider.

Every state change is a leaf of the credit-record log, a notice to the enterprise and an
MLPS audit record, all in the transaction of the change (after taking the log's lock, so
changes of one case are serialised); refusals are audited too.

`CaseKind` says what differs between kinds (the table, the view, the words, the leaves);
`CaseWorkflow` is the life cycle over one kind. `objections` and `repairs` each define
their kind and the acts that are theirs alone.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Generic, NamedTuple, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from ledger.chain.membership import Member, Role, uscc_hash
from ledger.errors import InvalidInput, LedgerError, NotAuthorized
from ledger.logs.store import AppendedEntry, LogWriter
from ledger.records.models import CreditRecord
from ledger.selfservice import leaves
from ledger.selfservice.calendar import load_calendar
from ledger.selfservice.context import SelfServiceContext, audit, audited, latest_version, require_subject
from ledger.selfservice.errors import AlreadyDecided, RecordSuperseded
from ledger.selfservice.models import CaseColumns
from ledger.selfservice.notices import notify
from ledger.selfservice.workdays import add_working_days

__all__ = ["MAX_TEXT", "CaseKind", "CaseLeaves", "CaseWords", "CaseWorkflow", "stated", "stated_reasons"]

#: the longest reasons or statement, in characters
MAX_TEXT = 4000

Row = TypeVar("Row", bound=CaseColumns)
View = TypeVar("View")


def stated(value: str | None, field: str) -> str | None:
    """`value` stripped, None when blank; at most `MAX_TEXT` characters."""
    text = (value or "").strip()
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"{field}: at most {MAX_TEXT} characters")
    return text or None


def stated_reasons(value: str, field: str = "reasons") -> str:
    """Reasons, which must be given: `value` stripped, not blank, at most `MAX_TEXT` characters."""
    text = stated(value, field)
    if text is None:
        raise InvalidInput(f"{field}: state the reasons")
    return text


class CaseLeaves(NamedTuple):
    """The type tags of a kind's leaves in the credit-record log (`leaves`)."""

    filing: str
    escalation: str
    decision: str


@dataclass(frozen=True)
class CaseWords:
    """What a kind of case is called, in audit events, notices and refusals."""

    name: str  # audit events `<name>.<act>`, notice kinds `<name>_<state>`
    noun: str  # "no <noun> <id>", "your <noun> <id> <about> record <record id> …"
    about: str
    filing: str  # the act of filing: the audit event `<name>.<filing>`

    @property
    def short(self) -> str:
        """The noun's last word ("application"): in audit details and the leaves' id field."""
        return self.noun.rsplit(" ", 1)[-1]


@dataclass(frozen=True)
class CaseKind(Generic[Row, View]):
    """One kind of case: its table and view, its states, who else sees it, and its words."""

    table: type[Row]
    view: type[View]  # a dataclass: its fields are the row's columns of the same names, and
    # status (as `statuses`), overdue, log_index and decision_log_index
    statuses: type[StrEnum]
    open: tuple[str, ...]  # the states in which a case can be decided and is escalated; filed in the first
    provider: InstrumentedAttribute[str] | None  # the record's provider's column: it sees the cases
    unknown: type[LedgerError]  # the refusal for an id that names no case of this kind
    words: CaseWords
    leaves: CaseLeaves
    resubmit: str  # what the enterprise may do once the record has another version

    @property
    def staged(self) -> bool:
        """Whether the open states are stages (an escalation names the stage it happened in)."""
        return len(self.open) > 1


class CaseWorkflow(Generic[Row, View]):
    """The life cycle of one kind of case: listing, reading, escalating, and the steps every
    filing and decision takes (the kinds' services write their acts with them)."""

    def __init__(self, ctx: SelfServiceContext, kind: CaseKind[Row, View]) -> None:
        self.ctx = ctx
        self.kind = kind
        self.words = kind.words

    # -- reading --------------------------------------------------------------------------

    def get(self, caller: str, member: Member, case_id: str) -> View:
        with self.ctx.db.session() as session:
            row = self._row(session, case_id)
        if not self._may_see(caller, member, row):
            raise NotAuthorized(f"{caller} may not see {self.words.noun} {row.id}")
        return self._view(row, self.ctx.today())

    def listing(
        self,
        caller: str,
        member: Member,
        *,
        subject: str | None = None,
        status: StrEnum | None = None,
        overdue: bool = False,
        limit: int = 200,
    ) -> list[View]:
        """What the caller may see: its own (enterprise, naming its USCC), those about its
        records (a provider, where the kind lets it), or all (operators, auditors); optionally
        only one status, or the overdue."""
        kind, table, today = self.kind, self.kind.table, self.ctx.today()
        query = select(table)
        if member.role is Role.ENTERPRISE:
            if subject is None:
                raise InvalidInput("subject: an enterprise names its own USCC")
            require_subject(caller, member, subject, f"see its {self.words.noun}s")
        elif member.role is Role.PROVIDER and kind.provider is not None:
            query = query.where(kind.provider == caller)
        elif member.role not in (Role.OPERATOR, Role.AUDITOR):
            raise NotAuthorized(f"{caller} is a {member.role.name.lower()}: it sees no {self.words.noun}s")
        if subject is not None:
            query = query.where(table.subject == subject)
        if status is not None:
            query = query.where(table.status == status.value)
        if overdue:
            query = query.where(table.status.in_(kind.open), table.due_on < today)
        with self.ctx.db.session() as session:
            rows = session.scalars(query.order_by(table.filed_at, table.id).limit(max(1, limit))).all()
        return [self._view(r, today) for r in rows]

    # -- escalation -----------------------------------------------------------------------

    def escalate_overdue(self, caller: str, member: Member) -> list[View]:
        """Escalate, once, every open case past its deadline (operator)."""
        kind, table, words = self.kind, self.kind.table, self.words
        with audited(self.ctx.db, caller, f"{words.name}.escalate"):
            if member.role is not Role.OPERATOR:
                raise NotAuthorized(
                    f"{caller} is a {member.role.name.lower()}: operators escalate {words.short}s"
                )
            now, today = self.ctx.now(), self.ctx.today()
            with self.ctx.db.session() as session:
                writer = leaves.lock_record_log(session)
                rows = session.scalars(
                    select(table)
                    .where(table.status.in_(kind.open), table.due_on < today, table.escalated_at.is_(None))
                    .order_by(table.due_on, table.id)
                ).all()
                for row in rows:
                    row.escalated_at = now
                    stage = {"stage": row.status} if kind.staged else {}
                    self._leaf(
                        writer,
                        kind.leaves.escalation,
                        row,
                        {
                            **stage,
                            "due_on": row.due_on.isoformat(),
                            "escalated_on": today.isoformat(),
                            "escalated_by": caller,
                        },
                    )
                    self._notify(
                        session, row, "escalated",
                        f"was due by {row.due_on} and is escalated to the platform's supervisors"
                    )  # fmt: skip
                if rows:
                    detail = f"{len(rows)} overdue {words.short}(s)"
                    audit(session, caller, f"{words.name}.escalate", "done", detail)
                return [self._view(r, today) for r in rows]

    # -- the steps of the kinds' acts (theirs to call) --------------------------------------

    def _new_case(
        self, record: CreditRecord, caller: str, filed_at: datetime, filed_on: date
    ) -> dict[str, Any]:
        """The columns every new case starts with: a new id, the record version it is about, the
        enterprise that files it, the kind's first open state, when it is filed."""
        return {
            "id": str(uuid.uuid4()),
            "record_id": record.record_id,
            "record_version": record.version,
            "subject": record.subject,
            "enterprise": caller,
            "status": self.kind.open[0],
            "filed_at": filed_at,
            "filed_on": filed_on,
        }

    def _filed(
        self, session: Session, writer: LogWriter, row: Row, leaf: Mapping[str, Any], what: str
    ) -> View:
        """Record the filing of the new case `row`: its leaf (`leaf` adds the kind's facts), the
        notice (`what` happened, after "your <noun> <id> <about> record <id>") and the audit record."""
        words = self.words
        filing = {
            "version": row.record_version,
            "enterprise": row.enterprise,
            **leaf,
            "filed_on": row.filed_on.isoformat(),
            "due_on": row.due_on.isoformat(),
        }
        row.log_seq = self._leaf(writer, self.kind.leaves.filing, row, filing).seq
        session.add(row)
        self._notify(session, row, "filed", what)
        detail = f"{words.short} {row.id} record {row.record_id}"
        audit(session, row.enterprise, f"{words.name}.{words.filing}", "accepted", detail)
        return self._view(row, row.filed_on)

    def _decided(
        self,
        caller: str,
        case_id: str,
        *,
        outcome: StrEnum,
        text: str,
        what: str,
        version: int | None = None,
        facts: Mapping[str, Any] | None = None,
    ) -> View:
        """Close the open case `case_id` with `outcome` and reasons `text`, if the record is still
        at `version` (by default the one the case was filed against): the decision's leaf, the
        case's columns (`facts` are the kind's, both columns and leaf fields), the notice
        (`what`) and the audit record, together."""
        words, extra = self.words, dict(facts or {})
        now, today = self.ctx.now(), self.ctx.today()
        with self.ctx.db.session() as session:
            writer = leaves.lock_record_log(session)
            row = self._open_row(session, case_id)
            current = latest_version(session, row.record_id).version  # no version slipped in since
            if current != (row.record_version if version is None else version):
                raise self._superseded(row, current)
            decision = {
                "version": row.record_version,
                "outcome": outcome.value,
                **extra,
                "decided_by": caller,
                "decided_on": today.isoformat(),
                "on_time": today <= row.due_on,
                "reasons_hash": leaves.text_hash(text),
            }
            row.decision_log_seq = self._leaf(writer, self.kind.leaves.decision, row, decision).seq
            row.status = outcome.value
            row.decided_by, row.decided_at, row.decision_reasons = caller, now, text
            for column, value in extra.items():
                setattr(row, column, value)
            self._notify(session, row, outcome.value, what)
            audit(session, caller, f"{words.name}.decide", outcome.value, f"{words.short} {row.id}")
            if self.ctx.on_decided is not None:  # the alert triggers, in this transaction
                category = session.scalar(
                    select(CreditRecord.category).where(CreditRecord.record_id == row.record_id).limit(1)
                )
                self.ctx.on_decided(session, words.name, outcome.value, row.subject, str(category))
            return self._view(row, today)

    def _leaf(self, writer: LogWriter, tag: str, row: Row, fields: Mapping[str, Any]) -> AppendedEntry:
        """Append a leaf about case `row` to the credit-record log: the case, its record, `fields`."""
        return leaves.append(
            writer, tag, {f"{self.words.short}_id": row.id, "record_id": row.record_id, **fields}
        )

    def _working_days(self, session: Session, start: date, days: int) -> date:
        """`days` working days after `start` on the operators' calendar."""
        return add_working_days(start, days, load_calendar(session, start))

    def _row(self, session: Session, case_id: str) -> Row:
        """The case `case_id`, in any state."""
        row = session.get(self.kind.table, case_id)
        if row is None:
            raise self.kind.unknown(f"no {self.words.noun} {case_id}")
        return row

    def _open_row(self, session: Session, case_id: str) -> Row:
        """The case `case_id`, which must still be open."""
        row = self._row(session, case_id)
        self._require_open(row)
        return row

    def _require_open(self, row: Row) -> None:
        if row.status not in self.kind.open:
            raise AlreadyDecided(f"{self.words.noun} {row.id} is {row.status} already")

    def _case_in(self, session: Session, record_id: str, states: tuple[str, ...]) -> Row | None:
        """A case of this kind about `record_id` in one of `states`, if there is one."""
        table = self.kind.table
        return session.scalars(
            select(table).where(table.record_id == record_id, table.status.in_(states))
        ).first()

    def _superseded(self, row: Row, latest: int) -> RecordSuperseded:
        return RecordSuperseded(
            f"record {row.record_id} is at version {latest} now; {self.words.short} {row.id} was filed "
            f"against version {row.record_version}: {self.kind.resubmit}"
        )

    def _notify(self, session: Session, row: Row, state: str, what: str) -> None:
        """Tell the enterprise its case is in `state` (the notice kind `<name>_<state>`)."""
        words = self.words
        notify(
            session,
            subject=row.subject,
            kind=f"{words.name}_{state}",
            ref=row.id,
            record_id=row.record_id,
            message=f"your {words.noun} {row.id} {words.about} record {row.record_id} {what}",
        )

    # -- helpers --------------------------------------------------------------------------

    def _may_see(self, caller: str, member: Member, row: Row) -> bool:
        if member.role in (Role.OPERATOR, Role.AUDITOR):
            return True
        provider = self.kind.provider
        if member.role is Role.PROVIDER and provider is not None:
            return bool(caller == getattr(row, provider.key))
        return member.role is Role.ENTERPRISE and uscc_hash(row.subject) == member.uscc_hash

    def _view(self, row: Row, today: date) -> View:
        kind = self.kind
        shown = {
            "status": kind.statuses(row.status),
            "overdue": row.status in kind.open and row.due_on < today,
            "log_index": int(row.log_seq),
            "decision_log_index": None if row.decision_log_seq is None else int(row.decision_log_seq),
        }
        columns = (f.name for f in dataclasses.fields(kind.view) if f.name not in shown)  # type: ignore[arg-type]
        return kind.view(**{name: getattr(row, name) for name in columns}, **shown)

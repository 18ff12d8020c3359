"""The enterprise's notification feed.

Two sources, merged by time:

* dishonesty information about the enterprise, one notice per record version, derived
  from the records table (a dishonesty record is one with a severity: the catalogue
  forbids a severity anywhere else). It exists from the moment the version is
  committed, so before any institution can be released it (征信业管理条例 Art. 15);
* state changes of the enterprise's objections and repair applications, written by
  those workflows in the transaction of the change (`notify`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.chain.membership import Member
from ledger.records.models import CreditRecord
from ledger.selfservice.context import SelfServiceContext, require_subject
from ledger.selfservice.models import Notice

__all__ = ["MAX_NOTICES", "NoticeItem", "NoticesService", "notify"]

MAX_NOTICES = 500


@dataclass(frozen=True)
class NoticeItem:
    id: str  # "notice:<n>" or "record:<record id>:<version>"
    kind: Annotated[
        str,
        Field(
            description="dishonesty_record, dishonesty_record_corrected, objection_filed, "
            "objection_forwarded, objection_escalated, objection_corrected, objection_upheld, "
            "objection_withdrawn, repair_filed, repair_escalated, repair_approved, repair_rejected"
        ),
    ]
    at: datetime
    record_id: str
    ref: Annotated[str | None, Field(description="the objection or repair application concerned")]
    message: str


def notify(session: Session, *, subject: str, kind: str, ref: str, record_id: str, message: str) -> None:
    """A notice in the caller's transaction, stamped with the real time (as records are), so the
    feed orders both sources alike whatever clock the deadlines follow."""
    session.add(
        Notice(
            subject=subject,
            kind=kind,
            ref=ref,
            record_id=record_id,
            message=message,
            created_at=datetime.now(UTC),
        )
    )


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)  # SQLite returns naive UTC


class NoticesService:
    def __init__(self, ctx: SelfServiceContext) -> None:
        self.ctx = ctx

    def feed(
        self,
        caller: str,
        member: Member,
        subject: str,
        *,
        since: datetime | None = None,
        limit: int = 100,
        newest_first: bool = False,
    ) -> list[NoticeItem]:
        """Notices for enterprise `subject` after `since`: the oldest `limit` of them oldest first
        (a feed polled with `since`), or with `newest_first` the newest `limit` newest first (a page)."""
        require_subject(caller, member, subject, "read its notices")
        limit = max(1, min(limit, MAX_NOTICES))
        stored = select(Notice).where(Notice.subject == subject)
        records = select(
            CreditRecord.record_id,
            CreditRecord.version,
            CreditRecord.category,
            CreditRecord.severity,
            CreditRecord.provider,
            CreditRecord.event_date,
            CreditRecord.created_at,
        ).where(CreditRecord.subject == subject, CreditRecord.severity.is_not(None))
        if since is not None:
            since = since.astimezone(UTC)  # stored in UTC (SQLite keeps no offset)
            stored = stored.where(Notice.created_at > since)
            records = records.where(CreditRecord.created_at > since)
        with self.ctx.db.session() as session:
            items = [
                NoticeItem(f"notice:{n.id}", n.kind, _aware(n.created_at), n.record_id, n.ref, n.message)
                for n in session.scalars(
                    stored.order_by(*_order(Notice.created_at, Notice.id, newest_first)).limit(limit)
                )
            ]
            for record_id, version, category, severity, provider, event_date, created_at in session.execute(
                records.order_by(*_order(CreditRecord.created_at, CreditRecord.id, newest_first)).limit(limit)
            ):
                corrected = version > 1
                items.append(
                    NoticeItem(
                        f"record:{record_id}:{version}",
                        "dishonesty_record_corrected" if corrected else "dishonesty_record",
                        _aware(created_at),
                        record_id,
                        None,
                        (
                            f"{'a correction (version ' + str(version) + ') of ' if corrected else ''}"
                            f"{severity} {category} information dated {event_date} from provider {provider} "
                            "is recorded about you and may be shared with institutions your consent or "
                            "an agreement covers; you may see it (GET /self/records) and object to it "
                            "(POST /objections)"
                        ),
                    )
                )
        items.sort(key=lambda n: (n.at, n.id), reverse=newest_first)
        return items[:limit]


def _order(at: Any, key: Any, newest_first: bool) -> tuple[Any, Any]:
    return (at.desc(), key.desc()) if newest_first else (at, key)

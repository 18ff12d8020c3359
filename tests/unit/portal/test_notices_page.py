"""The enterprise's notices page shows the newest notices; the API's feed stays oldest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from ledger.chain.membership import InstitutionKind, Member, Role, Status, uscc_hash
from ledger.records.samples import sample_uscc
from ledger.selfservice.context import SelfServiceContext
from ledger.selfservice.models import Notice
from ledger.selfservice.notices import NoticesService
from ledger.settings import Settings
from ledger.storage.database import Database

ACME = sample_uscc(0)
CALLER = "0x" + "ee" * 20
AT = datetime(2027, 1, 1, tzinfo=UTC)


def test_the_newest_notices_first_when_there_are_more_than_a_page(sqlite_db: Database) -> None:
    with sqlite_db.session() as session:
        for n in range(12):
            session.add(Notice(subject=ACME, kind="objection_filed", ref=f"obj-{n}", record_id=f"r{n}",
                               message=f"notice {n}", created_at=AT + timedelta(minutes=n)))  # fmt: skip
    ctx = SelfServiceContext(
        db=sqlite_db, settings=Settings(), chain=cast(Any, None), contracts=cast(Any, None),
        records=cast(Any, None), bundles=cast(Any, None),
    )  # fmt: skip
    member = Member(
        CALLER, Role.ENTERPRISE, Status.ACTIVE, InstitutionKind.NONE, 1, bytes(32), uscc_hash(ACME)
    )
    notices = NoticesService(ctx)

    page = notices.feed(CALLER, member, ACME, limit=5, newest_first=True)
    assert [n.ref for n in page] == ["obj-11", "obj-10", "obj-9", "obj-8", "obj-7"]
    feed = notices.feed(CALLER, member, ACME, limit=5)
    assert [n.ref for n in feed] == ["obj-0", "obj-1", "obj-2", "obj-3", "obj-4"]
    later = notices.feed(CALLER, member, ACME, since=AT + timedelta(minutes=9), limit=5)
    assert [n.ref for n in later] == ["obj-10", "obj-11"]

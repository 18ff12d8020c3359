"""White lists (三(二)): districts recommend qualifying enterprises, in public, versioned lists.

A district operator (`Role.DISTRICT_OPERATOR`: a district's office, admitted by operator
quorum like every role) publishes each version of a list: its name, district, criteria
text, the enterprises by 统一社会信用代码 and its validity. The platform refuses anyone else
before anything is anchored (403, recorded), and the `Publications` contract holds the
same rule on chain (`NotActiveMember(publisher, DistrictOperator)`). Every code is validated with its check
character (`ledger.domain.identifiers.validate_uscc`); one bad code refuses the whole
version, naming the position and the rule (422 `invalid_identifier`), before anything
is anchored or stored. Removing an enterprise is publishing a version without it.

Reads: the list itself (public); the lists an enterprise is on, and since when - the
start of the unbroken run of versions naming it that reaches the latest version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.chain.membership import Role
from ledger.chain.publications import PublicationKind
from ledger.domain.identifiers import InvalidIdentifierError, validate_uscc
from ledger.errors import NotAuthorized
from ledger.financing.documents import PublishedDocument
from ledger.financing.models import WhiteListEntryRow
from ledger.financing.store import DocumentStore, StoredDocument
from ledger.financing.whitelist_document import WhiteListDocument, WhiteListInvalid, parse_white_list

#: the role that publishes white lists; the contract checks the same one
PUBLISHER_ROLE = Role.DISTRICT_OPERATOR


def require_publisher(caller: str, role: Role) -> None:
    """Refuse (403) a white list from anyone but a district operator."""
    if role is not PUBLISHER_ROLE:
        raise NotAuthorized(
            f"{caller} is a {role.name.lower()}: white lists are published by district operators"
        )


def index_entries(session: Session, document: PublishedDocument) -> None:
    """Write the version's enterprises to `white_list_entries` (the store's indexer)."""
    assert isinstance(document, WhiteListDocument)
    session.add_all(
        WhiteListEntryRow(list_key=document.key, version=document.version, uscc=code)
        for code in document.enterprises
    )


@dataclass(frozen=True)
class Listing:
    """Where an enterprise stands on one white list."""

    list_key: str
    name: str
    district: str
    on_list: Annotated[
        bool, Field(description="named by the list's latest version, and that version in force")
    ]
    since: Annotated[
        datetime | None, Field(description="start of the unbroken run of versions naming it, if on the list")
    ]
    latest_version: int
    versions: Annotated[tuple[int, ...], Field(description="every version of the list naming it")]


class WhiteLists:
    """White lists over the document store."""

    def __init__(self, store: DocumentStore) -> None:
        self.store = store

    def listings_of(self, uscc: str, at: datetime, *, session: Session | None = None) -> list[Listing]:
        """Every list that ever named enterprise `uscc`, with whether it is on it at `at`."""
        code = validate_uscc(uscc, field="subject").code
        with self.store.session(session) as session:
            rows = session.execute(
                select(WhiteListEntryRow.list_key, WhiteListEntryRow.version).where(
                    WhiteListEntryRow.uscc == code
                )
            ).all()
            named: dict[str, set[int]] = {}
            for key, version in rows:
                named.setdefault(key, set()).add(version)
            return [self._listing(session, key, named[key], at) for key in sorted(named)]

    def current_lists_of(self, uscc: str, at: datetime, *, session: Session | None = None) -> set[str]:
        """The keys of the lists enterprise `uscc` is on at `at` (for eligibility)."""
        return {
            listing.list_key for listing in self.listings_of(uscc, at, session=session) if listing.on_list
        }

    def _listing(self, session: Session, key: str, versions: set[int], at: datetime) -> Listing:
        history = self.store.versions(PublicationKind.WHITE_LIST, key, session=session)
        latest = history[-1]
        since: datetime | None = None
        on = latest.version in versions and _in_force(latest, at)
        if latest.version in versions:
            run_start = latest
            for doc in reversed(history):
                if doc.version not in versions:
                    break
                run_start = doc
            since = run_start.valid_from
        return Listing(
            key, str(latest.content["name"]), str(latest.content["district"]), on,
            since if on else None, latest.version, tuple(sorted(versions)),
        )  # fmt: skip


def _in_force(doc: StoredDocument, at: datetime) -> bool:
    return doc.valid_from <= at and (doc.valid_until is None or at < doc.valid_until)


__all__ = [
    "InvalidIdentifierError",
    "Listing",
    "WhiteListDocument",
    "WhiteListInvalid",
    "WhiteLists",
    "index_entries",
    "parse_white_list",
    "require_publisher",
]

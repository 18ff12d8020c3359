"""Who read my data: the access trail as each member may see it.

An enterprise sees every release of its data; an institution sees its own releases and
never another's; operators and auditors see all (`may_see`, and the same rule as a
query in `visible_to`). Each entry comes with its inclusion proof once a checkpoint
covers it, so the enterprise need not trust this listing. Beside each entry, its masks in
words (`EntryNames`): the entry itself is the hashed leaf and stays exactly as logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ledger.chain.membership import Member, Role, uscc_hash
from ledger.domain.catalogue import Catalogue
from ledger.domain.log_names import ACCESS_TRAIL_LOG
from ledger.errors import NotAuthorized
from ledger.logs.bundles import ProofBundles
from ledger.logs.leaves import decode_leaf
from ledger.logs.models import LogEntry
from ledger.logs.store import entry
from ledger.release.models import AccessRelease
from ledger.storage.database import Database

MAX_PAGE = 500


def may_see(member: Member, payload: Mapping[str, Any] | None) -> bool:
    """Whether `member` may see the access-trail entry with `payload` (None: no such entry).

    Operators and auditors see every entry; an institution its own; an enterprise those
    about it.
    """
    if member.role in (Role.OPERATOR, Role.AUDITOR):
        return True
    if payload is None:
        return False
    if member.account == payload.get("institution"):
        return True
    subject = payload.get("subject")
    return (
        member.role is Role.ENTERPRISE and isinstance(subject, str) and uscc_hash(subject) == member.uscc_hash
    )


@dataclass(frozen=True)
class EntryNames:
    """The bit masks of an access-trail entry, named by the catalogue, for people to read."""

    categories: list[str]
    purpose: list[str]
    raw_categories: list[str]


def _mask(payload: Mapping[str, Any], key: str) -> int:
    value = payload.get(key)
    return int(value) if isinstance(value, str) and value.isdecimal() else 0


def entry_names(catalogue: Catalogue, payload: Mapping[str, Any], *, locale: str | None = None) -> EntryNames:
    """The names of the masks an entry logs as decimal text (a mask it lacks names nothing):
    the catalogue's names, or with `locale` each one's name in that language."""
    return EntryNames(
        categories=catalogue.names_in_mask(_mask(payload, "categories"), locale=locale),
        purpose=catalogue.names_in_mask(_mask(payload, "purpose"), purposes=True, locale=locale),
        raw_categories=catalogue.names_in_mask(_mask(payload, "raw_categories"), locale=locale),
    )


@dataclass(frozen=True)
class Access:
    index: int
    entry: dict[str, Any]  # the trail leaf's payload, signed request included
    proof: dict[str, Any] | None  # inclusion bundle, None until anchored
    names: EntryNames  # the entry's masks in words


class AccessesService:
    def __init__(self, db: Database, *, bundles: ProofBundles, catalogue: Catalogue) -> None:
        self.db = db
        self.bundles = bundles
        self.catalogue = catalogue

    def visible_to(
        self,
        member: Member,
        *,
        subject: str | None = None,
        after: int = -1,
        limit: int = 100,
        newest_first_before: int | None = None,
        with_proofs: bool = True,
    ) -> list[Access]:
        """Entries `member` may see, oldest first, from index `after + 1`.

        `newest_first_before`: instead, the newest entries below that index (a timeline's pages);
        `with_proofs=False`: no inclusion proofs (`anchored_size` tells which have one).
        """
        limit = max(1, min(limit, MAX_PAGE))
        if newest_first_before is None:
            query = select(AccessRelease.seq).where(AccessRelease.seq > after).order_by(AccessRelease.seq)
        else:
            query = (
                select(AccessRelease.seq)
                .where(AccessRelease.seq < newest_first_before)
                .order_by(AccessRelease.seq.desc())
            )
        if member.role is Role.ENTERPRISE:
            if subject is None or uscc_hash(subject) != member.uscc_hash:
                raise NotAuthorized("an enterprise sees the releases of its own data only: name its USCC")
            query = query.where(AccessRelease.subject == subject)
        elif member.role is Role.INSTITUTION:
            query = query.where(AccessRelease.institution == member.account)
        elif member.role not in (Role.OPERATOR, Role.AUDITOR):
            raise NotAuthorized(f"a {member.role.name.lower()} sees no access-trail entries")
        if subject is not None and member.role is not Role.ENTERPRISE:
            query = query.where(AccessRelease.subject == subject)
        with self.db.session() as session:
            seqs = list(session.scalars(query.limit(limit)))
            leaves = {
                int(e.seq): bytes(e.leaf)
                for e in session.scalars(
                    select(LogEntry).where(LogEntry.log_name == ACCESS_TRAIL_LOG, LogEntry.seq.in_(seqs))
                )
            }
        payloads = {seq: decode_leaf(leaves[seq]).payload for seq in seqs}
        return [
            Access(
                seq,
                payloads[seq],
                self.bundles.anchored(ACCESS_TRAIL_LOG, seq) if with_proofs else None,
                entry_names(self.catalogue, payloads[seq]),
            )
            for seq in seqs
        ]

    def anchored_size(self) -> int:
        """How many access-trail entries the latest checkpoint covers (each has a proof)."""
        latest = self.bundles.proofs.latest_checkpoint(ACCESS_TRAIL_LOG)
        return 0 if latest is None else latest.size

    def proof(self, member: Member, index: int) -> dict[str, Any]:
        """The inclusion bundle of access-trail entry `index`, for a member who may see it.

        Raises `NotAuthorized` when `member` may not (or the entry does not exist and
        `member` could only see some entries), `NotYetAnchored` before a checkpoint covers it.
        """
        with self.db.session() as session:
            row = entry(session, ACCESS_TRAIL_LOG, index)
        if not may_see(member, None if row is None else decode_leaf(bytes(row.leaf)).payload):
            raise NotAuthorized(f"{member.account} may not see access-trail entry {index}")
        return self.bundles.inclusion(ACCESS_TRAIL_LOG, index)

"""Free self-query (郑政办〔2022〕101号): every record held about the enterprise, in full.

Nothing is masked: it is the enterprise's own data (system-shape invariant 5). Each
record comes with every version (source, catalogue version, values, log index, leaf
hash, inclusion proof once anchored, so the enterprise need not trust this listing),
its objections, its repair status and its publicity window. Each query is written to
the MLPS audit records; it is not a release (nothing leaves for anyone else), so it is
not in the access trail, and it costs nothing.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import Select, distinct, func, select
from sqlalchemy.orm import Session

from ledger.chain.membership import Member
from ledger.domain.cases import OPEN_OBJECTION
from ledger.domain.log_names import CREDIT_RECORDS_LOG
from ledger.domain.publicity import PublicityWindow, publicity_window
from ledger.errors import LedgerError
from ledger.records.models import CreditRecord
from ledger.selfservice.context import SelfServiceContext, audited, require_subject
from ledger.selfservice.errors import UnknownRecord
from ledger.selfservice.models import Objection, RepairApplication, SelfDeclaration
from ledger.services import audit_events

__all__ = ["ObjectionSummary", "RepairSummary", "SelfQueryService", "SelfRecord", "SelfVersion"]


@dataclass(frozen=True)
class SelfVersion:
    version: Annotated[int, Field(examples=[1])]
    provider: Annotated[str, Field(description="who submitted it (the enterprise itself when self-declared)")]
    source_ref: Annotated[str, Field(examples=["郑市监罚〔2026〕12号"])]
    catalogue_version: Annotated[int, Field(examples=[1])]
    event_date: date
    severity: Annotated[str | None, Field(examples=["general"])]
    fields: Annotated[dict[str, Any], Field(description="every value, unmasked: the enterprise's own data")]
    created_at: datetime
    log_index: Annotated[int, Field(description="the version's leaf in the credit-record log")]
    leaf_hash: bytes
    proof: Annotated[
        dict[str, Any] | None, Field(description="inclusion proof to an anchored checkpoint; null until then")
    ]
    self_declared_commitment: Annotated[
        int | None, Field(description="the truthfulness commitment, when self-declared")
    ]


@dataclass(frozen=True)
class ObjectionSummary:
    id: str
    status: str
    record_version: int
    filed_on: date
    due_on: date


@dataclass(frozen=True)
class RepairSummary:
    status: Annotated[str, Field(description="none, pending, repaired or rejected", examples=["repaired"])]
    application_id: Annotated[str | None, Field(examples=["1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"])]
    decided_at: datetime | None


@dataclass(frozen=True)
class SelfRecord:
    record_id: str
    category: str
    self_declared: bool
    disputed: Annotated[bool, Field(description="an objection is open: releases carry the flag")]
    repair: RepairSummary
    publicity: Annotated[PublicityWindow | None, Field(description="dishonesty records only")]
    published: Annotated[
        bool, Field(description="shown and shared: not repaired and not past its maximum period")
    ]
    objections: list[ObjectionSummary]
    versions: Annotated[list[SelfVersion], Field(description="every version, oldest first")]


_REPAIR_ORDER = {"approved": 3, "pending": 2, "rejected": 1}


def _repair(apps: list[RepairApplication]) -> RepairSummary:
    if not apps:
        return RepairSummary("none", None, None)
    best = max(apps, key=lambda a: (_REPAIR_ORDER.get(a.status, 0), a.filed_at))
    status = "repaired" if best.status == "approved" else best.status
    return RepairSummary(status, best.id, best.decided_at)


class SelfQueryService:
    def __init__(self, ctx: SelfServiceContext) -> None:
        self.ctx = ctx

    def records(
        self,
        caller: str,
        member: Member,
        subject: str,
        *,
        category: str | None = None,
        record_id: str | None = None,
        with_proofs: bool = True,
    ) -> list[SelfRecord]:
        """Every record about `subject` (one when `record_id` is given), oldest event first."""
        with audited(self.ctx.db, caller, "self.query"):
            require_subject(caller, member, subject, "see its records in full")
            query = select(CreditRecord).where(CreditRecord.subject == subject)
            if category is not None:
                query = query.where(CreditRecord.category == category)
            if record_id is not None:
                query = query.where(CreditRecord.record_id == record_id)
            with self.ctx.db.session() as session:
                rows = session.scalars(query.order_by(CreditRecord.record_id, CreditRecord.version)).all()
                if record_id is not None and not rows:
                    # the same answer whether the record is about another enterprise or does not
                    # exist: the self-query must not tell which record ids exist
                    raise UnknownRecord(f"no record {record_id} about enterprise {subject}")
                out = self._assemble(session, rows, with_proofs=with_proofs, opened=True)
            out.sort(key=lambda r: (r.versions[0].event_date, r.record_id))
            self._served(caller, subject, out, len(rows))
            return out

    def page(
        self, caller: str, member: Member, subject: str, offset: int, limit: int
    ) -> tuple[list[SelfRecord], int]:
        """Records `offset` to `offset + limit` about `subject`, newest event first, and how many
        records (not versions) are held about it.

        One grouped query finds the page's record ids and the total (a window count over the
        groups), then the page's versions are read by record id: nothing else is read.
        A listing opens no sealed field, since it shows none: each version carries its public
        fields only (the publicity window reads `sector`, public in the catalogue; a record of a
        category with a sector that is not among its public fields is opened for it). No
        inclusion proofs.
        """
        with audited(self.ctx.db, caller, "self.query"):
            require_subject(caller, member, subject, "see its records in full")
            newest = func.max(CreditRecord.event_date)
            ids_query = (
                select(CreditRecord.record_id, func.count().over())
                .where(CreditRecord.subject == subject)
                .group_by(CreditRecord.record_id)
                .order_by(newest.desc(), CreditRecord.record_id)
                .offset(offset)
                .limit(limit)
            )
            with self.ctx.db.session() as session:
                found = session.execute(ids_query).all()
                ids = [rid for rid, _ in found]
                # past the last page (or none), the total alone
                total = int(found[0][1]) if found else int(session.scalar(_record_count(subject)) or 0)
                rows = (
                    session.scalars(
                        select(CreditRecord)
                        .where(CreditRecord.subject == subject, CreditRecord.record_id.in_(ids))
                        .order_by(CreditRecord.record_id, CreditRecord.version)
                    ).all()
                    if ids
                    else []
                )
                out = self._assemble(session, rows, with_proofs=False, opened=False)
            order = {rid: n for n, rid in enumerate(ids)}
            out.sort(key=lambda r: order[r.record_id])
            self._served(caller, subject, out, len(rows))
            return out, total

    def count(self, caller: str, member: Member, subject: str) -> int:
        """How many records (not versions) are held about `subject`."""
        require_subject(caller, member, subject, "see its records in full")
        with self.ctx.db.session() as session:
            return int(session.scalar(_record_count(subject)) or 0)

    def _assemble(
        self, session: Session, rows: Sequence[CreditRecord], *, with_proofs: bool, opened: bool
    ) -> list[SelfRecord]:
        """`rows` (ordered by record id and version) as records with their cases and status.

        `opened`: every version decrypted and checked against its commitment, its fields in
        full; otherwise its public fields only."""
        ids = sorted({r.record_id for r in rows})
        objections: dict[str, list[Objection]] = defaultdict(list)
        repairs: dict[str, list[RepairApplication]] = defaultdict(list)
        declared: dict[tuple[str, int], int] = {}
        if ids:
            for o in session.scalars(
                select(Objection).where(Objection.record_id.in_(ids)).order_by(Objection.filed_at)
            ):
                objections[o.record_id].append(o)
            for a in session.scalars(select(RepairApplication).where(RepairApplication.record_id.in_(ids))):
                repairs[a.record_id].append(a)
            for d in session.scalars(select(SelfDeclaration).where(SelfDeclaration.record_id.in_(ids))):
                declared[(d.record_id, d.version)] = int(d.commitment_id)
        by_record: dict[str, list[CreditRecord]] = defaultdict(list)
        for row in rows:
            by_record[row.record_id].append(row)
        today = self.ctx.today()
        out: list[SelfRecord] = []
        for rid, versions in by_record.items():
            if opened:  # checks each against its commitment
                fields = [self.ctx.records.open_row(v).fields for v in versions]
                sector = fields[-1].get("sector")
            else:
                fields = [json.loads(v.public_fields) for v in versions]
                sector = fields[-1].get("sector")
                if "sector" not in fields[-1] and self._has_sector(versions[-1]):
                    sector = self.ctx.records.open_row(versions[-1]).fields.get("sector")
            latest = versions[-1]
            window = publicity_window(
                self.ctx.catalogue,
                latest.category,
                latest.severity,
                latest.event_date,
                sector if isinstance(sector, str) else None,
            )
            repair = _repair(repairs[rid])
            published = repair.status != "repaired" and (window is None or not window.ended(today))
            out.append(
                SelfRecord(
                    record_id=rid,
                    category=latest.category,
                    self_declared=any((rid, v.version) in declared for v in versions),
                    disputed=any(o.status in OPEN_OBJECTION for o in objections[rid]),
                    repair=repair,
                    publicity=window,
                    published=published,
                    objections=[
                        ObjectionSummary(o.id, o.status, o.record_version, o.filed_on, o.due_on)
                        for o in objections[rid]
                    ],
                    versions=[
                        SelfVersion(
                            version=v.version,
                            provider=v.provider,
                            source_ref=v.source_ref,
                            catalogue_version=v.catalogue_version,
                            event_date=v.event_date,
                            severity=v.severity,
                            fields=f,
                            created_at=v.created_at,
                            log_index=int(v.log_seq),
                            leaf_hash=bytes(v.leaf_hash),
                            proof=self._proof(int(v.log_seq)) if with_proofs else None,
                            self_declared_commitment=declared.get((rid, v.version)),
                        )
                        for v, f in zip(versions, fields, strict=True)
                    ],
                )
            )
        return out

    def _has_sector(self, row: CreditRecord) -> bool:
        """Whether the record's category has a `sector` field (absent from the public part
        when sealed, or when not given)."""
        try:
            category = self.ctx.catalogue.category(row.category)
        except LedgerError:
            return True  # not in the current catalogue: open it, as the full listing would
        return any(f.name == "sector" for f in category.fields)

    def _served(self, caller: str, subject: str, out: list[SelfRecord], versions: int) -> None:
        audit_events.record(
            self.ctx.db,
            actor=caller,
            event="self.query",
            outcome="served",
            detail=f"subject={subject} records={len(out)} versions={versions} (free of charge)",
        )

    def _proof(self, index: int) -> dict[str, Any] | None:
        return self.ctx.bundles.anchored(CREDIT_RECORDS_LOG, index)


def _record_count(subject: str) -> Select[int]:
    return select(func.count(distinct(CreditRecord.record_id))).where(CreditRecord.subject == subject)

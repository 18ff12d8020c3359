"""Self-declared information (自愿申报): qualifications, contract performance, social good.

The enterprise is the provider of its own declaration (the record's provider is its
account), under a truthfulness commitment (`EnterpriseTruthfulness`) it signed on chain
(`POST /acts/Commit`) and names by id. Before anything is stored the commitment is
checked on chain: it exists, the declaring account made it, it is of that kind, and no
operator has marked it breached.

The record goes through the ordinary ingestion (catalogue category `self_declared`,
validated, sealed, a `credit-record` leaf); a `self-declaration` leaf then binds that
record version to the commitment, so the record log marks it self-declared. A retry
after a crash between the two finds the record stored (ingestion is idempotent by
source reference) and writes the missing link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from pydantic import Field

from ledger.chain.agreements import CommitmentKind
from ledger.chain.membership import Member
from ledger.domain.catalogue import FieldError
from ledger.selfservice import leaves
from ledger.selfservice.context import SelfServiceContext, audit, audited, ingest_one, require_subject
from ledger.selfservice.errors import DeclarationInvalid
from ledger.selfservice.models import SelfDeclaration

__all__ = ["SELF_DECLARED", "DeclarationReceipt", "DeclarationsService"]

SELF_DECLARED = "self_declared"


@dataclass(frozen=True)
class DeclarationReceipt:
    record_id: Annotated[str, Field(examples=["5b0c8f9e-2d7a-4b8e-9a53-0c1f7e2d4a61"])]
    version: Annotated[int, Field(examples=[1])]
    log_index: Annotated[int, Field(description="the record's leaf")]
    leaf_hash: bytes
    declaration_log_index: Annotated[
        int, Field(description="the self-declaration leaf binding it to the commitment")
    ]
    commitment_id: int
    status: Annotated[
        str, Field(description="created, or existing (the same declaration again)", examples=["created"])
    ]


class DeclarationsService:
    def __init__(self, ctx: SelfServiceContext) -> None:
        self.ctx = ctx

    def declare(
        self,
        caller: str,
        member: Member,
        *,
        subject: str,
        source_ref: str,
        fields: dict[str, Any],
        commitment_id: int,
        event_date: date | None = None,
        corrects: int | None = None,
    ) -> DeclarationReceipt:
        with audited(self.ctx.db, caller, "self.declare"):
            require_subject(caller, member, subject, "declare information about itself")
            self.ctx.check_commitment(commitment_id, caller, CommitmentKind.ENTERPRISE_TRUTHFULNESS)
            if fields.get("credit_commitment_signed") is False:
                raise DeclarationInvalid(
                    "the declaration is invalid",
                    [
                        FieldError(
                            "fields.credit_commitment_signed",
                            "commitment_signed",
                            "the commitment is signed: true",
                        )
                    ],
                )
            declared_on = fields.get("declared_on")
            when = event_date or (
                date.fromisoformat(declared_on) if isinstance(declared_on, str) and len(declared_on) == 10
                else self.ctx.today()
            )  # fmt: skip
            document: dict[str, Any] = {
                "category": SELF_DECLARED,
                "subject": subject,
                "event_date": when.isoformat(),
                "source_ref": source_ref,
                "fields": {
                    "declared_on": self.ctx.today().isoformat(),
                    **fields,
                    "credit_commitment_signed": True,
                },
            }
            if corrects is not None:
                document["corrects"] = corrects
            receipt = ingest_one(self.ctx, caller, document, DeclarationInvalid, "the declaration")
            with self.ctx.db.session() as session:
                writer = leaves.lock_record_log(session)
                existing = session.get(SelfDeclaration, (receipt.record_id, receipt.version))
                if existing is not None:
                    return DeclarationReceipt(
                        receipt.record_id, receipt.version, receipt.log_index, receipt.leaf_hash,
                        int(existing.log_seq), int(existing.commitment_id), "existing",
                    )  # fmt: skip
                entry = leaves.append(
                    writer,
                    leaves.SELF_DECLARATION,
                    {
                        "record_id": receipt.record_id,
                        "version": receipt.version,
                        "record_index": receipt.log_index,
                        "enterprise": caller,
                        "commitment_id": commitment_id,
                    },
                )
                session.add(
                    SelfDeclaration(
                        record_id=receipt.record_id,
                        version=receipt.version,
                        subject=subject,
                        enterprise=caller,
                        commitment_id=commitment_id,
                        log_seq=entry.seq,
                        created_at=self.ctx.now(),
                    )
                )
                audit(
                    session,
                    caller,
                    "self.declare",
                    "accepted",
                    f"record {receipt.record_id} v{receipt.version} under commitment {commitment_id}",
                )
            return DeclarationReceipt(
                receipt.record_id, receipt.version, receipt.log_index, receipt.leaf_hash, entry.seq,
                commitment_id, "created",
            )  # fmt: skip

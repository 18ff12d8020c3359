"""Loan applications: an enterprise applies to a product by one signed consent grant.

Applying is one `Grant` act of the existing `Consents` contract: the enterprise grants the
product's institution the categories it chooses for the loan-application purpose
(`LOAN_APPLICATION_PURPOSE`, 授信审批), and the platform relays it and records the
application the institution sees. The grant is the institution's authorization to read
the enterprise's data for the decision, through the ordinary release path; matching
results are never shown to the institution.

If the relay succeeded but the application was not stored (a crash), the enterprise
applies again naming the grant (`grant_id`): the grant is checked on chain - the
enterprise's, to that institution, for that purpose, live - and the application stored
once (one application per grant).

`has_application` / `Applications.holds_application` answer whether an institution
holds an application of an enterprise (the loan-reporting service's precondition).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from eth_utils import to_checksum_address
from pydantic import Field
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ledger.chain.consents import ConsentsContract, GrantMessage
from ledger.chain.eip712 import Signed
from ledger.chain.membership import Member, uscc_hash
from ledger.chain.publications import PublicationKind
from ledger.domain.catalogue import Catalogue
from ledger.errors import Conflict, InvalidInput, NotAuthorized, NotFound
from ledger.financing.models import ApplicationRow, DemandRow
from ledger.financing.products import LOAN_APPLICATION_PURPOSE
from ledger.financing.store import StoredDocument
from ledger.selfservice.context import require_subject
from ledger.services import audit_events
from ledger.storage.database import Database, DatabaseUnavailable


class ApplicationInvalid(InvalidInput):
    code = "application_invalid"


class ApplicationUnknown(NotFound):
    code = "application_unknown"


class GrantAlreadyUsed(Conflict):
    code = "grant_already_used"


@dataclass(frozen=True)
class Application:
    """A loan application, as the enterprise that made it and the institution it went to see it."""

    id: str
    subject: Annotated[str, Field(description="the enterprise's 统一社会信用代码")]
    enterprise: Annotated[str, Field(description="the enterprise's account that applied")]
    institution: Annotated[str, Field(description="the institution offering the product")]
    product_key: str
    product_version: int
    demand_id: str | None
    grant_id: Annotated[int, Field(description="the consent grant on chain that backs the application")]
    grant_block: Annotated[int, Field(description="the block of the grant (or of its check, when named)")]
    created_at: datetime
    demand: Annotated[
        dict[str, Any] | None,
        Field(
            description="the demand applied with (amount, term_months, use, collateral), shared by applying"
        ),
    ] = None


def _application(row: ApplicationRow, demand: DemandRow | None = None) -> Application:
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
    shared = None
    if demand is not None:
        shared = {
            "amount": demand.amount, "term_months": demand.term_months, "use": demand.use,
            "collateral": demand.collateral,
        }  # fmt: skip
    return Application(
        row.id, row.subject, row.enterprise, row.institution, row.product_key, row.product_version,
        row.demand_id, row.grant_id, row.grant_block, created, shared,
    )  # fmt: skip


def _with_demands(session: Session, query: Any) -> list[Application]:
    """The applications `query` selects, each with the demand it was made with (if any)."""
    rows = session.execute(
        query.add_columns(DemandRow).outerjoin(DemandRow, DemandRow.id == ApplicationRow.demand_id)
    ).all()
    return [_application(app, demand) for app, demand in rows]


def has_application(session: Session, institution: str, subject: str) -> bool:
    """Whether `institution` holds an application of enterprise `subject` (its USCC), in
    the caller's transaction."""
    return bool(
        session.scalar(
            select(
                exists().where(
                    ApplicationRow.institution == to_checksum_address(institution),
                    ApplicationRow.subject == subject,
                )
            )
        )
    )


class Applications:
    """Loan applications in `db`, their grants relayed through `consents`."""

    def __init__(self, db: Database, consents: ConsentsContract, catalogue: Catalogue) -> None:
        self.db = db
        self.consents = consents
        self.purpose_mask = catalogue.purpose_mask([LOAN_APPLICATION_PURPOSE])

    def holds_application(self, institution: str, subject: str) -> bool:
        """Whether `institution` holds an application of enterprise `subject` (its USCC)."""
        with self.db.session() as session:
            return has_application(session, institution, subject)

    def apply(
        self,
        caller: str,
        member: Member,
        subject: str,
        product: StoredDocument,
        *,
        demand_id: str | None = None,
        grant: Signed[GrantMessage] | None = None,
        grant_id: int | None = None,
    ) -> Application:
        """Enterprise `subject` (the caller) applies to `product` with a signed `grant` to
        the product's institution, or names a grant already on chain (`grant_id`).

        Refusals, before anything is relayed or stored: 403 unless the caller is the
        enterprise; 422 `application_invalid` naming the grant's field that does not fit
        (enterprise, institution, purpose, categories); 404 for a demand not the
        enterprise's; 409 `grant_already_used` for a grant that backs an application.
        """
        require_subject(caller, member, subject, "apply for a loan")
        if product.kind is not PublicationKind.LOAN_PRODUCT:
            raise ApplicationInvalid(f"{product.kind.name.lower()} {product.key} is not a loan product")
        institution = to_checksum_address(product.publisher)
        if (grant is None) == (grant_id is None):
            raise ApplicationInvalid("send either a signed grant or the id of a grant on chain, not both")
        if demand_id is not None:
            self._own_demand(subject, demand_id)
        if grant is not None:
            self._check_grant_message(caller, subject, institution, grant.message)
            receipt = self.consents.relay("grant", grant)
            new_id = int(self.consents.events("ConsentGranted", receipt)[0]["grantId"])
            block = int(receipt["blockNumber"])
        else:
            assert grant_id is not None
            new_id, block = grant_id, self._check_existing_grant(subject, institution, grant_id)
        row = ApplicationRow(
            id=str(uuid.uuid4()), subject=subject, enterprise=to_checksum_address(caller),
            institution=institution, product_key=product.key, product_version=product.version,
            demand_id=demand_id, grant_id=new_id, grant_block=block, created_at=datetime.now(UTC),
        )  # fmt: skip
        try:
            with self.db.session() as session:
                session.add(row)
                session.add(
                    audit_events.row(
                        datetime.now(UTC), caller, "financing.apply", "served",
                        f"{subject} -> {institution} {product.key} v{product.version} grant {new_id}",
                    )
                )  # fmt: skip
        except DatabaseUnavailable as exc:
            if not isinstance(exc.__cause__, IntegrityError):
                raise
            raise GrantAlreadyUsed(f"grant {new_id} already backs an application") from None
        return _application(row)

    def of_institution(self, institution: str, subject: str | None = None) -> list[Application]:
        """The applications an institution received (of one enterprise, if named), newest first."""
        query = select(ApplicationRow).where(ApplicationRow.institution == to_checksum_address(institution))
        if subject is not None:
            query = query.where(ApplicationRow.subject == subject)
        with self.db.session() as session:
            return _with_demands(session, query.order_by(ApplicationRow.created_at.desc()))

    def of_enterprise(self, subject: str) -> list[Application]:
        query = select(ApplicationRow).where(ApplicationRow.subject == subject)
        with self.db.session() as session:
            return _with_demands(session, query.order_by(ApplicationRow.created_at.desc()))

    def get(self, application_id: str) -> Application:
        with self.db.session() as session:
            row = session.get(ApplicationRow, application_id)
        if row is None:
            raise ApplicationUnknown(f"no application {application_id}")
        return _application(row)

    # -- checks ---------------------------------------------------------------------------

    def _own_demand(self, subject: str, demand_id: str) -> None:
        with self.db.session() as session:
            row = session.get(DemandRow, demand_id)
        if row is None or row.subject != subject:  # another's demand is answered as none
            raise NotFound(f"no demand {demand_id}")

    def _check_grant_message(self, caller: str, subject: str, institution: str, m: GrantMessage) -> None:
        if to_checksum_address(m.enterprise) != to_checksum_address(caller):
            raise NotAuthorized(f"the request is signed by {caller} but the grant names {m.enterprise}")
        if bytes(m.uscc_hash) != uscc_hash(subject):
            raise ApplicationInvalid(f"grant.uscc_hash is not the hash of {subject}")
        if to_checksum_address(m.institution) != institution:
            raise ApplicationInvalid(
                f"grant.institution is {m.institution}; the product is offered by {institution}"
            )
        if m.purposes != self.purpose_mask:
            raise ApplicationInvalid(
                f"grant.purposes must be exactly the loan-application purpose "
                f"({LOAN_APPLICATION_PURPOSE}, mask {self.purpose_mask})"
            )
        if m.categories == 0:
            raise ApplicationInvalid("grant.categories: grant at least one category")

    def _check_existing_grant(self, subject: str, institution: str, grant_id: int) -> int:
        """The block to record for an existing grant, after checking it fits."""
        block = self.consents.client.block_number()
        grant = self.consents.get_grant(grant_id, block)
        if grant is None or grant.terms.uscc_hash != uscc_hash(subject):
            raise ApplicationInvalid(f"grant {grant_id} is not a grant of {subject}")
        if to_checksum_address(grant.terms.institution) != institution:
            raise ApplicationInvalid(
                f"grant {grant_id} is to {grant.terms.institution}, not to {institution}"
            )
        if grant.terms.purposes != self.purpose_mask:
            raise ApplicationInvalid(f"grant {grant_id} is not for the loan-application purpose only")
        timestamp = int(
            self.consents.client.guard(lambda: self.consents.client.w3.eth.get_block(block))["timestamp"]
        )
        if not grant.live_at(max(timestamp, int(datetime.now(UTC).timestamp()))):
            raise ApplicationInvalid(f"grant {grant_id} is revoked or expired")
        return block

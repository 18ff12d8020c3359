"""The financing services as one façade over the document store, lists, products,
demands, matching and applications; every act audited, and every refusal recorded once: a 4xx
by the HTTP edge (`api.edge`), a 503 here (`audited_unavailable`).

Who may do what:
- white lists: published by district operators (checked here and by the contract); read by anyone
  authenticated - a list is public information; an enterprise's standing on the lists
  likewise (an institution may query by enterprise);
- loan products: published by the institution that offers them; read by anyone;
- demands and matching: the enterprise itself only (403 `not_the_subject` for anyone
  else). Matching reads the enterprise's private data and is never shown to others;
- applying: the enterprise, by one consent grant to the product's institution; the
  institution sees the applications it received, the enterprise its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from eth_utils import to_checksum_address
from sqlalchemy.orm import Session

from ledger.chain.consents import GrantMessage
from ledger.chain.eip712 import Signed
from ledger.chain.membership import Member, Role
from ledger.chain.publications import PublicationKind, PublishMessage
from ledger.domain.business_day import BUSINESS_UTC_OFFSET_MINUTES, business_day
from ledger.domain.catalogue import Catalogue
from ledger.domain.identifiers import validate_uscc
from ledger.errors import InvalidInput
from ledger.financing.applications import Application, Applications
from ledger.financing.demands import DemandRecord, Demands
from ledger.financing.documents import PublishedDocument
from ledger.financing.eligibility import Profile
from ledger.financing.matching import Demand, OfferedProduct, ProductMatch, match
from ledger.financing.products import LoanProductDocument, parse_product
from ledger.financing.profile import PROFILE_CATEGORIES, profile_of
from ledger.financing.store import DocumentStore, StoredDocument
from ledger.financing.whitelists import (
    Listing,
    WhiteLists,
    index_entries,
    parse_white_list,
    require_publisher,
)
from ledger.release.reader import RecordReader
from ledger.selfservice.context import audited_unavailable, require_subject
from ledger.services import audit_events

#: the grade of the enterprise's own evaluation (caller, member, subject), None if it has none
GradeOf = Callable[[str, Member, str], str | None]


class ProductWithdrawn(InvalidInput):
    code = "product_withdrawn"


@dataclass(frozen=True)
class PublishSignature:
    """The publisher's signature of `Publish` over a document: the hash it signed, its
    nonce and deadline; the other fields of the act are the document's own."""

    content_hash: bytes
    nonce: int
    deadline: int
    signature: bytes

    def signed(self, publisher: str, document: PublishedDocument) -> Signed[PublishMessage]:
        fields = {**document.message_fields(), "content_hash": self.content_hash}
        message = PublishMessage(**fields, publisher=publisher, nonce=self.nonce, deadline=self.deadline)
        return Signed(message, self.signature)


class FinancingService:
    def __init__(
        self,
        store: DocumentStore,
        applications: Applications,
        *,
        reader: RecordReader,
        catalogue: Catalogue,
        grade_of: GradeOf,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        utc_offset_minutes: int = BUSINESS_UTC_OFFSET_MINUTES,
    ) -> None:
        self.utc_offset_minutes = utc_offset_minutes  # of the business day years in operation count to
        self.store = store
        self.db = store.db
        self.white_lists = WhiteLists(store)
        self.demands = Demands(store.db)
        self.applications = applications
        self.reader = reader
        self.catalogue = catalogue
        self.grade_of = grade_of
        self.clock = clock
        self._products: dict[tuple[str, int], LoanProductDocument] = {}
        self._offered: tuple[int, list[OfferedProduct]] | None = None

    def close(self) -> None:
        """Release the record reader's standing database session (`Services.close`)."""
        self.reader.close()

    # -- publication ------------------------------------------------------------------------

    def publish_white_list(
        self, caller: str, role: Role, document: object, signature: PublishSignature
    ) -> StoredDocument:
        """Anchor and store a white-list version, from a district operator (`role`, the
        caller's; 403 otherwise); a bad code refuses it all, named (422)."""
        with audited_unavailable(self.db, caller, "financing.publish.white_list"):
            require_publisher(caller, role)
            parsed = parse_white_list(document)
            return self.store.publish(caller, parsed, signature.signed(caller, parsed), index=index_entries)

    def publish_product(self, caller: str, document: object, signature: PublishSignature) -> StoredDocument:
        """Anchor and store a loan-product version; a rule over an unknown field refuses it, named (422)."""
        with audited_unavailable(self.db, caller, "financing.publish.loan_product"):
            parsed = parse_product(document)
            return self.store.publish(caller, parsed, signature.signed(caller, parsed))

    # -- public reads -----------------------------------------------------------------------

    def listings_of(self, caller: str, uscc: str) -> list[Listing]:
        """The white lists that ever named enterprise `uscc`, and whether and since when it is on each."""
        with audited_unavailable(self.db, caller, "financing.white_list.query"):
            return self.white_lists.listings_of(uscc, self.clock())

    def products(self) -> list[tuple[StoredDocument, LoanProductDocument]]:
        """The newest version of every product (withdrawn ones included, flagged)."""
        return [(s, self._product(s)) for s in self.store.all_latest(PublicationKind.LOAN_PRODUCT)]

    def offered(self, session: Session | None = None) -> list[OfferedProduct]:
        """The newest version of every product, as matching needs them: kept in memory and
        read again only when the number of stored product versions changed (versions are
        only ever added, by any worker), so a match reads one count, not a thousand rows."""
        count = self.store.count(PublicationKind.LOAN_PRODUCT, session=session)
        cached = self._offered
        if cached is None or cached[0] != count:
            latest = self.store.all_latest(PublicationKind.LOAN_PRODUCT, session=session)
            offered = [OfferedProduct(self._product(stored), stored.publisher) for stored in latest]
            cached = self._offered = (count, offered)
        return cached[1]

    def _product(self, stored: StoredDocument) -> LoanProductDocument:
        key = (stored.key, stored.version)
        doc = self._products.get(key)
        if doc is None:  # a stored version never changes: parse it once
            doc = LoanProductDocument.model_validate(stored.content)
            self._products[key] = doc
        return doc

    # -- the enterprise's own ---------------------------------------------------------------

    def post_demand(
        self, caller: str, member: Member, subject: str, *, amount: int, term_months: int, use: str,
        collateral: str,
    ) -> DemandRecord:  # fmt: skip
        with audited_unavailable(self.db, caller, "financing.demand"):
            require_subject(caller, member, subject, "post its financing demand")
            demand = self.demands.post(
                subject, to_checksum_address(caller), amount, term_months, use, collateral
            )
        audit_events.record(
            self.db, actor=caller, event="financing.demand", outcome="served", detail=demand.id
        )
        return demand

    def demands_of(self, caller: str, member: Member, subject: str) -> list[DemandRecord]:
        with audited_unavailable(self.db, caller, "financing.demand.read"):
            require_subject(caller, member, subject, "see its financing demands")
            return self.demands.of(subject)

    def profile(self, caller: str, member: Member, subject: str) -> Profile:
        """The enterprise's eligibility profile (its own view)."""
        with audited_unavailable(self.db, caller, "financing.profile"):
            require_subject(caller, member, subject, "see its eligibility profile")
            return self._profile(caller, member, subject)

    def _profile(
        self, caller: str, member: Member, subject: str, session: Session | None = None, *,
        grade: str | None = None,
    ) -> Profile:  # fmt: skip
        """The profile; the grade is asked here unless a transaction is given (the grade is
        its own audited act, so a caller holding a transaction asks it first and passes it)."""
        now = self.clock()
        if session is None:
            grade = self.grade_of(caller, member, subject)
        with self.store.session(session) as session:
            records = self.reader.current(session, {subject}, set(PROFILE_CATEGORIES)).get(subject, [])
            lists = self.white_lists.current_lists_of(subject, now, session=session)
        return profile_of(
            subject, records, today=business_day(now, self.utc_offset_minutes), catalogue=self.catalogue,
            white_lists=lists,
            evaluation_grade=grade,
        )  # fmt: skip

    def match(
        self, caller: str, member: Member, subject: str, demand_id: str
    ) -> tuple[Profile, list[ProductMatch]]:
        """Demand `demand_id` matched against every product in force: the enterprise's own
        view, computed from its private data and shown to it alone."""
        with audited_unavailable(self.db, caller, "financing.match"):
            require_subject(caller, member, subject, "match its financing demand")
            grade = self.grade_of(caller, member, subject)  # its own act: before the transaction
            with self.db.session() as session:  # every read, and the audit record, in one transaction
                demand = self.demands.get(subject, demand_id, session=session)
                profile = self._profile(caller, member, subject, session, grade=grade)
                offered = self.offered(session)
                results = match(Demand(demand.amount, demand.term_months), profile, offered, self.clock())
                eligible = sum(1 for r in results if r.eligible)
                session.add(
                    audit_events.row(
                        datetime.now(UTC), caller, "financing.match", "served",
                        f"{subject} demand {demand_id}: {eligible} of {len(results)} eligible",
                    )
                )  # fmt: skip
        return profile, results

    def apply(
        self, caller: str, member: Member, subject: str, *, product_key: str, product_version: int,
        demand_id: str | None = None, grant: Signed[GrantMessage] | None = None, grant_id: int | None = None,
    ) -> Application:  # fmt: skip
        """Apply to the product's newest version, in force and not withdrawn, by one grant."""
        with audited_unavailable(self.db, caller, "financing.apply"):
            require_subject(caller, member, subject, "apply for a loan")
            latest = self.store.latest(PublicationKind.LOAN_PRODUCT, product_key)
            if latest.version != product_version:
                raise ProductWithdrawn(
                    f"loan product {product_key} is at version {latest.version}, not {product_version}: "
                    "match again and apply to the current version"
                )
            doc = self._product(latest)
            if doc.withdrawn or not doc.in_force(self.clock()):
                raise ProductWithdrawn(f"loan product {product_key} is withdrawn or not in force")
            return self.applications.apply(
                caller, member, subject, latest, demand_id=demand_id, grant=grant, grant_id=grant_id
            )

    def applications_of(self, caller: str, member: Member, subject: str | None) -> list[Application]:
        """An institution's received applications (of one enterprise, if named), or an
        enterprise's own (`subject` its USCC)."""
        with audited_unavailable(self.db, caller, "financing.applications"):
            if member.role is Role.INSTITUTION:
                if subject is not None:
                    validate_uscc(subject, field="subject")
                return self.applications.of_institution(caller, subject)
            if subject is None:
                raise InvalidInput("subject: name the enterprise (its 统一社会信用代码)")
            require_subject(caller, member, subject, "see its loan applications")
            return self.applications.of_enterprise(subject)

"""Joint action over a fake holding source: an evasion flag reaches holders of applications and
loans once per institution (a watch first), and the gate authorizes a holding's alert with the
holding's terms and withholds it when its grant is not live at B, or the holding is gone."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from ledger.alerts.authorize import AlertGate
from ledger.alerts.holdings import Holding
from ledger.alerts.model import Clearance, Withheld
from ledger.alerts.rules import default_rules
from ledger.alerts.triggers import AlertTriggers
from ledger.errors import Unavailable
from ledger.storage.database import Database
from tests.unit.alerts.test_gate_and_triggers import (
    BANK,
    CATALOGUE,
    GUARANTOR,
    NOW,
    SUBJECT,
    FakeAuthorizer,
    add_watch,
    alerts,
)

LENDER = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
PUBLIC = frozenset(CATALOGUE.categories_in_mask(CATALOGUE.public_mask()))


class FakeHoldings:
    def __init__(self, *held: Holding) -> None:
        self.held = list(held)
        self.live = True
        self.fail: Exception | None = None
        self.asked: list[tuple[int, int]] = []

    def holdings(self, session: Session, subjects: Iterable[str]) -> list[Holding]:
        wanted = set(subjects)
        return [h for h in self.held if h.subject in wanted]

    def resolve(self, session: Session, refs: Iterable[str]) -> dict[str, Holding]:
        wanted = set(refs)
        return {h.ref: h for h in self.held if h.ref in wanted}

    def grant_live(self, grant_id: int, block: int, at: int) -> bool:
        self.asked.append((grant_id, block))
        if self.fail is not None:
            raise self.fail
        return self.live


def application(institution: str = BANK) -> Holding:
    return Holding("application:a1", institution, SUBJECT, 5, 0, PUBLIC, grant_id=9)


def loan(institution: str = LENDER) -> Holding:
    return Holding("loan:3", institution, SUBJECT, 6, 1, PUBLIC)


def test_a_flag_reaches_watchers_application_holders_and_lenders_once_each(db: Database) -> None:
    add_watch(db, GUARANTOR, ("serious_dishonesty_list",))
    add_watch(db, BANK, ("serious_dishonesty_list",))
    triggers = AlertTriggers(
        default_rules(), holdings=FakeHoldings(application(BANK), application(LENDER), loan())
    )
    with db.session() as session:
        assert len(triggers.on_evasion_flag(session, SUBJECT)) == 3
    bases = {a.institution: a.watch_id or "" for a in alerts(db)}
    assert set(bases) == {BANK, GUARANTOR, LENDER}
    assert bases[BANK].startswith("watch_")  # its watch first, not also its application
    assert bases[LENDER] == "application:a1"  # its first holding


def test_a_holders_alert_is_authorized_under_its_terms_and_its_grant_at_b(db: Database) -> None:
    source = FakeHoldings(application())
    with db.session() as session:
        AlertTriggers(default_rules(), holdings=source).on_evasion_flag(session, SUBJECT)
    (alert,) = alerts(db)
    chain = FakeAuthorizer()
    gate = AlertGate(
        db, authorizer=chain, catalogue=CATALOGUE, max_block_age_seconds=30, clock=lambda: float(NOW),
        holdings=source,
    )  # type: ignore[arg-type]  # fmt: skip
    source.live = False
    refused = gate.clear_many([alert])[0]
    assert isinstance(refused, Withheld) and refused.reason == "grant_revoked" and refused.final
    (query,) = chain.queries
    assert (query.requester, query.agreement_id, query.purpose) == (BANK, 5, 1)
    assert source.asked == [(9, 42)]  # the grant checked at the decision's block B
    source.live, source.fail = True, Unavailable("the chain could not answer")
    later = gate.clear_many([alert])[0]
    assert isinstance(later, Withheld) and not later.final
    source.fail = None
    assert isinstance(gate.clear_many([alert])[0], Clearance)
    source.held = []
    gone = AlertGate(
        db, authorizer=chain, catalogue=CATALOGUE, max_block_age_seconds=30, clock=lambda: float(NOW),
        holdings=source,
    )  # type: ignore[arg-type]  # fmt: skip
    with db.session() as session:
        AlertTriggers(default_rules(), holdings=FakeHoldings(application())).on_evasion_flag(session, SUBJECT)
    unknown = gone.clear_many([alerts(db)[-1]])[0]
    assert isinstance(unknown, Withheld) and unknown.reason == "holding_unknown"

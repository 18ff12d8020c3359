"""Watches, triggers and the delivery gate end to end (real anvil, SQLite and PostgreSQL): the
chain decides every watch and every alert; a real receiver on 127.0.0.1 verifies each webhook
with the `standardwebhooks` library and, at the moment one arrives, checks that the alert's
access-trail entry is already committed."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import func, select
from standardwebhooks import Webhook

from ledger.alerts.endpoints import AlertEndpoints
from ledger.alerts.outbox import DELIVERED, WITHHELD, OutboxAlert
from ledger.alerts.sender import AlertSender, start_in_background
from ledger.alerts.watch_model import AlertClearance, Watch
from ledger.chain.consents import RevokeMessage
from ledger.chain.membership import uscc_hash
from ledger.domain.log_names import ACCESS_TRAIL_LOG
from ledger.logs.leaves import decode_leaf
from ledger.logs.models import LogEntry
from ledger.platform import Platform
from ledger.records.samples import sample_record, sample_uscc
from ledger.services import audit_events
from ledger.storage.locks import NoLock
from ledger.wiring import alert_gate
from tests.integration.alerts.support import FAST, wait_for
from tests.integration.test_release import (
    CATALOGUE,
    CREDIT,
    REGISTRATION,
    SUBJECT,
    TAX,
    World,
    refused,
    world,
)

__all__ = ["world"]

POST_LOAN = CATALOGUE.purpose_mask(["post_loan_monitoring"])
SOCIAL = CATALOGUE.category_mask(["social_insurance"])
DISHONESTY = CATALOGUE.category_mask(["serious_dishonesty_list"])


class TrailCheckingReceiver:
    """A webhook receiver on 127.0.0.1: answers the endpoint handshake, verifies each webhook
    with `standardwebhooks`, and on arrival looks in the database for the alert's trail entry."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.secret = ""
        self.received: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                document = json.loads(body)
                if document.get("type") == "endpoint.verification":
                    answer = json.dumps({"challenge": document["data"]["challenge"]}).encode()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                    return
                Webhook(receiver.secret).verify(body, dict(self.headers.items()))  # raises unless signed
                alert_id = self.headers["webhook-id"]
                receiver.received.append(
                    {"id": alert_id, "body": document, "logged_before": receiver.logged(alert_id)}
                )
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def logged(self, alert_id: str) -> bool:
        """Whether the alert's access-trail entry is committed (seen from another connection)."""
        with self.platform.db.session() as session:
            cleared = session.get(AlertClearance, alert_id)
            if cleared is None:
                return False
            entry = session.get(LogEntry, (ACCESS_TRAIL_LOG, cleared.trail_seq))
            return entry is not None and decode_leaf(bytes(entry.leaf)).payload.get("alert_id") == alert_id

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> TrailCheckingReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def receiver(world: World) -> Iterator[TrailCheckingReceiver]:
    with TrailCheckingReceiver(world.platform) as r:
        r.secret = (
            AlertEndpoints(world.platform.db, environment="development")
            .register(world.bank.address, r.url)
            .secret
        )
        yield r


@pytest.fixture
def sender(world: World) -> Iterator[AlertSender]:
    """The real sender with the real gate (`ledger.wiring.alert_gate`), fast pacing."""
    gate = alert_gate(world.platform)
    s = AlertSender(db=world.platform.db, gate=gate, policy=FAST, environment="development", lock=NoLock())
    thread, stop = start_in_background(s)
    yield s
    stop.set()
    thread.join(timeout=10)
    gate.close()
    assert not thread.is_alive()


def watch(world: World, categories: list[str], agreement: int, subject: str = SUBJECT) -> dict[str, Any]:
    body = {"subject": subject, "categories": categories, "agreement_id": agreement}
    answer: dict[str, Any] = world.sdk(world.bank).request("POST", "/watches", body)
    return answer


def watches_stored(world: World) -> int:
    with world.platform.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Watch)) or 0)


def arrears(n: int, subject: str = SUBJECT) -> dict[str, Any]:
    """A tax record with arrears (fires `tax.arrears`)."""
    record = sample_record(2)
    record["subject"] = subject
    record["source_ref"] = f"ARREARS-{n}"
    record["fields"] = {**record["fields"], "overdue_tax_amount": 12_000 + n}
    return record


def outbox(world: World) -> list[OutboxAlert]:
    with world.platform.db.session() as session:
        rows = list(session.scalars(select(OutboxAlert).order_by(OutboxAlert.seq)))
        session.expunge_all()
        return rows


def alert_entries(world: World) -> list[dict[str, Any]]:
    with world.platform.db.session() as session:
        leaves = session.scalars(select(LogEntry.leaf).where(LogEntry.log_name == ACCESS_TRAIL_LOG)).all()
    decoded = [decode_leaf(bytes(leaf)) for leaf in leaves]
    return [dict(d.payload) for d in decoded if d.type == "alert"]


def post_loan_world(world: World) -> int:
    """An agreement of the bank for tax, registration and the dishonesty list, for credit and
    post-loan management; the enterprise's grant of tax for post-loan management."""
    agreement = world.agreement_for(world.bank, TAX | REGISTRATION | DISHONESTY, CREDIT | POST_LOAN)
    world.grant(world.bank, TAX, purposes=POST_LOAN)
    return agreement


# -- watches: allowed on chain, refused by name, nothing stored ------------------------------------


def test_watch_create_list_and_end(world: World) -> None:
    agreement = post_loan_world(world)
    created = watch(world, ["tax"], agreement)
    assert created["subject"] == SUBJECT and created["categories"] == ["tax"]
    assert (
        created["purpose"] == "post_loan_monitoring"
        and created["grant_id"] > 0
        and created["ended_at"] is None
    )
    bank = world.sdk(world.bank)
    assert [w["id"] for w in bank.request("GET", "/watches")] == [created["id"]]
    assert world.sdk(world.guarantor).request("GET", "/watches") == []  # never another's
    ended = bank.request("POST", f"/watches/{created['id']}/end")
    assert ended["ended_at"] is not None
    assert bank.request("GET", "/watches") == []
    assert [w["id"] for w in bank.request("GET", "/watches?include_ended=true")] == [created["id"]]
    error = refused(lambda: world.sdk(world.guarantor).request("POST", f"/watches/{created['id']}/end"))
    assert (error.status, error.body["error"]) == (404, "watch_unknown")


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("agreement without post-loan management", 403, "watch_purpose_not_allowed"),
        ("no such agreement", 403, "watch_no_agreement"),
        ("no grant", 403, "watch_no_grant"),
        ("category outside the agreement", 403, "watch_outside_agreement"),
        ("subject outside the agreement", 403, "watch_outside_agreement"),
        ("grant under another purpose", 403, "watch_no_grant"),
        ("not a canonical USCC", 422, "watch_invalid"),
        ("unknown category", 422, "watch_invalid"),
    ],
)
def test_a_watch_the_chain_does_not_allow_is_refused_by_name_and_nothing_stored(
    world: World, case: str, status: int, code: str
) -> None:
    post_loan = world.agreement_for(world.bank, TAX | REGISTRATION | DISHONESTY, CREDIT | POST_LOAN)
    attempts = {
        "agreement without post-loan management": lambda: watch(world, ["tax"], world.agreement),
        "no such agreement": lambda: watch(world, ["tax"], 9_999),
        "no grant": lambda: watch(world, ["tax"], post_loan),
        "category outside the agreement": lambda: watch(world, ["social_insurance"], post_loan),
        "subject outside the agreement": lambda: watch(world, ["tax"], post_loan, subject=sample_uscc(99)),
        "grant under another purpose": lambda: (
            world.grant(world.bank, TAX),
            watch(world, ["tax"], post_loan),
        ),
        "not a canonical USCC": lambda: watch(world, ["tax"], post_loan, subject=SUBJECT.lower()),
        "unknown category": lambda: watch(world, ["judicial_enforcement"], post_loan),
    }
    error = refused(attempts[case])
    assert (error.status, error.body["error"]) == (status, code), error.body
    assert watches_stored(world) == 0
    refusals = [
        e
        for e in audit_events.recent(world.platform.db, 50, actor=world.bank.address)
        if e.outcome == "refused"
    ]
    assert any(e.event == "watch.create" and code in (e.detail or "") for e in refusals)


def test_a_public_category_needs_no_grant_but_the_agreement(world: World) -> None:
    agreement = world.agreement_for(world.bank, DISHONESTY, POST_LOAN)
    assert watch(world, ["serious_dishonesty_list"], agreement)["grant_id"] == 0


# -- alerts: triggered in the ingestion's transaction, authorized at B, logged before sent ----------


def test_an_arrears_record_reaches_the_watcher_signed_and_logged_first(
    world: World, receiver: TrailCheckingReceiver, sender: AlertSender
) -> None:
    agreement = post_loan_world(world)
    w = watch(world, ["tax"], agreement)
    world.sdk(world.provider).submit_records([arrears(1), sample_record(5)])  # an arrears record, a penalty
    wait_for(lambda: len(receiver.received) == 1)
    (got,) = receiver.received
    assert got["logged_before"] is True  # the trail entry was committed before the webhook left
    data = got["body"]["data"]
    assert got["body"]["type"] == "risk.tax_arrears"
    assert data["subject"] == SUBJECT and data["categories"] == ["tax"] and data["severity"] == "high"
    assert data["watch_id"] == w["id"] and "fields" not in json.dumps(got["body"])  # thin: no content
    (entry,) = alert_entries(world)
    assert entry["alert_id"] == got["id"] and entry["block"] == data["block"]
    assert entry["institution"] == world.bank.address and entry["categories"] == str(TAX)
    assert entry["purpose"] == str(POST_LOAN) and entry["agreement_id"] == agreement and entry["grant_id"] > 0
    assert entry["raw_categories"] == "0" and entry["rule_id"] == "tax.arrears"
    # the enterprise finds the alert among the accesses to its data
    accesses = world.sdk(world.enterprise).request("GET", f"/accesses?subject={SUBJECT}")
    assert any(a["entry"].get("alert_id") == got["id"] for a in accesses)


def test_a_revoked_grant_yields_no_alert_after_its_block(
    world: World, receiver: TrailCheckingReceiver, sender: AlertSender
) -> None:
    agreement = world.agreement_for(world.bank, TAX | REGISTRATION, POST_LOAN)
    grant = world.grant(world.bank, TAX, purposes=POST_LOAN)
    watch(world, ["tax"], agreement)
    world.sdk(world.provider).submit_records([arrears(1)])
    wait_for(lambda: len(receiver.received) == 1)
    revoked = world.sdk(world.enterprise).act(RevokeMessage, grant_id=grant)
    revocation_block = int(world.platform.chain.w3.eth.get_block("latest")["number"])
    world.sdk(world.provider).submit_records([arrears(2), arrears(3)])
    wait_for(lambda: sum(a.state == WITHHELD for a in outbox(world)) == 2)
    assert revoked is not None
    states = [(a.state, a.reason or "") for a in outbox(world)]
    assert states[0][0] == DELIVERED
    assert all(s == WITHHELD and r.startswith("no_covering_grant") for s, r in states[1:])
    assert len(receiver.received) == 1  # nothing about the subject's tax after the revocation
    assert all(e["block"] < revocation_block for e in alert_entries(world))
    refusals = audit_events.recent(world.platform.db, 50, actor=world.bank.address)
    assert sum(e.event == "alert.clear" and e.outcome == "refused" for e in refusals) == 2


def test_an_ended_watch_yields_nothing_even_for_alerts_already_enqueued(world: World) -> None:
    agreement = post_loan_world(world)
    w = watch(world, ["tax"], agreement)
    world.sdk(world.provider).submit_records([arrears(1)])
    (alert,) = outbox(world)
    world.sdk(world.bank).request("POST", f"/watches/{w['id']}/end")
    gate = alert_gate(world.platform)
    try:
        with pytest.raises(Exception) as info:
            gate.clear(alert)
        assert getattr(info.value, "reason", None) == "watch_ended"
    finally:
        gate.close()
    world.sdk(world.provider).submit_records([arrears(2)])
    assert len(outbox(world)) == 1  # an ended watch triggers nothing


def test_the_gate_logs_an_alert_once_however_often_asked(world: World) -> None:
    agreement = post_loan_world(world)
    watch(world, ["tax"], agreement)
    world.sdk(world.provider).submit_records([arrears(1)])
    (alert,) = outbox(world)
    gate = alert_gate(world.platform)
    try:
        first, again = gate.clear(alert), gate.clear(alert)
    finally:
        gate.close()
    assert first == again and len(alert_entries(world)) == 1


def test_an_operators_evasion_flag_reaches_every_watcher(world: World) -> None:
    bank_agreement = world.agreement_for(world.bank, DISHONESTY, POST_LOAN)
    guarantor_agreement = world.agreement_for(world.guarantor, DISHONESTY, POST_LOAN)
    world.sdk(world.bank).request(
        "POST",
        "/watches",
        {"subject": SUBJECT, "categories": ["serious_dishonesty_list"], "agreement_id": bank_agreement},
    )
    world.sdk(world.guarantor).request(
        "POST",
        "/watches",
        {"subject": SUBJECT, "categories": ["serious_dishonesty_list"], "agreement_id": guarantor_agreement},
    )
    error = refused(
        lambda: world.sdk(world.bank).request(
            "POST", "/evasion-flags", {"subject": SUBJECT, "reference": "x"}
        )
    )
    assert error.status == 403  # operators only
    flag = world.sdk(world.operators[0]).request(
        "POST", "/evasion-flags", {"subject": SUBJECT, "reference": "（2026）豫01执123号"}
    )
    assert flag["alerts"] == 2
    alerts = outbox(world)
    assert {a.institution for a in alerts} == {world.bank.address, world.guarantor.address}
    assert {a.event for a in alerts} == {"risk.malicious_debt_evasion"}
    gate = alert_gate(world.platform)
    try:
        cleared = [gate.clear(a) for a in alerts]
    finally:
        gate.close()
    assert all(c.trail_seq is not None for c in cleared)
    assert {e["grant_id"] for e in alert_entries(world)} == {0}  # a public category: no grant needed
    assert uscc_hash(SUBJECT)  # the subject is the registered enterprise


# -- the auditor: alert entries are authorized as masked releases ---------------------------------


def test_the_auditor_finds_alerts_authorized_and_catches_one_redated_past_the_revocation(
    world: World,
) -> None:
    import rfc8785

    from ledger.audit.export import ExportedEntry
    from ledger.audit.findings import Step
    from tests.integration.audit.conftest import export_of, verifier_for

    agreement = world.agreement_for(world.bank, TAX | REGISTRATION, POST_LOAN)
    grant = world.grant(world.bank, TAX, purposes=POST_LOAN)
    watch(world, ["tax"], agreement)
    world.sdk(world.provider).submit_records([arrears(1)])
    (alert,) = outbox(world)
    gate = alert_gate(world.platform)
    try:
        index = gate.clear(alert).trail_seq
    finally:
        gate.close()
    world.sdk(world.enterprise).act(RevokeMessage, grant_id=grant)
    after_revocation = int(world.platform.chain.w3.eth.block_number)
    export = export_of(world.platform, openings=True)
    clean = verifier_for(world.platform).verify(export)
    assert clean.findings == [], [str(f) for f in clean.findings]
    assert clean.to_json()["access"]["alerts_well_formed"] == 1

    entries = []
    for e in export.entries[ACCESS_TRAIL_LOG]:
        if e.seq == index:
            leaf = json.loads(e.leaf)
            leaf["block"] = after_revocation
            e = ExportedEntry(e.log, e.seq, rfc8785.dumps(leaf))
        entries.append(e)
    redated = dataclasses.replace(export, entries={**export.entries, ACCESS_TRAIL_LOG: entries})
    found = [f for f in verifier_for(world.platform).verify(redated).findings if f.step is Step.AUTHORIZATION]
    assert [(f.index, f.got) for f in found] == [(index, "NO_COVERING_GRANT")], [str(f) for f in found]
    assert "alert not authorized" in found[0].what

"""The release path end to end (real anvil, SQLite and PostgreSQL) and every way it must refuse."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from api.app import create_app
from ledger.chain.agreements import (
    AgreementsContract,
    CommitmentKind,
    CommitMessage,
    CountersignMessage,
    MarkBreachedMessage,
    ProposeAgreementMessage,
    SuspendMessage,
)
from ledger.chain.authorize_call import AuthorizeCaller
from ledger.chain.consents import AuthorizationQuery, Decision, GrantMessage, RevokeMessage
from ledger.chain.eip712 import Signed
from ledger.chain.membership import InstitutionKind, Role, uscc_hash
from ledger.cli import app as cli
from ledger.domain.catalogue import default_catalogue
from ledger.domain.log_names import ACCESS_TRAIL_LOG
from ledger.errors import Unavailable
from ledger.logs.leaves import decode_leaf
from ledger.logs.models import LogEntry
from ledger.platform import Platform
from ledger.records.samples import sample_record, sample_uscc
from ledger.release.request import DataRequestMessage, request_domain, request_to_json, sign_data_request
from ledger.release.service import response_hash
from ledger.release.trail import AccessTrail, TrailEntry
from ledger.sdk import ApiError, LedgerClient
from ledger.services import audit_events
from ledger.storage.database import Database
from ledger.wiring import release_service
from tests.conftest import free_port
from tests.integration.conftest import POSTGRES_ADMIN_URL, Onboarding
from tests.integration.records.conftest import publish_on_chain

SdkFor = Callable[[LocalAccount], LedgerClient]
SUBJECT = sample_uscc(0)  # sample records 0, 1, 2: registration, administrative penalty, tax
CATALOGUE = default_catalogue()
TAX = CATALOGUE.category_mask(["tax"])
REGISTRATION = CATALOGUE.category_mask(["registration"])
SOCIAL = CATALOGUE.category_mask(["social_insurance"])
CREDIT = CATALOGUE.purpose_mask(["credit_assessment"])
GUARANTEE = CATALOGUE.purpose_mask(["guarantee_assessment"])


@dataclass
class World:
    sdk: SdkFor
    platform: Platform
    operators: list[LocalAccount]
    bank: LocalAccount
    guarantor: LocalAccount
    provider: LocalAccount
    enterprise: LocalAccount
    agreement: int

    def agreement_for(
        self, institution: LocalAccount, categories: int, purposes: int, *, days: int = 30, seconds: int = 0
    ) -> int:
        """An active agreement valid for `days` (or `seconds`, when given) from the latest block."""
        commitment = self.sdk(institution).act(
            CommitMessage, kind=CommitmentKind.INSTITUTION_USAGE, document_hash=keccak(text="使用承诺")
        )["created_id"]
        now = int(self.platform.chain.w3.eth.get_block("latest")["timestamp"])
        agreement = self.sdk(institution).act(
            ProposeAgreementMessage, categories=categories, purposes=purposes, max_level=4,
            valid_from=now - 60, valid_until=now + (seconds or days * 86400),
            document_hash=keccak(text="数据共享协议"), commitment_id=commitment,
        )["created_id"]  # fmt: skip
        self.sdk(self.operators[0]).act(CountersignMessage, agreement_id=agreement)
        return int(agreement)

    def grant(self, institution: LocalAccount, categories: int, *, raw: int = 0, agreement: int = 0,
              purposes: int = CREDIT, seconds: int = 3600) -> int:  # fmt: skip
        now = int(self.platform.chain.w3.eth.get_block("latest")["timestamp"])
        return int(
            self.sdk(self.enterprise).act(
                GrantMessage,
                uscc_hash=uscc_hash(SUBJECT),
                institution=institution.address,
                agreement_id=agreement,
                categories=categories,
                purposes=purposes,
                raw_categories=raw,
                expires_at=now + seconds,
            )["created_id"]
        )

    def release(
        self, institution: LocalAccount | None = None, categories: int = TAX, **kw: object
    ) -> dict[str, object]:
        who = institution or self.bank
        agreement = int(kw.pop("agreement", self.agreement))  # type: ignore[call-overload]
        purpose = int(kw.pop("purpose", CREDIT))  # type: ignore[call-overload]
        return self.sdk(who).release(str(kw.pop("subject", SUBJECT)), categories, purpose, agreement, **kw)  # type: ignore[arg-type]


def trail_size(platform: Platform) -> int:
    with platform.db.session() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(LogEntry).where(LogEntry.log_name == ACCESS_TRAIL_LOG)
            )
            or 0
        )


@pytest.fixture
def world(
    sdk: SdkFor, platform: Platform, onboarding: Onboarding, operators: list[LocalAccount],
    dev_accounts: list[LocalAccount],
) -> World:  # fmt: skip
    publish_on_chain(platform, operators[0], CATALOGUE)
    bank = onboarding.admit(dev_accounts[5], Role.INSTITUTION, InstitutionKind.BANK, "郑州银行")
    guarantor = onboarding.admit(
        dev_accounts[6], Role.INSTITUTION, InstitutionKind.GUARANTOR, "郑州中小企业担保"
    )
    provider = onboarding.admit(dev_accounts[4], Role.PROVIDER, name="郑州市市场监督管理局")
    enterprise = onboarding.enterprise(dev_accounts[7], SUBJECT, "郑州市样例科技有限公司")
    sdk(provider).submit_records([sample_record(n) for n in range(3)])
    w = World(sdk, platform, operators, bank, guarantor, provider, enterprise, 0)
    w.agreement = w.agreement_for(bank, TAX | REGISTRATION, CREDIT)
    return w


def refused(call: Callable[[], object]) -> ApiError:
    with pytest.raises(ApiError) as info:
        call()
    assert "data" not in (info.value.body if isinstance(info.value.body, dict) else {})
    return info.value


# -- the story ------------------------------------------------------------------------------------


def test_masked_then_raw_then_revoked(world: World) -> None:
    grant = world.grant(world.bank, TAX)
    masked = world.release()
    record = masked["data"]["records"][0]  # type: ignore[index]
    assert record["category"] == "tax" and record["detail"] == "masked"
    assert "****" in record["fields"]["tax_officer_mobile"]
    assert record["fields"]["tax_officer_name"].endswith("*")
    receipt = masked["receipt"]
    assert receipt["log"] == ACCESS_TRAIL_LOG and receipt["index"] == 0  # type: ignore[index]
    assert receipt["response_hash"] == "0x" + response_hash(masked["data"]).hex()  # type: ignore[index, arg-type]

    with world.platform.db.session() as session:
        leaf = decode_leaf(bytes(session.get(LogEntry, (ACCESS_TRAIL_LOG, 0)).leaf))  # type: ignore[union-attr]
    assert leaf.payload["grant_id"] == grant
    assert leaf.payload["block"] == receipt["block"]  # type: ignore[index]
    assert leaf.payload["response_hash"] == receipt["response_hash"]  # type: ignore[index]
    assert leaf.payload["request"]["institution"] == world.bank.address

    world.grant(world.bank, TAX, raw=TAX)
    raw = world.release(raw=True)
    raw_fields = raw["data"]["records"][0]["fields"]  # type: ignore[index]
    assert raw["data"]["records"][0]["detail"] == "raw"  # type: ignore[index]
    assert raw_fields["tax_officer_mobile"].isdigit()

    for grant_id in (grant, grant + 1):
        world.sdk(world.enterprise).act(RevokeMessage, grant_id=grant_id)
    error = refused(world.release)
    assert error.status == 403 and "no_covering_grant" in error.message
    assert trail_size(world.platform) == 2  # two releases, two entries; the refusal left none
    assert audit_events.recent(world.platform.db, 1)[0].outcome == "refused"


def test_the_response_carries_exactly_the_bytes_its_hash_covers(world: World) -> None:
    world.grant(world.bank, TAX)
    client = world.sdk(world.bank)
    chain = client.chain()
    domain = request_domain(chain["chain_id"], chain["contracts"]["Consents"]["address"])
    signed = sign_data_request(
        world.bank, domain, subject=SUBJECT, categories=TAX, purpose=CREDIT, agreement_id=world.agreement
    )
    answer = client.http.post("/releases", json=request_to_json(signed))
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    body = answer.content
    assert body.startswith(b'{"data":{')
    sent = body[len(b'{"data":') : body.rindex(b',"receipt":')]
    parsed = answer.json()
    assert hashlib.sha256(sent).hexdigest() == parsed["receipt"]["response_hash"][2:]
    assert parsed["receipt"]["response_hash"] == "0x" + response_hash(parsed["data"]).hex()
    assert len(parsed["data"]["records"]) > 0


def test_public_category_needs_an_agreement_but_no_grant(world: World) -> None:
    released = world.release(categories=REGISTRATION)
    fields = released["data"]["records"][0]["fields"]  # type: ignore[index]
    assert fields["enterprise_name"].startswith("郑州市样例")
    assert fields["legal_representative_id"].count("*") == 11  # masked ID: first 3 and last 4 kept
    error = refused(
        lambda: world.release(world.guarantor, categories=REGISTRATION, agreement=world.agreement)
    )
    assert error.status == 403 and "agreement_not_owned" in error.message


def test_the_receipt_yields_an_inclusion_proof_once_anchored(world: World) -> None:
    from ledger.wiring import anchor_worker

    world.grant(world.bank, TAX)
    receipt = world.release()["receipt"]
    with pytest.raises(ApiError) as early:
        world.sdk(world.bank).release_proof(receipt["index"])  # type: ignore[index]
    assert early.value.status == 409
    worker = anchor_worker(world.platform)
    try:
        worker.anchor_now(ACCESS_TRAIL_LOG)
    finally:
        worker.close()
    bundle = world.sdk(world.enterprise).release_proof(receipt["index"])  # type: ignore[index]
    assert bundle["leaf_hash"] == receipt["leaf_hash"]  # type: ignore[index]
    error = refused(lambda: world.sdk(world.guarantor).release_proof(receipt["index"]))  # type: ignore[index]
    assert error.status == 403


@pytest.fixture
def live_api(platform: Platform) -> Iterator[str]:
    """The API over real HTTP (uvicorn in a thread): what the CLI talks to."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(platform), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the API did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(30)


def test_the_cli_signs_sends_checks_and_proves(world: World, live_api: str, tmp_path: Path) -> None:
    from ledger.wiring import anchor_worker

    world.grant(world.bank, TAX)
    runner = CliRunner()
    world.platform.deployment.save(world.platform.settings.manifest_path)
    env = {
        "BANK_KEY": world.bank.key.hex(),
        "LEDGER_DATA_DIR": str(world.platform.settings.data_dir),
        "LEDGER_RPC_URL": world.platform.chain.rpc_url,
        "LEDGER_FINALITY": "inclusion",  # the shared test chain: durability is tested on its own
    }
    as_bank = ["--api", live_api, "--key-env", "BANK_KEY"]
    agreement = ["--agreement", str(world.agreement)]
    ask = ["release", "request", SUBJECT, "--purpose", "credit_assessment", *agreement, *as_bank]

    shown = runner.invoke(cli, [*ask, "--categories", "tax"], env=env)
    assert shown.exit_code == 0, shown.output
    assert f"released 1 record(s) of {SUBJECT}" in shown.output
    assert "纳税 tax" in shown.output and "masked" in shown.output and "****" in shown.output
    assert "receipt: access-trail #0" in shown.output and "(checked against the data above)" in shown.output

    not_raw = runner.invoke(cli, [*ask, "--categories", "tax", "--raw"], env=env)  # no raw grant: masked
    assert not_raw.exit_code == 0 and "masked" in not_raw.output, not_raw.output
    assert "raw detail was asked, but the enterprise's grant does not allow it for tax" in not_raw.output

    as_json = runner.invoke(cli, [*ask, "--categories", "tax", "--json"], env=env)
    assert as_json.exit_code == 0, as_json.output
    answer = json.loads(as_json.output)
    assert answer["receipt"]["index"] == 2
    assert answer["receipt"]["response_hash"] == "0x" + response_hash(answer["data"]).hex()

    # refusals: a name the catalogue lacks is refused before signing; the chain refuses the rest
    unknown = runner.invoke(cli, [*ask, "--categories", "tax,horoscope"], env=env)
    assert unknown.exit_code == 1 and "horoscope" in unknown.output
    no_grant = runner.invoke(cli, [*ask, "--categories", "social_insurance"], env=env)
    assert no_grant.exit_code == 1, no_grant.output
    assert "refused, nothing released" in no_grant.output and "403" in no_grant.output
    no_key = runner.invoke(cli, [*ask[:-2], "--categories", "tax"], env=env)
    assert no_key.exit_code == 1 and "--keystore FILE or --key-env VARIABLE" in no_key.output
    assert trail_size(world.platform) == 3  # the three releases; refusals left no entry

    not_yet = runner.invoke(cli, ["release", "proof", "0", *as_bank], env=env)
    assert not_yet.exit_code == 1 and "409" in not_yet.output
    worker = anchor_worker(world.platform)
    try:
        worker.anchor_now(ACCESS_TRAIL_LOG)
    finally:
        worker.close()
    bundle_file = tmp_path / "proof.json"
    fetched = runner.invoke(cli, ["release", "proof", "2", "--out", str(bundle_file), *as_bank], env=env)
    assert fetched.exit_code == 0, fetched.output
    verify = ["release", "verify-proof", str(bundle_file)]
    ok = runner.invoke(cli, [*verify, "--response-hash", answer["receipt"]["response_hash"]], env=env)
    assert ok.exit_code == 0, ok.output
    assert "is access-trail entry 2, included in the checkpoint of size 3" in ok.output
    assert f"OK: the release of tax (credit_assessment) about {SUBJECT}" in ok.output  # names, not masks
    other = runner.invoke(cli, [*verify, "--response-hash", "0x" + "00" * 32], env=env)
    assert other.exit_code == 1 and "not 0x0000" in other.output
    bundle = json.loads(bundle_file.read_text())
    bundle["leaf_hash"] = "0x" + "11" * 32
    bundle_file.write_text(json.dumps(bundle))
    tampered = runner.invoke(cli, verify, env=env)
    assert tampered.exit_code == 1, tampered.output


# -- refusals: each a clear 4xx or 503, no data, no trail entry -----------------------------------


def _signed_body(
    world: World, signer: LocalAccount, institution: str | None = None, **kw: object
) -> dict[str, object]:
    domain = request_domain(world.platform.deployment.chain_id, world.platform.deployment.addresses.consents)
    signed = sign_data_request(
        signer,
        domain,
        subject=SUBJECT,
        categories=TAX,
        purpose=CREDIT,
        agreement_id=world.agreement,
        **kw,  # type: ignore[arg-type]
    )
    body = request_to_json(signed)
    if institution is not None:
        body["institution"] = institution
    return body


def test_forged_and_foreign_signatures_are_401(world: World) -> None:
    world.grant(world.bank, TAX)
    forged = _signed_body(world, Account.create(), institution=world.bank.address)
    assert refused(lambda: world.sdk(world.bank).send_release(forged)).status == 401
    foreign = _signed_body(world, world.guarantor, institution=world.bank.address)
    assert refused(lambda: world.sdk(world.bank).send_release(foreign)).status == 401
    assert trail_size(world.platform) == 0


def test_replayed_nonce_is_409(world: World) -> None:
    world.grant(world.bank, TAX)
    body = _signed_body(world, world.bank)
    world.sdk(world.bank).send_release(body)
    error = refused(lambda: world.sdk(world.bank).send_release(body))
    assert error.status == 409 and "replayed" in error.message
    assert trail_size(world.platform) == 1


def test_a_request_the_chain_refused_has_used_its_nonce(world: World) -> None:
    """The nonce is spent with the chain's answer, whatever it is: a refused request is not retried."""
    body = _signed_body(world, world.bank)
    assert "no_covering_grant" in refused(lambda: world.sdk(world.bank).send_release(body)).message
    world.grant(world.bank, TAX)
    error = refused(lambda: world.sdk(world.bank).send_release(body))
    assert error.status == 409 and "replayed" in error.message
    assert trail_size(world.platform) == 0
    assert world.sdk(world.bank).send_release(_signed_body(world, world.bank))["receipt"]["index"] == 0


def test_passed_deadline_is_401(world: World) -> None:
    world.grant(world.bank, TAX)
    body = _signed_body(world, world.bank, validity_seconds=-1)
    error = refused(lambda: world.sdk(world.bank).send_release(body))
    assert error.status == 401 and "deadline" in error.message


def _reason(world: World, reason: str, call: Callable[[], object] | None = None) -> None:
    before = trail_size(world.platform)
    error = refused(call or world.release)
    assert error.status == 403, error.message
    assert reason in error.message
    assert trail_size(world.platform) == before


def test_suspended_institution(world: World, onboarding: Onboarding) -> None:
    world.grant(world.bank, TAX)
    onboarding.suspend(world.bank)
    _reason(world, "requester_not_active_institution")


def test_suspended_agreement(world: World) -> None:
    world.grant(world.bank, TAX)
    world.sdk(world.operators[0]).act(SuspendMessage, agreement_id=world.agreement)
    _reason(world, "agreement_not_active")


def test_expired_agreement(world: World, advance_time: Callable[[int], None]) -> None:
    world.grant(world.bank, TAX, seconds=90 * 86400)
    advance_time(31 * 86400)
    _reason(world, "agreement_expired")


def test_breached_commitment(world: World) -> None:
    world.grant(world.bank, TAX)
    agreements = AgreementsContract(world.platform.chain, world.platform.deployment.addresses.agreements)
    agreement = agreements.agreement(world.agreement)
    assert agreement is not None
    evidence = keccak(text="转售数据")
    world.sdk(world.operators[0]).act(
        MarkBreachedMessage, commitment_id=agreement.terms.commitment_id, evidence_hash=evidence
    )
    _reason(world, "commitment_breached")


def test_category_outside_the_agreement(world: World) -> None:
    world.grant(world.bank, TAX | SOCIAL)
    _reason(world, "category_out_of_scope", lambda: world.release(categories=SOCIAL))


def test_wrong_purpose(world: World) -> None:
    world.grant(world.bank, TAX)
    _reason(world, "purpose_not_allowed", lambda: world.release(purpose=GUARANTEE))


def test_no_grant(world: World) -> None:
    _reason(world, "no_covering_grant")


def test_expired_grant(world: World, advance_time: Callable[[int], None]) -> None:
    world.grant(world.bank, TAX, seconds=60)
    advance_time(120)
    _reason(world, "no_covering_grant")


def test_grant_to_another_institution(world: World) -> None:
    world.grant(world.bank, TAX)
    agreement = world.agreement_for(world.guarantor, TAX, CREDIT)
    _reason(world, "no_covering_grant", lambda: world.release(world.guarantor, agreement=agreement))


def test_unknown_subject(world: World) -> None:
    _reason(world, "subject_unknown", lambda: world.release(subject=sample_uscc(99)))


def test_malformed_request_is_422(world: World) -> None:
    body = _signed_body(world, world.bank)
    body["categories"] = "lots"
    assert refused(lambda: world.sdk(world.bank).send_release(body)).status == 422


@pytest.fixture
def broken_app(world: World) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def _app(**replace: object) -> TestClient:
        client = TestClient(create_app(dataclasses.replace(world.platform, **replace)))  # type: ignore[arg-type]
        client.__enter__()
        clients.append(client)
        return client

    yield _app
    for client in clients:
        client.__exit__(None, None, None)


def test_chain_down_is_503_and_nothing_released(world: World, broken_app: Callable[..., TestClient]) -> None:
    world.grant(world.bank, TAX)
    client = broken_app()
    client.app.state.services.release.authorizer = AuthorizeCaller(  # type: ignore[attr-defined]
        "http://127.0.0.1:9", world.platform.deployment.addresses.consents
    )
    response = client.post("/releases", json=_signed_body(world, world.bank))
    assert response.status_code == 503 and "data" not in response.json()
    assert trail_size(world.platform) == 0


def test_a_chain_failing_after_the_trail_opened_spends_no_nonce(
    world: World, broken_app: Callable[..., TestClient]
) -> None:
    """The chain is asked while the trail's transaction reads; its failure rolls all of it back."""

    class Failing(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    world.grant(world.bank, TAX)
    node = ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    threading.Thread(target=node.serve_forever, daemon=True).start()
    try:
        client = broken_app()
        client.app.state.services.release.authorizer = AuthorizeCaller(  # type: ignore[attr-defined]
            f"http://127.0.0.1:{node.server_address[1]}", world.platform.deployment.addresses.consents
        )
        body = _signed_body(world, world.bank)
        response = client.post("/releases", json=body)
        assert response.status_code == 503 and "data" not in response.json()
        assert "HTTP 500" in response.json()["detail"]
    finally:
        node.shutdown()
        node.server_close()
    assert trail_size(world.platform) == 0
    assert world.sdk(world.bank).send_release(body)["receipt"]["index"] == 0  # its nonce is unused


def test_database_down_is_503_and_nothing_released(
    world: World, broken_app: Callable[..., TestClient]
) -> None:
    world.grant(world.bank, TAX)
    down = Database("postgresql+psycopg://postgres@127.0.0.1:9/none")
    client = broken_app(db=down)
    response = client.post("/releases", json=_signed_body(world, world.bank))
    assert response.status_code == 503 and "data" not in response.json()


def test_failed_trail_append_means_no_data(world: World, broken_app: Callable[..., TestClient]) -> None:
    world.grant(world.bank, TAX)
    client = broken_app()
    service = client.app.state.services.release  # type: ignore[attr-defined]
    # the log alone fails
    service.trail = AccessTrail(Database("postgresql+psycopg://postgres@127.0.0.1:9/none"))
    response = client.post("/releases", json=_signed_body(world, world.bank))
    assert response.status_code == 503
    assert "data" not in response.json() and "access trail" in response.json()["detail"]
    assert trail_size(world.platform) == 0


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)  # a server drops connections
def test_releases_resume_after_the_database_dropped_every_connection(world: World) -> None:
    """Pooled connections are not pinged before use: a dead one fails closed, then the pool renews."""
    world.grant(world.bank, TAX)
    world.release()  # the pool now holds live connections
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (world.platform.db.engine.url.database,),
        )
    outcomes: list[int | str] = []
    while len(outcomes) < 5 and not (outcomes and isinstance(outcomes[-1], int)):
        try:
            outcomes.append(int(world.release()["receipt"]["index"]))  # type: ignore[index]
        except ApiError as exc:
            assert exc.status == 503 and "data" not in (exc.body if isinstance(exc.body, dict) else {})
            outcomes.append(f"{exc.status}")
    assert isinstance(outcomes[-1], int), outcomes  # served again, with its trail entry
    assert trail_size(world.platform) == outcomes[-1] + 1


class HeldService:
    """The platform's release service, whose chain answers only once the test opens the gate."""

    def __init__(self, world: World) -> None:
        self.service = release_service(world.platform)
        self.gate = threading.Event()
        chain, gate = self.service.authorizer, self.gate

        class SlowChain:
            @contextlib.contextmanager
            def deciding(self, queries: list[AuthorizationQuery]) -> Iterator[Callable[[], list[Decision]]]:
                with chain.deciding(queries) as decisions:

                    def held_decisions() -> list[Decision]:
                        gate.wait(10)
                        return decisions()

                    yield held_decisions

            def close(self) -> None:
                chain.close()

        self.service.authorizer = SlowChain()  # type: ignore[assignment]
        deployment = world.platform.deployment
        self.domain = request_domain(deployment.chain_id, deployment.addresses.consents)
        self.world = world

    def request(self, institution: LocalAccount | None = None, **kw: object) -> Signed[DataRequestMessage]:
        fields: dict[str, object] = {
            "subject": SUBJECT, "categories": TAX, "purpose": CREDIT, "agreement_id": self.world.agreement,
        }  # fmt: skip
        return sign_data_request(institution or self.world.bank, self.domain, **{**fields, **kw})  # type: ignore[arg-type]


@pytest.fixture
def held(world: World) -> Iterator[HeldService]:
    held = HeldService(world)
    yield held
    held.gate.set()
    held.service.close()


def test_a_release_not_done_in_time_is_503_and_one_given_up_while_queued_is_never_made(
    world: World, held: HeldService
) -> None:
    world.grant(world.bank, TAX)
    with pytest.raises(Unavailable, match="in time"):
        held.service.release(held.request(), timeout=0.3)  # its batch now waits for the chain
    with pytest.raises(Unavailable, match="in time"):
        asyncio.run(held.service.release_async(held.request(), timeout=0.2))  # gives up while queued
    held.gate.set()
    held.service.close()  # the running batch completes; the abandoned request is skipped
    assert trail_size(world.platform) == 1  # logged though not delivered: never the reverse


def test_in_one_batch_each_release_succeeds_or_fails_alone(world: World, held: HeldService) -> None:
    world.grant(world.bank, TAX)
    first = held.service.submit(held.request())  # its batch waits for the chain ...
    replayed = held.request()
    forged = dataclasses.replace(held.request(), signature=held.request(world.guarantor).signature)
    queued = {  # ... while these queue up and go together as the next batch
        "ok-1": held.service.submit(held.request()),
        "no grant": held.service.submit(held.request(world.guarantor)),
        "replay-a": held.service.submit(replayed),
        "forged": held.service.submit(forged),
        "bad purpose": held.service.submit(held.request(purpose=3)),
        "replay-b": held.service.submit(replayed),
        "ok-2": held.service.submit(held.request(categories=TAX)),
    }
    held.gate.set()
    assert first.result(10).receipt.index == 0
    outcomes = {}
    for name, future in queued.items():
        error = future.exception(10)
        outcomes[name] = type(error).__name__ if error else future.result().receipt.index
    assert outcomes == {
        "ok-1": 1, "no grant": "ReleaseRefused", "replay-a": 2, "forged": "Unauthenticated",
        "bad purpose": "InvalidInput", "replay-b": "ReplayedDataRequest", "ok-2": 3,
    }  # fmt: skip
    assert trail_size(world.platform) == 4
    refused = [e.detail for e in audit_events.recent(world.platform.db) if e.event == "release"]
    assert len(refused) == 4 and any("replayed" in str(d) for d in refused)


def test_every_release_has_its_trail_entry(world: World) -> None:
    world.grant(world.bank, TAX | REGISTRATION)
    receipts = [world.release(categories=c)["receipt"] for c in (TAX, REGISTRATION, TAX | REGISTRATION)]
    with world.platform.db.session() as session:
        for receipt in receipts:
            row = session.get(LogEntry, (ACCESS_TRAIL_LOG, receipt["index"]))  # type: ignore[index]
            assert row is not None and "0x" + bytes(row.leaf_hash).hex() == receipt["leaf_hash"]  # type: ignore[index]
    assert trail_size(world.platform) == 3


def test_an_entry_is_logged_only_with_its_nonce_spent_in_the_same_transaction(world: World) -> None:
    trail = AccessTrail(world.platform.db)
    payload = {
        "institution": world.bank.address,
        "subject": SUBJECT,
        "released_at": "2026-12-06T08:00:00+00:00",
    }
    entry = TrailEntry(payload, world.bank.address, "data:0x01")
    try:
        with pytest.raises(ValueError, match="without spending it"), trail.transaction() as tx:
            tx.append([entry])
        with trail.transaction() as tx:
            key = (entry.signer, entry.nonce)
            assert tx.spend_nonces([key, key])() == [True, False]  # twice in one batch: the first wins
            assert [e.seq for e in tx.append([entry])] == [0]
        with trail.transaction() as tx:
            assert tx.spend_nonces([key])() == [False]  # spent for good
    finally:
        trail.close()
    assert trail_size(world.platform) == 1


def test_concurrent_releases_are_group_committed_without_gaps_or_replays(world: World) -> None:
    from concurrent.futures import ThreadPoolExecutor

    world.grant(world.bank, TAX)
    bodies = [_signed_body(world, world.bank) for _ in range(24)]
    replays = bodies[:6]  # each sent twice, at the same time as everything else

    def send(body: dict[str, object]) -> int | str:
        try:
            return int(world.sdk(world.bank).send_release(body)["receipt"]["index"])
        except ApiError as exc:
            return f"{exc.status}"

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(send, bodies + replays))
    indexes = sorted(o for o in outcomes if isinstance(o, int))
    assert indexes == list(range(24))  # one entry per distinct request, contiguous
    assert outcomes.count("409") == 6
    assert trail_size(world.platform) == 24


def test_who_read_my_data(world: World) -> None:
    world.grant(world.bank, TAX)
    agreement = world.agreement_for(world.guarantor, REGISTRATION, CREDIT)
    world.release()
    world.release(world.guarantor, categories=REGISTRATION, agreement=agreement)
    mine = world.sdk(world.enterprise).accesses(SUBJECT)
    assert [a["entry"]["institution"] for a in mine] == [world.bank.address, world.guarantor.address]
    assert mine[0]["entry"]["purpose"] == str(CREDIT) and mine[0]["proof"] is None  # not anchored yet
    assert mine[0]["names"] == {"categories": ["tax"], "purpose": ["credit_assessment"], "raw_categories": []}
    assert mine[1]["names"]["categories"] == ["registration"]
    assert [a["index"] for a in world.sdk(world.bank).accesses()] == [0]  # never another institution's
    assert [a["index"] for a in world.sdk(world.guarantor).accesses()] == [1]
    error = refused(lambda: world.sdk(world.enterprise).accesses(sample_uscc(5)))
    assert error.status == 403

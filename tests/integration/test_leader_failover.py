"""Several nodes, one leader: SIGKILL the leading `credit-ledger up` mid-way and another takes over.

Two real `credit-ledger up` nodes share the PostgreSQL database and the anvil chain: node A
serves the API from two processes it supervises, node B from its own. Each runs the
anchoring worker (both logs) and the alert sender; A starts first and leads all three.
Records (some of them arrears of a watched enterprise, each an alert to the bank's real
webhook receiver) go in through both nodes; right after a batch through A is acknowledged
(before A anchors it, normally: it waits 0.5 s for more), A's supervising process is killed
with SIGKILL, and records keep going in through B. Then:

1. B leads all three locks (read from the locks themselves, as `anchor status` shows them);
   A's API processes went with their supervisor;
2. each log is anchored exactly once, in order: the `CheckpointAnchored` events chain from
   0 (each one's previous size is the one before's size: none skipped, none repeated) to
   the whole log, each root the stored tree's, and the database records exactly those;
3. every alert was delivered, and every webhook received is signed, known, and a repeat (if
   any) only under the same webhook-id with the same body.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from ledger.alerts.outbox import DELIVERED, OutboxAlert
from ledger.alerts.sender import LOCK_NAME
from ledger.chain.checkpoints import log_id
from ledger.cli import app as cli
from ledger.devnet import Devnet
from ledger.domain.log_names import ACCESS_TRAIL_LOG, CREDIT_RECORDS_LOG
from ledger.logs.models import LogCheckpoint, LogEntry
from ledger.logs.store import committed_size
from ledger.merkle.rfc9162 import MerkleTree
from ledger.records.samples import sample_records
from ledger.sdk import LedgerClient
from ledger.storage.locks import lock_holder
from tests.alerts_receiver import Receiver
from tests.conftest import free_port
from tests.integration.alerts.support import wait_for
from tests.integration.alerts.test_watches import arrears, post_loan_world, watch
from tests.integration.conftest import SHARED_CHAIN_MAX_BLOCK_AGE
from tests.integration.records.test_crash import Service, _wait_ready
from tests.integration.test_release import World, world

__all__ = ["world"]

CLI = str(Path(sys.executable).with_name("credit-ledger"))
LOGS = (CREDIT_RECORDS_LOG, ACCESS_TRAIL_LOG)
ROLES = (*LOGS, LOCK_NAME)  # the anchoring worker's lock of each log, the sender's
BATCH = 12  # records per batch, one of them an arrears record of the watched enterprise


class Node:
    """One `credit-ledger up` on the shared database and chain, with its own API port."""

    def __init__(self, name: str, world: World, devnet: Devnet, tmp_path: Path, processes: int) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        settings = world.platform.settings
        env = {
            "LEDGER_DATA_DIR": str(settings.data_dir),
            "LEDGER_DATABASE_URL": world.platform.db.url,
            "LEDGER_RPC_URL": devnet.url,
            "LEDGER_OPERATORS": json.dumps([o.address for o in world.operators]),
            "LEDGER_FINALITY": "inclusion",  # the shared test chain: durability is tested on its own
            "LEDGER_MAX_BLOCK_AGE_SECONDS": str(SHARED_CHAIN_MAX_BLOCK_AGE),
            "LEDGER_API_PORT": self.url.rsplit(":", 1)[1],
            "LEDGER_ANCHOR_MAX_ENTRIES": "30",
            "LEDGER_ANCHOR_MAX_DELAY_SECONDS": "0.5",
            "LEDGER_ANCHOR_POLL_SECONDS": "0.05",
        }
        self.env = env
        argv = [CLI, "up", "--api-processes", str(processes)]
        self.service = Service(name, argv, {**os.environ, **env}, tmp_path / f"node-{name}.log")

    @property
    def pid(self) -> int:
        assert self.service.process is not None
        return self.service.process.pid

    def ready(self) -> None:
        _wait_ready(self.url, self.service, timeout=120)

    def answers(self) -> bool:
        try:
            httpx.get(f"{self.url}/healthz", timeout=2)
        except httpx.HTTPError:
            return False
        return True


def leaders(world: World) -> dict[str, int | None]:
    """The pid leading each role (from the "host:pid" of the locks' holders)."""
    tags = {role: lock_holder(world.platform.db, role) for role in ROLES}
    return {role: None if tag is None else int(tag.rsplit(":", 1)[1]) for role, tag in tags.items()}


@pytest.mark.slow
@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_killing_the_leading_node_hands_anchoring_and_alerts_to_another_losing_nothing(
    world: World, devnet: Devnet, tmp_path: Path
) -> None:
    db = world.platform.db
    agreement = post_loan_world(world)
    watch(world, ["tax"], agreement)
    world.platform.deployment.save(world.platform.settings.manifest_path)
    checkpoints = world.platform.contracts.checkpoints
    fed = {"records": 3, "arrears": 0}  # sample records 0-2 (the watched enterprise's) are in

    def feed(node: Node) -> None:
        records = list(sample_records(BATCH - 1, start=fed["records"], prefix="FAILOVER"))
        records.append(arrears(fed["arrears"]))
        fed["records"] += BATCH - 1
        fed["arrears"] += 1
        client = LedgerClient(node.url, world.provider)
        try:
            assert len(client.submit_records(records)["receipts"]) == BATCH
        finally:
            client.http.close()

    def on_chain(log: str) -> int:
        return checkpoints.latest(log_id(log)).size

    def stored(log: str) -> int:
        with db.session() as session:
            return committed_size(session, log)

    with Receiver() as receiver:
        receiver.configure("bank", mode="ok")
        secret = world.sdk(world.bank).request("POST", "/alerts/endpoints", {"url": receiver.url("bank")})
        # each webhook answered after 0.2 s: an alert is likelier to be in flight at the kill
        receiver.configure("bank", mode="slow:0.2", secrets=[secret["secret"]])
        a = Node("a", world, devnet, tmp_path, processes=2)
        b = Node("b", world, devnet, tmp_path, processes=1)
        try:
            a.service.start()  # leads once it is bootstrapped, while its API processes start
            wait_for(lambda: set(leaders(world).values()) == {a.pid}, timeout=120)
            b.service.start()
            a.ready()
            b.ready()
            assert set(leaders(world).values()) == {a.pid}  # B stands by

            # -- both nodes take records; A anchors and delivers ----------------------------
            feed(a)
            feed(b)
            wait_for(lambda: on_chain(CREDIT_RECORDS_LOG) > 0 and len(receiver.received("bank")) >= 1, 30)
            feed(a)  # acknowledged; A anchors it after 0.5 s (LEDGER_ANCHOR_MAX_DELAY_SECONDS)
            pending = stored(CREDIT_RECORDS_LOG) - on_chain(CREDIT_RECORDS_LOG)
            undelivered = fed["arrears"] - delivered(world)
            a.service.kill()  # the leader dies mid-way
            killed = time.monotonic()
            anchored_at_kill = on_chain(CREDIT_RECORDS_LOG)
            took_over = take_over(world, b.pid, killed)

            # -- records keep coming, through B, which anchors and delivers them ------------
            for _ in range(3):
                feed(b)
            wait_for(lambda: delivered(world) == fed["arrears"], timeout=30)  # no trail entry after
            wait_for(lambda: all(on_chain(log) == stored(log) for log in LOGS), timeout=30)
            caught_up = time.monotonic() - killed
            assert on_chain(CREDIT_RECORDS_LOG) > anchored_at_kill
            wait_for(lambda: not a.answers(), timeout=15)  # A's API processes went with it

            # the leader is visible where operators look
            status = CliRunner().invoke(cli, ["anchor", "status"], env=b.env)
            assert status.exit_code == 0, status.output
            assert status.output.count(f":{b.pid}\n") == len(LOGS), status.output
            alerts = CliRunner().invoke(cli, ["alerts", "status"], env=b.env)
            assert alerts.exit_code == 0 and f":{b.pid}\n" in alerts.output, alerts.output
        finally:
            b.service.stop()
            a.service.stop()
        got = receiver.received("bank")

    # -- 2. each log anchored exactly once, in order, and recorded as anchored -------------------
    for log in LOGS:
        with db.session() as session:
            leaves = session.scalars(
                select(LogEntry.leaf_hash).where(LogEntry.log_name == log).order_by(LogEntry.seq)
            )
            tree = MerkleTree(bytes(h) for h in leaves)
            recorded = session.execute(
                select(LogCheckpoint.size, LogCheckpoint.root, LogCheckpoint.transaction_hash)
                .where(LogCheckpoint.log_name == log)
                .order_by(LogCheckpoint.size)
            ).all()
        events = checkpoints.history(log_id(log), from_block=world.platform.deployment.block)
        assert [e.previous_size for e in events] == [0] + [e.size for e in events[:-1]], log
        assert all(e.previous_size < e.size for e in events) and events[-1].size == tree.size, log
        assert all(e.root == tree.root(e.size) for e in events), log
        assert [(r.size, bytes(r.root), bytes(r.transaction_hash)) for r in recorded] == [
            (e.size, e.root, e.transaction_hash) for e in events
        ], log

    # -- 3. every alert delivered; what arrived is signed, known, repeated only as itself ---------
    with db.session() as session:
        ids = set(session.scalars(select(OutboxAlert.id)))
    assert len(ids) == fed["arrears"]
    bodies: dict[str, set[str]] = defaultdict(set)
    for message in got:
        assert message["verified"], message
        bodies[message["webhook_id"]].add(message["body"])
    assert set(bodies) == ids
    assert all(len(b) == 1 for b in bodies.values())
    print(
        "\nleader fail-over: B held "
        + ", ".join(f"{role} {seconds:.2f} s" for role, seconds in took_over.items())
        + f" after A's SIGKILL ({pending} records not yet anchored, {undelivered} alerts not yet "
        f"delivered then); all {len(ids)} alerts delivered ({len(got) - len(ids)} repeated) and every "
        f"log anchored whole {caught_up:.2f} s after it"
    )


def take_over(world: World, pid: int, since: float, timeout: float = 30) -> dict[str, float]:
    """Seconds from `since` until process `pid` held each role's lock (polled every 20 ms)."""
    took: dict[str, float] = {}
    while len(took) < len(ROLES):
        assert time.monotonic() - since < timeout, f"not taken over in {timeout} s: {took}"
        for role, leader in leaders(world).items():
            if leader == pid:
                took.setdefault(role, time.monotonic() - since)
        time.sleep(0.02)
    return took


def delivered(world: World) -> int:
    with world.platform.db.session() as session:
        return len(session.scalars(select(OutboxAlert.id).where(OutboxAlert.state == DELIVERED)).all())

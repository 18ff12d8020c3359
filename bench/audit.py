"""Speed of the independent audit on a trail of 100,000 releases and 100,000 records.

Starts a throw-away anvil, deploys the real contracts and builds a small real state:
4 banks with countersigned agreements, 20 enterprises, catalogue v1, grants; then a
revocation and a narrower grant, then the suspension of a bank, with blocks mined in
between. Each release of the synthetic trail picks a block, and a request the contract
allows at that block (asked once per state epoch with `authorize_many`), and carries
a real EIP-712 signature by the bank's key (signed with libsecp256k1 over the request
digest; a sample is checked against eth-account's generic encoder). Records are
synthetic credit-record leaves with their stored versions (1,000 with openings). Both
logs are anchored on chain every 20,000 entries (a fifth of a smaller log) with
consistency proofs. The export (with the catalogue document) is written to a file and
verified with `credit-ledger audit verify`'s own code path (`read_export` +
`Verifier.production`), including the on-chain confirmation of a sample.

    .venv/bin/python bench/audit.py [--releases 100000] [--records 100000] [--workers 2]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import resource
import socket
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import coincurve
import rfc8785
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from ledger.audit.export import (
    CatalogueDocument,
    ExportHeader,
    Opening,
    StoredVersion,
    catalogue_line,
    entry_line,
    header_line,
    read_export,
    record_line,
)
from ledger.audit.leaves import SignedRequest
from ledger.audit.request_sig import RequestDomain, request_digest
from ledger.audit.verifier import Verifier, VerifyOptions
from ledger.chain.agreements import AgreementsContract, AgreementTerms, CommitmentKind
from ledger.chain.authorize_call import AuthorizeCaller
from ledger.chain.catalogue_registry import CatalogueRegistryContract, CatalogueVersion
from ledger.chain.checkpoints import CheckpointsContract, log_id
from ledger.chain.client import ChainClient
from ledger.chain.compile import compile_contracts
from ledger.chain.consents import AuthorizationQuery, ConsentsContract, GrantTerms
from ledger.chain.deploy import Deployment, Governance, deploy_all
from ledger.chain.eip712 import recover_typed_data
from ledger.chain.membership import Action, InstitutionKind, MembershipContract, Role, name_hash, uscc_hash
from ledger.devnet import Devnet, devnet_key
from ledger.domain.catalogue import default_catalogue
from ledger.domain.log_names import ACCESS_TRAIL_LOG, CREDIT_RECORDS_LOG
from ledger.logs.leaves import encode_leaf
from ledger.merkle.rfc9162 import MerkleTree, hash_leaf
from ledger.records.samples import sample_uscc
from ledger.release.request import DataRequestMessage, request_domain

BANKS, ENTERPRISES = 4, 20
CHECKPOINT_EVERY = 20_000
BLOCKS_PER_EPOCH = 60
DAY = 86_400


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class World:
    client: ChainClient
    deployment: Deployment
    banks: list[LocalAccount]
    usccs: list[str]
    agreements: list[int]
    epochs: list[tuple[int, int]]  # [first block, last block] of each state epoch


def _admit(m: MembershipContract, ops: list[LocalAccount], account: str, role: Role, **kw: Any) -> None:
    outcome = m.propose(m.sign_propose(ops[0], Action.ADMIT, account=account, role=role, **kw))
    m.approve(m.sign_approve(ops[1], outcome.proposal_id))


def _mine(client: ChainClient, blocks: int) -> None:
    for _ in range(blocks):
        client.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


def build_world(client: ChainClient) -> World:
    ops = [Account.from_key(devnet_key(i)) for i in (1, 2, 3)]  # DEVNET ONLY keys
    governance = Governance([o.address for o in ops], 2, 3600, client.relayer.address)
    deployment = deploy_all(client, governance)
    a = deployment.addresses
    membership = MembershipContract(client, a.membership)
    agreements = AgreementsContract(client, a.agreements)
    consents = ConsentsContract(client, a.consents)
    registry = CatalogueRegistryContract(client, a.catalogue_registry)
    catalogue = default_catalogue()
    registry.publish(
        registry.sign_publish(
            ops[0], CatalogueVersion(catalogue.version, catalogue.content_hash(), catalogue.public_mask())
        )
    )
    banks = [Account.from_key(keccak(text=f"bench bank {i}")) for i in range(BANKS)]
    enterprises = [Account.from_key(keccak(text=f"bench enterprise {i}")) for i in range(ENTERPRISES)]
    usccs = [sample_uscc(i) for i in range(ENTERPRISES)]
    for i, bank in enumerate(banks):
        _admit(
            membership,
            ops,
            bank.address,
            Role.INSTITUTION,
            kind=InstitutionKind.BANK,
            name_hash=name_hash(f"b{i}"),
        )
    for account, uscc in zip(enterprises, usccs, strict=True):
        membership.register_enterprise(
            membership.sign_register_enterprise(ops[0], account.address, uscc, uscc)
        )
    now = int(client.w3.eth.get_block("latest")["timestamp"])
    c, p = catalogue.category_mask, catalogue.purpose_mask
    scope = c(["tax", "social_insurance", "registration", "administrative_penalty", "utilities"])
    purposes = p(["credit_assessment", "post_loan_monitoring"])
    agreement_ids = []
    for bank in banks:
        commitment = agreements.commit(
            agreements.sign_commit(bank, CommitmentKind.INSTITUTION_USAGE, bytes(32))
        )
        terms = AgreementTerms(
            scope, purposes, 4, now - 60, now + 365 * DAY, keccak(text="agreement"), commitment
        )
        agreement_id = agreements.propose(agreements.sign_propose(bank, terms))
        agreements.countersign(agreements.sign_countersign(ops[0], agreement_id))
        agreement_ids.append(agreement_id)
    rng = random.Random(7)
    grants: dict[tuple[int, int], int] = {}
    for e, enterprise in enumerate(enterprises):
        for b in rng.sample(range(BANKS), 3):
            categories = c(["tax", "social_insurance", "utilities"])
            raw = c(["tax"]) if rng.random() < 0.5 else 0
            grant = GrantTerms(
                uscc_hash(usccs[e]), banks[b].address, 0, categories, purposes, raw, now + 300 * DAY
            )
            grants[(e, b)] = consents.grant(consents.sign_grant(enterprise, grant))
    epochs = []
    start = client.block_number() + 1
    _mine(client, BLOCKS_PER_EPOCH)
    epochs.append((start, client.block_number()))
    # epoch 2: an enterprise revokes and grants anew, narrower
    (e, b), grant_id = next(iter(grants.items()))
    consents.revoke(consents.sign_revoke(enterprises[e], grant_id))
    narrower = GrantTerms(uscc_hash(usccs[e]), banks[b].address, 0, c(["tax"]), purposes, 0, now + 300 * DAY)
    consents.grant(consents.sign_grant(enterprises[e], narrower))
    start = client.block_number() + 1
    _mine(client, BLOCKS_PER_EPOCH)
    epochs.append((start, client.block_number()))
    # epoch 3: the last bank is suspended
    outcome = membership.propose(membership.sign_propose(ops[0], Action.SUSPEND, account=banks[-1].address))
    membership.approve(membership.sign_approve(ops[1], outcome.proposal_id))
    start = client.block_number() + 1
    _mine(client, BLOCKS_PER_EPOCH)
    epochs.append((start, client.block_number()))
    return World(client, deployment, banks, usccs, agreement_ids, epochs)


@dataclass(frozen=True)
class Allowed:
    bank: int
    enterprise: int
    categories: int
    purpose: int
    raw: bool
    level: int
    grant_id: int
    raw_categories: int


def allowed_requests(world: World) -> list[list[Allowed]]:
    """Per epoch, the requests the contract allows there (asked once per epoch)."""
    catalogue = default_catalogue()
    c, p = catalogue.category_mask, catalogue.purpose_mask
    shapes = [
        (c(["tax"]), False),
        (c(["tax"]), True),
        (c(["tax", "social_insurance"]), False),
        (c(["registration", "administrative_penalty"]), False),
        (c(["utilities", "registration"]), True),
    ]
    purposes = [p(["credit_assessment"]), p(["post_loan_monitoring"])]
    candidates = []
    for b in range(BANKS):
        for e in range(ENTERPRISES):
            for categories, raw in shapes:
                for purpose in purposes:
                    level = catalogue.max_level(catalogue.categories_in_mask(categories), raw)
                    candidates.append((b, e, categories, purpose, raw, level))
    caller = AuthorizeCaller(world.client.rpc_url, world.deployment.addresses.consents, timeout=30)
    out = []
    for first, _last in world.epochs:
        allowed: list[Allowed] = []
        for i in range(0, len(candidates), 200):
            chunk = candidates[i : i + 200]
            queries = [
                AuthorizationQuery(
                    world.banks[b].address, uscc_hash(world.usccs[e]), cats, purpose, world.agreements[b], lvl
                )
                for b, e, cats, purpose, _raw, lvl in chunk
            ]
            for (b, e, cats, purpose, raw, lvl), d in zip(
                chunk, caller.authorize_many(queries, first), strict=True
            ):
                if d.allowed:
                    allowed.append(
                        Allowed(b, e, cats, purpose, raw, lvl, d.grant_id, d.raw_categories if raw else 0)
                    )
        out.append(allowed)
    caller.close()
    return out


def _sign(key: coincurve.PrivateKey, digest: bytes) -> bytes:
    sig = key.sign_recoverable(digest, hasher=None)
    return sig[:64] + bytes((sig[64] + 27,))


def access_leaves(world: World, count: int, rng: random.Random) -> list[bytes]:
    allowed = allowed_requests(world)
    deployment = world.deployment
    domain = RequestDomain(deployment.chain_id, deployment.addresses.consents)
    separator = domain.separator
    keys = [coincurve.PrivateKey(bytes(b.key)) for b in world.banks]
    timestamps = {
        n: int(world.client.w3.eth.get_block(n)["timestamp"])
        for first, last in world.epochs
        for n in range(first, last + 1)
    }
    leaves = []
    checked = []
    for seq in range(count):
        epoch = rng.randrange(len(world.epochs))
        block = rng.randint(*world.epochs[epoch])
        a = rng.choice(allowed[epoch])
        bank = world.banks[a.bank]
        nonce = rng.randbytes(32)
        deadline = timestamps[block] + 120
        request = SignedRequest(
            bank.address,
            world.usccs[a.enterprise],
            a.categories,
            a.purpose,
            world.agreements[a.bank],
            a.raw,
            nonce,
            deadline,
            b"",
        )
        signature = _sign(keys[a.bank], request_digest(separator, request))
        if seq % 20_000 == 0:
            checked.append((bank.address, request, signature))
        payload = {
            "institution": bank.address,
            "subject": request.subject,
            "categories": str(a.categories),
            "purpose": str(a.purpose),
            "agreement_id": request.agreement_id,
            "grant_id": a.grant_id,
            "raw_categories": str(a.raw_categories),
            "level": a.level,
            "block": block,
            "response_hash": "0x" + rng.randbytes(32).hex(),
            "released_at": datetime.fromtimestamp(timestamps[block], UTC).isoformat(),
            "record_count": rng.randint(0, 12),
            "request": {
                "institution": bank.address,
                "subject": request.subject,
                "categories": str(a.categories),
                "purpose": str(a.purpose),
                "agreement_id": request.agreement_id,
                "raw": a.raw,
                "nonce": "0x" + nonce.hex(),
                "deadline": deadline,
                "signature": "0x" + signature.hex(),
            },
        }
        leaves.append(encode_leaf("access", seq, payload))
    # the fast signer agrees with eth-account's generic EIP-712 encoder
    eth_domain = request_domain(deployment.chain_id, deployment.addresses.consents)
    for address, r, signature in checked:
        message = DataRequestMessage(
            r.institution, r.subject, r.categories, r.purpose, r.agreement_id, r.raw, r.nonce, r.deadline
        )
        signer = recover_typed_data(
            eth_domain, message.types(), message.PRIMARY_TYPE, message.message(), signature
        )
        assert signer == address, "bench signing disagrees with eth-account"
    return leaves


def record_leaves(count: int, rng: random.Random, openings: int) -> tuple[list[bytes], list[StoredVersion]]:
    leaves, versions = [], []
    for seq in range(count):
        record_id = str(uuid.UUID(bytes=rng.randbytes(16), version=4))
        salt = rng.randbytes(32)
        document: dict[str, Any] = {
            "category": "tax",
            "subject": sample_uscc(seq % 500),
            "event_date": "2024-05-01",
            "severity": None,
            "source_ref": f"BENCH-{seq:08d}",
            "fields": {"tax_year": 2023, "credit_grade": "A", "annual_tax_paid": seq * 100},
            "record_id": record_id,
            "version": 1,
            "provider": "0x" + "11" * 20,
            "catalogue_version": 1,
        }
        commitment = hashlib.sha256(salt + rfc8785.dumps(document)).digest()
        leaf = encode_leaf(
            "credit-record",
            seq,
            {"record_id": record_id, "version": 1, "commitment": "0x" + commitment.hex()},
        )
        leaves.append(leaf)
        opening = Opening(salt, document) if seq < openings else None
        versions.append(StoredVersion(record_id, 1, seq, commitment, hash_leaf(leaf), opening))
    return leaves, versions


def anchor(client: ChainClient, deployment: Deployment, log: bytes, leaves: list[bytes]) -> int:
    checkpoints = CheckpointsContract(client, deployment.addresses.checkpoints)
    tree = MerkleTree(hash_leaf(leaf) for leaf in leaves)
    size, count = 0, 0
    every = min(CHECKPOINT_EVERY, max(1, len(leaves) // 5))
    for new_size in range(every, len(leaves) + 1, every):
        checkpoints.submit(log, new_size, tree.root(new_size), tree.consistency_proof(size, new_size))
        size, count = new_size, count + 1
    return count


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children: a figure the machine's load does not inflate."""
    own = time.process_time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--releases", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1))
    parser.add_argument("--sample", type=int, default=256)
    args = parser.parse_args()
    compile_contracts()
    with tempfile.TemporaryDirectory() as tmp:
        node = Devnet(Path(tmp) / "devnet", port=_free_port())
        node.start()
        try:
            run(node.url, Path(tmp), args)
        finally:
            node.stop()


def run(url: str, tmp: Path, args: argparse.Namespace) -> None:
    client = ChainClient.connect(url, devnet_key(0))
    started = time.perf_counter()
    world = build_world(client)
    rng = random.Random(2025)
    access = access_leaves(world, args.releases, rng)
    records, versions = record_leaves(args.records, rng, openings=1_000)
    anchors = anchor(client, world.deployment, log_id(ACCESS_TRAIL_LOG), access)
    anchors += anchor(client, world.deployment, log_id(CREDIT_RECORDS_LOG), records)
    export = tmp / "export.ndjson"
    header = ExportHeader(
        world.deployment.chain_id, world.deployment.addresses.by_name(), world.deployment.block,
        datetime.now(UTC).isoformat(timespec="seconds"),
        {ACCESS_TRAIL_LOG: len(access), CREDIT_RECORDS_LOG: len(records)}, True, True,
    )  # fmt: skip
    with export.open("w", encoding="utf-8") as out:
        out.write(header_line(header) + "\n")
        for seq, leaf in enumerate(access):
            out.write(entry_line("access-trail", seq, leaf) + "\n")
        for seq, leaf in enumerate(records):
            out.write(entry_line("credit-records", seq, leaf) + "\n")
        for version in versions:
            out.write(record_line(version) + "\n")
        catalogue = default_catalogue()
        out.write(
            catalogue_line(CatalogueDocument(catalogue.version, catalogue.model_dump(mode="json"))) + "\n"
        )
    built = time.perf_counter() - started
    blocks = sum(last - first + 1 for first, last in world.epochs)
    size_mb = export.stat().st_size / 1e6
    print(
        f"built in {built:.0f} s: {len(access):,} releases over {blocks} blocks, {len(records):,} records "
        f"(1,000 opened), {anchors} checkpoints; export {size_mb:.0f} MB"
    )

    cpu_started = _cpu_seconds()
    started = time.perf_counter()
    data = read_export(export)
    read_seconds = time.perf_counter() - started
    verifier = Verifier.production(
        url, world.deployment, options=VerifyOptions(onchain_sample=args.sample, workers=args.workers)
    )
    started = time.perf_counter()
    report = verifier.verify(data)
    verify_seconds = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu_started
    d = report.to_json()
    s, perf = d["performance"]["seconds"], d["performance"]
    entries, releases = perf["entries"], perf["releases"]
    assert report.clean, [str(f) for f in report.findings[:5]]
    rows = [
        ("read + parse export", read_seconds, entries),
        ("chain snapshot (events, checkpoints)", s.get("chain", 0.0), None),
        ("record log: decode leaves (canonical JSON, seq, type)", s["leaves"], len(records)),
        ("record versions and openings", s["records"], len(versions)),
        ("releases: decode, parse, EIP-712 signer (wait)", s["examine"], releases),
        ("Merkle: leaf hashes, roots at checkpoints, proofs", s["merkle"], entries),
        ("authorization replay from events (+ level)", s["replay"], releases),
        (
            f"on-chain confirmation (eth_call, {d['replay']['checked_both_ways']} entries)",
            s.get("onchain", 0.0),
            None,
        ),
        ("whole verification (verify())", verify_seconds, entries),
        ("whole audit incl. reading the export", read_seconds + verify_seconds, entries),
    ]
    load = os.getloadavg()[0]
    print(
        f"\nworkers={args.workers}, verdict {d['verdict']}, findings {len(report.findings)}; "
        f"{os.cpu_count()} cores, load average {load:.1f} at the end; CPU time of the audit "
        f"(this process and its workers) {cpu:.1f} s"
    )
    print(f"{'phase':<52} {'seconds':>8} {'items':>9} {'items/s':>10}")
    for name, seconds, items in rows:
        rate = f"{items / seconds:>10,.0f}" if items and seconds > 0 else f"{'':>10}"
        shown = f"{items:>9,}" if items else f"{'':>9}"
        print(f"{name:<52} {seconds:>8.2f} {shown} {rate}")
    print(
        f"\nMerkle checks: {entries / s['merkle']:,.0f} entries/s (hashing, roots at every checkpoint, "
        f"consistency proofs); authorization replay: {releases / s['replay']:,.0f} releases/s; "
        f"releases examined (decode, parse, signer): {releases / s['examine']:,.0f}/s of waiting"
    )


if __name__ == "__main__":
    main()

"""A small, clean world to audit without a chain: signed releases, records, checkpoints, events.

One bank with an active agreement and the enterprise's grant (raw for tax), two record
versions anchored in the credit-record log, three releases in the access trail (the first
two anchored, the third not yet), a refusal and the catalogue in force. `export()` is what
the platform would hand the auditor; `snapshot()` what the chain holds; `FakeChain` and
`FakeContract` stand in for the node.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import rfc8785
from eth_account import Account
from eth_utils import keccak

from ledger.audit.catalogue import content_hash, release_level
from ledger.audit.chain import ChainSnapshot, CheckpointRecord
from ledger.audit.events import ChainEvent
from ledger.audit.export import (
    AuditExport,
    CatalogueDocument,
    ExportedEntry,
    ExportHeader,
    Opening,
    Refusal,
    StoredVersion,
)
from ledger.chain.consents import AuthorizationQuery, Decision, Reason
from ledger.chain.deploy import ContractAddresses, Deployment
from ledger.chain.eip712 import sign_typed_data
from ledger.domain.catalogue import default_catalogue
from ledger.logs.leaves import encode_leaf
from ledger.merkle.rfc9162 import MerkleTree, hash_leaf
from ledger.release.request import DataRequestMessage, request_domain

BANK = Account.from_key(b"\x11" * 32)
SUBJECT = "91410100100000008U"
TAX = 1 << 6
PURPOSE = 1
GRANT = 5
B = 20
BLOCK_TIME = 1_000
DOCUMENT: dict[str, Any] = default_catalogue().model_dump(mode="json")
LEVEL = release_level(DOCUMENT, TAX, False) or 0
RAW_LEVEL = release_level(DOCUMENT, TAX, True) or 0
ADDRESSES = {
    "Membership": "0x" + "1A" * 20,
    "Agreements": "0x" + "2B" * 20,
    "CatalogueRegistry": "0x" + "3C" * 20,
    "Consents": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    "Checkpoints": "0x" + "5E" * 20,
    "ModelRegistry": "0x" + "6F" * 20,
    "Publications": "0x" + "7A" * 20,
}
DEPLOYMENT = Deployment(31337, 1, ContractAddresses.from_names(ADDRESSES), {})
HEAD = 100


def event(block: int, name: str, **args: object) -> ChainEvent:
    return ChainEvent("", name, block, 0, b"", args)


EVENTS = (
    event(5, "MemberAdmitted", account=BANK.address.lower(), role=3),
    event(5, "EnterpriseRegistered", account="0x" + "ef" * 20, usccHash=keccak(SUBJECT.encode())),
    event(5, "CataloguePublished", publicCategories=0, contentHash=content_hash(DOCUMENT)),
    event(
        6,
        "AgreementProposed",
        id=1,
        institution=BANK.address.lower(),
        maxLevel=5,
        validFrom=0,
        validUntil=10**10,
        commitmentId=1,
        categories=TAX,
        purposes=PURPOSE,
    ),
    event(6, "AgreementCountersigned", id=1),
    event(
        7,
        "ConsentGranted",
        grantId=GRANT,
        agreementId=0,
        categories=TAX,
        purposes=PURPOSE,
        rawCategories=TAX,
        expiresAt=10**10,
        usccHash=keccak(SUBJECT.encode()),
        institution=BANK.address.lower(),
    ),
)


def access_payload(index: int, *, raw: bool = False, **changes: Any) -> dict[str, Any]:
    """A release at block B of tax data, its request signed by the bank."""
    message = DataRequestMessage(BANK.address, SUBJECT, TAX, PURPOSE, 1, raw, bytes([index + 1]) * 32, 2_000)
    domain = request_domain(DEPLOYMENT.chain_id, ADDRESSES["Consents"])
    signature = sign_typed_data(BANK.key, domain, message.types(), "DataRequest", message.message())
    payload = {
        "institution": BANK.address,
        "subject": SUBJECT,
        "categories": str(TAX),
        "purpose": str(PURPOSE),
        "agreement_id": 1,
        "grant_id": GRANT,
        "raw_categories": str(TAX if raw else 0),
        "level": RAW_LEVEL if raw else LEVEL,
        "block": B,
        "response_hash": "0x" + hashlib.sha256(b"%d" % index).hexdigest(),
        "released_at": datetime.fromtimestamp(BLOCK_TIME + 5, UTC).isoformat(),
        "record_count": 1,
        "request": {
            "institution": BANK.address,
            "subject": SUBJECT,
            "categories": str(TAX),
            "purpose": str(PURPOSE),
            "agreement_id": 1,
            "raw": raw,
            "nonce": "0x" + message.nonce.hex(),
            "deadline": message.deadline,
            "signature": "0x" + signature.hex(),
        },
    }
    payload.update(changes)
    return payload


def access_leaves() -> list[bytes]:
    return [encode_leaf("access", i, access_payload(i, raw=i == 1)) for i in range(3)]


def record_document(i: int) -> dict[str, Any]:
    return {"record_id": f"r-{i}", "version": 1, "amount": 10 * i}


def record_salt(i: int) -> bytes:
    return bytes([i + 1]) * 32


def record_commitment(i: int) -> bytes:
    return hashlib.sha256(record_salt(i) + rfc8785.dumps(record_document(i))).digest()


def record_leaves() -> list[bytes]:
    return [
        encode_leaf(
            "credit-record",
            i,
            {"record_id": f"r-{i}", "version": 1, "commitment": "0x" + record_commitment(i).hex()},
        )
        for i in range(2)
    ]


def export(
    *,
    access: Sequence[bytes] | None = None,
    records: Sequence[bytes] | None = None,
    header: ExportHeader | None = None,
) -> AuditExport:
    access = access_leaves() if access is None else access
    records = record_leaves() if records is None else records
    out = AuditExport(
        header=header
        if header is not None
        else ExportHeader(
            31337,
            {k: v.lower() for k, v in ADDRESSES.items()},
            1,
            "2025-01-01T00:00:00+00:00",
            {"access-trail": len(access), "credit-records": len(records)},
            True,
            True,
        ),
        records=[
            StoredVersion(
                f"r-{i}",
                1,
                i,
                record_commitment(i),
                hash_leaf(leaf),
                Opening(record_salt(i), record_document(i)),
            )
            for i, leaf in enumerate(records)
        ],
        refusals=[
            Refusal("2025-01-01T00:00:00+00:00", BANK.address, "release", "refused", "NO_COVERING_GRANT")
        ],
        catalogues=[CatalogueDocument(1, DOCUMENT)],
    )
    for log, leaves in (("access-trail", access), ("credit-records", records)):
        for i, leaf in enumerate(leaves):
            out.add_entry(ExportedEntry(log, i, leaf))
    return out


def _checkpoints(leaves: Sequence[bytes], sizes: Sequence[int]) -> tuple[CheckpointRecord, ...]:
    tree = MerkleTree(hash_leaf(leaf) for leaf in leaves)
    out, previous = [], 0
    for n, size in enumerate(sizes):
        out.append(
            CheckpointRecord(previous, size, tree.root(size), "0x" + "00" * 20, 30 + n, bytes([n]) * 32, 0)
        )
        previous = size
    return tuple(out)


def snapshot(*, timestamps: Mapping[int, int] | None = None, **changes: Any) -> ChainSnapshot:
    """The chain: the access trail anchored at 2 of its 3 entries, the record log at 2."""
    access, records = access_leaves(), record_leaves()
    checkpoints = {"access-trail": _checkpoints(access, [1, 2]), "credit-records": _checkpoints(records, [2])}
    snap = ChainSnapshot(
        chain_id=31337,
        head=HEAD,
        deployment_block=1,
        addresses=dict(ADDRESSES),
        missing_code=(),
        checkpoints=checkpoints,
        latest={name: (c[-1].size, c[-1].root) for name, c in checkpoints.items()},
        events=EVENTS,
        timestamps=dict(timestamps) if timestamps is not None else {B: BLOCK_TIME},
    )
    return dataclasses.replace(snap, **changes)


class _NoModels:
    """The node's JSON-RPC for step 6: this world holds no evaluation, so no model is read."""

    def call(self, method: str, params: Sequence[Any]) -> Any:
        raise AssertionError(f"no model read expected, asked {method} {params}")


class FakeChain:
    """The `ChainReader` the verifier uses: a snapshot without timestamps, then the ones asked."""

    def __init__(self, snap: ChainSnapshot | None = None) -> None:
        self.snap = snap or snapshot(timestamps={})
        self.logs_asked: list[list[str]] = []
        self.blocks_asked: list[list[int]] = []
        self.rpc = _NoModels()

    def snapshot(self, *, logs: Sequence[str]) -> ChainSnapshot:
        self.logs_asked.append(list(logs))
        return self.snap

    def timestamps(self, blocks: Sequence[int]) -> dict[int, int]:
        self.blocks_asked.append(list(blocks))
        return {b: BLOCK_TIME for b in blocks}


class FakeContract:
    """`authorize_many` answering as the events say (allowed with the grant), or refusing."""

    def __init__(self, *, refuse: bool = False) -> None:
        self.refuse = refuse
        self.asked: list[tuple[int, list[AuthorizationQuery]]] = []

    def authorize_many(
        self, queries: Sequence[AuthorizationQuery], block_identifier: int | str = "latest"
    ) -> list[Decision]:
        assert isinstance(block_identifier, int)
        self.asked.append((block_identifier, list(queries)))
        if self.refuse:
            return [Decision(False, Reason.NO_COVERING_GRANT, 0, 0, block_identifier, 0) for _ in queries]
        return [Decision(True, Reason.ALLOWED, GRANT, TAX, block_identifier, 0) for _ in queries]

"""Tamperings of an audit export, each with the finding it must produce.

Each function takes the clean export (never modified), a random generator and the
context of the trail, and returns a tampered copy and what the verifier must report:
the step, the log and (when the damage has one place) the entry index.

Which step is "right" depends on where the damage is. An anchored entry is covered by
the chain: any change to it breaks the root anchored over it (3.3), whatever else also
fails. An entry past the latest checkpoint is covered only by what its own content
proves — the institution's signature, nonce, block and the authorization replay — so
tamperings of the unanchored tail only change what those steps can see (a tail entry's
unsigned fields, such as its response hash, are protected by nothing until anchored,
which the report states).
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import rfc8785
from eth_account.signers.local import LocalAccount

from ledger.audit.export import AuditExport, ExportedEntry, Opening, StoredVersion
from ledger.audit.findings import Step
from ledger.release.request import request_domain, request_to_json, sign_data_request

ACCESS = "access-trail"
RECORDS = "credit-records"
_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@dataclass(frozen=True)
class Expect:
    step: Step
    log: str | None
    index: int | None


@dataclass
class Context:
    """What a tamperer knows: sizes anchored, keys of the trail's members, the chain."""

    anchored: dict[str, int]
    banks: list[LocalAccount]
    stranger: LocalAccount
    usccs: list[str]
    agreements: list[int]
    chain_id: int
    consents: str
    head: int
    suspended_bank_block: int  # a block at which banks[1] is suspended


Tamper = Callable[[AuditExport, random.Random, Context], tuple[AuditExport, Expect]]


def consistent_header(export: AuditExport) -> AuditExport:
    """The export with its header's entry counts matching what it serves.

    The platform writes the export, so a tampering platform would fix the header too;
    the drills do the same, so only the checks that matter can catch them.
    """
    if export.header is not None:
        sizes = {log: len({e.seq for e in entries}) for log, entries in export.entries.items()}
        export.header = replace(export.header, logs=sizes)
    return export


def _copy(export: AuditExport) -> AuditExport:
    return AuditExport(
        header=export.header,
        entries={k: list(v) for k, v in export.entries.items()},
        records=list(export.records),
        refusals=list(export.refusals),
        catalogues=list(export.catalogues),
    )


def _entries(export: AuditExport, log: str) -> list[ExportedEntry]:
    return sorted(export.entries[log], key=lambda e: e.seq)


def _leaf(entry: ExportedEntry) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(entry.leaf)
    return value


def _encode(value: dict[str, Any]) -> bytes:
    return bytes(rfc8785.dumps(value))


def _put(export: AuditExport, log: str, seq: int, leaf: bytes) -> None:
    export.entries[log] = [ExportedEntry(log, seq, leaf) if e.seq == seq else e for e in export.entries[log]]


def _anchored_index(rng: random.Random, ctx: Context, log: str) -> int:
    return rng.randrange(ctx.anchored[log])


def _tail_index(rng: random.Random, export: AuditExport, ctx: Context, log: str) -> int:
    return rng.randrange(ctx.anchored[log], len(export.entries[log]))


# -- changes to an anchored entry: the anchored root breaks ----------------------------------

_FIELDS: dict[str, Callable[[Any, random.Random], Any]] = {
    "categories": lambda v, r: str(int(v) ^ (1 << r.randrange(18))),
    "purpose": lambda v, r: str(int(v) ^ 2),
    "agreement_id": lambda v, r: v + 1,
    "grant_id": lambda v, r: v + r.randint(1, 3),
    "raw_categories": lambda v, r: str(int(v) ^ 64),
    "level": lambda v, r: v % 5 + 1,
    "block": lambda v, r: v - r.randint(1, 5),
    "record_count": lambda v, r: v + 1,
    "released_at": lambda v, r: v.replace("T", " "),
    "response_hash": lambda v, r: "0x" + bytes(r.randrange(256) for _ in range(32)).hex(),
    "subject": lambda v, r: v[:-1] + ("0" if v[-1] != "0" else "1"),
}


def edit_anchored_field(export: AuditExport, rng: random.Random, ctx: Context) -> tuple[AuditExport, Expect]:
    out = _copy(export)
    index = _anchored_index(rng, ctx, ACCESS)
    entry = _entries(out, ACCESS)[index]
    value = _leaf(entry)
    name = rng.choice(sorted(_FIELDS))
    value[name] = _FIELDS[name](value[name], rng)
    _put(out, ACCESS, index, _encode(value))
    return out, Expect(Step.ROOT, ACCESS, None)


def flip_anchored_byte(export: AuditExport, rng: random.Random, ctx: Context) -> tuple[AuditExport, Expect]:
    out = _copy(export)
    log = rng.choice([ACCESS, RECORDS])
    index = _anchored_index(rng, ctx, log)
    leaf = bytearray(_entries(out, log)[index].leaf)
    position = rng.randrange(len(leaf))
    leaf[position] ^= 1 << rng.randrange(8)
    _put(out, log, index, bytes(leaf))
    return out, Expect(Step.ROOT, log, None)


def edit_anchored_record_leaf(
    export: AuditExport, rng: random.Random, ctx: Context
) -> tuple[AuditExport, Expect]:
    out = _copy(export)
    index = _anchored_index(rng, ctx, RECORDS)
    value = _leaf(_entries(out, RECORDS)[index])
    value["commitment"] = "0x" + bytes(rng.randrange(256) for _ in range(32)).hex()
    _put(out, RECORDS, index, _encode(value))
    return out, Expect(Step.ROOT, RECORDS, None)


# -- removing, reordering, duplicating ------------------------------------------------------


def delete_entry(export: AuditExport, rng: random.Random, ctx: Context) -> tuple[AuditExport, Expect]:
    out = _copy(export)
    log = rng.choice([ACCESS, RECORDS])
    index = rng.randrange(len(out.entries[log]) - 1)  # not the last: a gap
    out.entries[log] = [e for e in out.entries[log] if e.seq != index]
    return out, Expect(Step.SEQUENCE, log, index)


def delete_and_renumber(export: AuditExport, rng: random.Random, ctx: Context) -> tuple[AuditExport, Expect]:
    out = _copy(export)
    log = rng.choice([ACCESS, RECORDS])
    index = rng.randrange(len(out.entries[log]) - 1)
    out.entries[log] = [
        e if e.seq < index else ExportedEntry(log, e.seq - 1, e.leaf)
        for e in out.entries[log]
        if e.seq != index
    ]
    return out, Expect(Step.LEAF, log, index)


def truncate(export: AuditExport, rng: random.Random, ctx: Context) -> tuple[AuditExport, Expect]:
    out = _copy(export)
    log = rng.choice([ACCESS, RECORDS])
    keep = rng.randrange(ctx.anchored[log])
    out.entries[log] = [e for e in out.entries[log] if e.seq < keep]
    return out, Expect(Step.COMPLETENESS, log, keep)


def swap_entries(export: AuditExport, rng: random.Random, ctx: Context) -> tuple[AuditExport, Expect]:
    out = _copy(export)
    log = rng.choice([ACCESS, RECORDS])
    i, j = rng.sample(range(len(out.entries[log])), 2)
    entries = _entries(out, log)
    leaf_i, leaf_j = entries[i].leaf, entries[j].leaf
    _put(out, log, i, leaf_j)
    _put(out, log, j, leaf_i)
    return out, Expect(Step.LEAF, log, min(i, j))


def duplicate_entry(export: AuditExport, rng: random.Random, ctx: Context) -> tuple[AuditExport, Expect]:
    out = _copy(export)
    log = rng.choice([ACCESS, RECORDS])
    entries = _entries(out, log)
    i, j = rng.sample(range(len(entries)), 2)
    out.entries[log].append(ExportedEntry(log, i, entries[j].leaf))
    return out, Expect(Step.SEQUENCE, log, i)


# -- the unanchored tail: only the entry's own evidence protects it --------------------------


def _sign(ctx: Context, bank: LocalAccount, **fields: Any) -> dict[str, Any]:
    """A request signed by `bank`, valid long enough for any block of the test chain."""
    domain = request_domain(ctx.chain_id, ctx.consents)
    return request_to_json(sign_data_request(bank, domain, validity_seconds=10**8, **fields))


def _tail_entry(out: AuditExport, rng: random.Random, ctx: Context) -> tuple[int, dict[str, Any]]:
    index = _tail_index(rng, out, ctx, ACCESS)
    return index, _leaf(_entries(out, ACCESS)[index])


def tail_released_other_than_asked(
    export: AuditExport, rng: random.Random, ctx: Context
) -> tuple[AuditExport, Expect]:
    out = _copy(export)
    index, value = _tail_entry(out, rng, ctx)
    name = rng.choice(["categories", "purpose", "agreement_id", "subject", "institution"])
    if name == "institution":
        value[name] = next(b.address for b in ctx.banks if b.address != value[name])
    else:
        value[name] = _FIELDS[name](value[name], rng)
    _put(out, ACCESS, index, _encode(value))
    return out, Expect(Step.REQUEST_MATCH, ACCESS, index)


def tail_edit_signed_request(
    export: AuditExport, rng: random.Random, ctx: Context
) -> tuple[AuditExport, Expect]:
    """Change what the request asked for (entry and request alike): the signature breaks."""
    out = _copy(export)
    index, value = _tail_entry(out, rng, ctx)
    request = value["request"]
    name = rng.choice(["categories", "purpose", "agreement_id", "subject", "raw", "deadline", "nonce"])
    if name == "raw":
        request["raw"] = not request["raw"]
    elif name == "deadline":
        request["deadline"] += rng.randint(1, 10_000)
    elif name == "nonce":
        request["nonce"] = "0x" + bytes(rng.randrange(256) for _ in range(32)).hex()
    else:
        value[name] = request[name] = _FIELDS[name](request[name], rng)
    _put(out, ACCESS, index, _encode(value))
    return out, Expect(Step.SIGNATURE, ACCESS, index)


def tail_bad_signature(export: AuditExport, rng: random.Random, ctx: Context) -> tuple[AuditExport, Expect]:
    out = _copy(export)
    index, value = _tail_entry(out, rng, ctx)
    signature = bytes.fromhex(value["request"]["signature"][2:])
    how = rng.choice(["flip", "malleable", "v"])
    if how == "flip":
        s = bytearray(signature)
        s[rng.randrange(64)] ^= 1 << rng.randrange(8)
        signature = bytes(s)
    elif how == "malleable":  # the twin signature: same signer, high s
        s_value = _N - int.from_bytes(signature[32:64], "big")
        signature = signature[:32] + s_value.to_bytes(32, "big") + bytes((55 - signature[64],))
    else:
        signature = signature[:64] + bytes((signature[64] - 27,))
    value["request"]["signature"] = "0x" + signature.hex()
    _put(out, ACCESS, index, _encode(value))
    return out, Expect(Step.SIGNATURE, ACCESS, index)


def tail_other_grant(export: AuditExport, rng: random.Random, ctx: Context) -> tuple[AuditExport, Expect]:
    out = _copy(export)
    index, value = _tail_entry(out, rng, ctx)
    name = rng.choice(["grant_id", "raw_categories"])
    value[name] = _FIELDS[name](value[name], rng)
    _put(out, ACCESS, index, _encode(value))
    return out, Expect(Step.AUTHORIZATION, ACCESS, index)


def tail_other_level(export: AuditExport, rng: random.Random, ctx: Context) -> tuple[AuditExport, Expect]:
    """Record another sensitivity level than the one the catalogue gives the request."""
    out = _copy(export)
    index, value = _tail_entry(out, rng, ctx)
    value["level"] = rng.choice([lv for lv in range(1, 6) if lv != value["level"]])
    _put(out, ACCESS, index, _encode(value))
    return out, Expect(Step.LEVEL, ACCESS, index)


def _forged(
    ctx: Context, out: AuditExport, template: dict[str, Any], request: dict[str, Any], **changes: Any
) -> int:
    seq = len(out.entries[ACCESS])
    value = {**template, **changes, "seq": seq, "request": request}
    for name in ("institution", "subject", "categories", "purpose", "agreement_id"):
        value[name] = request[name]
    out.entries[ACCESS].append(ExportedEntry(ACCESS, seq, _encode(value)))
    return seq


def forge_entry(export: AuditExport, rng: random.Random, ctx: Context) -> tuple[AuditExport, Expect]:
    """Append a release that never happened, in one of several disguises."""
    out = _copy(export)
    template = _leaf(_entries(out, ACCESS)[_anchored_index(rng, ctx, ACCESS)])
    kind = rng.choice(["stranger", "impersonation", "replay", "suspended", "no-grant", "future-block"])
    bank_a, bank_b = ctx.banks
    tax, social, credit = 1 << 6, 1 << 7, 1
    if kind == "stranger":  # a key that is no member, signing as itself
        request = _sign(
            ctx, ctx.stranger, subject=ctx.usccs[0], categories=tax, purpose=credit, agreement_id=1
        )
        seq = _forged(ctx, out, template, request)
        return out, Expect(Step.AUTHORIZATION, ACCESS, seq)
    if kind == "impersonation":  # signed by a stranger, claiming to be bank A
        request = _sign(
            ctx, ctx.stranger, subject=ctx.usccs[0], categories=tax, purpose=credit, agreement_id=1
        )
        request["institution"] = bank_a.address
        seq = _forged(ctx, out, template, request)
        return out, Expect(Step.SIGNATURE, ACCESS, seq)
    if kind == "replay":  # the same signed request served again
        seq = len(out.entries[ACCESS])
        value = {**template, "seq": seq}
        out.entries[ACCESS].append(ExportedEntry(ACCESS, seq, _encode(value)))
        return out, Expect(Step.NONCE, ACCESS, seq)
    if kind == "suspended":  # bank B, properly signed, after its suspension
        request = _sign(
            ctx, bank_b, subject=ctx.usccs[0], categories=tax, purpose=credit, agreement_id=ctx.agreements[1]
        )
        seq = _forged(
            ctx, out, template, request, block=ctx.suspended_bank_block, grant_id=3, raw_categories="0"
        )
        return out, Expect(Step.AUTHORIZATION, ACCESS, seq)
    if kind == "no-grant":  # bank A asks for social insurance of an enterprise that never granted it
        request = _sign(
            ctx,
            bank_a,
            subject=ctx.usccs[2],
            categories=social,
            purpose=credit,
            agreement_id=ctx.agreements[0],
        )
        seq = _forged(ctx, out, template, request, grant_id=0, raw_categories="0")
        return out, Expect(Step.AUTHORIZATION, ACCESS, seq)
    request = _sign(
        ctx, bank_a, subject=ctx.usccs[0], categories=tax, purpose=credit, agreement_id=ctx.agreements[0]
    )
    seq = _forged(ctx, out, template, request, block=ctx.head + rng.randint(1, 1000))
    return out, Expect(Step.BLOCK, ACCESS, seq)


# -- the records table ----------------------------------------------------------------------


def _version(out: AuditExport, rng: random.Random) -> int:
    return rng.randrange(len(out.records))


def edit_stored_version(export: AuditExport, rng: random.Random, ctx: Context) -> tuple[AuditExport, Expect]:
    out = _copy(export)
    i = _version(out, rng)
    v = out.records[i]
    field = rng.choice(["commitment", "leaf_hash", "record_id", "version", "log_seq"])
    if field == "commitment":
        changed = replace(v, commitment=bytes(rng.randrange(256) for _ in range(32)))
    elif field == "leaf_hash":
        changed = replace(v, leaf_hash=bytes(rng.randrange(256) for _ in range(32)))
    elif field == "record_id":
        changed = replace(v, record_id=v.record_id[:-1] + ("0" if v.record_id[-1] != "0" else "1"))
    elif field == "version":
        changed = replace(v, version=v.version + 1)
    else:
        others = [w.log_seq for w in out.records if w.log_seq != v.log_seq]
        changed = replace(v, log_seq=rng.choice(others))
        out.records[i] = changed
        return out, Expect(Step.RECORD_COMPLETENESS, RECORDS, None)
    out.records[i] = changed
    return out, Expect(Step.RECORD_VERSION, RECORDS, v.log_seq)


def delete_stored_version(
    export: AuditExport, rng: random.Random, ctx: Context
) -> tuple[AuditExport, Expect]:
    out = _copy(export)
    v = out.records.pop(_version(out, rng))
    return out, Expect(Step.RECORD_COMPLETENESS, RECORDS, v.log_seq)


def edit_opened_record(export: AuditExport, rng: random.Random, ctx: Context) -> tuple[AuditExport, Expect]:
    out = _copy(export)
    i = _version(out, rng)
    v = out.records[i]
    assert v.opening is not None
    document = copy.deepcopy(v.opening.document)
    what = rng.choice(["field", "subject", "event_date", "salt"])
    salt = v.opening.salt
    if what == "field":
        name = rng.choice(sorted(document["fields"]))
        value = document["fields"][name]
        document["fields"][name] = value + 1 if isinstance(value, int) else str(value) + "·"
    elif what == "salt":
        salt = bytes(rng.randrange(256) for _ in range(32))
    else:
        document[what] = document[what][:-1] + ("0" if document[what][-1] != "0" else "1")
    out.records[i] = StoredVersion(
        v.record_id, v.version, v.log_seq, v.commitment, v.leaf_hash, Opening(salt, document)
    )
    return out, Expect(Step.RECORD_OPENING, RECORDS, v.log_seq)


TAMPERINGS: list[Tamper] = [
    edit_anchored_field,
    flip_anchored_byte,
    edit_anchored_record_leaf,
    delete_entry,
    delete_and_renumber,
    truncate,
    swap_entries,
    duplicate_entry,
    tail_released_other_than_asked,
    tail_edit_signed_request,
    tail_bad_signature,
    tail_other_grant,
    tail_other_level,
    forge_entry,
    edit_stored_version,
    delete_stored_version,
    edit_opened_record,
]

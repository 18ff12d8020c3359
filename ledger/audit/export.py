"""The audit export: what the platform hands an auditor, one JSON object per line.

The auditor needs the logs' exact leaf bytes (to rebuild the anchored roots) and, for
the record log, what the records table says about each record version (to show that
the table still matches the log) — never the credit data itself. Format
`credit-ledger/audit-export/1`, NDJSON, lines in any order after the header:

* header (first line)::

    {"format": "credit-ledger/audit-export/1", "chain_id": 31337,
     "contracts": {"Consents": "0x…", …}, "deployment_block": 1,
     "exported_at": "2025-…Z", "logs": {"credit-records": 120, "access-trail": 40},
     "records": true, "openings": false}

  `logs` is how many entries of each log the platform held when exporting; `records`
  says that record versions are included (so that their completeness is checked);
  `openings` that the operator included record openings (see below).
* a log entry: ``{"log": "access-trail", "seq": 7, "leaf": "<base64 of the leaf bytes>"}``
  (``"leaf_hex": "0x…"`` is accepted instead of ``leaf``);
* a stored record version, as the records table holds it::

    {"record": {"record_id": "…", "version": 1, "log_seq": 12,
                "commitment": "0x<32 bytes>", "leaf_hash": "0x<32 bytes>"}}

  optionally with ``"opening": {"salt": "<base64>", "document": {…}}``: the record's
  salt and every stored value (the document the commitment covers). Only an operator
  with database access and the record keys can produce openings; they contain
  personal data and stay inside the platform.
* a refusal from the MLPS audit records: ``{"audit_event": {"at": "…", "actor": "0x…",
  "event": "…", "outcome": "refused", "detail": "…"}}``;
* a catalogue version's full document: ``{"catalogue": {"version": 1, "document": {…}}}``
  (public information; the verifier recognises it by the content hash anchored on
  chain, and uses it to recompute each release's sensitivity level).

This module is pure: it parses and writes lines. The platform's exporter
(`ledger.audit_export`) and the benchmark write through `*_line`; the verifier reads
through `parse_lines` / `read_export`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger.audit.errors import ExportFormatError

__all__ = [
    "EXPORT_FORMAT",
    "AuditExport",
    "CatalogueDocument",
    "EvaluationModelDocument",
    "Export",
    "ExportFile",
    "ExportHeader",
    "ExportedEntry",
    "Opening",
    "Refusal",
    "StoredVersion",
    "catalogue_line",
    "entry_line",
    "evaluation_model_line",
    "header_line",
    "parse_catalogue",
    "parse_entry",
    "parse_evaluation_model",
    "parse_header",
    "parse_lines",
    "parse_record",
    "parse_refusal",
    "read_export",
    "record_line",
    "refusal_line",
]

EXPORT_FORMAT = "credit-ledger/audit-export/1"


@dataclass(frozen=True)
class ExportHeader:
    chain_id: int
    contracts: dict[str, str]
    deployment_block: int
    exported_at: str
    logs: dict[str, int]
    records: bool
    openings: bool


@dataclass(slots=True)  # not frozen: a frozen __init__ costs a setattr per field, 200,000 times
class ExportedEntry:
    """One log entry as served: its claimed sequence number and exact leaf bytes."""

    log: str
    seq: int
    leaf: bytes


@dataclass(frozen=True, slots=True)
class Opening:
    """What a commitment covers: the salt and the record document (personal data)."""

    salt: bytes
    document: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """A record version as the platform's records table holds it."""

    record_id: str
    version: int
    log_seq: int
    commitment: bytes
    leaf_hash: bytes
    opening: Opening | None = None


@dataclass(frozen=True, slots=True)
class Refusal:
    at: str
    actor: str | None
    event: str
    outcome: str
    detail: str | None


@dataclass(frozen=True)
class CatalogueDocument:
    version: int
    document: dict[str, Any]


@dataclass(frozen=True)
class EvaluationModelDocument:
    """A model document and its card as the platform holds them (for recomputing evaluations)."""

    document: dict[str, Any]
    card: dict[str, Any]


@dataclass
class AuditExport:
    """An export in memory: entries per log in the order served, record versions, refusals."""

    header: ExportHeader | None = None
    entries: dict[str, list[ExportedEntry]] = field(default_factory=dict)
    records: list[StoredVersion] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    catalogues: list[CatalogueDocument] = field(default_factory=list)
    evaluation_models: list[EvaluationModelDocument] = field(default_factory=list)

    @property
    def includes_records(self) -> bool:
        return bool(self.records) or (self.header is not None and self.header.records)

    def add_entry(self, entry: ExportedEntry) -> None:
        self.entries.setdefault(entry.log, []).append(entry)

    def served_logs(self) -> set[str]:
        """The logs of which the export serves entries."""
        return set(self.entries)

    def count(self, log: str) -> int:
        """How many entries of `log` the export serves (a sequence number served twice counts twice)."""
        return len(self.entries.get(log, ()))

    def iter_entries(self, logs: Collection[str] | None = None) -> Iterator[ExportedEntry]:
        """The entries of `logs` (all when None), each log's in the order served."""
        for name, entries in self.entries.items():
            if logs is None or name in logs:
                yield from entries

    def iter_records(self) -> Iterator[StoredVersion]:
        """The stored versions, in the order served."""
        return iter(self.records)


# -- writing ------------------------------------------------------------------------------


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


def _dumps(value: Mapping[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def header_line(header: ExportHeader) -> str:
    return _dumps(
        {
            "format": EXPORT_FORMAT,
            "chain_id": header.chain_id,
            "contracts": header.contracts,
            "deployment_block": header.deployment_block,
            "exported_at": header.exported_at,
            "logs": header.logs,
            "records": header.records,
            "openings": header.openings,
        }
    )


def entry_line(log: str, seq: int, leaf: bytes) -> str:
    return _dumps({"log": log, "seq": seq, "leaf": base64.b64encode(leaf).decode("ascii")})


def record_line(version: StoredVersion) -> str:
    line: dict[str, Any] = {
        "record": {
            "record_id": version.record_id,
            "version": version.version,
            "log_seq": version.log_seq,
            "commitment": _hex(version.commitment),
            "leaf_hash": _hex(version.leaf_hash),
        }
    }
    if version.opening is not None:
        line["opening"] = {
            "salt": base64.b64encode(version.opening.salt).decode("ascii"),
            "document": version.opening.document,
        }
    return _dumps(line)


def catalogue_line(catalogue: CatalogueDocument) -> str:
    return _dumps({"catalogue": {"version": catalogue.version, "document": catalogue.document}})


def evaluation_model_line(model: EvaluationModelDocument) -> str:
    return _dumps({"evaluation_model": {"document": model.document, "card": model.card}})


def refusal_line(refusal: Refusal) -> str:
    return _dumps(
        {
            "audit_event": {
                "at": refusal.at,
                "actor": refusal.actor,
                "event": refusal.event,
                "outcome": refusal.outcome,
                "detail": refusal.detail,
            }
        }
    )


# -- reading ------------------------------------------------------------------------------


def _int(value: object, what: str, line: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ExportFormatError(f"{what}: expected a non-negative integer, got {value!r}", line=line)
    return value


def _str(value: object, what: str, line: int) -> str:
    if not isinstance(value, str):
        raise ExportFormatError(f"{what}: expected a string, got {type(value).__name__}", line=line)
    return value


def _opt_str(value: object, what: str, line: int) -> str | None:
    return None if value is None else _str(value, what, line)


def _b64(value: object, what: str, line: int) -> bytes:
    try:
        return base64.b64decode(_str(value, what, line), validate=True)
    except (binascii.Error, ValueError):
        raise ExportFormatError(f"{what}: not base64", line=line) from None


def _hex_bytes(value: object, what: str, line: int, length: int | None = None) -> bytes:
    text = _str(value, what, line)
    if not text.startswith("0x"):
        raise ExportFormatError(f"{what}: expected 0x-prefixed hex", line=line)
    try:
        raw = bytes.fromhex(text[2:])
    except ValueError:
        raise ExportFormatError(f"{what}: not hex", line=line) from None
    if length is not None and len(raw) != length:
        raise ExportFormatError(f"{what}: expected {length} bytes, got {len(raw)}", line=line)
    return raw


def parse_header(obj: Mapping[str, Any], line: int) -> ExportHeader:
    if obj.get("format") != EXPORT_FORMAT:
        raise ExportFormatError(f"format: expected {EXPORT_FORMAT}, got {obj.get('format')!r}", line=line)
    contracts = obj.get("contracts")
    logs = obj.get("logs")
    if not isinstance(contracts, dict) or not isinstance(logs, dict):
        raise ExportFormatError("header: contracts and logs must be objects", line=line)
    return ExportHeader(
        chain_id=_int(obj.get("chain_id"), "chain_id", line),
        contracts={
            _str(k, "contract name", line): _str(v, f"contracts.{k}", line) for k, v in contracts.items()
        },
        deployment_block=_int(obj.get("deployment_block"), "deployment_block", line),
        exported_at=_str(obj.get("exported_at"), "exported_at", line),
        logs={_str(k, "log name", line): _int(v, f"logs.{k}", line) for k, v in logs.items()},
        records=bool(obj.get("records", False)),
        openings=bool(obj.get("openings", False)),
    )


def parse_entry(obj: Mapping[str, Any], line: int) -> ExportedEntry:
    log = _str(obj.get("log"), "log", line)
    seq = _int(obj.get("seq"), "seq", line)
    if "leaf" in obj:
        leaf = _b64(obj["leaf"], "leaf", line)
    elif "leaf_hex" in obj:
        leaf = _hex_bytes(obj["leaf_hex"], "leaf_hex", line)
    else:
        raise ExportFormatError("entry without leaf", line=line)
    return ExportedEntry(log, seq, leaf)


def parse_record(obj: Mapping[str, Any], line: int) -> StoredVersion:
    rec = obj.get("record")
    if not isinstance(rec, dict):
        raise ExportFormatError("record: expected an object", line=line)
    opening = None
    opened = obj.get("opening")
    if opened is not None:
        if not isinstance(opened, dict) or not isinstance(opened.get("document"), dict):
            raise ExportFormatError("opening: expected {salt, document}", line=line)
        opening = Opening(_b64(opened.get("salt"), "opening.salt", line), opened["document"])
    return StoredVersion(
        record_id=_str(rec.get("record_id"), "record.record_id", line),
        version=_int(rec.get("version"), "record.version", line),
        log_seq=_int(rec.get("log_seq"), "record.log_seq", line),
        commitment=_hex_bytes(rec.get("commitment"), "record.commitment", line, 32),
        leaf_hash=_hex_bytes(rec.get("leaf_hash"), "record.leaf_hash", line, 32),
        opening=opening,
    )


def parse_refusal(obj: Mapping[str, Any], line: int) -> Refusal:
    ev = obj.get("audit_event")
    if not isinstance(ev, dict):
        raise ExportFormatError("audit_event: expected an object", line=line)
    return Refusal(
        at=_str(ev.get("at"), "audit_event.at", line),
        actor=_opt_str(ev.get("actor"), "audit_event.actor", line),
        event=_str(ev.get("event"), "audit_event.event", line),
        outcome=_str(ev.get("outcome"), "audit_event.outcome", line),
        detail=_opt_str(ev.get("detail"), "audit_event.detail", line),
    )


#: an entry line exactly as `entry_line` writes it: parsed without the JSON decoder
_ENTRY_LINE = re.compile(
    rb'^\{"log":"([a-z][a-z0-9-]{0,63})","seq":(0|[1-9][0-9]{0,17}),"leaf":"([A-Za-z0-9+/=]*)"\}\r?\n?$'
)


def parse_catalogue(obj: Mapping[str, Any], line: int) -> CatalogueDocument:
    value = obj.get("catalogue")
    if not isinstance(value, dict) or not isinstance(value.get("document"), dict):
        raise ExportFormatError("catalogue: expected {version, document}", line=line)
    return CatalogueDocument(_int(value.get("version"), "catalogue.version", line), value["document"])


def parse_evaluation_model(obj: Mapping[str, Any], line: int) -> EvaluationModelDocument:
    value = obj.get("evaluation_model")
    if not isinstance(value, dict) or not all(isinstance(value.get(k), dict) for k in ("document", "card")):
        raise ExportFormatError("evaluation_model: expected {document, card}", line=line)
    return EvaluationModelDocument(value["document"], value["card"])


#: a stored version's line exactly as `record_line` writes it without an opening
_RECORD_LINE = re.compile(
    rb'^\{"record":\{"record_id":"([^"\\\x00-\x1f]*)","version":(0|[1-9][0-9]{0,17}),'
    rb'"log_seq":(0|[1-9][0-9]{0,17}),"commitment":"0x([0-9a-f]{64})","leaf_hash":"0x([0-9a-f]{64})"\}\}\r?\n?$'
)

#: what a line of an export is, once parsed
ExportItem = (
    ExportHeader | ExportedEntry | StoredVersion | Refusal | CatalogueDocument | EvaluationModelDocument
)


def _parse(
    lines: Iterable[str | bytes], *, entries: bool = True, records: bool = True
) -> Iterator[tuple[int, ExportItem]]:
    """(line number, item) for each line; blank lines skipped, `ExportFormatError` on a bad one.

    With `entries` / `records` false, log entries / stored versions written as the
    exporter writes them are skipped without being decoded (a later pass over a file
    whose every line was checked by a first one).
    """
    match_entry, match_record, a2b, error = (
        _ENTRY_LINE.match,
        _RECORD_LINE.match,
        binascii.a2b_base64,
        binascii.Error,
    )
    for number, raw in enumerate(lines, start=1):
        data = raw if isinstance(raw, bytes) else raw.encode()
        if data.startswith(b'{"log":"'):
            fast = match_entry(data)
            if fast is not None:  # a quarter of the cost of the general path, for the bulk of the file
                if not entries:
                    continue
                log_bytes, seq, leaf64 = fast.groups()
                try:
                    leaf = a2b(leaf64, strict_mode=True)
                except error:
                    raise ExportFormatError("leaf: not base64", line=number) from None
                yield number, ExportedEntry(log_bytes.decode(), int(seq), leaf)
                continue
        elif data.startswith(b'{"record":{"record_id":"'):
            fast = match_record(data)
            if fast is not None:
                if not records:
                    continue
                record_id, version, log_seq, commitment, leaf_hash = fast.groups()
                try:
                    text = record_id.decode()
                except UnicodeDecodeError:
                    raise ExportFormatError("not a JSON object", line=number) from None
                yield (
                    number,
                    StoredVersion(
                        text,
                        int(version),
                        int(log_seq),
                        bytes.fromhex(commitment.decode()),
                        bytes.fromhex(leaf_hash.decode()),
                    ),
                )
                continue
        if not data.strip():
            continue
        try:
            obj = json.loads(data)
        except (UnicodeDecodeError, ValueError):
            raise ExportFormatError("not a JSON object", line=number) from None
        if not isinstance(obj, dict):
            raise ExportFormatError("not a JSON object", line=number)
        if "log" in obj:
            yield number, parse_entry(obj, number)
        elif "record" in obj:
            yield number, parse_record(obj, number)
        elif "audit_event" in obj:
            yield number, parse_refusal(obj, number)
        elif "catalogue" in obj:
            yield number, parse_catalogue(obj, number)
        elif "evaluation_model" in obj:
            yield number, parse_evaluation_model(obj, number)
        elif "format" in obj:
            yield number, parse_header(obj, number)
        else:
            raise ExportFormatError(f"unknown line kind with keys {sorted(obj)}", line=number)


def _keep(export: AuditExport, number: int, item: ExportItem) -> None:
    """Add a parsed line that is not a log entry or a stored version to `export`."""
    if isinstance(item, Refusal):
        export.refusals.append(item)
    elif isinstance(item, CatalogueDocument):
        export.catalogues.append(item)
    elif isinstance(item, EvaluationModelDocument):
        export.evaluation_models.append(item)
    elif isinstance(item, ExportHeader):
        if export.header is not None:
            raise ExportFormatError("a second header", line=number)
        export.header = item


def parse_lines(lines: Iterable[str | bytes]) -> AuditExport:
    """Parse export lines (blank lines skipped) into memory; `ExportFormatError` names the bad line."""
    export = AuditExport()
    entries = export.entries
    for number, item in _parse(lines):
        if isinstance(item, ExportedEntry):
            entries.setdefault(item.log, []).append(item)
        elif isinstance(item, StoredVersion):
            export.records.append(item)
        else:
            _keep(export, number, item)
    return export


class ExportFile:
    """An export on disk, read as a stream: the verifier's input for an export of any size.

    Opening it reads the file once, checking every line and keeping only what is small
    (the header, refusals, catalogues, models, and how many entries each log serves);
    `iter_entries` and `iter_records` read the file again, in order, each time they are
    called, so that no pass holds more than one line. A file that changes between passes
    is refused.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        small = AuditExport()
        self.counts: dict[str, int] = {}
        self.record_count = 0
        try:
            self._stamp = self._stat()
            for number, item in _parse(self._lines()):
                if isinstance(item, ExportedEntry):
                    self.counts[item.log] = self.counts.get(item.log, 0) + 1
                elif isinstance(item, StoredVersion):
                    self.record_count += 1
                else:
                    _keep(small, number, item)
        except OSError as exc:
            raise ExportFormatError(f"cannot read {path}: {exc}") from exc
        self.header = small.header
        self.refusals = small.refusals
        self.catalogues = small.catalogues
        self.evaluation_models = small.evaluation_models

    def _stat(self) -> tuple[int, int]:
        stat = self.path.stat()
        return stat.st_size, stat.st_mtime_ns

    def _lines(self) -> Iterator[bytes]:
        with self.path.open("rb") as handle:
            yield from handle

    def _again(self, *, entries: bool, records: bool) -> Iterator[ExportItem]:
        try:
            if self._stat() != self._stamp:
                raise ExportFormatError(f"{self.path} changed while it was being audited")
            for _, item in _parse(self._lines(), entries=entries, records=records):
                yield item
        except OSError as exc:
            raise ExportFormatError(f"cannot read {self.path}: {exc}") from exc

    @property
    def includes_records(self) -> bool:
        return self.record_count > 0 or (self.header is not None and self.header.records)

    def served_logs(self) -> set[str]:
        return set(self.counts)

    def count(self, log: str) -> int:
        return self.counts.get(log, 0)

    def iter_entries(self, logs: Collection[str] | None = None) -> Iterator[ExportedEntry]:
        """The entries of `logs` (all when None), in the file's order."""
        for item in self._again(entries=True, records=False):
            if isinstance(item, ExportedEntry) and (logs is None or item.log in logs):
                yield item

    def iter_records(self) -> Iterator[StoredVersion]:
        """The stored versions, in the file's order."""
        for item in self._again(entries=False, records=True):
            if isinstance(item, StoredVersion):
                yield item

    @property
    def entries(self) -> dict[str, list[ExportedEntry]]:
        """Every entry in memory, by log (for small exports and tests; the verifier streams)."""
        out: dict[str, list[ExportedEntry]] = {}
        for e in self.iter_entries():
            out.setdefault(e.log, []).append(e)
        return out

    @property
    def records(self) -> list[StoredVersion]:
        """Every stored version in memory (for small exports and tests; the verifier streams)."""
        return list(self.iter_records())


#: what the verifier reads: an export in memory or on disk
Export = AuditExport | ExportFile


def read_export(path: Path) -> ExportFile:
    """Open an export file for a streamed audit; `ExportFormatError` when it is unreadable or malformed."""
    return ExportFile(path)

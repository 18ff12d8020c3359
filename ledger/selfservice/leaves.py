"""Leaves the self-service workflows append to the credit-record log.

Each state change of an objection or a repair application, and each link between a
self-declared record and its truthfulness commitment, is one leaf of the
`credit-records` log, appended in the transaction that changes the state. Leaves carry
identifiers, hashes and dates only: reasons are committed to by their SHA-256, never
written in clear, as record leaves carry only a commitment.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from ledger.domain.log_names import CREDIT_RECORDS_LOG
from ledger.logs.store import AppendedEntry, LogWriter, open_for_append

__all__ = [
    "OBJECTION",
    "OBJECTION_DECISION",
    "OBJECTION_ESCALATION",
    "OBJECTION_FORWARD",
    "OBJECTION_WITHDRAWAL",
    "REPAIR_APPLICATION",
    "REPAIR_DECISION",
    "REPAIR_ESCALATION",
    "SELF_DECLARATION",
    "SELF_SERVICE_LEAF_TYPES",
    "append",
    "lock_record_log",
    "text_hash",
]

OBJECTION = "objection"
OBJECTION_FORWARD = "objection-forward"
OBJECTION_ESCALATION = "objection-escalation"
OBJECTION_WITHDRAWAL = "objection-withdrawal"
OBJECTION_DECISION = "objection-decision"
REPAIR_APPLICATION = "repair-application"
REPAIR_ESCALATION = "repair-escalation"
REPAIR_DECISION = "repair-decision"
SELF_DECLARATION = "self-declaration"

#: every type tag this package writes to the credit-record log (the auditor accepts these)
SELF_SERVICE_LEAF_TYPES = frozenset(
    {
        OBJECTION,
        OBJECTION_FORWARD,
        OBJECTION_ESCALATION,
        OBJECTION_WITHDRAWAL,
        OBJECTION_DECISION,
        REPAIR_APPLICATION,
        REPAIR_ESCALATION,
        REPAIR_DECISION,
        SELF_DECLARATION,
    }
)


def text_hash(text: str | None) -> str | None:
    """0x + SHA-256 of UTF-8 `text`: what a leaf holds instead of free text."""
    return None if text is None else "0x" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def lock_record_log(session: Session) -> LogWriter:
    """Take the credit-record log's write lock for the rest of the transaction.

    Taken *before* reading the state a change depends on, so concurrent changes of the
    same objection or application are serialised (the log lock orders every writer).
    """
    return open_for_append(session, CREDIT_RECORDS_LOG)


def append(writer: LogWriter, type_tag: str, payload: Mapping[str, Any]) -> AppendedEntry:
    assert type_tag in SELF_SERVICE_LEAF_TYPES, type_tag
    return writer.append([(type_tag, payload)])[0]

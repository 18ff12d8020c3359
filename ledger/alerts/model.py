"""What a trigger hands to the outbox, and what the delivery gate answers.

An `AlertDraft` names the alert, never a record's content: the payload built from it
(event, subject, categories, severity, block, alert id) is thin, and the institution
fetches the details through a release. The gate answers a `Clearance` (the block B the
alert was authorized at and the access-trail entry that logged it) or raises `Withheld`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.errors import LedgerError

__all__ = ["AlertDraft", "Clearance", "Withheld"]


@dataclass(frozen=True)
class AlertDraft:
    """One alert to one institution, as a trigger decides it."""

    institution: str  # EIP-55 address of the receiving institution
    subject: str  # the subject as the release path names it (the enterprise's USCC)
    event: str  # the rule's event name, e.g. "record.new"
    categories: tuple[str, ...]  # catalogue category names the alert is about
    severity: str
    rule_id: str
    rules_version: int
    watch_id: str | None = None


@dataclass(frozen=True)
class Clearance:
    """The gate let the alert go: authorized at `block`, logged at trail entry `trail_seq`."""

    block: int
    trail_seq: int | None


class Withheld(LedgerError):
    """The gate refuses the alert (consent revoked, agreement ended …): never sent, never fed.

    `reason` is a short stable name stored in the alert's row; `final` False means "not
    now" (e.g. the chain could not answer): the sender asks the gate again later.
    """

    code = "alert_withheld"

    def __init__(self, reason: str, message: str | None = None, *, final: bool = True) -> None:
        super().__init__(message or reason)
        self.reason = reason
        self.final = final

"""The verifier's one error type: the audit could not be carried out at all.

A finding (`ledger.audit.findings`) says the trail is wrong; an `AuditError` says the
verifier could not look (unreadable export, chain unreachable, wrong manifest). The
CLI prints it and exits with status 2, never 0: an audit that did not run must not
read as a clean one. Foreign exceptions are re-raised as `AuditError` at the edges.
"""

from __future__ import annotations

from ledger.errors import LedgerError

__all__ = ["AuditError", "ChainReadError", "ExportFormatError"]


class AuditError(LedgerError):
    """The audit could not be carried out; `present()` is what the CLI prints."""

    code = "audit_error"

    def present(self) -> str:
        return f"audit not carried out: {self.message}"


class ExportFormatError(AuditError):
    """The export file (or API page) is not in the documented format."""

    code = "audit_export_format"

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(message if line is None else f"line {line}: {message}")
        self.line = line


class ChainReadError(AuditError):
    """The chain endpoint could not answer a read the audit needs."""

    code = "audit_chain_read"

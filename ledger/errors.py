"""The error hierarchy of the ledger.

Every failure the library reports is a `LedgerError`; the HTTP layer maps each class
to one status code in one table, so domain code never thinks about HTTP.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Base of every error the ledger raises on purpose."""

    #: a short machine-readable code, stable across versions
    code: str = "ledger_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(LedgerError):
    """The caller sent something malformed (HTTP 422)."""

    code = "invalid_input"


class NotAuthorized(LedgerError):
    """The actor may not do this (HTTP 403)."""

    code = "not_authorized"


class NotFound(LedgerError):
    """The thing named does not exist (HTTP 404)."""

    code = "not_found"


class Conflict(LedgerError):
    """The request contradicts current state, e.g. a replay or a duplicate (HTTP 409)."""

    code = "conflict"


class Unavailable(LedgerError):
    """A dependency (chain, database, log) cannot answer; fail closed (HTTP 503)."""

    code = "unavailable"

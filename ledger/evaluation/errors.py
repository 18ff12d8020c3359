"""Errors of the evaluation core: every one names what is wrong, never a bare failure.

A malformed indicator file or model document is refused when it is loaded (at
publication), with the offending field named, so a bad edit never reaches a score.
"""

from __future__ import annotations

from ledger.errors import InvalidInput, LedgerError

__all__ = ["IndicatorFileError", "ModelDocumentError", "PortraitError", "UnknownIndicator"]


class IndicatorFileError(InvalidInput):
    """The indicator file is unreadable, malformed, or reads what the catalogue lacks."""

    code = "invalid_indicator_file"


class ModelDocumentError(InvalidInput):
    """A model document (or its card) is malformed or does not fit its indicator file."""

    code = "invalid_model_document"


class UnknownIndicator(InvalidInput):
    """A portrait lacks an indicator the model reads, or names one it does not know."""

    code = "unknown_indicator"


class PortraitError(LedgerError):
    """A portrait cannot be computed from the records given (e.g. no evaluation date)."""

    code = "portrait_error"

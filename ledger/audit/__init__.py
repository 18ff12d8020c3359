"""The auditor's independent verifier of the credit-record log and the access trail.

Public surface: `Verifier` (and `verify_offline` for the pure steps), `Finding` and
`Step`, the export format (`read_export`, `AuditExport`), `AuditReport`, `AuditError`.
The numbered steps are listed in `ledger.audit.findings`.

This package shares no code path with the platform's writing side beyond the pure
RFC 9162 functions (`ledger.merkle`), the compiled ABIs, the chain bindings' value types
and raw `authorize` call, and the client side of API request signing;
`tests/unit/audit/test_independence.py` keeps it that way.
"""

from ledger.audit.errors import AuditError, ChainReadError, ExportFormatError
from ledger.audit.export import AuditExport, read_export
from ledger.audit.findings import Finding, Step
from ledger.audit.report import AuditReport
from ledger.audit.verifier import Verifier, VerifyOptions, verify_offline

__all__ = [
    "AuditError",
    "AuditExport",
    "AuditReport",
    "ChainReadError",
    "ExportFormatError",
    "Finding",
    "Step",
    "Verifier",
    "VerifyOptions",
    "read_export",
    "verify_offline",
]

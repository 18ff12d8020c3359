"""Merkle trees for the tamper-evident logs (RFC 9162 shape, so outside tools can audit)."""

from ledger.merkle.rfc9162 import *  # noqa: F403 - the package is the module's public API
from ledger.merkle.rfc9162 import __all__ as __all__

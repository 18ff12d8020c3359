"""credit-ledger: a permissioned, blockchain-backed ledger for sharing credit data."""

__version__ = "0.1.0"

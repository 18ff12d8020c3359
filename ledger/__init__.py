"""credit-ledger: a permissioned, blockchain-backed ledger for sharing credit data."""

from ledger.bls_deferred import defer as _defer_bls

__version__ = "0.1.0"

# before anything here imports eth_account: a process's start without py_ecc's BLS set-up
_defer_bls()

"""EIP-55 checksummed addresses, cached.

Every data request names its institution, and the release path checksums that address
on the way in and the recovered signer's on the way through; eth_utils's conversion
(argument validation decorators, keccak) cost about 20 µs each time, a visible share
of a release's CPU. The same few thousand member addresses come back again and again,
so the answers are kept.
"""

from __future__ import annotations

import functools

from eth_utils import to_checksum_address

__all__ = ["checksum_address"]


@functools.lru_cache(maxsize=65_536)
def checksum_address(value: str | bytes) -> str:
    """The EIP-55 form of a hex address or of 20 address bytes; raises ValueError if neither."""
    return str(to_checksum_address(value))

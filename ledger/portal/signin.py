"""Sign-in by a signed challenge in the form of EIP-4361 (Sign-In with Ethereum).

The platform writes the challenge (`challenge`): a plain-language message naming the
site, the member's address, the chain, a random nonce, when it was issued and when it
expires. The member's browser signs it with `personal_sign` (EIP-191, ethers
`wallet.signMessage`) and sends it back; `verify` reads the message back (it must be in
exactly the form written here), checks it names this site and chain, is fresh and
unexpired, and that the signature, in its one accepted form, recovers the address it
names. The nonce is then spent once, through the same table that refuses replayed API
requests, so a signed challenge opens at most one session.

Written by hand because the format is a dozen lines of text the platform itself writes;
the `siwe` package would bring a second web3 stack for parsing them.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import to_checksum_address

from ledger.errors import InvalidInput
from ledger.request_auth import Unauthenticated, check_signature_form

STATEMENT = "Sign in to the credit-ledger portal to read your pages. This signs no act and moves nothing."
#: a challenge is valid for this long after it was issued (and refused when older)
CHALLENGE_LIFETIME = timedelta(minutes=5)
#: the nonce namespace in the replay table: a sign-in nonce never collides with a request's
NONCE_PREFIX = "signin:"

_TEMPLATE = (
    "{host} wants you to sign in with your Ethereum account:\n"
    "{address}\n"
    "\n"
    "{statement}\n"
    "\n"
    "URI: {uri}\n"
    "Version: 1\n"
    "Chain ID: {chain_id}\n"
    "Nonce: {nonce}\n"
    "Issued At: {issued}\n"
    "Expiration Time: {expires}"
)
_PATTERN = re.compile(
    r"(?P<host>[^\s]+) wants you to sign in with your Ethereum account:\n"
    r"(?P<address>0x[0-9a-fA-F]{40})\n"
    r"\n" + re.escape(STATEMENT) + r"\n"
    r"\n"
    r"URI: (?P<uri>[^\s]+)\n"
    r"Version: 1\n"
    r"Chain ID: (?P<chain_id>[0-9]{1,20})\n"
    r"Nonce: (?P<nonce>[0-9a-f]{32})\n"
    r"Issued At: (?P<issued>[0-9T:\-]{19}Z)\n"
    r"Expiration Time: (?P<expires>[0-9T:\-]{19}Z)"
)
_TIME = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class Challenge:
    """A challenge as written or as read back from a signed message."""

    host: str
    address: str
    uri: str
    chain_id: int
    nonce: str
    issued_at: datetime
    expires_at: datetime

    @property
    def text(self) -> str:
        return _TEMPLATE.format(
            host=self.host,
            address=self.address,
            statement=STATEMENT,
            uri=self.uri,
            chain_id=self.chain_id,
            nonce=self.nonce,
            issued=self.issued_at.strftime(_TIME),
            expires=self.expires_at.strftime(_TIME),
        )


def challenge(origin: str, address: str, chain_id: int, *, now: datetime) -> Challenge:
    """A fresh challenge for `address` to sign on the site `origin` (scheme and host, as reached)."""
    try:
        checksummed = to_checksum_address(address)
    except ValueError:
        raise InvalidInput(f"address: {address!r} is not an address (0x and 40 hex digits)") from None
    issued = now.astimezone(UTC).replace(microsecond=0)
    return Challenge(
        host=origin.split("://", 1)[-1],
        address=checksummed,
        uri=f"{origin}/portal",
        chain_id=chain_id,
        nonce=secrets.token_hex(16),
        issued_at=issued,
        expires_at=issued + CHALLENGE_LIFETIME,
    )


def read(text: str) -> Challenge:
    """The challenge `text` holds, or `InvalidInput` if it is not one this platform writes."""
    found = _PATTERN.fullmatch(text)
    if found is None:
        raise InvalidInput(
            "message: not a sign-in challenge of this portal (ask GET /portal/signin/challenge)"
        )
    return Challenge(
        host=found["host"],
        address=to_checksum_address(found["address"]),
        uri=found["uri"],
        chain_id=int(found["chain_id"]),
        nonce=found["nonce"],
        issued_at=datetime.strptime(found["issued"], _TIME).replace(tzinfo=UTC),
        expires_at=datetime.strptime(found["expires"], _TIME).replace(tzinfo=UTC),
    )


def verify(text: str, signature: str, *, origin: str, chain_id: int, now: datetime) -> Challenge:
    """The challenge, once its site, chain, times and signature hold; `Unauthenticated` otherwise.

    The caller spends the nonce (`NONCE_PREFIX` + nonce) before opening a session.
    """
    found = read(text)
    if found.uri != f"{origin}/portal" or found.host != origin.split("://", 1)[-1]:
        raise Unauthenticated(f"the challenge names the site {found.uri}, not {origin}/portal")
    if found.chain_id != chain_id:
        raise Unauthenticated(f"the challenge names chain {found.chain_id}, not {chain_id}")
    if found.expires_at - found.issued_at > CHALLENGE_LIFETIME or found.issued_at > now + timedelta(
        seconds=60
    ):
        raise Unauthenticated("the challenge's times are not ones this portal writes")
    if now >= found.expires_at:
        raise Unauthenticated(f"the challenge expired at {found.expires_at.strftime(_TIME)}: ask a new one")
    try:
        raw = bytes.fromhex(signature.removeprefix("0x"))
    except ValueError:
        raw = b""
    if len(raw) != 65:
        raise InvalidInput("signature: 0x and 130 hex digits (r, s, v)")
    check_signature_form(raw)
    signer = Account.recover_message(encode_defunct(text=text), signature=raw)
    if signer != found.address:
        raise Unauthenticated(f"the challenge is signed by {signer}, not by {found.address} whom it names")
    return found

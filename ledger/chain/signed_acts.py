"""What the bindings of `SignedActions` contracts share: domain, nonces, signing, relaying.

Every act of `Membership`, `Agreements`, `Consents` and `CatalogueRegistry` is a
contract function whose parameters are the fields of the act's EIP-712 message
(`ledger.chain.eip712.TypedMessage`), in order, followed by the signature. So one
`relay` serves them all, and each binding only declares its messages and names the
function of each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from functools import cached_property
from typing import Any, ClassVar, TypeVar

from eth_account.signers.local import LocalAccount
from web3.contract import Contract
from web3.logs import DISCARD
from web3.types import TxReceipt

from ledger.chain.client import ChainClient
from ledger.chain.eip712 import Signed, TypedMessage, describe_verification, domain_of, sign
from ledger.chain.errors import ContractRevert

#: validity of a signature when the caller names no deadline
DEFAULT_VALIDITY_SECONDS = 3600

M = TypeVar("M", bound=TypedMessage)


class SignedActsContract:
    """A deployed contract that inherits `SignedActions`, driven through `client`."""

    CONTRACT_NAME: ClassVar[str]

    def __init__(self, client: ChainClient, address: str) -> None:
        self.client = client
        self.contract: Contract = client.contract(self.CONTRACT_NAME, address)

    @property
    def address(self) -> str:
        return str(self.contract.address)

    @cached_property
    def domain(self) -> dict[str, Any]:
        """The EIP-712 domain every act must be signed under (it never changes)."""
        return self.client.guard(lambda: domain_of(self.contract))

    def nonce(self, account: str) -> int:
        """The next unused signature nonce of `account` in this contract."""
        return int(self.client.call(self.contract.functions.nonces(account)))

    def default_deadline(self) -> int:
        """The latest block's timestamp plus the default validity of a signature."""
        latest = self.client.guard(lambda: self.client.w3.eth.get_block("latest"))
        return int(latest["timestamp"]) + DEFAULT_VALIDITY_SECONDS

    def _sign(
        self,
        signer: LocalAccount,
        build: Callable[[int, int], M],
        nonce: int | None,
        deadline: int | None,
    ) -> Signed[M]:
        """Sign the message `build(nonce, deadline)`; the nonce comes from the chain unless given."""
        message = build(
            self.nonce(signer.address) if nonce is None else nonce,
            self.default_deadline() if deadline is None else deadline,
        )
        return sign(signer, self.domain, message)

    def relay(self, function_name: str, signed: Signed[Any]) -> TxReceipt:
        """Send `function_name(*message fields, signature)` from the client's account."""
        args = [getattr(signed.message, f.name) for f in fields(signed.message)]
        try:
            return self.client.transact(self.contract.functions[function_name](*args, signed.signature))
        except ContractRevert as exc:
            if exc.error_name != "InvalidSigner":
                raise
            note = describe_verification(signed.message.PRIMARY_TYPE, self.domain)
            raise exc.explained(note) from None

    def events(self, name: str, receipt: TxReceipt) -> list[dict[str, Any]]:
        """The arguments of this contract's `name` events in `receipt`, in log order."""
        mine = [log for log in receipt["logs"] if log["address"] == self.contract.address]
        decoded = self.contract.events[name]().process_receipt({**receipt, "logs": mine}, errors=DISCARD)
        return [dict(e["args"]) for e in decoded]

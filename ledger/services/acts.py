"""Relaying members' signed acts on agreements, commitments and consents.

(Catalogue versions are published through `POST /catalogue/versions`, which also stores
the catalogue's content before anchoring its hash.)

The acts are described by one table (`ledger.chain.act_specs`). The service insists
that the member who authenticated the request is the actor the message names, then
relays; the contract checks everything else and refuses with a custom error.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address

from ledger.chain.act_specs import ACTS
from ledger.chain.eip712 import Signed
from ledger.chain.membership import Role
from ledger.chain.signed_acts import SignedActsContract
from ledger.errors import InvalidInput, NotAuthorized, NotFound


@dataclass(frozen=True)
class ActResult:
    act: str
    transaction: str
    block: int
    created_id: int | None


class ActsService:
    """Relays acts through `bindings`, one per contract that takes signed acts."""

    def __init__(self, bindings: Iterable[SignedActsContract]) -> None:
        self._bindings = {type(b): b for b in bindings}

    def binding(self, contract: type[SignedActsContract]) -> SignedActsContract:
        return self._bindings[contract]

    def relay(self, caller: str, caller_role: Role, act: str, signed: Signed[Any]) -> ActResult:
        spec = ACTS.get(act)
        if spec is None:
            raise NotFound(f"unknown act {act!r}; known: {', '.join(sorted(ACTS))}")
        if not isinstance(signed.message, spec.message):
            raise InvalidInput(f"act {act} needs a {spec.message.__name__}")
        if caller_role not in spec.roles:
            names = " or ".join(r.name.lower() for r in spec.roles)
            raise NotAuthorized(f"{act} is an act of a {names}; {caller} is a {caller_role.name.lower()}")
        actor = getattr(signed.message, spec.actor_field)
        if to_checksum_address(actor) != to_checksum_address(caller):
            raise NotAuthorized(f"the request is signed by {caller} but the act names {actor} as its actor")
        binding = self.binding(spec.binding)
        receipt = binding.relay(spec.function, signed)
        created = None
        if spec.created is not None:
            event, argument = spec.created
            created = int(binding.events(event, receipt)[0][argument])
        return ActResult(
            act=act,
            transaction=receipt["transactionHash"].to_0x_hex(),
            block=int(receipt["blockNumber"]),
            created_id=created,
        )

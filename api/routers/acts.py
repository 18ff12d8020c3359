"""Signed acts on agreements, commitments, consents and the catalogue: one route per act.

Each route's body is the act's EIP-712 message (snake_case fields) plus the signature;
the models are generated from the message definitions, so the OpenAPI document shows
every act's exact fields and the API cannot drift from what the contracts verify.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, create_model

from api.deps import ActsDep, CallerDep
from api.schemas import Address, Bytes32, Signature, UintRule, to_bytes
from ledger.chain.act_specs import ACTS, ActSpec, build_message
from ledger.chain.eip712 import Signed
from ledger.services.acts import ActResult

router = APIRouter(prefix="/acts", tags=["signed acts"])

_FIELD_TYPES: dict[str, Any] = {"bytes32": Bytes32, "address": Address}


class ActResultPublic(BaseModel):
    act: str
    transaction: str
    block: int
    created_id: int | None


def _field_type(solidity_type: str) -> Any:
    """The body field's type for a message member of `solidity_type` (uintN: its own width)."""
    if solidity_type in _FIELD_TYPES:
        return _FIELD_TYPES[solidity_type]
    if solidity_type.startswith("uint"):
        return Annotated[int, UintRule(int(solidity_type[4:]))]
    raise TypeError(f"no body type for EIP-712 member type {solidity_type}")


def _body_model(spec: ActSpec) -> type[BaseModel]:
    definitions: dict[str, Any] = {
        field.name: (_field_type(solidity_type), ...)
        for field, solidity_type in zip(fields(spec.message), spec.message.EIP712_TYPES, strict=True)
    }
    definitions["signature"] = (Signature, ...)
    return create_model(f"{spec.name}Act", __config__=ConfigDict(extra="forbid"), **definitions)


def _route(spec: ActSpec) -> None:
    model = _body_model(spec)

    def relay(body: BaseModel, caller: CallerDep, acts: ActsDep) -> ActResultPublic:
        values = body.model_dump()
        signature = to_bytes(values.pop("signature"))
        result: ActResult = acts.relay(
            caller.address, caller.member.role, spec.name, Signed(build_message(spec, values), signature)
        )
        return ActResultPublic(**result.__dict__)

    # the body's model is generated, so its annotation is set here rather than written
    relay.__annotations__["body"] = model
    router.add_api_route(
        f"/{spec.name}",
        relay,
        methods=["POST"],
        response_model=ActResultPublic,
        status_code=201 if spec.created else 200,
        summary=spec.summary,
        description=(
            f"Relays `{spec.contract}.{spec.function}`. The body is the `{spec.name}` EIP-712 message "
            f"signed under the `{spec.contract}` domain of `GET /chain` by the member named in "
            f"`{spec.actor_field}`, who must also be the signer of the request."
        ),
        name=f"act_{spec.name}",
    )


for _spec in ACTS.values():
    _route(_spec)

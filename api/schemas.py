"""Request and response bodies. ORM rows and chain tuples never leave the API raw."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Annotated, Any

from eth_utils import is_address
from fastapi import Path
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from ledger.chain.address import checksum_address


@functools.lru_cache(maxsize=65_536)  # members' addresses recur; eth_utils checks each by keccak
def parse_address(value: str) -> str:
    if not is_address(value):
        raise ValueError("not an Ethereum address (0x + 40 hex digits)")
    return checksum_address(value)


def _hex_bytes(length: int | None) -> AfterValidator:
    def check(value: str) -> str:
        raw = value.removeprefix("0x")
        try:
            data = bytes.fromhex(raw)
        except ValueError:
            raise ValueError("not hex") from None
        if length is not None and len(data) != length:
            raise ValueError(f"must be {length} bytes, got {len(data)}")
        return "0x" + raw.lower()

    return AfterValidator(check)


Address = Annotated[
    str, AfterValidator(parse_address), Field(examples=["0x70997970C51812dc3A010C7d01b50e0d17dc79C8"])
]
Bytes32 = Annotated[str, _hex_bytes(32), Field(examples=["0x" + "ab" * 32])]
Signature = Annotated[str, _hex_bytes(65), Field(description="65-byte EIP-712 signature r‖s‖v, hex")]
#: the largest integer a JSON number carries exactly everywhere (JavaScript's Number.MAX_SAFE_INTEGER)
MAX_SAFE_INTEGER = 2**53 - 1
#: a uint as a decimal string: digits only (no sign, exponent, hex or spaces), at most 78 of them
DECIMAL_PATTERN = r"^[0-9]{1,78}$"
NUMBER_RULE = (
    "A uint travels as a decimal string (digits only); a JSON integer is accepted too up to "
    "2**53-1 (JavaScript's Number.MAX_SAFE_INTEGER). A larger JSON integer, a float, a sign, an "
    "exponent or hex is refused: 422 invalid_input naming the field."
)


@dataclass(frozen=True)
class UintRule:
    """Annotation: an unsigned integer of `bits` bits, at least `minimum`, in its one wire form.

    `Annotated[int, UintRule(48)]` accepts a decimal string, or a JSON integer up to 2**53-1
    (`NUMBER_RULE`), and yields an `int`. Its JSON schema says exactly that (a pattern, or an
    integer with integer bounds): no float bound that a client cannot compare with.
    """

    bits: int = 256
    minimum: int = 0

    def parse(self, value: object) -> int:
        if isinstance(value, str):
            if re.fullmatch(DECIMAL_PATTERN, value) is None:
                raise ValueError("a uint string is decimal digits only (no sign, exponent, hex or spaces)")
            number = int(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            if value > MAX_SAFE_INTEGER:
                raise ValueError(
                    "a JSON integer above 2**53-1 loses precision in JavaScript: send it as a decimal string"
                )
            number = value
        else:
            raise ValueError("a uint is a decimal string or a JSON integer up to 2**53-1")
        if not self.minimum <= number < 2**self.bits:
            raise ValueError(f"must be from {self.minimum} to 2**{self.bits}-1")
        return number

    def __get_pydantic_core_schema__(self, _source: Any, _handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_plain_validator_function(self.parse)

    def __get_pydantic_json_schema__(
        self, _schema: CoreSchema, _handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        largest = min(MAX_SAFE_INTEGER, 2**self.bits - 1)
        lowest = f" from {self.minimum}" if self.minimum else ""
        return {
            "anyOf": [
                {"type": "string", "pattern": DECIMAL_PATTERN},
                {"type": "integer", "minimum": self.minimum, "maximum": largest},
            ],
            "description": f"uint{self.bits}{lowest}: {NUMBER_RULE}",
            "x-uint-bits": self.bits,
        }


Uint = Annotated[int, UintRule()]
PositiveUint = Annotated[int, UintRule(minimum=1)]

#: the largest integer a database column (BIGINT) holds: positions, versions, cursors
INT64_MAX = 2**63 - 1
#: a position or id the database holds: out of range is a named 422, never a 5xx
Position = Annotated[int, Field(ge=0, le=INT64_MAX)]
PositionPath = Annotated[int, Path(ge=0, le=INT64_MAX)]
#: the largest version number a database column (INTEGER) holds: record and catalogue versions
INT32_MAX = 2**31 - 1
VersionPath = Annotated[int, Path(ge=1, le=INT32_MAX, description="a version number, from 1")]


def to_bytes(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignedAct(Strict):
    nonce: Uint = Field(description="the signer's nonce on the contract (GET /members/{address})")
    deadline: Uint = Field(description="unix time after which the signature is refused")
    signature: Signature


class ChainHealth(BaseModel):
    ready: bool
    chain_id: int | None = None
    block: int | None = None
    contracts: dict[str, str] = {}
    error: str | None = None


class DatabaseHealth(BaseModel):
    ready: bool
    revision: str | None = None
    error: str | None = None


class Health(BaseModel):
    ready: bool
    chain: ChainHealth
    database: DatabaseHealth


class ContractDomain(BaseModel):
    address: str
    eip712_domain: dict[str, object] | None = Field(
        description="absent for contracts that take no signed acts"
    )


class ChainInfo(BaseModel):
    chain_id: int
    deployment_block: int
    contracts: dict[str, ContractDomain]
    api_domain: dict[str, object] = Field(description="the domain of every request's ApiRequest signature")
    request_domains: dict[str, dict[str, object]] = Field(
        description="the domains of the signed bodies of POST /releases (DataRequest) and POST /evaluations"
    )
    signing: str = Field(
        description="where the whole signing specification is (every domain, type and wire rule)"
    )


class MemberPublic(BaseModel):
    account: str
    role: str
    status: str
    kind: str
    since_block: int
    name_hash: str
    uscc_hash: str | None


class MemberDetail(MemberPublic):
    nonces: dict[str, int] = Field(description="the member's next EIP-712 nonce on each contract")


class ProposeBody(SignedAct):
    action: str = Field(examples=["admit"], description="admit, suspend, reinstate, remove or set_quorum")
    account: Address = "0x0000000000000000000000000000000000000000"
    role: str = Field(default="none", examples=["institution"])
    kind: str = Field(default="none", examples=["bank"])
    name_hash: Bytes32 = "0x" + "00" * 32
    new_quorum: Uint = 0
    proposer: Address


class ApproveBody(SignedAct):
    approver: Address


class ProposalResult(BaseModel):
    proposal_id: int
    approvals: int
    executed: bool
    transaction: str
    block: int


class RegisterEnterpriseBody(SignedAct):
    account: Address
    uscc: str = Field(examples=["91410100MA44TL7G2F"], description="统一社会信用代码, validated")
    name: str = Field(min_length=1, max_length=200, examples=["郑州市某科技有限公司"])
    operator: Address


class EnterpriseStatusBody(SignedAct):
    operator: Address


class RotateKeyBody(SignedAct):
    new_account: Address


class TxResult(BaseModel):
    transaction: str
    block: int

"""Membership: the member list and the governance acts, each signed by the acting member."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CallerDep, MembershipDep, PlatformDep, require_role
from api.routers.signing import contract_domains
from api.schemas import (
    ApproveBody,
    ChainInfo,
    ContractDomain,
    EnterpriseStatusBody,
    MemberDetail,
    MemberPublic,
    ProposalResult,
    ProposeBody,
    RegisterEnterpriseBody,
    RotateKeyBody,
    TxResult,
    Uint,
    parse_address,
    to_bytes,
)
from ledger.chain.eip712 import Signed
from ledger.chain.membership import (
    Action,
    ApproveMessage,
    InstitutionKind,
    Member,
    ProposalOutcome,
    ProposeMessage,
    RegisterEnterpriseMessage,
    ReinstateEnterpriseMessage,
    Role,
    RotateKeyMessage,
    SuspendEnterpriseMessage,
    name_hash,
    uscc_hash,
)
from ledger.domain.identifiers import validate_uscc
from ledger.errors import InvalidInput
from ledger.evaluation_release.request import evaluation_domain
from ledger.release.request import request_domain
from ledger.request_auth import api_domain

router = APIRouter(tags=["membership"])


def _enum(enum: type[Action] | type[Role] | type[InstitutionKind], value: str, field: str) -> int:
    try:
        return int(enum[value.upper()])
    except KeyError:
        names = ", ".join(m.name.lower() for m in enum)
        raise InvalidInput(f"{field}: unknown value {value!r}; expected one of {names}") from None


def _public(member: Member) -> MemberPublic:
    return MemberPublic(
        account=member.account,
        role=member.role.name.lower(),
        status=member.status.name.lower(),
        kind=member.kind.name.lower(),
        since_block=member.since,
        name_hash="0x" + member.name_hash.hex(),
        uscc_hash=("0x" + member.uscc_hash.hex()) if any(member.uscc_hash) else None,
    )


def _proposal_result(outcome: ProposalOutcome) -> ProposalResult:
    return ProposalResult(
        proposal_id=outcome.proposal_id,
        approvals=outcome.approvals,
        executed=outcome.executed,
        transaction=outcome.receipt["transactionHash"].to_0x_hex(),
        block=int(outcome.receipt["blockNumber"]),
    )


@router.get(
    "/chain", response_model=ChainInfo, summary="Chain id, contracts and the EIP-712 domains to sign under"
)
def chain_info(platform: PlatformDep) -> ChainInfo:
    addresses = platform.deployment.addresses.by_name()
    contracts = {
        name: ContractDomain(address=addresses[name], eip712_domain=domain)
        for name, domain in contract_domains(platform).items()
    }
    return ChainInfo(
        chain_id=platform.deployment.chain_id,
        deployment_block=platform.deployment.block,
        contracts=contracts,
        api_domain=api_domain(platform.deployment.chain_id, platform.deployment.addresses.membership),
        request_domains={
            "DataRequest": request_domain(platform.deployment.chain_id, addresses["Consents"]),
            "EvaluationRequest": evaluation_domain(platform.deployment.chain_id, addresses["ModelRegistry"]),
        },
        signing="/signing",
    )


@router.get("/members", response_model=list[MemberPublic], summary="Every member with role and status")
def list_members(_caller: CallerDep, membership: MembershipDep) -> list[MemberPublic]:
    return [_public(m) for m in membership.members()]


@router.get("/members/{address}", response_model=MemberDetail, summary="One member and its signing nonces")
def get_member(address: str, _caller: CallerDep, membership: MembershipDep) -> MemberDetail:
    try:
        account = parse_address(address)
    except ValueError as exc:
        raise InvalidInput(f"address: {exc}") from None
    member = membership.member(account)
    return MemberDetail(**_public(member).model_dump(), nonces=membership.nonces(account))


@router.post(
    "/governance/proposals",
    response_model=ProposalResult,
    status_code=201,
    summary="Propose a membership or quorum change (operator)",
)
def propose(body: ProposeBody, caller: CallerDep, membership: MembershipDep) -> ProposalResult:
    require_role(caller, Role.OPERATOR)
    message = ProposeMessage(
        Action(_enum(Action, body.action, "action")), body.account, Role(_enum(Role, body.role, "role")),
        InstitutionKind(_enum(InstitutionKind, body.kind, "kind")), to_bytes(body.name_hash), body.new_quorum,
        body.proposer, body.nonce, body.deadline,
    )  # fmt: skip
    return _proposal_result(membership.propose(caller.address, Signed(message, to_bytes(body.signature))))


@router.post(
    "/governance/proposals/{proposal_id}/approvals",
    response_model=ProposalResult,
    summary="Approve a proposal (operator); the approval reaching the quorum executes it",
)
def approve(
    proposal_id: Uint,
    body: ApproveBody,
    caller: CallerDep,
    membership: MembershipDep,
) -> ProposalResult:
    require_role(caller, Role.OPERATOR)
    message = ApproveMessage(proposal_id, body.approver, body.nonce, body.deadline)
    return _proposal_result(membership.approve(caller.address, Signed(message, to_bytes(body.signature))))


@router.post(
    "/enterprises",
    response_model=TxResult,
    status_code=201,
    summary="Register an enterprise after identity checks (one operator)",
)
def register_enterprise(
    body: RegisterEnterpriseBody, caller: CallerDep, membership: MembershipDep
) -> TxResult:
    require_role(caller, Role.OPERATOR)
    uscc = validate_uscc(body.uscc).code
    message = RegisterEnterpriseMessage(
        body.account, uscc_hash(uscc), name_hash(body.name), body.operator, body.nonce, body.deadline
    )
    relayed = membership.register_enterprise(caller.address, Signed(message, to_bytes(body.signature)))
    return TxResult(transaction=relayed.transaction, block=relayed.block)


@router.post(
    "/enterprises/{uscc}/suspension", response_model=TxResult, summary="Suspend an enterprise (operator)"
)
def suspend_enterprise(
    uscc: str, body: EnterpriseStatusBody, caller: CallerDep, membership: MembershipDep
) -> TxResult:
    require_role(caller, Role.OPERATOR)
    message = SuspendEnterpriseMessage(
        uscc_hash(validate_uscc(uscc).code), body.operator, body.nonce, body.deadline
    )
    relayed = membership.suspend_enterprise(caller.address, Signed(message, to_bytes(body.signature)))
    return TxResult(transaction=relayed.transaction, block=relayed.block)


@router.post(
    "/enterprises/{uscc}/reinstatement",
    response_model=TxResult,
    summary="Reinstate a suspended enterprise (operator)",
)
def reinstate_enterprise(
    uscc: str, body: EnterpriseStatusBody, caller: CallerDep, membership: MembershipDep
) -> TxResult:
    require_role(caller, Role.OPERATOR)
    message = ReinstateEnterpriseMessage(
        uscc_hash(validate_uscc(uscc).code), body.operator, body.nonce, body.deadline
    )
    relayed = membership.reinstate_enterprise(caller.address, Signed(message, to_bytes(body.signature)))
    return TxResult(transaction=relayed.transaction, block=relayed.block)


@router.post(
    "/enterprises/{uscc}/key-rotation",
    response_model=TxResult,
    summary="Move an enterprise to a new key, signed by its current key",
)
def rotate_key(uscc: str, body: RotateKeyBody, caller: CallerDep, membership: MembershipDep) -> TxResult:
    require_role(caller, Role.ENTERPRISE)
    message = RotateKeyMessage(
        uscc_hash(validate_uscc(uscc).code), body.new_account, body.nonce, body.deadline
    )
    relayed = membership.rotate_key(caller.address, Signed(message, to_bytes(body.signature)))
    return TxResult(transaction=relayed.transaction, block=relayed.block)

"""What an operator is about to propose, in plain terms, before it signs the `Propose` act.

The operator's proposal form (`/portal/operator/`) sends its values here as the operator
types; `proposal_draft` reads them against the chain (the account's membership, the quorum,
the operators) and says what the proposal would do and what is missing or would be
refused, each as a key the page words in the reader's language. Nothing is signed or sent
here: the act itself is signed in the browser and sent to `POST /governance/proposals`,
where the contract has the last word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

from eth_utils.address import to_checksum_address

from ledger.chain.membership import Action, Member, Role, Status

__all__ = [
    "ADMITTED_ROLES",
    "INSTITUTION_KINDS",
    "MembershipReads",
    "ProposalDraft",
    "proposal_draft",
]

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")

#: the roles a proposal may admit (enterprises are registered by one operator, not proposed)
ADMITTED_ROLES = ("operator", "provider", "institution", "auditor", "platform", "district_operator")
#: the kinds an institution is admitted as
INSTITUTION_KINDS = ("bank", "insurer", "guarantor", "credit_service_agency")
#: what each action may move a member from (the contract's transitions)
_FROM = {
    "suspend": (Status.ACTIVE,),
    "reinstate": (Status.SUSPENDED,),
    "remove": (Status.ACTIVE, Status.SUSPENDED),
}


class MembershipReads(Protocol):
    """What a draft reads of the Membership contract (`ledger.chain.membership`)."""

    def member_of(self, account: str) -> Member: ...
    def quorum(self) -> int: ...
    def operator_count(self) -> int: ...


@dataclass(frozen=True)
class ProposalDraft:
    """A proposal as typed so far: what it does and what stops it (`problems`: keys)."""

    action: str
    account: str | None = None  # checksummed
    role: str = "none"
    kind: str = "none"
    name: str = ""
    new_quorum: int = 0
    quorum: int = 0
    operators: int = 0
    member_role: str = "none"  # the account's membership now
    member_status: str = "none"
    problems: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.problems


def _int(text: str) -> int | None:
    return int(text) if text.strip().isdigit() else None


def proposal_draft(
    chain: MembershipReads, *, action: str, account: str = "", role: str = "", kind: str = "",
    name: str = "", new_quorum: str = "",
) -> ProposalDraft:  # fmt: skip
    """The draft of a membership or quorum proposal from the form's values (strings).

    `problems` names, in order, what the operator must still fix: `action`, `account`,
    `already_member`, `not_member`, `wrong_status`, `role`, `kind`, `kind_none`, `name`,
    `quorum_range`. The chain is read only for what the typed values make relevant.
    """
    quorum, operators = chain.quorum(), chain.operator_count()
    if action not in {a.name.lower() for a in Action}:
        return ProposalDraft(action, quorum=quorum, operators=operators, problems=["action"])
    if action == "set_quorum":
        wanted = _int(new_quorum)
        ok = wanted is not None and 1 <= wanted <= operators
        return ProposalDraft(
            action, new_quorum=wanted or 0, quorum=quorum, operators=operators,
            problems=[] if ok else ["quorum_range"],
        )  # fmt: skip
    problems: list[str] = []
    checked = to_checksum_address(account.strip()) if _ADDRESS.match(account.strip()) else None
    member = chain.member_of(checked) if checked else None
    if member is None:
        problems.append("account")
    elif action == "admit" and member.role is not Role.NONE:
        problems.append("already_member")
    elif action != "admit" and member.role is Role.NONE:
        problems.append("not_member")
    elif action != "admit" and member.status not in _FROM[action]:
        problems.append("wrong_status")
    if action == "admit":
        if role not in ADMITTED_ROLES:
            problems.append("role")
        elif role == "institution" and kind not in INSTITUTION_KINDS:
            problems.append("kind")
        elif role != "institution" and kind not in ("", "none"):
            problems.append("kind_none")
        if not name.strip():
            problems.append("name")
    return ProposalDraft(
        action,
        account=checked,
        role=role if action == "admit" else "none",
        kind=(kind or "none") if action == "admit" and role == "institution" else "none",
        name=name.strip() if action == "admit" else "",
        quorum=quorum,
        operators=operators,
        member_role=member.role.name.lower() if member else "none",
        member_status=member.status.name.lower() if member else "none",
        problems=problems,
    )

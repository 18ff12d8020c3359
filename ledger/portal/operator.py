"""The operator's pages, assembled without HTTP: proposals with their quorum, members,
catalogue versions, the working-day calendar and the KPI dashboard.

Statuses and enum values are the chain's enum names in lower case (the template
translates them); categories are named from the catalogue; charts are inline SVG
(`ledger.portal.charts`). Approving a proposal is signed in the operator's browser;
`proposals` says which ones this operator may still approve.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from ledger.chain.membership import Member, Proposal
from ledger.chain.model_registry import ModelProposal
from ledger.domain.catalogue import Catalogue, localized_name
from ledger.portal.charts import bar_chart
from ledger.portal.labels import named_labels

__all__ = [
    "CatalogueVersionView",
    "KpiDashboard",
    "MemberView",
    "ModelProposalReads",
    "ModelProposalView",
    "ProposalReads",
    "ProposalView",
    "catalogue_versions",
    "kpi_dashboard",
    "member_views",
    "model_proposals",
    "proposals",
]

#: proposals shown, newest first
MAX_PROPOSALS = 50


class ProposalReads(Protocol):
    """What these pages read of the Membership contract (`ledger.chain.membership`)."""

    def quorum(self) -> int: ...
    def proposal_count(self) -> int: ...
    def proposal(self, proposal_id: int) -> Proposal: ...
    def has_approved(self, proposal_id: int, operator: str) -> bool: ...


class _Progress:
    """A proposal's way to its quorum (both Membership's and ModelRegistry's proposals)."""

    approvals: int
    quorum: int
    status: str  # open, executed, expired
    approved_by_me: bool

    @property
    def percent(self) -> int:
        """How far the approvals are towards the quorum, for a progress bar."""
        return 100 if self.status == "executed" else min(100, self.approvals * 100 // max(1, self.quorum))

    @property
    def approvable(self) -> bool:
        return self.status == "open" and not self.approved_by_me


def _status(executed: bool, expires_at: int, now: int) -> str:
    """Open until its last second (judged as the chain judges it, against block time) unless executed."""
    return "executed" if executed else "expired" if expires_at < now else "open"


@dataclass(frozen=True)
class ProposalView(_Progress):
    id: int
    action: str  # admit, suspend, reinstate, remove, set_quorum
    role: str
    kind: str
    account: str
    new_quorum: int
    approvals: int
    quorum: int
    expires_at: datetime
    status: str
    approved_by_me: bool


@dataclass(frozen=True)
class ModelProposalView(_Progress):
    id: int
    action: str  # activate, retire
    version: int
    approvals: int
    quorum: int
    expires_at: datetime
    status: str
    approved_by_me: bool


class ModelProposalReads(Protocol):
    """What these pages read of the ModelRegistry contract (`ledger.chain.model_registry`)."""

    def proposal_count(self) -> int: ...
    def proposal(self, proposal_id: int) -> ModelProposal: ...
    def has_approved(self, proposal_id: int, operator: str) -> bool: ...


def model_proposals(
    registry: ModelProposalReads, operator: str, *, quorum: int, now: int
) -> list[ModelProposalView]:
    """The newest model proposals (a version's activation or retirement) against the operators' quorum."""
    count = registry.proposal_count()
    out = []
    for pid in range(count, max(0, count - MAX_PROPOSALS), -1):
        p = registry.proposal(pid)
        out.append(
            ModelProposalView(
                pid,
                p.action.name.lower(),
                p.version,
                p.approvals,
                quorum,
                datetime.fromtimestamp(p.expires_at, UTC),
                _status(p.executed, p.expires_at, now),
                registry.has_approved(pid, operator),
            )
        )
    return out


def proposals(contract: ProposalReads, operator: str, *, now: int) -> list[ProposalView]:
    """The newest proposals with their approvals against today's quorum (`now`: unix seconds).

    A proposal is open until its last second (`expires_at`, judged as the chain judges it,
    against block time) unless an approval reaching the quorum executed it.
    """
    quorum = contract.quorum()
    count = contract.proposal_count()
    out = []
    for pid in range(count, max(0, count - MAX_PROPOSALS), -1):
        p = contract.proposal(pid)
        status = _status(p.executed, p.expires_at, now)
        out.append(
            ProposalView(
                p.id,
                p.action.name.lower(),
                p.role.name.lower(),
                p.kind.name.lower(),
                p.account,
                p.new_quorum,
                p.approvals,
                quorum,
                datetime.fromtimestamp(p.expires_at, UTC),
                status,
                contract.has_approved(pid, operator),
            )
        )
    return out


@dataclass(frozen=True)
class MemberView:
    account: str
    role: str
    status: str
    kind: str
    since_block: int
    name_hash: str


def member_views(members: Sequence[Member]) -> list[MemberView]:
    """Every member in order of admission."""
    return [
        MemberView(
            m.account,
            m.role.name.lower(),
            m.status.name.lower(),
            m.kind.name.lower(),
            m.since,
            "0x" + m.name_hash.hex(),
        )
        for m in members
    ]


@dataclass(frozen=True)
class CatalogueVersionView:
    version: int
    name: str
    content_hash: str
    categories: int
    purposes: int
    public_categories: list[str]
    block: int | None
    current: bool


class PublishedVersion(Protocol):
    """A published catalogue version (`ledger.records.catalogues.PublishedCatalogue`)."""

    @property
    def version(self) -> int: ...
    @property
    def content_hash(self) -> bytes: ...
    @property
    def catalogue(self) -> Catalogue: ...
    @property
    def block_number(self) -> int | None: ...


def catalogue_versions(published: Sequence[PublishedVersion], *, locale: str) -> list[CatalogueVersionView]:
    """Every published version, newest first; the newest is the one in force."""
    newest = max((p.version for p in published), default=0)
    return [
        CatalogueVersionView(
            p.version,
            localized_name(p.catalogue, locale),
            "0x" + p.content_hash.hex(),
            len(p.catalogue.categories),
            len(p.catalogue.purposes),
            [localized_name(c, locale) for c in p.catalogue.categories if c.public_disclosure],
            p.block_number,
            p.version == newest,
        )
        for p in sorted(published, key=lambda p: -p.version)
    ]


# -- the KPI dashboard ------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiDashboard:
    report: Mapping[str, Any]  # `ledger.financing.kpis.KpiService.report`, as it is
    figures: list[tuple[str, Any]]  # headline figures: key (translated by the template), value
    charts: list[tuple[str, str, list[tuple[str, Any]]]]  # key, inline SVG, the figures drawn


def _yuan(fen: int) -> str:
    return f"{fen / 100:,.2f}"


def _key(value: Any) -> str:
    """A breakdown's key as shown: a dash where none was reported (a loan without an industry)."""
    return "—" if value is None or value == "" else str(value)


def kpi_dashboard(
    report: Mapping[str, Any], *, catalogue: Catalogue, locale: str, titles: Mapping[str, str]
) -> KpiDashboard:
    """Headline figures and bar charts of a KPI report; `titles` are the charts' translated titles,
    keyed as the charts are (records_by_category, records_by_month, loans_by_month, loans_by_industry)."""
    records, enterprises, loans = report["records"], report["enterprises"], report["loans"]
    figures: list[tuple[str, Any]] = [
        ("records_collected", records["collected"]),
        ("records_timely_share", records["timely_share"]),
        ("enterprises_onboarded", enterprises["onboarded"]),
        ("enterprises_onboarded_share", enterprises["onboarded_share"]),
        ("enterprises_with_loan", enterprises["with_loan"]),
        ("loan_decisions", loans["decisions"]),
        ("loans_approved", loans["approved"]),
        ("loan_volume_yuan", _yuan(loans["volume_fen"])),
        ("credit_loans", loans["credit_loans"]),
        ("first_time_borrowers", loans["first_time_borrowers"]),
        ("average_rate_percent", loans["average_rate_percent"]),
        ("average_decision_days", loans["average_decision_days"]),
    ]
    by_category = records["by_category"]
    category_labels = named_labels(catalogue, [str(r["key"]) for r in by_category], "categories", locale)
    series: list[tuple[str, list[tuple[str, Any]]]] = [
        (
            "records_by_category",
            [(lbl, r["collected"]) for lbl, r in zip(category_labels, by_category, strict=True)],
        ),
        ("records_by_month", [(_key(r["key"]), r["collected"]) for r in records["by_month"]]),
        ("loans_by_month", [(_key(r["key"]), r["volume_fen"] / 100) for r in loans["by_month"]]),
        ("loans_by_industry", [(_key(r["key"]), r["approved"]) for r in loans["by_industry"]]),
    ]
    charts = [(key, bar_chart(titles.get(key, key), bars), bars) for key, bars in series]
    return KpiDashboard(report, figures, charts)

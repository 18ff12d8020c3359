"""The composition root, second half: every service built over one `Platform`.

`ledger.platform` connects (database, chain, deployment, contracts bound once); this
module hands each service the collaborators it uses, so no service knows the platform
whole. The API builds `Services` once at start-up (`api.app`) and its routes reach them
through dependencies (`api.deps`); a CLI command builds the one service it needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ledger.alerts.authorize import AlertGate
from ledger.alerts.endpoints import AlertEndpoints
from ledger.alerts.evasion import EvasionService
from ledger.alerts.feed import AlertFeed
from ledger.alerts.gate import DeliveryGate
from ledger.alerts.policy import SenderPolicy
from ledger.alerts.rules import default_rules
from ledger.alerts.sender import AlertSender
from ledger.alerts.triggers import AlertTriggers
from ledger.alerts.watches import WatchService
from ledger.chain.authorize_call import AuthorizeCaller
from ledger.chain.commitment_events import CommitmentEvents
from ledger.chain.membership import Member
from ledger.chain.model_registry import ModelCaller
from ledger.domain.catalogue import default_catalogue
from ledger.evaluation.schema import indicator_files
from ledger.evaluation_release.documents import ModelDocuments
from ledger.evaluation_release.request import evaluation_domain
from ledger.evaluation_release.service import EvaluationService, ModelNotActive, ModelUnknown
from ledger.financing.alert_holdings import FinancingHoldings
from ledger.financing.applications import Applications
from ledger.financing.kpi_publish import KpiSnapshots
from ledger.financing.kpis import KpiService
from ledger.financing.loans import ApplicationLookup, ChainAgreements, LoanReports
from ledger.financing.service import FinancingService
from ledger.financing.store import DocumentStore
from ledger.logs.anchor_worker import AnchorPolicy, AnchorWorker
from ledger.logs.bundles import ProofBundles
from ledger.logs.proofs import LogProofs
from ledger.logs.tlog import TlogTiles
from ledger.platform import Platform
from ledger.portal.enterprise import EnterprisePages
from ledger.portal.sessions import PortalSessions
from ledger.records.catalogues import CatalogueService
from ledger.records.crypto import Keyring
from ledger.records.service import RecordsService
from ledger.release.accesses import AccessesService
from ledger.release.reader import RecordReader
from ledger.release.request import request_domain
from ledger.release.service import ReleaseService
from ledger.release.trail import AccessTrail
from ledger.selfservice.clock import Clock, SystemClock
from ledger.selfservice.context import SelfServiceContext
from ledger.selfservice.service import SelfService
from ledger.services.acts import ActsService
from ledger.services.chain_watch import WatchedAuthorizer
from ledger.services.membership import MembershipService

__all__ = [
    "Services",
    "accesses_service",
    "acts_service",
    "alert_endpoints",
    "alert_feed",
    "alert_gate",
    "alert_sender",
    "alert_triggers",
    "anchor_worker",
    "catalogue_service",
    "evaluation_service",
    "evasion_service",
    "financing_service",
    "kpi_service",
    "loan_reports",
    "membership_service",
    "proof_bundles",
    "records_service",
    "release_service",
    "selfservice",
    "tlog_tiles",
    "watch_service",
]


def proof_bundles(platform: Platform) -> ProofBundles:
    """Proofs served only while the chain watch vouches for the chain, anchored by Checkpoints."""
    return ProofBundles(
        LogProofs(platform.db, watch=platform.watch),
        chain_id=platform.deployment.chain_id,
        checkpoints_contract=platform.deployment.addresses.checkpoints,
    )


def tlog_tiles(bundles: ProofBundles) -> TlogTiles:
    """The logs as tlog-tiles resources, over the same proofs (and chain watch) as the bundles."""
    return TlogTiles(
        bundles.proofs, chain_id=bundles.chain_id, checkpoints_contract=bundles.checkpoints_contract
    )


def membership_service(platform: Platform) -> MembershipService:
    contracts = platform.contracts
    return MembershipService(contracts.membership, signed_acts=contracts.signed_acts())


def acts_service(platform: Platform) -> ActsService:
    return ActsService(platform.contracts.signed_acts())


def catalogue_service(platform: Platform) -> CatalogueService:
    return CatalogueService(platform.db, platform.contracts.catalogue_registry)


def records_service(platform: Platform, *, bundles: ProofBundles | None = None) -> RecordsService:
    """Records sealed under the configured keyring (parsed here, once); every ingestion runs
    the alert triggers in its transaction."""
    return RecordsService(
        platform.db,
        keyring=Keyring.from_settings(platform.settings),
        catalogues=catalogue_service(platform),
        bundles=bundles or proof_bundles(platform),
        encrypt_min_level=platform.settings.record_encrypt_min_level,
        on_stored=alert_triggers().on_records,
        utc_offset_minutes=platform.settings.calendar_utc_offset_minutes,
    )


def alert_triggers(platform: Platform | None = None) -> AlertTriggers:
    """The triggers of the packaged rules file (`ledger/alerts/rules-v1.json`); with the
    platform, an evasion flag also reaches application holders and lenders (joint action)."""
    return AlertTriggers(default_rules(), holdings=None if platform is None else alert_holdings(platform))


def alert_holdings(platform: Platform) -> FinancingHoldings:
    """Loan applications and reported loans as alert holdings (joint action), grants read on chain."""
    return FinancingHoldings(platform.contracts.consents, default_catalogue())


def _authorizer(platform: Platform) -> AuthorizeCaller:
    """A chain connection for authorization calls, every decision's block checked by the
    chain watch when the platform is watched (whose thread is started here)."""
    consents = platform.deployment.addresses.consents
    if platform.watch is None:
        return AuthorizeCaller(platform.chain.rpc_url, consents)
    platform.watch.start()
    return WatchedAuthorizer(platform.chain.rpc_url, consents, platform.watch)


def watch_service(platform: Platform) -> WatchService:
    """Watches, allowed on chain at a fresh block (its own chain connection; `close` releases it)."""
    return WatchService(
        platform.db,
        authorizer=_authorizer(platform),
        catalogue=default_catalogue(),
        rules=default_rules(),
        max_block_age_seconds=platform.settings.max_block_age_seconds,
    )


def alert_gate(platform: Platform) -> AlertGate:
    """The delivery gate: each alert authorized at a fresh block B and logged before it leaves."""
    return AlertGate(
        platform.db,
        authorizer=_authorizer(platform),
        catalogue=default_catalogue(),
        max_block_age_seconds=platform.settings.max_block_age_seconds,
        holdings=alert_holdings(platform),
    )


def evasion_service(platform: Platform) -> EvasionService:
    return EvasionService(platform.db, triggers=alert_triggers(platform))


def accesses_service(platform: Platform, *, bundles: ProofBundles | None = None) -> AccessesService:
    return AccessesService(
        platform.db, bundles=bundles or proof_bundles(platform), catalogue=default_catalogue()
    )


def selfservice(
    platform: Platform,
    *,
    records: RecordsService,
    bundles: ProofBundles | None = None,
    clock: Clock | None = None,
) -> SelfService:
    ctx = SelfServiceContext(
        db=platform.db,
        settings=platform.settings,
        chain=platform.chain,
        contracts=platform.contracts,
        records=records,
        bundles=bundles or proof_bundles(platform),
        clock=clock or SystemClock(),
        on_decided=alert_triggers().on_case_decided,
    )
    return SelfService.over(ctx)


def release_service(platform: Platform, *, records: RecordsService | None = None) -> ReleaseService:
    """The release service; with a watched platform, every decision's block is checked by the
    watch, whose thread is started here and runs as long as the service (`ledger.services.chain_watch`).

    The service owns two worker threads and a chain connection; `close` stops them.
    """
    consents = platform.deployment.addresses.consents
    authorizer: AuthorizeCaller
    if platform.watch is None:
        authorizer = AuthorizeCaller(platform.chain.rpc_url, consents)
    else:
        platform.watch.start()
        authorizer = WatchedAuthorizer(platform.chain.rpc_url, consents, platform.watch)
    return ReleaseService(
        platform.db,
        domain=request_domain(platform.deployment.chain_id, consents),
        reader=RecordReader(records or records_service(platform)),
        trail=AccessTrail(platform.db),
        authorizer=authorizer,
        max_block_age_seconds=platform.settings.max_block_age_seconds,
        max_lifetime_seconds=platform.settings.request_max_lifetime_seconds,
        utc_offset_minutes=platform.settings.calendar_utc_offset_minutes,
    )


def evaluation_service(platform: Platform, *, records: RecordsService | None = None) -> EvaluationService:
    """The evaluation service: its own chain connection (watched, as the release path's is),
    record reader and trail session; `close` releases them."""
    consents = platform.deployment.addresses.consents
    authorizer: AuthorizeCaller
    if platform.watch is None:
        authorizer = AuthorizeCaller(platform.chain.rpc_url, consents)
    else:
        platform.watch.start()
        authorizer = WatchedAuthorizer(platform.chain.rpc_url, consents, platform.watch)
    service = EvaluationService(
        platform.db,
        domain=evaluation_domain(platform.deployment.chain_id, platform.deployment.addresses.model_registry),
        reader=RecordReader(records or records_service(platform)),
        trail=AccessTrail(platform.db),
        authorizer=authorizer,
        models=platform.contracts.model_registry,
        model_caller=ModelCaller(platform.chain.rpc_url, platform.deployment.addresses.model_registry),
        documents=ModelDocuments(platform.db, indicators=indicator_files()),
        catalogue=default_catalogue(),
        commitments=CommitmentEvents(
            platform.chain.rpc_url,
            membership=platform.deployment.addresses.membership,
            agreements=platform.deployment.addresses.agreements,
            from_block=platform.deployment.block,
        ),
        max_block_age_seconds=platform.settings.max_block_age_seconds,
        max_lifetime_seconds=platform.settings.request_max_lifetime_seconds,
        utc_offset_minutes=platform.settings.calendar_utc_offset_minutes,
    )
    triggers = alert_triggers()
    service.on_evaluated = lambda session, institution, subject, grade, previous, categories: (
        triggers.on_evaluation(
            session,
            institution=institution,
            subject=subject,
            grade=grade,
            previous_grade=previous,
            categories=categories,
        )
    )
    return service


def loan_reports(platform: Platform, *, applications: ApplicationLookup) -> LoanReports:
    """Loan reporting: agreements checked on chain, applications in the financing market."""
    return LoanReports(
        platform.db, agreements=ChainAgreements(platform.contracts.agreements), applications=applications
    )


def kpi_service(platform: Platform) -> KpiService:
    settings = platform.settings
    return KpiService(
        platform.db,
        market_entities=settings.kpi_market_entities,
        timely_days=settings.kpi_timely_days,
        min_cell_enterprises=settings.kpi_min_cell_enterprises,
    )


def financing_service(
    platform: Platform, *, records: RecordsService, evaluation: EvaluationService
) -> FinancingService:
    """White lists, loan products, demands, matching and applications; the evaluation grade
    of an enterprise's profile is its own evaluation's (none while no model is active)."""

    def grade_of(caller: str, member: Member, subject: str) -> str | None:
        try:
            grade = evaluation.self_evaluation(caller, member, subject).grade
        except (ModelUnknown, ModelNotActive):
            return None
        return None if grade is None else str(grade)

    catalogue = default_catalogue()
    store = DocumentStore(platform.db, platform.contracts.publications)
    return FinancingService(
        store,
        Applications(platform.db, platform.contracts.consents, catalogue),
        reader=RecordReader(records),
        catalogue=catalogue,
        grade_of=grade_of,
        utc_offset_minutes=platform.settings.calendar_utc_offset_minutes,
    )


def anchor_worker(
    platform: Platform, *, logs: Sequence[str] | None = None, policy: AnchorPolicy | None = None
) -> AnchorWorker:
    """The anchoring worker of `logs` (default: the configured ones) under the configured policy."""
    settings = platform.settings
    return AnchorWorker(
        db=platform.db,
        checkpoints=platform.contracts.checkpoints,
        logs=list(logs if logs is not None else settings.anchor_logs),
        policy=policy or AnchorPolicy.from_settings(settings),
        from_block=platform.deployment.block,
    )


def alert_sender(
    platform: Platform, *, gate: DeliveryGate | None = None, policy: SenderPolicy | None = None
) -> AlertSender:
    """The alert sender over the platform's database, under the configured policy."""
    settings = platform.settings
    return AlertSender(
        db=platform.db,
        gate=gate or alert_gate(platform),
        policy=policy or SenderPolicy.from_settings(settings),
        environment=settings.environment,
        keyring=Keyring.from_settings(settings),
    )


def alert_endpoints(platform: Platform) -> AlertEndpoints:
    settings = platform.settings
    return AlertEndpoints(
        platform.db,
        environment=settings.environment,
        overlap_seconds=settings.alerts_secret_overlap_seconds,
        keyring=Keyring.from_settings(settings),
    )


def alert_feed(platform: Platform) -> AlertFeed:
    return AlertFeed(platform.db)


def portal_sessions(platform: Platform) -> PortalSessions:
    return PortalSessions(
        platform.db,
        lifetime_seconds=platform.settings.portal_session_seconds,
        chain_id=platform.deployment.chain_id,
    )


@dataclass(frozen=True)
class Services:
    """Every service the API serves, each built once over one platform (`build`)."""

    platform: Platform
    membership: MembershipService
    acts: ActsService
    catalogues: CatalogueService
    records: RecordsService
    bundles: ProofBundles
    tlog: TlogTiles
    accesses: AccessesService
    selfservice: SelfService
    release: ReleaseService
    evaluation: EvaluationService
    watches: WatchService
    evasion: EvasionService
    alert_endpoints: AlertEndpoints
    alert_feed: AlertFeed
    financing: FinancingService
    loans: LoanReports
    kpis: KpiService
    snapshots: KpiSnapshots
    portal: PortalSessions
    enterprise_pages: EnterprisePages

    @classmethod
    def build(cls, platform: Platform, *, clock: Clock | None = None) -> Services:
        """The services of `platform`; starts the release service's chain watch (`close` stops it)."""
        bundles = proof_bundles(platform)
        records = records_service(platform, bundles=bundles)
        evaluation = evaluation_service(platform, records=records)
        financing = financing_service(platform, records=records, evaluation=evaluation)
        membership = membership_service(platform)
        accesses = accesses_service(platform, bundles=bundles)
        self_service = selfservice(platform, records=records, bundles=bundles, clock=clock)
        return cls(
            platform=platform,
            membership=membership,
            acts=acts_service(platform),
            catalogues=records.catalogues,
            records=records,
            bundles=bundles,
            tlog=tlog_tiles(bundles),
            accesses=accesses,
            selfservice=self_service,
            release=release_service(platform, records=records),
            evaluation=evaluation,
            financing=financing,
            loans=loan_reports(platform, applications=financing.applications),
            kpis=kpi_service(platform),
            snapshots=KpiSnapshots(platform.db, financing.store),
            watches=watch_service(platform),
            evasion=evasion_service(platform),
            alert_endpoints=alert_endpoints(platform),
            alert_feed=alert_feed(platform),
            portal=portal_sessions(platform),
            enterprise_pages=EnterprisePages(self_service, accesses, evaluation, financing, membership),
        )

    def close(self) -> None:
        self.watches.close()
        self.evaluation.close()
        self.release.close()

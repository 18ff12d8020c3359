"""The composition root, second half: every service built over one `Platform`.

`ledger.platform` connects (database, chain, deployment, contracts bound once); this
module hands each service the collaborators it uses, so no service knows the platform
whole. The API builds `Services` once at start-up (`api.app`) and its routes reach them
through dependencies (`api.deps`); a CLI command builds the one service it needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ledger.chain.authorize_call import AuthorizeCaller
from ledger.chain.membership import Member
from ledger.chain.model_registry import ModelCaller
from ledger.domain.catalogue import default_catalogue
from ledger.evaluation.schema import default_indicators
from ledger.evaluation_release.documents import ModelDocuments
from ledger.evaluation_release.request import evaluation_domain
from ledger.evaluation_release.service import EvaluationService, ModelNotActive, ModelUnknown
from ledger.financing.applications import Applications
from ledger.financing.service import FinancingService
from ledger.financing.store import DocumentStore
from ledger.logs.anchor_worker import AnchorPolicy, AnchorWorker
from ledger.logs.bundles import ProofBundles
from ledger.logs.proofs import LogProofs
from ledger.logs.tlog import TlogTiles
from ledger.platform import Platform
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
    "anchor_worker",
    "catalogue_service",
    "evaluation_service",
    "financing_service",
    "membership_service",
    "proof_bundles",
    "records_service",
    "release_service",
    "selfservice",
    "tlog_tiles",
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
    """Records sealed under the configured keyring (parsed here, once)."""
    return RecordsService(
        platform.db,
        keyring=Keyring.from_settings(platform.settings),
        catalogues=catalogue_service(platform),
        bundles=bundles or proof_bundles(platform),
        encrypt_min_level=platform.settings.record_encrypt_min_level,
    )


def accesses_service(platform: Platform, *, bundles: ProofBundles | None = None) -> AccessesService:
    return AccessesService(platform.db, bundles=bundles or proof_bundles(platform))


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
    return EvaluationService(
        platform.db,
        domain=evaluation_domain(platform.deployment.chain_id, platform.deployment.addresses.model_registry),
        reader=RecordReader(records or records_service(platform)),
        trail=AccessTrail(platform.db),
        authorizer=authorizer,
        models=platform.contracts.model_registry,
        model_caller=ModelCaller(platform.chain.rpc_url, platform.deployment.addresses.model_registry),
        documents=ModelDocuments(platform.db, indicators=default_indicators()),
        catalogue=default_catalogue(),
        max_block_age_seconds=platform.settings.max_block_age_seconds,
        max_lifetime_seconds=platform.settings.request_max_lifetime_seconds,
    )


def financing_service(
    platform: Platform, *, records: RecordsService, evaluation: EvaluationService
) -> FinancingService:
    """White lists, loan products, demands, matching and applications; the evaluation grade
    of an enterprise's profile is its own evaluation's (none while no model is active)."""

    def grade_of(caller: str, member: Member, subject: str) -> str | None:
        try:
            grade = evaluation.self_evaluation(caller, member, subject).get("grade")
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
    financing: FinancingService

    @classmethod
    def build(cls, platform: Platform, *, clock: Clock | None = None) -> Services:
        """The services of `platform`; starts the release service's chain watch (`close` stops it)."""
        bundles = proof_bundles(platform)
        records = records_service(platform, bundles=bundles)
        evaluation = evaluation_service(platform, records=records)
        return cls(
            platform=platform,
            membership=membership_service(platform),
            acts=acts_service(platform),
            catalogues=records.catalogues,
            records=records,
            bundles=bundles,
            tlog=tlog_tiles(bundles),
            accesses=accesses_service(platform, bundles=bundles),
            selfservice=selfservice(platform, records=records, bundles=bundles, clock=clock),
            release=release_service(platform, records=records),
            evaluation=evaluation,
            financing=financing_service(platform, records=records, evaluation=evaluation),
        )

    def close(self) -> None:
        self.evaluation.close()
        self.release.close()

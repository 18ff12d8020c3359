"""The composition root, first half: from settings to a connected platform.

A `Platform` is the database, the chain client, the deployment and its contracts bound
once (`contracts.membership`, `contracts.consents` …); `ledger.wiring` builds every
service from it. Only these two modules (and the CLI, which starts processes) know the
platform whole; each service receives the collaborators it uses.

`bootstrap` does what `credit-ledger up` needs before serving: start the devnet when no
RPC URL is configured, compile, deploy or verify the deployment, migrate the database.
`Platform.open` only connects, for processes that find everything already in place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from eth_account import Account

from ledger.chain.client import ChainClient
from ledger.chain.contracts import Contracts
from ledger.chain.deploy import Deployment, Governance, ensure_deployed, verify_deployment
from ledger.chain.finality import parse_finality
from ledger.chain.journal import ActJournal
from ledger.devnet import Devnet, devnet_key
from ledger.devnet_ethereumjs import EthereumjsNetwork
from ledger.errors import LedgerError
from ledger.services.chain_watch import ChainWatch
from ledger.settings import Settings
from ledger.storage.database import Database, migrate

#: devnet governance: accounts 1-3 are operators (2 of 3), account 0 relays (DEVNET ONLY)
DEVNET_OPERATOR_INDEXES = (1, 2, 3)


@dataclass
class Platform:
    settings: Settings
    db: Database
    chain: ChainClient
    deployment: Deployment
    #: the chain-behind gate of releases and proofs (None: not watched, as in unit tests)
    watch: ChainWatch | None = None

    @cached_property
    def contracts(self) -> Contracts:
        """Every contract of the deployment, bound once to this platform's chain client."""
        return Contracts.bind(self.chain, self.deployment.addresses)

    @classmethod
    def open(cls, settings: Settings) -> Platform:
        chain = connect_chain(settings)
        if not settings.manifest_path.exists():
            raise LedgerError(
                f"no deployment manifest at {settings.manifest_path}: run `credit-ledger up` first"
            )
        deployment = Deployment.load(settings.manifest_path)
        verify_deployment(chain, deployment)
        return watched(cls(settings, Database(settings.effective_database_url), chain, deployment))


def watched(platform: Platform) -> Platform:
    """The platform with its relayed calls journaled and its chain watched (`ledger.services.chain_watch`).

    The watch's thread is started by whoever serves releases (`ledger.wiring.release_service`).
    """
    journal = ActJournal(platform.db, platform.deployment.chain_id)
    platform.chain.journal = journal
    platform.watch = ChainWatch(
        platform.chain,
        journal,
        poll_seconds=platform.settings.chain_watch_poll_seconds,
        skip_contracts=[platform.deployment.addresses.checkpoints],
    )
    platform.chain.gate = platform.watch.refuse_if_behind
    return platform


def devnet_for(settings: Settings) -> Devnet:
    return Devnet(
        settings.devnet_dir,
        port=settings.devnet_port,
        chain_id=settings.chain_id,
        block_time=settings.devnet_block_time_seconds or None,
        mixed_mining=settings.devnet_mixed_mining,
    )


def ethereumjs_network_for(settings: Settings, nodes: int | None = None) -> EthereumjsNetwork:
    """The ethereumjs devnet under the data directory: node i on `devnet_port + i` (RPC) and
    `devnet_p2p_port + i`; without `nodes`, as many as the directory holds (at least one)."""
    data_dir = settings.devnet_dir / "ethereumjs"
    if nodes is None:
        nodes = max(1, len(list(data_dir.glob("node-*"))))
    return EthereumjsNetwork.consecutive(
        data_dir, nodes, rpc_port=settings.devnet_port, p2p_port=settings.devnet_p2p_port,
        chain_id=settings.chain_id,
    )  # fmt: skip


def connect_chain(settings: Settings) -> ChainClient:
    """The relayer's client, acknowledging transactions under the configured finality rule."""
    chain = ChainClient.connect(settings.effective_rpc_url, settings.relayer_signer(), poa=settings.poa)
    state_file = devnet_for(settings).state_file if settings.uses_devnet else None
    chain.finality = parse_finality(
        settings.effective_finality, state_file=state_file, block_at=chain.block_at
    )
    chain.durable_timeout = settings.finality_timeout_seconds
    chain.priority_fee = settings.priority_fee_wei
    chain.receipt_timeout = settings.receipt_timeout_seconds
    return chain


def governance_for(settings: Settings) -> Governance:
    relayer = settings.relayer_signer().address
    if settings.operators:
        operators = settings.operators
    elif settings.uses_devnet:
        operators = [Account.from_key(devnet_key(i)).address for i in DEVNET_OPERATOR_INDEXES]
    else:
        raise LedgerError("LEDGER_OPERATORS must name the initial operators for a first deployment")
    return Governance(
        operators=operators,
        quorum=settings.quorum,
        proposal_lifetime_seconds=settings.proposal_lifetime_seconds,
        platform=relayer,
    )


def bootstrap(settings: Settings, *, on_step: Callable[[str], None] | None = None) -> tuple[Platform, bool]:
    """Bring every dependency up; returns the platform and whether contracts were deployed now."""
    say = on_step or (lambda _msg: None)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if settings.uses_devnet:
        devnet = devnet_for(settings)
        say(f"starting local chain (anvil) on {devnet.url}, state in {devnet.data_dir}")
        devnet.start()
    chain = connect_chain(settings)
    say(f"chain {chain.chain_id()} at block {chain.block_number()}")
    deployment, deployed_now = ensure_deployed(chain, settings.manifest_path, governance_for(settings))
    say(
        ("deployed contracts: " if deployed_now else "contracts already deployed: ")
        + ", ".join(f"{n}={a}" for n, a in deployment.addresses.by_name().items())
    )
    say(f"migrating database {_redact(settings.effective_database_url)}")
    migrate(settings.effective_database_url)
    platform = watched(Platform(settings, Database(settings.effective_database_url), chain, deployment))
    return platform, deployed_now


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url

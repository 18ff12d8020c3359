"""Configuration from the environment (`LEDGER_*`) and an optional env file.

The embedded defaults run everything on one machine: a SQLite file and a local anvil
under the data directory, with the devnet's public keys. Outside development the
settings refuse those keys, so a production deployment cannot start on them by mistake.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path
from typing import Literal

from eth_account import Account
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.chain.signer import SignerError, TransactionSigner, as_signer, keystore_signer
from ledger.devnet import devnet_key
from ledger.domain.log_names import STANDARD_LOGS


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LEDGER_",
        env_file=os.environ.get("LEDGER_ENV_FILE", "ledger.env"),
        env_file_encoding="utf-8",
        extra="ignore",
    )

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Field(
        default=Path(".data"), description="where the SQLite file, devnet state and manifest live"
    )
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite in data_dir")
    rpc_url: str | None = Field(
        default=None, description="EVM JSON-RPC endpoint; default: start the local devnet"
    )
    poa: bool = Field(
        default=False, description="inject the extra-data middleware of PoA (Clique/QBFT/IBFT) chains"
    )
    devnet_port: int = 8545
    devnet_p2p_port: int = Field(
        default=30303, description="first peer-to-peer port of the ethereumjs devnet's nodes (one each)"
    )
    chain_id: int = 31337
    relayer_key: SecretStr | None = Field(default=None, description="key of the platform account that relays")
    relayer_keystore: Path | None = Field(
        default=None,
        description="the relayer's key as a Web3 secret-storage keystore (or relayer_key)",
    )
    relayer_keystore_password_file: Path | None = Field(
        default=None, description="file holding the relayer keystore's password (a mounted secret)"
    )
    operators: list[str] = Field(
        default_factory=list, description="initial operator addresses (first deployment)"
    )
    quorum: int = 2
    proposal_lifetime_seconds: int = 7 * 24 * 3600
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_workers: int = 1
    request_max_age_seconds: int = Field(
        default=300, description="signed API requests older than this are stale"
    )
    portal_session_seconds: int = Field(
        default=8 * 3600, gt=0, description="a portal session (its cookie) lasts this long after sign-in"
    )
    # -- the release path's clocks ----------------------------------------------------------
    max_block_age_seconds: int = Field(
        default=30,
        gt=0,
        description="a release is refused (503) when the chain's block it was decided at is older than this",
    )
    request_max_lifetime_seconds: int = Field(
        default=3600,
        gt=0,
        description="a data request's deadline may lie at most this far ahead (refused by name otherwise)",
    )

    @model_validator(mode="after")
    def _refuse_devnet_keys_outside_development(self) -> Settings:
        if self.environment == "production":
            if self.rpc_url is None:
                raise ValueError("LEDGER_RPC_URL is required in production (the devnet is for development)")
            if self.relayer_keystore is None and (
                self.relayer_key is None or self.relayer_key.get_secret_value() in _devnet_keys()
            ):
                raise ValueError(
                    "production needs the relayer's key: LEDGER_RELAYER_KEYSTORE (with"
                    " LEDGER_RELAYER_KEYSTORE_PASSWORD_FILE) or a non-devnet LEDGER_RELAYER_KEY"
                )
        if self.relayer_keystore is not None:
            if self.relayer_key is not None:
                raise ValueError("set LEDGER_RELAYER_KEY or LEDGER_RELAYER_KEYSTORE, not both")
            if self.relayer_keystore_password_file is None:
                raise ValueError("LEDGER_RELAYER_KEYSTORE needs LEDGER_RELAYER_KEYSTORE_PASSWORD_FILE")
        return self

    @property
    def uses_devnet(self) -> bool:
        return self.rpc_url is None

    @property
    def devnet_dir(self) -> Path:
        return self.data_dir / "devnet"

    @property
    def manifest_path(self) -> Path:
        return self.data_dir / "deployment.json"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'ledger.db').resolve()}"

    @property
    def effective_rpc_url(self) -> str:
        return self.rpc_url or f"http://127.0.0.1:{self.devnet_port}"

    def relayer_signer(self) -> TransactionSigner:
        """The relayer's signer: a keystore, a configured key, or devnet account 0."""
        if self.relayer_keystore is not None:
            assert self.relayer_keystore_password_file is not None  # checked at load
            signer: TransactionSigner = keystore_signer(
                self.relayer_keystore, self.relayer_keystore_password_file
            )
            if self.environment == "production" and signer.address in _devnet_addresses():
                raise SignerError("the relayer keystore holds a devnet key, refused in production")
            return signer
        if self.relayer_key is not None:
            return as_signer(self.relayer_key.get_secret_value())
        return as_signer(devnet_key(0))  # DEVNET ONLY: account 0 of the public test mnemonic

    # -- credit records, Merkle logs and anchoring -------------------------------------------
    # Keys are configuration, never code: `record_keys` maps key ids to base64 keys so a new
    # key can be made active (`record_key_id`) while records sealed under older ones still
    # open. Left empty in development, fixed development keys are derived
    # (`dev_record_keys`); production refuses to start without real keys.
    record_cipher: Literal["aes-256-gcm", "sm4-gcm"] = Field(
        default="aes-256-gcm", description="cipher sealing sensitive record fields (sm4-gcm: GB/T 39786)"
    )
    record_keys: dict[str, SecretStr] = Field(
        default_factory=dict,
        description='data keys by id, base64: 32 bytes for aes-256-gcm, 16 for sm4-gcm; {"2026-01": "..."}',
    )
    record_key_id: str | None = Field(default=None, description="key id new records are sealed with")
    record_mac_key: SecretStr | None = Field(
        default=None, description="base64 key (>= 32 bytes) of the HMAC that recognises re-submitted content"
    )
    record_encrypt_min_level: int = Field(
        default=3, ge=1, le=5, description="fields at this level or above, or with a masking rule, are sealed"
    )
    ingest_max_body_bytes: int = Field(default=64 * 1024 * 1024, ge=1024, description="bulk body limit (413)")
    ingest_max_records: int = Field(default=50_000, ge=1, description="records per bulk request (413 above)")
    ingest_max_single_bytes: int = Field(default=1024 * 1024, ge=1024, description="single-record body limit")
    # the HTTP edge (api.edge): body limits before reading, refusal throttling, audit retention
    edge_max_body_bytes: int = Field(
        default=256 * 1024, ge=1024, description="body limit of routes without their own (413)"
    )
    edge_unauthenticated_body_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        description="most a large-body route reads before its signer is known to hold the route's role",
    )
    release_max_body_bytes: int = Field(default=16 * 1024, ge=1024, description="POST /releases body limit")
    edge_refusals_per_source: int = Field(
        default=300, ge=1, description="refusals a source address may cause per window before 429"
    )
    edge_refusals_per_signer: int = Field(
        default=300, ge=1, description="refusals a claimed signer may cause per window before 429"
    )
    edge_refusal_window_seconds: int = Field(default=60, ge=1, description="the throttling window")
    audit_retention_days: int = Field(
        default=400, ge=183, description="MLPS audit records are kept this long (six months at least)"
    )
    anchor_logs: list[str] = Field(
        default_factory=lambda: list(STANDARD_LOGS), description="logs the worker anchors"
    )
    anchor_max_entries: int = Field(default=10_000, ge=1, description="anchor once this many are pending")
    anchor_max_delay_seconds: float = Field(default=10.0, gt=0, description="or after the oldest waited")
    anchor_poll_seconds: float = Field(default=0.5, gt=0, description="how often the worker looks at logs")
    anchor_in_up: bool = Field(default=True, description="`credit-ledger up` runs the anchoring worker too")

    @model_validator(mode="after")
    def _refuse_development_record_keys_outside_development(self) -> Settings:
        if self.environment == "production":
            problems = production_key_problems(self)
            if problems:
                raise ValueError("; ".join(problems))
        return self

    # -- enterprise self-service: objections and credit repair ------------------------------
    # Deadlines are policy, and uncertain (domain-rules.md §4: 上海市社会信用条例 Art. 36 as a
    # local template, 征信业管理条例 Art. 25 for the outer bound; §3 for repair), so they are
    # settings. Working days follow the operators' holiday calendar (`PUT /calendar/days/…`).
    objection_platform_working_days: int = Field(
        default=5, ge=1, le=60, description="the platform decides an objection within (working days)"
    )
    objection_forward_working_days: int = Field(
        default=2, ge=1, le=60, description="or forwards it to the provider within (working days)"
    )
    objection_provider_working_days: int = Field(
        default=5, ge=1, le=60, description="the provider decides a forwarded objection within (working days)"
    )
    objection_outer_bound_days: int = Field(
        default=20, ge=1, le=365, description="every objection is decided within (calendar days from filing)"
    )
    repair_decision_working_days: int = Field(
        default=3, ge=1, le=60, description="an operator decides a repair application within (working days)"
    )
    calendar_utc_offset_minutes: int = Field(
        default=480, ge=-720, le=840, description="offset of the calendar the working days are counted in"
    )

    # -- loan reporting and the KPIs of 四(四) (ledger.financing) -----------------------------
    kpi_market_entities: int | None = Field(
        default=None, ge=1, description="the city's market-entity total the onboarded SMEs are set against"
    )
    kpi_timely_days: int = Field(
        default=7, ge=0, le=3650, description="a record received within this many days of its event is timely"
    )
    kpi_min_cell_enterprises: int = Field(
        default=3, ge=1, le=1000,
        description="a KPI cell resting on fewer enterprises is suppressed (but for operators and auditors)",
    )  # fmt: skip
    loan_default_days_overdue: int = Field(
        default=90, ge=1, description="a loan this many days overdue (ever) is a default in the outcomes"
    )
    loan_outcome_window_months: int = Field(
        default=12, ge=1, le=120, description="a loan observed this long without default is a non-default"
    )

    # -- durable acknowledgements and a chain that comes back behind ------------------------
    # See ledger.chain.finality and ledger.services.chain_watch for the reasoning.
    finality: str = Field(
        default="auto",
        description="when an act is acknowledged: devnet-state, finalized, confirmations:N, inclusion "
        "(auto: devnet-state on the local devnet, finalized otherwise)",
    )
    receipt_timeout_seconds: float = Field(
        default=30.0, gt=0, description="a relayed transaction not in a block by then is refused (503)"
    )
    finality_timeout_seconds: float = Field(
        default=30.0, gt=0, description="an act not durable by then is refused (503) and reconciled later"
    )
    devnet_block_time_seconds: int = Field(
        default=2,
        ge=0,
        description="the devnet seals a block this often besides mining each transaction (0: off)",
    )
    priority_fee_wei: int | None = Field(
        default=None,
        ge=0,
        description="tip per gas of relayed transactions (default: the node's eth_maxPriorityFeePerGas)",
    )
    devnet_mixed_mining: bool = Field(
        default=True,
        description="the devnet mines each transaction at once as well (false: transactions wait for "
        "the next sealed block, as on a real network)",
    )
    chain_watch_poll_seconds: float = Field(
        default=0.25, gt=0, description="how often the chain is compared with the highest block relied on"
    )

    # -- alerts to institutions: the sender (ledger.alerts) ---------------------------------
    alerts_in_up: bool = Field(default=True, description="`credit-ledger up` runs the alert sender too")
    alerts_endpoint_concurrency: int = Field(
        default=4, ge=1, le=64, description="requests in flight to one endpoint at a time"
    )
    alerts_timeout_seconds: float = Field(default=10.0, gt=0, description="one delivery attempt's bound")
    alerts_retry_horizon_seconds: float = Field(
        default=3 * 24 * 3600.0, gt=0, description="retries span this long before an alert is dead"
    )
    alerts_secret_overlap_seconds: int = Field(
        default=24 * 3600, ge=0, description="after a rotation the previous secret signs too for this long"
    )

    @property
    def effective_finality(self) -> str:
        if self.finality != "auto":
            return self.finality
        return "devnet-state" if self.uses_devnet else "finalized"

    @model_validator(mode="after")
    def _refuse_inclusion_finality_in_production(self) -> Settings:
        if self.environment == "production" and self.effective_finality == "inclusion":
            raise ValueError(
                "LEDGER_FINALITY=inclusion acknowledges acts a chain can still lose: not in production"
            )
        return self


def _devnet_keys() -> set[str]:
    return {devnet_key(i) for i in range(10)}


def _devnet_addresses() -> set[str]:
    return {Account.from_key(k).address for k in _devnet_keys()}


#: bytes of a record key, per `record_cipher` (`ledger.records.crypto` seals with them)
RECORD_KEY_SIZES = {"aes-256-gcm": 32, "sm4-gcm": 16}


# DEVELOPMENT ONLY: derived from public strings, so they protect nothing. Refused in production.
def dev_record_keys() -> dict[str, bytes]:
    """The record keys of development, by key id (`dev-<cipher>`)."""
    return {
        f"dev-{cipher}": hashlib.sha256(f"credit-ledger DEVELOPMENT ONLY {cipher} key".encode()).digest()[
            :size
        ]
        for cipher, size in RECORD_KEY_SIZES.items()
    }


# DEVELOPMENT ONLY, as above.
def dev_mac_key() -> bytes:
    """The content-MAC key of development."""
    return hashlib.sha256(b"credit-ledger DEVELOPMENT ONLY content MAC key").digest()


def production_key_problems(settings: Settings) -> list[str]:
    """Why these settings' record keys must not run in production (empty when they may)."""
    problems: list[str] = []
    dev = set(dev_record_keys().values())
    if not settings.record_keys:
        problems.append("LEDGER_RECORD_KEYS must be set in production")
    if not settings.record_key_id:
        problems.append("LEDGER_RECORD_KEY_ID must be set in production")
    for kid, value in settings.record_keys.items():
        try:
            raw = base64.b64decode(value.get_secret_value(), validate=True)
        except (binascii.Error, ValueError):
            problems.append(f"record key {kid!r} is not base64")
            continue
        if raw in dev:
            problems.append(f"record key {kid!r} is a development key")
    if settings.record_mac_key is None:
        problems.append("LEDGER_RECORD_MAC_KEY must be set in production")
    else:
        try:
            mac = base64.b64decode(settings.record_mac_key.get_secret_value(), validate=True)
        except (binascii.Error, ValueError):
            problems.append("LEDGER_RECORD_MAC_KEY is not base64")
        else:
            if mac == dev_mac_key():
                problems.append("LEDGER_RECORD_MAC_KEY is the development key")
    return problems

"""Configuration from the environment (`LEDGER_*`) and an optional env file.

The embedded defaults run everything on one machine: a SQLite file and a local anvil
under the data directory, with the devnet's public keys. Outside development the
settings refuse those keys, so a production deployment cannot start on them by mistake.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.devnet import devnet_key


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LEDGER_",
        env_file=os.environ.get("LEDGER_ENV_FILE", "ledger.env"),
        env_file_encoding="utf-8",
        extra="ignore",
    )

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Field(default=Path(".data"), description="where the SQLite file, devnet state and manifest live")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite in data_dir")
    rpc_url: str | None = Field(default=None, description="EVM JSON-RPC endpoint; default: start the local devnet")
    poa: bool = Field(default=False, description="inject the extra-data middleware of PoA (Clique/QBFT/IBFT) chains")
    devnet_port: int = 8545
    chain_id: int = 31337
    relayer_key: SecretStr | None = Field(default=None, description="key of the platform account that relays")
    operators: list[str] = Field(default_factory=list, description="initial operator addresses (first deployment)")
    quorum: int = 2
    proposal_lifetime_seconds: int = 7 * 24 * 3600
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_workers: int = 1
    request_max_age_seconds: int = Field(default=300, description="signed API requests older than this are stale")

    @model_validator(mode="after")
    def _refuse_devnet_keys_outside_development(self) -> Settings:
        if self.environment == "production":
            if self.rpc_url is None:
                raise ValueError("LEDGER_RPC_URL is required in production (the devnet is for development)")
            if self.relayer_key is None or self.relayer_key.get_secret_value() in _devnet_keys():
                raise ValueError("LEDGER_RELAYER_KEY must be set to a non-devnet key in production")
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

    def relayer_private_key(self) -> str:
        if self.relayer_key is not None:
            return self.relayer_key.get_secret_value()
        return devnet_key(0)  # DEVNET ONLY: account 0 of the public test mnemonic


def _devnet_keys() -> set[str]:
    return {devnet_key(i) for i in range(10)}

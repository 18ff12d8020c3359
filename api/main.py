"""Entry point for uvicorn workers: each builds its own platform from the settings."""

from __future__ import annotations

from fastapi import FastAPI

from api.app import create_app
from ledger.platform import Platform
from ledger.settings import Settings


def create() -> FastAPI:
    return create_app(Platform.open(Settings()))

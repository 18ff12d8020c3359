"""Entry point for uvicorn workers: each builds its own platform from the settings."""

from __future__ import annotations

import sys

from fastapi import FastAPI

from api.app import create_app
from ledger.platform import Platform
from ledger.settings import Settings

#: GIL switch interval of an API worker. The release path's worker thread gives up the
#: GIL at every database and chain round trip; at Python's default of 5 ms it can then
#: wait that long behind the endpoints' threads to take it back, once per round trip
#: (the README's measured figures).
SWITCH_INTERVAL_SECONDS = 0.001


def create() -> FastAPI:
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    return create_app(Platform.open(Settings()))

"""Entry point for uvicorn workers: each builds its own platform from the settings."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading

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
    exit_with_supervisor()
    return create_app(Platform.open(Settings()))


def exit_with_supervisor() -> None:
    """In an API process that `credit-ledger up --api-processes N` supervises: stop (gracefully,
    as on SIGTERM) when the supervisor dies, even by SIGKILL, so that a node's API processes go
    with it instead of holding its port unsupervised (gunicorn's workers do the same).

    Nothing to do when uvicorn serves in the process that called it (one API process)."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def _watch() -> None:
        parent.join()  # returns once the parent has exited, however it ended
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=_watch, name="supervisor-watch", daemon=True).start()

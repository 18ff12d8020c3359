"""The baseline of bench/release.py: the same records read over HTTP with no checks at all.

No signature, no chain, no masking, no trail: the subject's current records of the
category, read as the release path reads them (the same reader: one statement in an
autocommit session, opened fields cached) and returned as JSON. Served like the API (uvicorn,
uvloop, httptools).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from ledger.platform import Platform
from ledger.release.reader import RecordReader
from ledger.settings import Settings
from ledger.wiring import records_service


def create() -> FastAPI:
    platform = Platform.open(Settings())
    reader = RecordReader(records_service(platform))
    app = FastAPI()

    @app.get("/bare/{subject}/{category}")
    def bare(subject: str, category: str) -> dict[str, Any]:
        with platform.db.autocommit_session() as session:  # as the release path reads
            found = reader.current(session, [subject], [category]).get(subject, [])
        return {
            "subject": subject,
            "records": [{"record_id": r.record_id, "version": r.version, "fields": r.fields} for r in found],
        }

    return app

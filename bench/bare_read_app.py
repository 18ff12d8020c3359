"""The baseline of bench/release.py: the same records read over HTTP with no checks at all.

No signature, no chain, no masking, no trail: rows of the subject's category, opened
(decrypted) and returned as JSON. Served like the API (uvicorn, uvloop, httptools).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import select

from ledger.platform import Platform
from ledger.records.models import CreditRecord
from ledger.records.service import RecordsService
from ledger.settings import Settings


def create() -> FastAPI:
    platform = Platform.open(Settings())
    records = RecordsService(platform)
    app = FastAPI()

    @app.get("/bare/{subject}/{category}")
    def bare(subject: str, category: str) -> dict[str, Any]:
        with platform.db.session() as session:
            rows = session.scalars(
                select(CreditRecord).where(CreditRecord.subject == subject, CreditRecord.category == category)
            ).all()
        return {
            "subject": subject,
            "records": [
                {"record_id": r.record_id, "version": r.version, "fields": records.open_row(r).fields}
                for r in rows
            ],
        }

    return app

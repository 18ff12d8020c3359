"""`Services.close` closes every service that holds resources of its own (sessions, threads)."""

from __future__ import annotations

import typing
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any, cast

from ledger.domain.catalogue import default_catalogue
from ledger.financing.applications import Applications
from ledger.financing.service import FinancingService
from ledger.financing.store import DocumentStore
from ledger.release.reader import RecordReader
from ledger.wiring import Services


class Closable:
    def __init__(self, name: str, closed: list[str]) -> None:
        self.name = name
        self.closed = closed

    def close(self) -> None:
        self.closed.append(self.name)


def test_every_service_with_a_close_is_closed() -> None:
    closed: list[str] = []
    services = Services(**{f.name: cast(Any, Closable(f.name, closed)) for f in fields(Services)})
    services.close()
    hints = typing.get_type_hints(Services)
    holding = {name for name, kind in hints.items() if hasattr(kind, "close")}
    assert "financing" in holding  # its record reader keeps a standing session
    assert sorted(closed) == sorted(holding)


def test_the_financing_service_closes_its_record_reader() -> None:
    closed: list[str] = []

    class Store:
        db = object()

    financing = FinancingService(
        cast(DocumentStore, Store()),
        cast(Applications, object()),
        reader=cast(RecordReader, Closable("reader", closed)),
        catalogue=default_catalogue(),
        grade_of=lambda _caller, _member, _subject: None,
        clock=lambda: datetime.now(UTC),
    )
    financing.close()
    assert closed == ["reader"]

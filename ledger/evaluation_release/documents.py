"""The model documents and cards, stored by content hash before their version is proposed.

An operator stores a model document with its card (`store`); the `ModelRegistry` then
governs the version naming their hashes. Storing checks what publication must refuse by
name: a malformed document or card, a card describing another model, a model reading
an indicator file the platform does not hold (the platform holds every shipped version by
hash, `ledger.evaluation.indicator_files`: a v1 model and a v2 model are both stored).
Storing the same pair again is a no-op; another card for a stored model is a conflict (its
version on chain names one card).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from ledger.errors import Conflict, NotFound
from ledger.evaluation.card import ModelCard, parse_card
from ledger.evaluation.errors import ModelDocumentError
from ledger.evaluation.indicator_files import IndicatorFiles, UnknownIndicatorFile
from ledger.evaluation.indicators import IndicatorFile
from ledger.evaluation.model import ModelDocument, check_model_against, parse_model
from ledger.evaluation_release.models import EvaluationModelRow
from ledger.storage.database import Database


class ModelDocumentUnknown(NotFound):
    code = "model_document_unknown"


@dataclass(frozen=True)
class StoredModel:
    model: ModelDocument
    card: ModelCard
    model_hash: bytes
    card_hash: bytes
    indicators: IndicatorFile  # the indicator file the model names, by hash


class ModelDocuments:
    """Model documents by hash; a stored document never changes, so reads are cached."""

    def __init__(self, db: Database, *, indicators: IndicatorFiles) -> None:
        self.db = db
        self.indicators = indicators  # every indicator file held, by hash
        self._cache: dict[bytes, StoredModel] = {}
        self._lock = threading.Lock()

    def check(self, document: str | bytes, card: str | bytes) -> StoredModel:
        """Parse and check a document and its card, refusing by name (`ModelDocumentError`)."""
        model = parse_model(document)
        parsed_card = parse_card(card)
        model_hash = model.content_hash()
        if parsed_card.model_sha256 != model_hash.hex():
            raise ModelDocumentError(
                f"card.model_sha256: the card describes model {parsed_card.model_sha256[:12]}…, "
                f"not {model_hash.hex()[:12]}…"
            )
        ref = model.indicator_file
        try:
            indicators = self.indicators.named(ref.version, ref.sha256)
        except UnknownIndicatorFile as exc:
            raise ModelDocumentError(exc.message) from None
        check_model_against(model, indicators)
        return StoredModel(model, parsed_card, model_hash, parsed_card.content_hash(), indicators)

    def store(self, document: str | bytes, card: str | bytes, *, operator: str) -> StoredModel:
        """Check and keep a model document with its card (idempotent)."""
        stored = self.check(document, card)
        with self.db.session() as session:
            row = session.get(EvaluationModelRow, stored.model_hash)
            if row is not None:
                if bytes(row.card_hash) != stored.card_hash:
                    raise Conflict(
                        f"model {stored.model_hash.hex()[:12]}… is stored with another card "
                        f"({bytes(row.card_hash).hex()[:12]}…)"
                    )
                return stored
            session.add(
                EvaluationModelRow(
                    model_hash=stored.model_hash,
                    document=stored.model.canonical().decode(),
                    card_hash=stored.card_hash,
                    card=stored.card.canonical().decode(),
                    stored_by=operator,
                    stored_at=datetime.now(UTC),
                )
            )
        return stored

    def get(self, model_hash: bytes) -> StoredModel:
        """The stored model whose document hashes to `model_hash`; `ModelDocumentUnknown` if none."""
        with self._lock:
            cached = self._cache.get(model_hash)
        if cached is not None:
            return cached
        with self.db.session() as session:
            row = session.scalars(
                select(EvaluationModelRow).where(EvaluationModelRow.model_hash == model_hash)
            ).one_or_none()
            if row is None:
                raise ModelDocumentUnknown(f"the platform holds no model document {model_hash.hex()[:12]}…")
            stored = self.check(row.document, row.card)
        if stored.model_hash != model_hash:  # the stored text no longer hashes as recorded
            raise ModelDocumentUnknown(
                f"the stored model document {model_hash.hex()[:12]}… does not match its hash"
            )
        with self._lock:
            self._cache[model_hash] = stored
        return stored

"""Catalogue versions: which one is in force, their content, and publishing a new one.

The chain decides which version is current (`CatalogueRegistry`, published by an
operator's EIP-712 signature); the database keeps each version's exact content so any
record can be re-read under the version it was validated against. A packaged
catalogue (ledger/catalogue/catalogue-vN.json) counts as known content when its hash is
the one on chain for its version number.

Publishing writes the content first and relays the operator's signed act second, so a
crash in between leaves content without a chain version (harmless, retried) rather than
a chain version whose content nobody holds.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eth_utils import to_checksum_address
from pydantic import ValidationError
from sqlalchemy import select

from ledger.chain.catalogue_registry import CatalogueRegistryContract, PublishCatalogueMessage
from ledger.chain.eip712 import Signed
from ledger.domain.catalogue import Catalogue, packaged_catalogues
from ledger.domain.catalogue_versions import catalogue_changes
from ledger.errors import Conflict, InvalidInput, NotAuthorized, NotFound, Unavailable
from ledger.records.models import CatalogueVersionRow
from ledger.storage.database import Database

__all__ = [
    "CatalogueRejected",
    "CatalogueService",
    "NoCatalogue",
    "PublishedCatalogue",
]


class NoCatalogue(Conflict):
    """No catalogue is published on chain yet, so no record can be validated."""

    code = "no_catalogue"


class CatalogueRejected(InvalidInput):
    """A catalogue submitted for publication is invalid or incompatible with earlier versions."""

    code = "invalid_catalogue"


@dataclass(frozen=True)
class PublishedCatalogue:
    version: int
    content_hash: bytes
    public_categories: int
    catalogue: Catalogue
    transaction_hash: bytes | None = None
    block_number: int | None = None


_lock = threading.Lock()
_by_hash: dict[bytes, Catalogue] = {}  # content is immutable given its hash


def _parse(content: str, expected_hash: bytes) -> Catalogue:
    with _lock:
        cached = _by_hash.get(expected_hash)
    if cached is not None:
        return cached
    catalogue = Catalogue.model_validate(json.loads(content))
    if catalogue.content_hash() != expected_hash:
        raise Unavailable(f"stored catalogue v{catalogue.version} does not hash to its recorded hash")
    with _lock:
        _by_hash[expected_hash] = catalogue
    return catalogue


def _incompatibilities(old: Catalogue, new: Catalogue) -> list[str]:
    """Bits are positions in on-chain masks: a name keeps its bit and a bit its name, forever."""
    problems: list[str] = []
    for what, old_items, new_items in (
        ("category", [(c.name, c.bit) for c in old.categories], [(c.name, c.bit) for c in new.categories]),
        ("purpose", [(p.name, p.bit) for p in old.purposes], [(p.name, p.bit) for p in new.purposes]),
    ):
        old_bits = dict(old_items)
        old_names = {bit: name for name, bit in old_items}
        for name, bit in new_items:
            if name in old_bits and old_bits[name] != bit:
                problems.append(f"{what} {name!r} moved from bit {old_bits[name]} to {bit}")
            elif bit in old_names and old_names[bit] != name:
                problems.append(f"{what} bit {bit} was {old_names[bit]!r} in v{old.version}, now {name!r}")
    return problems


class CatalogueService:
    """Catalogue versions as the chain and the database know them."""

    def __init__(self, db: Database, registry: CatalogueRegistryContract) -> None:
        self.db = db
        self.registry = registry

    # -- reading ------------------------------------------------------------------------

    def current(self) -> PublishedCatalogue:
        """The version in force on chain now, with its content; `NoCatalogue` before any."""
        on_chain = self.registry.current()
        if on_chain.version == 0:
            raise NoCatalogue(
                "no catalogue is published on chain yet; an operator must publish one "
                "(`credit-ledger catalogue publish`) before records can be ingested"
            )
        catalogue, row = self._content(on_chain.version, on_chain.content_hash)
        return PublishedCatalogue(
            on_chain.version,
            on_chain.content_hash,
            on_chain.public_categories,
            catalogue,
            None if row is None else row[0],
            None if row is None else row[1],
        )

    def version(self, version: int) -> Catalogue:
        """Catalogue `version` as published (records are read under the version they name)."""
        content_hash = self.registry.version_hash(version)
        return self._content(version, content_hash)[0]

    def _content(
        self, version: int, content_hash: bytes
    ) -> tuple[Catalogue, tuple[bytes | None, int | None] | None]:
        with self.db.session() as session:
            row = session.get(CatalogueVersionRow, version)
            if row is not None and bytes(row.content_hash) == content_hash:
                tx = None if row.transaction_hash is None else bytes(row.transaction_hash)
                return _parse(row.content, content_hash), (tx, row.block_number)
        for packaged in packaged_catalogues():  # v1, v2, ... shipped in ledger/catalogue
            if packaged.version == version and packaged.content_hash() == content_hash:
                with _lock:
                    _by_hash[content_hash] = packaged
                return packaged, None
        raise Unavailable(
            f"catalogue v{version} (hash 0x{content_hash.hex()}) is current on chain but its content "
            "is not held by this platform"
        )

    def stored_versions(self) -> list[int]:
        with self.db.session() as session:
            return list(
                session.scalars(select(CatalogueVersionRow.version).order_by(CatalogueVersionRow.version))
            )

    def get(self, version: int) -> PublishedCatalogue:
        """One published version with its content; `NotFound` if never published."""
        current = self.registry.current()
        if not 1 <= version <= current.version:
            raise NotFound(f"catalogue v{version} is not published (current is v{current.version})")
        content_hash = self.registry.version_hash(version)
        catalogue, row = self._content(version, content_hash)
        mask = current.public_categories if version == current.version else catalogue.public_mask()
        return PublishedCatalogue(
            version,
            content_hash,
            mask,
            catalogue,
            None if row is None else row[0],
            None if row is None else row[1],
        )

    # -- publishing ---------------------------------------------------------------------

    def publish(
        self, caller: str, document: Mapping[str, Any], signed: Signed[PublishCatalogueMessage]
    ) -> PublishedCatalogue:
        """Validate `document`, check it against the signed act and earlier versions (bits never reused;
        each version only adds to the one in force, `catalogue_changes`), store it, anchor it."""
        message = signed.message
        if to_checksum_address(caller) != to_checksum_address(message.operator):
            raise NotAuthorized(f"the request is signed by {caller} but the act names {message.operator}")
        try:
            catalogue = Catalogue.model_validate(dict(document))
        except ValidationError as exc:
            details = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'catalogue'}: {e['msg']}" for e in exc.errors()[:20]
            )
            raise CatalogueRejected(f"catalogue is invalid: {details}") from None
        content_hash = catalogue.content_hash()
        if message.version != catalogue.version:
            raise CatalogueRejected(
                f"version: the act signs v{message.version}, the catalogue is v{catalogue.version}"
            )
        if message.content_hash != content_hash:
            raise CatalogueRejected(
                f"content_hash: the act signs 0x{message.content_hash.hex()}, the catalogue hashes to "
                f"0x{content_hash.hex()} (RFC 8785 JSON of the validated catalogue)"
            )
        mask = catalogue.public_mask()
        if message.public_categories != mask:
            raise CatalogueRejected(
                f"public_categories: the act signs {message.public_categories:#x}, the catalogue's "
                f"public-disclosure categories give {mask:#x}"
            )
        current = self.registry.current()
        if catalogue.version <= current.version:
            raise Conflict(f"catalogue v{catalogue.version} is not above the current v{current.version}")
        problems: list[str] = []
        earlier_versions = self._earlier(current.version)
        for earlier in earlier_versions:
            problems.extend(_incompatibilities(earlier, catalogue))
        if problems:
            raise CatalogueRejected("catalogue reuses published bits: " + "; ".join(sorted(set(problems))))
        in_force = [c for c in earlier_versions if c.version == current.version]
        more = catalogue_changes(in_force[0], catalogue)[1] if in_force else []
        if more:
            raise CatalogueRejected(
                f"each version only adds to the one in force (v{current.version}): "
                + "; ".join(f"{p.code} {p.where}" for p in more)
            )

        self._store_pending(catalogue, content_hash, mask, message.operator)
        receipt = self.registry.publish(signed)
        tx, block = bytes(receipt["transactionHash"]), int(receipt["blockNumber"])
        with self.db.session() as session:
            row = session.get(CatalogueVersionRow, catalogue.version)
            if row is not None:
                row.transaction_hash, row.block_number = tx, block
        with _lock:
            _by_hash[content_hash] = catalogue
        return PublishedCatalogue(catalogue.version, content_hash, mask, catalogue, tx, block)

    def _earlier(self, current_version: int) -> list[Catalogue]:
        out: list[Catalogue] = []
        for version in range(1, current_version + 1):
            try:
                out.append(self.version(version))
            except Unavailable:
                continue  # content unknown here; the chain still fixed its hash
        return out

    def _store_pending(self, catalogue: Catalogue, content_hash: bytes, mask: int, operator: str) -> None:
        content = json.dumps(catalogue.model_dump(mode="json"), ensure_ascii=False, sort_keys=True)
        with self.db.session() as session:
            row = session.get(CatalogueVersionRow, catalogue.version)
            if (
                row is not None
                and row.transaction_hash is not None
                and bytes(row.content_hash) != content_hash
            ):
                raise Conflict(f"catalogue v{catalogue.version} is already published with other content")
            if row is None:
                session.add(
                    CatalogueVersionRow(
                        version=catalogue.version,
                        content=content,
                        content_hash=content_hash,
                        public_categories=str(mask),
                        operator=operator,
                        created_at=datetime.now(UTC),
                    )
                )
            else:  # an earlier attempt that never reached the chain: replace it
                row.content, row.content_hash, row.public_categories = content, content_hash, str(mask)
                row.operator = operator

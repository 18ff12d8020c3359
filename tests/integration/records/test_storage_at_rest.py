"""Sensitive fields never reach the database in clear: raw SQLite file, pg_dump, heap files."""

from __future__ import annotations

import dataclasses
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update

from api.app import create_app
from ledger.domain.catalogue import Catalogue
from ledger.platform import Platform
from ledger.records.models import CreditRecord
from ledger.records.samples import sample_mobile, sample_record, sample_records, sample_resident_id
from ledger.sdk import ApiError, LedgerClient
from ledger.storage.database import Database, migrate
from tests.integration.records.conftest import SdkFor

ID_NUMBER = "11010519491231002X"
MOBILE = "13812341999"
COUNT = 60


def _secrets() -> list[str]:
    values = [ID_NUMBER, MOBILE]
    for n in range(COUNT):
        values += [sample_resident_id(n), sample_mobile(n)]
    return values


def _load(client: LedgerClient) -> str:
    client.submit_records(list(sample_records(COUNT)))
    record = sample_record(1000)  # an administrative penalty
    record["fields"]["legal_representative_id"] = ID_NUMBER
    registration = sample_record(999)
    registration["fields"]["contact_mobile"] = MOBILE
    client.submit_record(registration)
    receipt = client.submit_record(record)
    return str(receipt["record_id"])


def _assert_absent(raw: bytes, where: str) -> None:
    for value in _secrets():
        for encoding in ("utf-8", "utf-16-le"):
            assert value.encode(encoding) not in raw, f"{value} in clear in {where} ({encoding})"
    # positive control: public fields are stored in clear, so the scan does read the data
    assert "郑市监罚".encode() in raw, f"the scan of {where} did not see the stored records"


@pytest.fixture
def fresh_sqlite(platform: Platform, tmp_path: Path) -> Iterator[Platform]:
    """The platform on a SQLite file of its own, so the file holds only this test's data."""
    url = f"sqlite:///{tmp_path / 'at-rest.db'}"
    migrate(url)
    db = Database(url)
    yield dataclasses.replace(
        platform, db=db, settings=platform.settings.model_copy(update={"database_url": url})
    )
    db.engine.dispose()


def test_raw_sqlite_file_holds_no_id_or_phone_number(
    fresh_sqlite: Platform, provider: LocalAccount, catalogue_v1: Catalogue
) -> None:
    with TestClient(create_app(fresh_sqlite)) as api:
        client = LedgerClient(str(api.base_url), provider, http=api)
        record_id = _load(client)
        opened = client.open_record(record_id, 1)
    assert opened["fields"]["legal_representative_id"] == ID_NUMBER  # and it still opens
    path = Path(fresh_sqlite.db.engine.url.database or "")
    raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*") if p.is_file())
    _assert_absent(raw, "the SQLite file and its WAL")
    fresh_sqlite.db.engine.dispose()  # checkpoint the WAL into the main file, then look again
    _assert_absent(path.read_bytes(), "the SQLite file")


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_postgresql_dump_and_heap_files_hold_no_id_or_phone_number(
    sdk: SdkFor,
    platform: Platform,
    provider: LocalAccount,
    catalogue_v1: Catalogue,
) -> None:
    record_id = _load(sdk(provider))
    assert sdk(provider).open_record(record_id, 1)["fields"]["legal_representative_id"] == ID_NUMBER
    url = platform.db.engine.url
    dump = subprocess.run(
        ["pg_dump", "-h", url.host or "127.0.0.1", "-U", url.username or "postgres", url.database or ""],
        check=True,
        capture_output=True,
    ).stdout
    _assert_absent(dump, "pg_dump")
    with platform.db.engine.connect() as conn:
        conn.execute(text("CHECKPOINT"))
        data_dir = conn.execute(text("SHOW data_directory")).scalar_one()
        oid = conn.execute(
            text("SELECT oid FROM pg_database WHERE datname = current_database()")
        ).scalar_one()
    base = Path(data_dir) / "base" / str(oid)
    if not os.access(base, os.R_OK):
        pytest.skip(f"cannot read PostgreSQL's files at {base}")
    raw = b"".join(p.read_bytes() for p in base.iterdir() if p.is_file())
    _assert_absent(raw, "PostgreSQL's heap files")


def test_sm4_and_key_rotation(platform: Platform, provider: LocalAccount, catalogue_v1: Catalogue) -> None:
    sm4 = dataclasses.replace(
        platform, settings=platform.settings.model_copy(update={"record_cipher": "sm4-gcm"})
    )
    with TestClient(create_app(sm4)) as api:
        first = LedgerClient(str(api.base_url), provider, http=api).submit_record(sample_record(1))
    with TestClient(create_app(dataclasses.replace(platform))) as api:  # back to AES-256-GCM: a rotation
        client = LedgerClient(str(api.base_url), provider, http=api)
        second = client.submit_record(sample_record(4))
        assert client.open_record(first["record_id"], 1)["fields"][
            "legal_representative_id"
        ] == sample_resident_id(1)
        assert client.open_record(second["record_id"], 1)["fields"]["legal_representative_id"]
    with platform.db.session() as session:
        rows = {r.record_id: r for r in session.scalars(select(CreditRecord))}
    assert (
        rows[first["record_id"]].key_id == "dev-sm4-gcm"
        and rows[first["record_id"]].sealed[:2] == b"\x01\x02"
    )
    assert (
        rows[second["record_id"]].key_id == "dev-aes-256-gcm"
        and rows[second["record_id"]].sealed[:2] == b"\x01\x01"
    )


def test_tampered_or_swapped_sealed_fields_are_refused(
    sdk: SdkFor,
    platform: Platform,
    provider: LocalAccount,
    catalogue_v1: Catalogue,
) -> None:
    a = sdk(provider).submit_record(sample_record(1))
    b = sdk(provider).submit_record(sample_record(4))
    with platform.db.session() as session:
        sealed_b = session.scalars(
            select(CreditRecord.sealed).where(CreditRecord.record_id == b["record_id"])
        ).one()
        session.execute(
            update(CreditRecord).where(CreditRecord.record_id == a["record_id"]).values(sealed=sealed_b)
        )
    with pytest.raises(ApiError) as swapped:
        sdk(provider).open_record(a["record_id"], 1)
    assert swapped.value.status == 503 and "failed authentication" in swapped.value.message
    with platform.db.session() as session:
        session.execute(
            update(CreditRecord)
            .where(CreditRecord.record_id == b["record_id"])
            .values(sealed=sealed_b[:-1] + bytes([sealed_b[-1] ^ 0x01]))  # always a different byte
        )
    with pytest.raises(ApiError) as flipped:
        sdk(provider).open_record(b["record_id"], 1)
    assert flipped.value.status == 503

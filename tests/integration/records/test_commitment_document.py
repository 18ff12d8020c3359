"""One document per record version, whoever builds it (ingestion, service, audit export, auditor).

A record version's commitment is SHA-256(salt ‖ RFC 8785 of one document), built by
`ledger.records.canonical.record_document`. Ingestion commits to it; the records
service rebuilds it to check every row before serving it (the provider's opening, the
release path, self-service); the audit export writes it as the opening that the auditor
canonicalises with its own encoder. If any of them drifted, commitments would stop
matching: here each is compared, byte for byte, on versions with sealed fields,
non-ASCII text, no severity and a correction.
"""

from __future__ import annotations

import base64
import hashlib
import json

import rfc8785
from eth_account.signers.local import LocalAccount
from sqlalchemy import select

from ledger.audit_export import records_page
from ledger.domain.catalogue import Catalogue
from ledger.platform import Platform
from ledger.records import canonical
from ledger.records.crypto import Keyring
from ledger.records.models import CreditRecord
from ledger.records.opening import open_version
from ledger.records.samples import sample_record
from tests.integration.records.conftest import SdkFor


def test_every_reader_rebuilds_the_document_ingestion_committed_to(
    sdk: SdkFor, platform: Platform, provider: LocalAccount, catalogue_v1: Catalogue
) -> None:
    client = sdk(provider)
    penalty = sample_record(7)  # severity, sealed identity fields, Chinese text
    submitted = {
        (client.submit_record(r)["record_id"], 1): r
        for r in (sample_record(0), penalty, sample_record(2))  # registration, penalty, tax
    }
    corrected = {**penalty, "fields": {**penalty["fields"], "amount": 1234}, "corrects": 1}
    receipt = client.submit_record(corrected)
    submitted[(receipt["record_id"], 2)] = corrected

    keyring = Keyring.from_settings(platform.settings)
    with platform.db.session() as session:
        rows = list(session.scalars(select(CreditRecord).order_by(CreditRecord.id)))
    exported, _ = records_page(platform.db, 0, 100, keyring=keyring)
    openings = {(v.record_id, v.version): v.opening for v in exported}
    assert len(rows) == len(submitted) == len(openings) == 4

    for row in rows:
        key = (row.record_id, row.version)
        sent = submitted[key]
        expected = {
            "category": sent["category"],
            "subject": sent["subject"],
            "event_date": sent["event_date"],
            "severity": sent.get("severity"),
            "source_ref": sent["source_ref"],
            "fields": sent["fields"],
            "record_id": row.record_id,
            "version": row.version,
            "provider": provider.address,
            "catalogue_version": catalogue_v1.version,
        }
        # the records service, as the provider's opening serves it
        served = client.open_record(*key)
        salt = base64.b64decode(served["opening"]["salt"])
        served_bytes = served["opening"]["canonical_record"].encode()
        assert json.loads(served_bytes) == expected
        # the one builder, on the stored row
        opened = open_version(row, keyring)
        assert opened.salt == salt and opened.document == expected
        assert canonical.canonical(opened.document) == served_bytes
        # the audit export's opening, canonicalised as the auditor does (rfc8785, not ours)
        opening = openings[key]
        assert opening is not None and opening.salt == salt and opening.document == expected
        assert rfc8785.dumps(opening.document) == served_bytes
        # and all of it is what ingestion committed to
        commitment = hashlib.sha256(salt + served_bytes).digest()
        assert commitment == bytes(row.commitment) == bytes.fromhex(served["commitment"].removeprefix("0x"))

"""Response models made from the ledger's views: every field answered and documented, as JSON writes it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from typing import Any, cast

import pytest
from pydantic import BaseModel

from api import records_schemas as records
from api.app import create_app
from api.routers import evaluations
from api.routers import selfservice_schemas as selfservice
from ledger.domain.catalogue import FieldError
from ledger.evaluation_release.views import ModelDocumentsReceipt, SelfEvaluation
from ledger.platform import Platform
from ledger.records.ingest import IngestReport, Receipt, Rejection
from ledger.records.service import RecordVersion
from ledger.records.submission import Mode
from ledger.selfservice.consents import ActiveAgreement, GrantStatus, GrantView
from ledger.selfservice.objections import ObjectionView
from ledger.selfservice.repairs import RepairView

MODELS: list[tuple[type[BaseModel], type[Any]]] = [
    (selfservice.ObjectionOut, ObjectionView),
    (selfservice.RepairOut, RepairView),
    (selfservice.AgreementOut, ActiveAgreement),
    (selfservice.GrantOut, GrantView),
    (records.ReceiptOut, Receipt),
    (records.RecordVersionOut, RecordVersion),
    (evaluations.SelfEvaluationOut, SelfEvaluation),
    (evaluations.ModelDocumentsOut, ModelDocumentsReceipt),
]


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return create_app(cast(Platform, None)).openapi()  # building the document needs no platform


def schema_of(doc: dict[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    """The model's component; its name is qualified by its module where two models share a name."""
    schemas = doc["components"]["schemas"]
    qualified = model.__module__.replace(".", "__") + "__" + model.__name__
    found: dict[str, Any] = schemas.get(model.__name__) or schemas[qualified]
    return found


@pytest.mark.parametrize(("model", "view"), MODELS, ids=lambda m: getattr(m, "__name__", ""))
def test_a_model_has_its_views_fields_in_order_and_the_document_describes_each(
    model: type[BaseModel], view: type[Any], doc: dict[str, Any]
) -> None:
    names = [f.name for f in dataclasses.fields(view)]
    assert list(model.model_fields) == names
    assert list(schema_of(doc, model)["properties"]) == names


def test_the_views_documentation_reaches_the_document(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    assert schemas["ObjectionOut"]["properties"]["record_version"]["description"] == "the version objected to"
    receipt = schema_of(doc, records.ReceiptOut)["properties"]
    assert receipt["line"]["description"].startswith("line of the request body")
    mask = schemas["AgreementOut"]["properties"]["categories"]
    assert (mask["type"], mask["description"], mask["examples"]) == ("string", "bit mask, decimal", ["69"])


def test_json_writes_bytes_as_hex_masks_as_text_and_instants_as_stored() -> None:
    agreement = ActiveAgreement(
        id=3, categories=2**255 + 69, category_names=["tax"], purposes=1, purpose_names=["credit_assessment"],
        max_level=3, valid_from=0, valid_until=1, document_hash=b"\x3f" * 32, commitment_id=4,
        commitment_breached=False,
    )  # fmt: skip
    out = selfservice.AgreementOut.of(agreement).model_dump(mode="json")
    assert out["categories"] == str(2**255 + 69) and out["purposes"] == "1"
    assert out["document_hash"] == "0x" + "3f" * 32
    grant = GrantView(
        7, "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc", 0, 64, ["tax"], 1, [], 0, [], 9, GrantStatus.LIVE
    )
    assert selfservice.GrantOut.of(grant).model_dump(mode="json")["status"] == "live"
    version = RecordVersion(
        "r1",
        1,
        "0xP",
        "ref",
        "tax",
        "91410100MA44TL7G2F",
        1,
        17,
        b"\x01" * 32,
        datetime(2026, 1, 11, 2, tzinfo=UTC),
    )
    written = records.RecordVersionOut.of(version).model_dump(mode="json")
    assert written["created_at"] == "2026-01-11T02:00:00+00:00"  # isoformat, as before the models were made
    assert written["leaf_hash"] == "0x" + "01" * 32


def test_the_hand_written_ingestion_report_agrees_with_the_models() -> None:
    warning = FieldError("fields.amount", "unusual", "larger than usual")
    report = IngestReport(
        Mode.ACCEPT_VALID,
        2,
        [
            Receipt(1, "A-1", "r1", 1, 17, b"\xab" * 32, "created", (warning,)),
            Receipt(3, "A-3", "r3", 2, 18, b"\xcd" * 32, "existing"),
        ],
        [Rejection(2, "A-2", (FieldError("subject", "uscc", "not a USCC"),)), Rejection(4, None, ())],
    )
    written = records.report_json(report)
    assert written["receipts"] == [records.ReceiptOut.of(r).model_dump(mode="json") for r in report.receipts]
    assert written["rejected"] == [
        records.RejectionOut.of(r).model_dump(mode="json") for r in report.rejected
    ]
    assert (written["created"], written["existing"], written["rejected_count"]) == (1, 1, 2)
    assert list(records.IngestReportOut.model_fields) == list(written)


def test_a_date_example_is_kept_where_the_view_gives_one(doc: dict[str, Any]) -> None:
    day = doc["components"]["schemas"]["CalendarDayOut"]["properties"]["day"]
    assert day["examples"] == ["2026-05-01"] and day["format"] == "date"
    assert date.fromisoformat(day["examples"][0])


def test_the_evaluation_routes_answer_through_their_views(doc: dict[str, Any]) -> None:
    """GET /self/evaluation and POST /models/documents name their view models in the document,
    and write what the routes always wrote: hashes as hex, the mask as text, and an insufficient
    evaluation without score or grade (absent, not null) but with its null indicator values."""
    for path, method, model in (
        ("/self/evaluation", "get", evaluations.SelfEvaluationOut),
        ("/models/documents", "post", evaluations.ModelDocumentsOut),
    ):
        content = doc["paths"][path][method]["responses"]["200"]["content"]["application/json"]
        assert content["schema"]["$ref"].endswith("/" + model.__name__)
    stored = evaluations.ModelDocumentsOut.of(
        ModelDocumentsReceipt(b"\x01" * 32, b"\x02" * 32, 1, 2**200, ["tax"])
    )
    assert stored.model_dump() == {
        "model_hash": "0x" + "01" * 32, "card_hash": "0x" + "02" * 32, "indicator_version": 1,
        "input_categories": str(2**200), "input_category_names": ["tax"],
    }  # fmt: skip
    thin = SelfEvaluation(
        subject="91410100MA44TL7G2F", model={"version": 1}, status="insufficient_data",
        portrait={"as_of": "2026-12-08", "values": {"tax_grade": None}}, missing_dimensions=["operations"],
    )  # fmt: skip
    written = evaluations.SelfEvaluationOut.of(thin).model_dump(exclude_none=True)
    assert written == {
        "subject": "91410100MA44TL7G2F", "model": {"version": 1},
        "portrait": {"as_of": "2026-12-08", "values": {"tax_grade": None}}, "status": "insufficient_data",
        "missing_dimensions": ["operations"],
    }  # fmt: skip

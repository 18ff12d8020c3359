"""The two kinds of case (objections, credit repair) declared for the one case workflow."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from typing import Any, cast

import pytest

from ledger.domain.cases import OPEN_OBJECTION
from ledger.errors import InvalidInput
from ledger.selfservice import leaves
from ledger.selfservice.cases import MAX_TEXT, CaseKind, CaseWorkflow, stated, stated_reasons
from ledger.selfservice.context import SelfServiceContext
from ledger.selfservice.models import Objection, RepairApplication
from ledger.selfservice.objections import OBJECTIONS, ObjectionStatus, ObjectionView
from ledger.selfservice.repairs import REPAIRS, RepairStatus, RepairView

KINDS = [OBJECTIONS, REPAIRS]
SHOWN = {"status", "overdue", "log_index", "decision_log_index"}  # not columns: see CaseWorkflow._view


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.words.name)
def test_each_kind_is_declared_consistently(kind: CaseKind[Any, Any]) -> None:
    states = {s.value for s in kind.statuses}
    assert kind.open and set(kind.open) <= states  # filed in kind.open[0]
    columns = set(kind.table.__table__.columns.keys())
    view_fields = [f.name for f in dataclasses.fields(kind.view)]
    assert set(view_fields) - SHOWN <= columns, "a view field the row does not have"
    assert kind.view.__dataclass_fields__["status"].type in (kind.statuses.__name__, kind.statuses)
    assert set(kind.leaves) <= leaves.SELF_SERVICE_LEAF_TYPES
    if kind.provider is not None:
        assert kind.provider.key in columns


def test_the_kinds_words_and_states() -> None:
    assert OBJECTIONS.open == OPEN_OBJECTION  # the states the release path reads as disputed
    assert (OBJECTIONS.words.short, REPAIRS.words.short) == ("objection", "application")
    assert OBJECTIONS.staged and not REPAIRS.staged  # an objection's escalation names its stage
    assert OBJECTIONS.provider is not None and REPAIRS.provider is None
    assert (OBJECTIONS.open[0], REPAIRS.open[0]) == (ObjectionStatus.OPEN, RepairStatus.PENDING)


def test_reasons_must_be_stated_and_bounded() -> None:
    assert stated_reasons("  金额有误 ") == "金额有误"
    assert stated(None, "statement") is None and stated("   ", "statement") is None
    assert stated("x" * MAX_TEXT, "statement") == "x" * MAX_TEXT
    with pytest.raises(InvalidInput, match="reasons: state the reasons"):
        stated_reasons(" \n ")
    with pytest.raises(InvalidInput, match=f"statement: at most {MAX_TEXT} characters"):
        stated("x" * (MAX_TEXT + 1), "statement")
    with pytest.raises(InvalidInput, match="why: at most"):
        stated_reasons("x" * (MAX_TEXT + 1), "why")


def _workflow(kind: CaseKind[Any, Any]) -> CaseWorkflow[Any, Any]:
    return CaseWorkflow(cast(SelfServiceContext, None), kind)  # _view needs no context


COMMON = {
    "id": "c1",
    "record_id": "r1",
    "record_version": 1,
    "subject": "91410100MA44TL7G2F",
    "enterprise": "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955",
    "filed_at": datetime(2026, 3, 2, 2, tzinfo=UTC),
    "filed_on": date(2026, 3, 2),
    "due_on": date(2026, 3, 9),
    "log_seq": 18,
}


def test_an_objection_row_is_shown_as_its_view() -> None:
    row = Objection(
        **COMMON,
        status="forwarded",
        provider="0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
        reasons="罚款已缴清",
        evidence=["0x" + "3f" * 32],
        forward_by=date(2026, 3, 4),
        outer_due_on=date(2026, 3, 22),
    )
    view = _workflow(OBJECTIONS)._view(row, date(2026, 3, 10))
    assert isinstance(view, ObjectionView)
    assert (view.status, view.overdue, view.log_index, view.decision_log_index) == (
        ObjectionStatus.FORWARDED, True, 18, None,
    )  # fmt: skip
    assert view.evidence == ["0x" + "3f" * 32] and view.provider == row.provider
    assert _workflow(OBJECTIONS)._view(row, date(2026, 3, 9)).overdue is False  # due that day


def test_a_decided_case_is_never_overdue() -> None:
    row = RepairApplication(
        **COMMON,
        status="rejected",
        category="administrative_penalty",
        severity="general",
        commitment_id=13,
        proofs=["0x" + "ab" * 32],
        statement=None,
        decision_log_seq=21,
    )
    view = _workflow(REPAIRS)._view(row, date(2026, 4, 1))
    assert isinstance(view, RepairView)
    assert (view.status, view.overdue, view.decision_log_index) == (RepairStatus.REJECTED, False, 21)
    assert (view.commitment_id, view.proofs, view.statement) == (13, ["0x" + "ab" * 32], None)

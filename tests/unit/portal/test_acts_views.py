"""What an operator is about to propose and the loan product an institution is about to publish,
in words, before either is signed (`ledger.portal.proposing`, `ledger.portal.product_draft`),
and the templates that show them, with the API's refusals in words."""

from __future__ import annotations

import json
from typing import Any

import pytest
from eth_utils.address import to_checksum_address

from api.portal.refusals import REFUSAL_WORDS, STATUS_WORDS, refusal_context
from ledger.chain.membership import InstitutionKind, Member, Role, Status
from ledger.chain.model_registry import ModelAction, ModelProposal
from ledger.financing.eligibility import RuleInvalid
from ledger.financing.products import LoanProductDocument, ProductInvalid
from ledger.portal.operator import model_proposals
from ledger.portal.product_draft import product_draft, rule_value
from ledger.portal.proposing import ADMITTED_ROLES, INSTITUTION_KINDS, proposal_draft
from tests.unit.portal.test_role_templates import render

ACTIVE = "0x" + "0a" * 20
SUSPENDED = "0x" + "0b" * 20
NEWCOMER = "0x" + "0c" * 20


def _member(account: str, role: Role, status: Status) -> Member:
    return Member(account, role, status, InstitutionKind.NONE, 1, bytes(32), bytes(32))


class FakeChain:
    def member_of(self, account: str) -> Member:
        known = {
            ACTIVE.lower(): _member(account, Role.PROVIDER, Status.ACTIVE),
            SUSPENDED.lower(): _member(account, Role.AUDITOR, Status.SUSPENDED),
        }
        return known.get(account.lower(), _member(account, Role.NONE, Status.NONE))

    def quorum(self) -> int:
        return 2

    def operator_count(self) -> int:
        return 3


def draft(**values: str) -> Any:
    return proposal_draft(FakeChain(), **values)


def test_an_admission_is_ready_once_account_role_kind_and_name_are_given() -> None:
    ready = draft(action="admit", account=NEWCOMER, role="institution", kind="bank", name=" 郑州新银行 ")
    assert ready.ready and (ready.role, ready.kind, ready.name, ready.quorum) == (
        "institution",
        "bank",
        "郑州新银行",
        2,
    )
    assert ready.account == to_checksum_address(NEWCOMER)
    assert draft(action="admit", account="0x12", role="operator", name="x").problems == ["account"]
    assert draft(action="admit", account=ACTIVE, role="operator", name="x").problems == ["already_member"]
    assert draft(action="admit", account=NEWCOMER, role="institution", name="x").problems == ["kind"]
    assert draft(action="admit", account=NEWCOMER, role="auditor", kind="bank", name="x").problems == [
        "kind_none"
    ]
    assert draft(action="admit", account=NEWCOMER, role="enterprise", name="").problems == ["role", "name"]


def test_a_status_change_needs_a_member_in_the_status_it_moves_from() -> None:
    assert draft(action="suspend", account=ACTIVE).ready
    assert draft(action="suspend", account=ACTIVE).member_role == "provider"
    assert draft(action="suspend", account=NEWCOMER).problems == ["not_member"]
    assert draft(action="reinstate", account=ACTIVE).problems == ["wrong_status"]
    assert (
        draft(action="reinstate", account=SUSPENDED).ready and draft(action="remove", account=SUSPENDED).ready
    )


def test_a_quorum_change_stays_within_the_operators_and_an_unknown_action_is_named() -> None:
    assert draft(action="set_quorum", new_quorum="3").ready
    assert draft(action="set_quorum", new_quorum="4").problems == ["quorum_range"]
    assert draft(action="set_quorum", new_quorum="").problems == ["quorum_range"]
    assert draft(action="dissolve").problems == ["action"]


def test_the_roles_and_kinds_offered_are_the_chains_own() -> None:
    assert set(ADMITTED_ROLES) <= {r.name.lower() for r in Role} - {"none", "enterprise"}
    assert set(INSTITUTION_KINDS) == {k.name.lower() for k in InstitutionKind} - {"none"}


def test_the_summary_says_what_will_be_proposed_and_what_is_missing_in_both_languages() -> None:
    ready = draft(action="admit", account=NEWCOMER, role="institution", kind="bank", name="郑州新银行")
    zh = render("operator/proposal_summary.html", "zh_CN", draft=ready)
    assert "接纳" in zh and "郑州新银行" in zh and "机构（银行）" in zh and "2 个运营方" in zh
    assert 'data-ready="yes"' in zh
    en = render("operator/proposal_summary.html", "en", draft=draft(action="admit", account=ACTIVE, name=""))
    assert "already a member" in en and "Enter the registered name." in en and 'data-ready="no"' in en
    quorum = render("operator/proposal_summary.html", "en", draft=draft(action="set_quorum", new_quorum="3"))
    assert "from 2 to 3 approvals" in quorum


FORM = {
    "key": "zz-科技贷", "version": "1", "name": "郑州科技贷", "product_kind": "科技贷",
    "amount_min": "100000", "amount_max": "3000000", "term_min": "6", "term_max": "36",
    "rate_min": "3.2", "rate_max": "4.5", "guarantee": "credit", "valid_from": "2026-12-01",
    "rule_field_0": "years_in_operation", "rule_op_0": "min", "rule_value_0": "1",
    "rule_field_1": "no_dishonesty_record", "rule_op_1": "equals", "rule_value_1": "是",
    "rule_field_2": "industry", "rule_op_2": "in", "rule_value_2": "C, I65",
}  # fmt: skip


def test_a_product_form_becomes_the_document_the_api_takes_and_its_canonical_text() -> None:
    made = product_draft(FORM)
    assert [(r.field, r.op, r.value) for r in made.document.eligibility] == [
        ("years_in_operation", "min", 1),
        ("no_dishonesty_record", "equals", True),
        ("industry", "in", ["C", "I65"]),
    ]
    assert made.document.valid_from.isoformat() == "2026-12-01T00:00:00+08:00"  # the business day
    assert made.document.valid_until is None and not made.document.withdrawn
    again = LoanProductDocument.model_validate(json.loads(made.canonical))
    assert again.canonical().decode() == made.canonical  # the browser hashes exactly what it sends
    assert [r.name_zh for r in made.rules][:2] == ["经营年限(年)", "无严重失信记录"]


def test_a_rule_over_a_field_the_platform_does_not_hold_is_refused_naming_it() -> None:
    with pytest.raises(RuleInvalid, match=r"eligibility\[1\].*unknown field 'patents'"):
        product_draft({**FORM, "rule_field_1": "patents", "rule_op_1": "min", "rule_value_1": "2"})
    with pytest.raises(RuleInvalid, match="no_dishonesty_record"):
        product_draft({**FORM, "rule_op_1": "min"})
    with pytest.raises(ProductInvalid, match="name"):
        product_draft({**FORM, "name": ""})
    with pytest.raises(ProductInvalid, match="valid_from"):
        product_draft({**FORM, "valid_from": "next week"})


def test_rule_values_are_typed_as_their_field_takes_them() -> None:
    assert rule_value("employees", "min", "2.5") == 2.5
    assert rule_value("employees", "min", "many") == "many"  # refused later, naming the field
    assert rule_value("high_tech_enterprise", "equals", "否") is False
    assert rule_value("tax_credit_grade", "in", "A、B，M") == ["A", "B", "M"]
    assert rule_value("patents", "min", "2") == "2"


def test_the_product_draft_shows_the_product_in_words_or_the_refusal_naming_the_field() -> None:
    made = product_draft(FORM)
    zh = render("institution/product_draft.html", "zh_CN", draft=made, refused=None)
    assert "郑州科技贷" in zh and "100000 至 3000000 元" in zh and "不低于" in zh and "是" in zh
    assert 'data-prepare="publish"' in zh and "zz-科技贷" in zh
    try:
        product_draft({**FORM, "rule_field_0": "patents"})
    except RuleInvalid as exc:
        refused = exc
    en = render("institution/product_draft.html", "en", refused=refused, **refusal_context())
    assert 'data-draft-refused="eligibility_invalid"' in en and "patents" in en
    assert "not one the platform holds" in en


def test_every_refusal_has_its_words_and_the_status_fallbacks_cover_4xx_and_503() -> None:
    assert {"AlreadyMember", "eligibility_invalid", "idempotency_key_reused", "invalid_loan_report"} <= set(
        REFUSAL_WORDS
    )
    assert {"401", "403", "404", "409", "422", "503"} <= set(STATUS_WORDS)
    page = render("roles/acts.html", "zh_CN")
    assert page.strip() == ""  # macros only


class FakeRegistry:
    def proposal_count(self) -> int:
        return 2

    def proposal(self, proposal_id: int) -> ModelProposal:
        action = ModelAction.ACTIVATE if proposal_id == 1 else ModelAction.RETIRE
        return ModelProposal(proposal_id, action, proposal_id == 1, 2 if proposal_id == 1 else 1, NOW + 60, 1)

    def has_approved(self, proposal_id: int, operator: str) -> bool:
        return proposal_id == 1


NOW = 1_800_000_000


def test_model_proposals_show_their_way_to_the_quorum_and_the_page_offers_every_proposal() -> None:
    views = model_proposals(FakeRegistry(), ACTIVE, quorum=2, now=NOW)
    assert [(v.id, v.action, v.status, v.percent, v.approvable) for v in views] == [
        (2, "retire", "open", 50, True),
        (1, "activate", "executed", 100, False),
    ]
    html = render(
        "operator/proposals.html", "zh_CN", proposals=[], model_proposals=views, roles=ADMITTED_ROLES,
        kinds=INSTITUTION_KINDS, quorum=2, **refusal_context(),
    )  # fmt: skip
    assert (
        "停用模型第 1 版" in html and "启用模型第 1 版" in html and 'data-type="ApproveModelProposal"' in html
    )
    assert 'data-type="Propose"' in html and 'data-type="ProposeModel"' in html and "区县运营方" in html

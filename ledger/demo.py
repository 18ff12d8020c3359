"""`credit-ledger demo`: the whole story against a running platform, in about a minute.

A client of the API like any institution (only `ledger.sdk.LedgerClient`: never the
database or the chain directly). Zhengzhou-style synthetic data: a bank, a guarantor,
two data providers, three enterprises with valid 统一社会信用代码 and records in four
categories. Every step prints its on-chain transaction (hash, block) or its receipt.

DEVNET ONLY: governance is signed with the devnet operator keys (anvil's public test
accounts 1-3), so the demo only works on a platform started by `credit-ledger up` with
the local devnet. The new members get fresh keys; the platform relays their signed acts.
Their keys, and the operators', are saved as keystores under the data directory with a
published DEVELOPMENT ONLY password, so anyone can act as any of them afterwards (CLI,
SDK, portal). Each run uses its own run id (in USCCs, source references and the keystores'
folder), so it can run again and again against the same platform.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import typer
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from ledger.chain.agreements import CommitmentKind, CommitMessage, CountersignMessage, ProposeAgreementMessage
from ledger.chain.consents import GrantMessage, RevokeMessage
from ledger.chain.membership import Action, InstitutionKind, Role, uscc_hash
from ledger.chain.model_registry import ApproveModelProposalMessage, ProposeModelMessage
from ledger.devnet import devnet_key
from ledger.domain.catalogue import default_catalogue
from ledger.domain.identifiers import (
    organization_code_check_char,
    resident_id_check_char,
    uscc_check_char,
    validate_uscc,
)
from ledger.errors import LedgerError
from ledger.keystore import save_keystore
from ledger.merkle.rfc9162 import MerkleError, hash_leaf, verify_inclusion
from ledger.sdk import ApiError, ApiUnreachable, LedgerClient

__all__ = ["DemoError", "check_platform", "run"]

CATALOGUE = default_catalogue()
REGISTRATION = CATALOGUE.category_mask(["registration"])
PENALTY = CATALOGUE.category_mask(["administrative_penalty"])
TAX = CATALOGUE.category_mask(["tax"])
SOCIAL = CATALOGUE.category_mask(["social_insurance"])
CREDIT = CATALOGUE.purpose_mask(["credit_assessment"])
GUARANTEE = CATALOGUE.purpose_mask(["guarantee_assessment"])
MAX_LEVEL = 4  # raw tax data includes the payment account (level 4)
PROOF_WAIT_SECONDS = 30.0  # the worker in `up` anchors within LEDGER_ANCHOR_MAX_DELAY_SECONDS (10 s)
START_COMMAND = "./scripts/bootstrap && .venv/bin/credit-ledger up"
#: DEVELOPMENT ONLY: the password of every keystore the demo saves; public, so those keys protect nothing
DEMO_KEYSTORE_PASSWORD = "demo-DEVELOPMENT-ONLY"
#: scrypt work factor of the demo's keystores: 2**14 instead of 2**18, eleven files in well under a second
DEMO_SCRYPT_N = 2**14

REASONS_ZH = {
    "no_covering_grant": "企业未授权",
    "agreement_not_owned": "协议不属于该机构",
    "category_out_of_scope": "类别超出协议范围",
    "purpose_not_allowed": "用途不在协议范围内",
    "agreement_not_active": "协议未生效",
}

# Fields shown from each released record: enough to see masking at work, short enough to read.
SHOWN_FIELDS = {
    "registration": ("enterprise_name", "legal_representative", "legal_representative_id", "contact_mobile"),
    "administrative_penalty": ("decision_number", "violation", "amount", "legal_representative_id"),
    "tax": ("credit_grade", "annual_tax_paid", "tax_officer_name", "tax_officer_mobile", "payment_account"),
    "social_insurance": ("insured_headcount", "monthly_contribution", "hr_contact_name", "hr_contact_mobile"),
}


class DemoError(LedgerError):
    """The demo could not go on: the platform is unreachable, not a devnet, or a step failed."""

    code = "demo_failed"


def say(text: str = "") -> None:
    typer.echo(text)


def short(value: str, keep: int = 10) -> str:
    return value if len(value) <= keep + 4 else f"{value[:keep]}…{value[-4:]}"


def on_chain(result: dict[str, Any]) -> str:
    return f"tx {result['transaction']} · block {result['block']}"


# -- synthetic, valid identifiers -------------------------------------------------------------


def make_uscc(region: str) -> str:
    """A fresh enterprise USCC (authority 9, type 1) in `region`, with both check characters."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # characters valid in both GB 32100 and GB 11714
    org = "MA" + "".join(secrets.choice(alphabet) for _ in range(6))
    body = "91" + region + org + organization_code_check_char(org)
    code = body + uscc_check_char(body)
    return validate_uscc(code).code


def make_resident_id(region: str, born: date, sequence: int) -> str:
    body = f"{region}{born:%Y%m%d}{sequence % 1000:03d}"
    return body + resident_id_check_char(body)


@dataclass
class Enterprise:
    name: str
    region: str
    district: str
    legal_representative: str
    uscc: str = ""
    account: LocalAccount = field(default_factory=Account.create)


@dataclass
class Member:
    name: str
    role: Role
    kind: InstitutionKind = InstitutionKind.NONE
    account: LocalAccount = field(default_factory=Account.create)


# -- the records --------------------------------------------------------------------------------


STREETS = ("商务外环路", "建设西路", "官渡大道")


def market_records(run_id: str, enterprises: list[Enterprise], today: date) -> list[dict[str, Any]]:
    """郑州市市场监督管理局: registrations of all three, an administrative penalty of the second."""
    records: list[dict[str, Any]] = []
    for n, e in enumerate(enterprises):
        established = date(2016 + 2 * n, 3 + n, 8 + n)
        records.append({
            "category": "registration", "subject": e.uscc, "event_date": established.isoformat(),
            "source_ref": f"DEMO-{run_id}-SCJG-DJ-{n + 1:03d}",
            "fields": {
                "enterprise_name": e.name, "uscc": e.uscc, "entity_type": "limited_liability_company",
                "legal_representative": e.legal_representative,
                "legal_representative_id": make_resident_id(e.region, date(1975 + 4 * n, 5, 12 + n), 31 + n),
                "registered_capital": (500 + 1500 * n) * 10_000, "established_on": established.isoformat(),
                "address": f"河南省郑州市{e.district}{STREETS[n]}{18 + 7 * n}号",
                "registration_authority": "郑州市市场监督管理局", "status": "in_business",
                "contact_mobile": f"1393710{4400 + 17 * n:04d}",
            },
        })  # fmt: skip
    penalised = enterprises[1]
    decided = today - timedelta(days=45)
    records.append({
        "category": "administrative_penalty", "subject": penalised.uscc, "event_date": decided.isoformat(),
        "source_ref": f"DEMO-{run_id}-SCJG-CF-001", "severity": "general",
        "fields": {
            "decision_number": f"郑市监罚〔{decided.year}〕{int(run_id, 16) % 900 + 100}号",
            "decision_date": decided.isoformat(), "authority": "郑州市市场监督管理局",
            "penalty_type": "fine", "sector": "special_equipment",
            "violation": "未按规定进行特种设备定期检验", "reason": "使用未经定期检验的起重机械",
            "legal_basis": "《中华人民共和国特种设备安全法》第八十四条",
            "amount": 30_000, "legal_representative": penalised.legal_representative,
            "legal_representative_id": make_resident_id(penalised.region, date(1979, 5, 13), 32),
        },
    })  # fmt: skip
    return records


def tax_records(run_id: str, enterprises: list[Enterprise], today: date) -> list[dict[str, Any]]:
    """国家税务总局郑州市税务局: tax credit and payments, and social insurance (collected by tax)."""
    records: list[dict[str, Any]] = []
    grades, paid = ("A", "B", "M"), (1_860_000, 420_000, 96_000)
    officers = ("王丽娜", "李强", "张敏")
    for n, e in enumerate(enterprises):
        records.append({
            "category": "tax", "subject": e.uscc, "event_date": date(today.year, 4, 1).isoformat(),
            "source_ref": f"DEMO-{run_id}-SW-NS-{n + 1:03d}",
            "fields": {
                "tax_year": today.year - 1, "credit_grade": grades[n], "taxpayer_type": "general_taxpayer",
                "annual_tax_paid": paid[n], "tax_authority": f"国家税务总局郑州市{e.district}税务局",
                "payment_account": f"62284804{1800_0000 + 3571 * (n + 1):08d}",
                "tax_officer_name": officers[n], "tax_officer_mobile": f"1378{3716000 + 59 * n:07d}",
            },
        })  # fmt: skip
    period = date(today.year, today.month, 1) - timedelta(days=1)
    for n, headcount, status, contact in ((0, 86, "normal", "赵静"), (2, 23, "in_arrears", "陈杰")):
        e = enterprises[n]
        records.append({
            "category": "social_insurance", "subject": e.uscc, "event_date": period.isoformat(),
            "source_ref": f"DEMO-{run_id}-SW-SB-{n + 1:03d}",
            "fields": {
                "period": period.replace(day=1).isoformat(), "insured_headcount": headcount,
                "monthly_contribution": headcount * 1_650,
                "arrears_amount": 0 if status == "normal" else 41_200,
                "payment_status": status, "agency": f"国家税务总局郑州市{e.district}税务局",
                "hr_contact_name": contact, "hr_contact_mobile": f"1503710{2200 + n:04d}",
            },
        })  # fmt: skip
    return records


# -- the story ---------------------------------------------------------------------------------


class Demo:
    def __init__(self, url: str, http: httpx.Client | None = None, *, keys_dir: Path | None = None) -> None:
        self.url = url
        self.http = http
        self.run_id = secrets.token_hex(3).upper()
        #: where this run's keystores go (None: not saved)
        self.keys_dir = None if keys_dir is None else keys_dir.resolve() / self.run_id
        self.step_no = 0
        self.step_title = ""
        # DEVNET ONLY: the devnet's initial operators (anvil accounts 1-3).
        self.operators = [Account.from_key(devnet_key(i)) for i in (1, 2, 3)]
        self.bank = Member("郑州银行", Role.INSTITUTION, InstitutionKind.BANK)
        self.guarantor = Member("郑州中小企业融资担保有限公司", Role.INSTITUTION, InstitutionKind.GUARANTOR)
        self.market = Member("郑州市市场监督管理局", Role.PROVIDER)
        self.tax = Member("国家税务总局郑州市税务局", Role.PROVIDER)
        self.auditor = Member("郑州市公共信用信息中心审计组", Role.AUDITOR)
        self.district = Member("郑州市金水区发展和改革委员会", Role.DISTRICT_OPERATOR)
        self.enterprises = [
            Enterprise("郑州金水云数科技有限公司", "410105", "金水区", "刘建国"),
            Enterprise("郑州中原精工机械有限公司", "410102", "中原区", "王海涛"),
            Enterprise("郑州中牟鑫达物流有限公司", "410122", "中牟县", "张卫东"),
        ]
        for e in self.enterprises:
            e.uscc = make_uscc(e.region)
        self.bank_agreement = 0
        self.guarantor_agreement = 0
        self.grants: list[int] = []
        self.first_receipt: dict[str, Any] = {}
        self.first_record: dict[str, Any] = {}  # the first ingested record's receipt
        self.application: dict[str, Any] = {}  # the financing step's loan application
        self.clients: dict[str, LedgerClient] = {}

    def client(self, account: LocalAccount) -> LedgerClient:
        if account.address not in self.clients:
            self.clients[account.address] = LedgerClient(self.url, account, http=self.http)
        return self.clients[account.address]

    def step(self, title: str) -> None:
        self.step_no += 1
        self.step_title = title
        say()
        say(f"[{self.step_no}] {title}")

    # 0 -------------------------------------------------------------------------------------------

    def check_operators(self) -> None:
        for n, operator in enumerate(self.operators, start=1):
            try:
                member = self.client(operator).member(operator.address)
            except ApiError as exc:
                raise DemoError(
                    f"devnet account {n} ({operator.address}) is not a member of this platform "
                    f"({exc.message}); the demo needs a devnet platform started by `{START_COMMAND}`"
                ) from None
            if member["role"] != "operator" or member["status"] != "active":
                raise DemoError(f"devnet account {n} is {member['status']} {member['role']}, not an operator")

    # 1 -------------------------------------------------------------------------------------------

    def catalogue(self) -> None:
        self.step("数据目录上链 · credit-data catalogue anchored on chain")
        operator = self.client(self.operators[0])
        try:
            current = operator.catalogue()
            version, content_hash = current["version"], short(current["content_hash"])
            say(f"    already published: v{version} in force, hash {content_hash}")
            if current.get("transaction"):
                say(f"      {on_chain(current)}")
        except ApiError as exc:
            if exc.status != 409:
                raise
            published = operator.publish_catalogue(CATALOGUE.model_dump(mode="json"))
            say(f"    operator 1 published v{published['version']}: {len(CATALOGUE.categories)} categories, "
                f"hash {short(published['content_hash'])}")  # fmt: skip
            say(f"      {on_chain(published)}")

    # 2 -------------------------------------------------------------------------------------------

    def admit_members(self) -> None:
        self.step("成员准入 · governance: any 2 of the 3 operators admit each member")
        members = (self.bank, self.guarantor, self.market, self.tax, self.auditor, self.district)
        for n, member in enumerate(members):
            proposer, approver = n % 3, (n + 1) % 3
            kind = f"/{member.kind.name.lower()}" if member.kind is not InstitutionKind.NONE else ""
            say(f"    {member.name} ({member.role.name.lower()}{kind}, key {member.account.address})")
            proposed = self.client(self.operators[proposer]).propose(
                Action.ADMIT,
                account=member.account.address, role=member.role, kind=member.kind, name=member.name,
            )  # fmt: skip
            say(f"      proposed by operator {proposer + 1}: proposal #{proposed['proposal_id']}, "
                f"{proposed['approvals']}/2 approvals")  # fmt: skip
            say(f"        {on_chain(proposed)}")
            approved = self.client(self.operators[approver]).approve(proposed["proposal_id"])
            state = "admitted" if approved["executed"] else "pending"
            say(f"      approved by operator {approver + 1}: {approved['approvals']}/2, {state}")
            say(f"        {on_chain(approved)}")
            if not approved["executed"]:
                raise DemoError(f"proposal #{proposed['proposal_id']} was not executed at 2 approvals")

    # 3 -------------------------------------------------------------------------------------------

    def register_enterprises(self) -> None:
        self.step("企业登记 · operator 1 registers three enterprises (统一社会信用代码 hashed on chain)")
        operator = self.client(self.operators[0])
        for e in self.enterprises:
            result = operator.register_enterprise(e.account.address, e.uscc, e.name)
            say(f"    {e.name}  {e.uscc}")
            say(f"      {on_chain(result)}")

    # 4 -------------------------------------------------------------------------------------------

    def ingest(self) -> None:
        self.step("数据归集 · providers submit records; each gets a receipt in the credit-record log")
        today = date.today()
        for provider, records in (
            (self.market, market_records(self.run_id, self.enterprises, today)),
            (self.tax, tax_records(self.run_id, self.enterprises, today)),
        ):
            report = self.client(provider.account).submit_records(records)
            if report["rejected_count"]:
                raise DemoError(f"{provider.name}: records rejected: {report['rejected']}")
            say(
                f"    {provider.name}: {report['created']} records (catalogue v{report['catalogue_version']})"
            )
            self.first_record = self.first_record or report["receipts"][0]
            for receipt, record in zip(report["receipts"], records, strict=True):
                zh = CATALOGUE.category(record["category"]).name_zh
                say(f"      {receipt['source_ref']:<28} {zh:<8} → log #{receipt['log_index']}, "
                    f"leaf {short(receipt['leaf_hash'])}")  # fmt: skip

    # 5 -------------------------------------------------------------------------------------------

    def agreements(self) -> None:
        self.step("信用承诺与数据共享协议 · commitments, agreements, countersignatures")
        now = int(time.time())
        self.bank_agreement = self._agreement(
            self.bank, REGISTRATION | PENALTY | TAX | SOCIAL, CREDIT, now, "信贷审批 credit_assessment"
        )
        self.guarantor_agreement = self._agreement(
            self.guarantor, TAX, GUARANTEE, now, "担保评估 guarantee_assessment"
        )

    def _agreement(self, member: Member, categories: int, purposes: int, now: int, purpose: str) -> int:
        client = self.client(member.account)
        committed = client.act(
            CommitMessage, kind=CommitmentKind.INSTITUTION_USAGE,
            document_hash=keccak(text=f"{member.name} 信用承诺书: 仅为约定用途使用数据 (demo {self.run_id})"),
        )  # fmt: skip
        say(f"    {member.name} · 信用承诺 (credit commitment) #{committed['created_id']}")
        say(f"      {on_chain(committed)}")
        proposed = client.act(
            ProposeAgreementMessage,
            categories=categories, purposes=purposes, max_level=MAX_LEVEL,
            valid_from=now - 3600, valid_until=now + 365 * 86400,
            document_hash=keccak(text=f"{member.name} 数据共享协议 (demo {self.run_id})"),
            commitment_id=committed["created_id"],
        )  # fmt: skip
        names = "+".join(CATALOGUE.categories_in_mask(categories))
        say(f"    {member.name} · 数据共享协议 (agreement) #{proposed['created_id']}")
        say(f"      scope {names}; purpose {purpose}; 1 year")
        say(f"      {on_chain(proposed)}")
        operator = self.client(self.operators[0])
        signed = operator.act(CountersignMessage, agreement_id=proposed["created_id"])
        say(f"    operator 1 countersigns agreement #{proposed['created_id']}: active")
        say(f"      {on_chain(signed)}")
        return int(proposed["created_id"])

    # 6-7 -----------------------------------------------------------------------------------------

    def grant(self, categories: int, raw: int, label: str) -> None:
        e = self.enterprises[0]
        result = self.client(e.account).act(
            GrantMessage,
            uscc_hash=uscc_hash(e.uscc), institution=self.bank.account.address,
            agreement_id=self.bank_agreement, categories=categories, purposes=CREDIT, raw_categories=raw,
            expires_at=int(time.time()) + 30 * 86400,
        )  # fmt: skip
        self.grants.append(int(result["created_id"]))
        names = "+".join(CATALOGUE.categories_in_mask(categories))
        say(f"    {e.name} grants 郑州银行 {names} ({label}, 30 days) → grant #{result['created_id']}")
        say(f"      {on_chain(result)}")

    def release(self, member: Member, enterprise: Enterprise, categories: int, *, raw: bool = False,
                purpose: int = CREDIT, agreement: int | None = None) -> dict[str, Any]:  # fmt: skip
        agreement_id = self.bank_agreement if agreement is None else agreement
        return self.client(member.account).release(
            enterprise.uscc, categories, purpose, agreement_id, raw=raw
        )

    def show_release(self, released: dict[str, Any]) -> None:
        for record in released["data"]["records"]:
            category = CATALOGUE.category(record["category"])
            say(
                f"      {category.name_zh} {record['category']} ({record['detail']}, {record['event_date']}):"
            )
            shown = [
                f"{category.field(name).name_zh}={record['fields'][name]}"
                for name in SHOWN_FIELDS.get(record["category"], ())
                if name in record["fields"]
            ]
            for line in _wrap(shown, width=72):  # CJK characters print double width
                say(f"        {line}")
        receipt = released["receipt"]
        say(f"      receipt: access-trail #{receipt['index']}, authorized at block B={receipt['block']}, "
            f"response hash {short(receipt['response_hash'])}")  # fmt: skip

    def masked_release(self) -> None:
        self.step("授权与脱敏查询 · enterprise grants consent (masked); the bank gets a masked release")
        self.grant(TAX | SOCIAL, 0, "masked")
        e = self.enterprises[0]
        say(f"    郑州银行 signs a data request: {e.name}, tax+social_insurance, credit_assessment")
        released = self.release(self.bank, e, TAX | SOCIAL)
        say(f"    released MASKED ({len(released['data']['records'])} records):")
        self.show_release(released)
        self.first_receipt = released["receipt"]

    def raw_release(self) -> None:
        self.step("原始数据授权 · enterprise grants raw detail for tax; the bank gets raw data")
        self.grant(TAX, TAX, "raw")
        released = self.release(self.bank, self.enterprises[0], TAX, raw=True)
        say(f"    released RAW ({len(released['data']['records'])} record):")
        self.show_release(released)

    # 8 -------------------------------------------------------------------------------------------

    def public_release(self) -> None:
        e = self.enterprises[1]
        self.step("公示信息 · public-disclosure categories need the agreement but no grant")
        say(f"    郑州银行 asks for {e.name}: registration+administrative_penalty (no grant exists)")
        released = self.release(self.bank, e, REGISTRATION | PENALTY)
        say(f"    released public categories ({len(released['data']['records'])} records, personal IDs still "
            "masked):")  # fmt: skip
        self.show_release(released)

    # 9-10 ----------------------------------------------------------------------------------------

    def refused(self, call: Callable[[], dict[str, Any]]) -> ApiError:
        try:
            call()
        except ApiError as exc:
            if exc.status != 403:
                raise
            reason = exc.message.rsplit(": ", 1)[-1]
            say(f"    REFUSED ({exc.status}): {exc.message.removeprefix('HTTP 403: ')}"
                + (f" · {REASONS_ZH[reason]}" if reason in REASONS_ZH else ""))  # fmt: skip
            say("      no data released, no access-trail entry; the refusal is in the audit records")
            return exc
        raise DemoError("expected a refusal, but the platform released data")

    def guarantor_refused(self) -> None:
        e = self.enterprises[0]
        self.step("未经授权 · the guarantor, with an agreement but no grant from the enterprise")
        say(f"    {self.guarantor.name} asks for {e.name}: tax, guarantee_assessment, "
            f"agreement #{self.guarantor_agreement}")  # fmt: skip
        self.refused(
            lambda: self.release(
                self.guarantor, e, TAX, purpose=GUARANTEE, agreement=self.guarantor_agreement
            )
        )

    def revoke(self) -> None:
        e = self.enterprises[0]
        self.step("撤回授权 · the enterprise revokes; the bank's next request is refused")
        for grant_id in self.grants:
            result = self.client(e.account).act(RevokeMessage, grant_id=grant_id)
            say(f"    {e.name} revokes grant #{grant_id}")
            say(f"      {on_chain(result)}")
        say("    郑州银行 asks again for tax+social_insurance")
        self.refused(lambda: self.release(self.bank, e, TAX | SOCIAL))

    # 11 ------------------------------------------------------------------------------------------

    def evaluation(self) -> None:
        self.step(
            "信用评价 · a scorecard (SYNTHETIC) approved by quorum; the bank evaluates; the enterprise too"
        )
        model, card = synthetic_scorecard(f"demo-{self.run_id}")
        operator, second = self.client(self.operators[0]), self.client(self.operators[1])
        stored = operator.store_model_documents(model, card)
        inputs = int(stored["input_categories"])
        proposed = operator.act(
            ProposeModelMessage,
            model_hash=bytes.fromhex(stored["model_hash"][2:]),
            card_hash=bytes.fromhex(stored["card_hash"][2:]),
            indicator_version=int(stored["indicator_version"]),
            input_categories=inputs,
        )
        proposal = int(proposed["created_id"])
        version = int(operator.model_proposal(proposal)["version"])
        say(f"    scorecard {short(stored['model_hash'])} (trained on a SYNTHETIC cohort) stored; operator 1 "
            f"proposes it as model version {version} (proposal #{proposal})")  # fmt: skip
        say(f"      {on_chain(proposed)}")
        approved = second.act(ApproveModelProposalMessage, id=proposal)
        say(f"    operator 2 approves: quorum reached, version {version} active")
        say(f"      {on_chain(approved)}")
        agreement = self._agreement(self.bank, inputs, CREDIT, int(time.time()), "信贷审批 credit_assessment")
        e = self.enterprises[0]
        granted = self.client(e.account).act(
            GrantMessage,
            uscc_hash=uscc_hash(e.uscc), institution=self.bank.account.address, agreement_id=agreement,
            categories=inputs, purposes=CREDIT, raw_categories=0, expires_at=int(time.time()) + 30 * 86400,
        )  # fmt: skip
        say(f"    {e.name} grants 郑州银行 the model's inputs (masked) → grant #{granted['created_id']}")
        answer = self.client(self.bank.account).evaluate(e.uscc, version, CREDIT, agreement)
        data, receipt = answer["data"], answer["receipt"]
        if data["status"] == "scored":
            say(f"    郑州银行: score {data['score']}, grade {data['grade']}; no record leaves the platform")
            for reason in data["reasons"]:
                say(f"      {reason['text_zh']}")
        else:
            missing = ", ".join(data["missing_dimensions"])
            say(f"    郑州银行 gets: insufficient data ({missing}); no score is made up")
        say(f"      receipt: access-trail #{receipt['index']}, authorized at block B={receipt['block']}, "
            f"response hash {short(receipt['response_hash'])}")  # fmt: skip
        own = self.client(e.account).self_evaluation(e.uscc)
        say(f"    {e.name} sees its own evaluation, free: {own['status']}"
            + (f", grade {own['grade']}" if own["status"] == "scored" else ""))  # fmt: skip

    def financing(self) -> None:
        self.step("融资服务 · a district white list, a bank's 科技贷, a demand matched, an application")
        now = datetime.now(UTC).replace(microsecond=0)
        valid_from = (now - timedelta(minutes=1)).isoformat()
        listed, other = self.enterprises[0], self.enterprises[1]
        key = f"金水区-科技型中小企业-{self.run_id}"
        published = self.client(self.district.account).publish_white_list({
            "key": key, "version": 1, "valid_from": valid_from, "name": "金水区科技型中小企业白名单",
            "district": "金水区", "criteria": "经区科技部门认定的科技型中小企业，无严重失信记录",
            "enterprises": [listed.uscc, other.uscc],
        })  # fmt: skip
        anchor = published["anchor"]
        digest = short(anchor["content_hash"])
        say(f"    {self.district.name} (district operator) publishes white list {key} v1 (2 enterprises), "
            f"hash {digest}")  # fmt: skip
        say(f"      tx {short(anchor['transaction'])} · block {anchor['block']}")
        product_key = f"郑州银行-科技贷-{self.run_id}"
        rules = [
            {"field": "white_lists", "op": "includes", "value": key},
            {"field": "years_in_operation", "op": "min", "value": 3},
            {"field": "no_dishonesty_record", "op": "equals", "value": True},
        ]
        product = self.client(self.bank.account).publish_product({
            "key": product_key, "version": 1, "valid_from": valid_from, "name": "科技贷（白名单专享）",
            "product_kind": "科技贷", "amount": {"min": 100_000, "max": 3_000_000},
            "term_months": {"min": 6, "max": 36}, "annual_rate_percent": {"min": 3.45, "max": 4.2},
            "guarantee": "credit", "eligibility": rules,
        })  # fmt: skip
        say(f"    郑州银行 publishes product {product_key} v1 with {len(rules)} eligibility rules")
        say(f"      tx {short(product['anchor']['transaction'])} · block {product['anchor']['block']}")
        ent = self.client(listed.account)
        since = ent.listings(listed.uscc)[0]
        say(f"    {listed.name} sees itself on the list since {since['since']}")
        demand = ent.post_demand(listed.uscc, 800_000, 12, "研发设备采购", "无（信用）")
        say(f"    {listed.name} posts a demand: 800,000 yuan, 12 months, 研发设备采购")
        found = ent.matches(listed.uscc, demand["id"])
        for m in found["eligible"] + found["not_eligible"]:
            if m["product"]["key"] != product_key:
                continue
            say(f"    matching (its own view, never shown to banks): {product_key} "
                f"{'eligible' if m['eligible'] else 'not eligible'}")  # fmt: skip
            for c in m["criteria"]:
                say(f"      {'✓' if c['met'] else '✗'} {c['reason']['zh']}")
        application = ent.apply_for_loan(
            listed.uscc, product_key, 1, categories=["registration", "tax"],
            expires_at=int(time.time()) + 90 * 86400, demand_id=demand["id"],
        )  # fmt: skip
        self.application = application
        say(f"    {listed.name} applies: one signed grant to 郑州银行 (registration+tax, credit_assessment) "
            f"→ grant #{application['grant_id']}")  # fmt: skip
        received = self.client(self.bank.account).loan_applications()
        say(f"    郑州银行 sees {len(received)} application(s) naming the grant; it reads the data through "
            "the ordinary release path")  # fmt: skip

    def loans(self) -> None:
        self.step("贷款报送与四(四)指标 · the bank reports its decision; the KPIs; a snapshot anchored")
        listed = self.enterprises[0]
        bank = self.client(self.bank.account)
        today = datetime.now(UTC).date()
        report = {
            "idempotency_key": f"demo-{self.run_id}-decision", "loan_ref": f"ZZB-{self.run_id}",
            "kind": "decision", "subject": listed.uscc, "agreement_id": self.bank_agreement,
            "outcome": "approved", "amount": "800000.00", "annual_rate": "3.85", "term_months": 12,
            "applied_on": today.isoformat(), "decided_on": today.isoformat(), "guarantee": "credit",
            "first_loan": True, "industry": "I",
        }  # fmt: skip
        receipt = bank.report_loan(report)
        say("    郑州银行 reports: approved, 800,000 yuan at 3.85 % for 12 months, credit, first loan (首贷)")
        say(f"      → version {receipt['version']}, agreement checked active at block {receipt['block']}")
        again = bank.report_loan(report)
        say(f"    sent again with the same idempotency key: the same answer (replayed={again['replayed']})")
        try:
            bank.report_loan({**report, "amount": "900000.00"})
        except ApiError as exc:
            say(f"    the same key, another amount: refused {exc.status} ({exc.message[:50]}…)")
        month = today.strftime("%Y-%m")
        operator = self.client(self.operators[0])
        kpis = operator.kpis(month=month)  # operators see the exact figures
        loans, ents, recs = kpis["loans"], kpis["enterprises"], kpis["records"]
        say(f"    KPIs of {month} (operator 1): {recs['collected']} records ({recs['timely_share']} timely); "
            f"{ents['onboarded']} SMEs onboarded, {ents['with_loan']} with a loan")  # fmt: skip
        say(f"      {loans['approved']} loan(s) approved, {loans['volume_fen'] / 100:,.2f} yuan; credit "
            f"{loans['credit_loans']}; first-time borrowers {loans['first_time_borrowers']}; "
            f"average rate {loans['average_rate_percent']} %")  # fmt: skip
        public = bank.kpis(month=month)
        minimum, loans = public["disclosure"]["min_enterprises"], public["loans"]
        shown = "suppressed" if loans["suppressed"] else f"{loans['volume_fen'] / 100:,.2f} yuan"
        say(
            f"    郑州银行 sees the loan volume as: {shown} "
            f"(cells of fewer than {minimum} enterprises are withheld)"
        )
        snapshot = operator.publish_kpi_snapshot(month)
        anchor = snapshot["anchor"]
        say(f"    operator 1 publishes the {month} snapshot v{anchor['version']} (figures + the rows they "
            f"recompute from), hash {short(anchor['content_hash'])}")  # fmt: skip
        say(f"      tx {short(anchor['transaction'])} · block {anchor['block']}; "
            "`credit-ledger kpi verify FILE` recomputes it and matches the chain")  # fmt: skip

    def anchored(self, wait_seconds: float = PROOF_WAIT_SECONDS) -> None:
        index = int(self.first_receipt["index"])
        self.step(f"访问留痕上链 · access-trail entry #{index} (the first release) anchored on chain")
        bank = self.client(self.bank.account)
        began = time.monotonic()
        bundle = _once_anchored(lambda: bank.release_proof(index), wait_seconds)
        waited = time.monotonic() - began
        leaf_hash = bytes.fromhex(bundle["leaf_hash"][2:])
        path = [bytes.fromhex(h[2:]) for h in bundle["inclusion_proof"]]
        root = bytes.fromhex(bundle["root"][2:])
        try:
            if hash_leaf(bundle["leaf"].encode()) != leaf_hash or leaf_hash.hex() != self.first_receipt[
                "leaf_hash"
            ].removeprefix("0x"):
                raise DemoError("the proof's leaf is not the receipt's")
            verify_inclusion(leaf_hash, index, bundle["tree_size"], path, root)
        except MerkleError as exc:
            raise DemoError(f"inclusion proof does not check out: {exc}") from None
        anchor = bundle["anchor"]
        say(f"    anchored by the worker in `credit-ledger up` (waited {waited:.1f} s): checkpoint of "
            f"{bundle['tree_size']} entries, root {short(bundle['root'])}")  # fmt: skip
        say(f"      tx {anchor['transaction']} · block {anchor['block']}")
        say(f"    inclusion proof: {len(path)} hashes from leaf {short(bundle['leaf_hash'])} to the root — "
            "checked here (RFC 9162)")  # fmt: skip
        say("    an auditor checks the bundle against the chain (ledger.logs.verify.verify_inclusion_bundle)")
        at = int(self.first_record["log_index"])
        record = _once_anchored(lambda: self.client(self.market.account).record_proof_at(at), wait_seconds)
        say(f"    a record's proof by its receipt's log index alone: credit-record log #{at} is record "
            f"{record['record']['record_id']} v{record['record']['version']}, in the checkpoint of "
            f"{record['tree_size']} entries")  # fmt: skip
        say(f"      `credit-ledger records proof --log-index {at}`, then `records verify-proof FILE`")

    # keystores -----------------------------------------------------------------------------------

    def keystores(self) -> list[tuple[str, str, LocalAccount]]:
        """(file name, who, account) of every key the demo signs with: its members and the operators."""
        named = [(f"operator-{n}.json", f"operator {n} (devnet account {n})", a)
                 for n, a in enumerate(self.operators, start=1)]  # fmt: skip
        for slug, member in (("bank", self.bank), ("guarantor", self.guarantor),
                             ("provider-market", self.market), ("provider-tax", self.tax),
                             ("auditor", self.auditor), ("district-operator", self.district)):  # fmt: skip
            kind = f"/{member.kind.name.lower()}" if member.kind is not InstitutionKind.NONE else ""
            who = f"{member.name} ({member.role.name.lower()}{kind})"
            named.append((f"{slug}.json", who, member.account))
        for n, e in enumerate(self.enterprises, start=1):
            named.append((f"enterprise-{n}.json", f"{e.name} (enterprise {e.uscc})", e.account))
        return named

    def save_keystores(self) -> None:
        """Every key as a keystore under the data directory, with a README saying how to use them."""
        if self.keys_dir is None:
            return
        for file, _, account in self.keystores():
            save_keystore(self.keys_dir / file, account, DEMO_KEYSTORE_PASSWORD, scrypt_n=DEMO_SCRYPT_N)
        (self.keys_dir / "README.txt").write_text("\n".join(self.how_to_act()) + "\n", encoding="utf-8")

    def how_to_act(self) -> list[str]:
        """What the README beside the keystores says, and the demo prints at its end."""
        assert self.keys_dir is not None
        example = self.keys_dir / "provider-market.json"
        at = self.first_record.get("log_index", 0)
        return [
            f"DEVELOPMENT ONLY: keystores of `credit-ledger demo` run {self.run_id} against {self.url}.",
            f'The password of every file is "{DEMO_KEYSTORE_PASSWORD}": it is public, so these keys protect',
            "nothing. Never use them, or this password, outside a development devnet.",
            "",
            *(f"  {file:<22} {account.address}  {who}" for file, who, account in self.keystores()),
            "",
            "CLI: every member command takes --keystore FILE, its password from LEDGER_KEY_PASSWORD, e.g.",
            f"  LEDGER_KEY_PASSWORD={DEMO_KEYSTORE_PASSWORD} credit-ledger records proof --log-index {at} "
            f"--keystore {example} --api {self.url}",
            f"SDK: LedgerClient({self.url!r}, load_keystore(Path(FILE), {DEMO_KEYSTORE_PASSWORD!r}))"
            " (ledger.sdk, ledger.keystore)",
            f"Portal: open {self.url}/portal, choose the keystore file, password {DEMO_KEYSTORE_PASSWORD}",
        ]

    def show_keystores(self) -> None:
        if self.keys_dir is None:
            return
        self.step("演示账户 · act as any member of this demo afterwards: its keystores (DEVELOPMENT ONLY)")
        (self.keys_dir / "README.txt").write_text("\n".join(self.how_to_act()) + "\n", encoding="utf-8")
        say(f"    saved in {self.keys_dir} (README.txt beside them says the same)")
        for line in self.how_to_act():
            say(f"    {line}" if line else "")

    # ---------------------------------------------------------------------------------------------

    def run(self) -> None:
        chain = check_platform(self.url, self.http)
        self.check_operators()
        say(f"credit-ledger demo · run {self.run_id} · {self.url} · chain {chain['chain_id']}")
        say("(governance signed with the devnet operator keys, accounts 1-3: DEVNET ONLY)")
        self.save_keystores()
        steps = (
            self.catalogue, self.admit_members, self.register_enterprises, self.ingest, self.agreements,
            self.masked_release, self.raw_release, self.public_release, self.guarantor_refused, self.revoke,
            self.evaluation, self.financing, self.loans,
            self.anchored, self.show_keystores,
        )  # fmt: skip
        began = time.monotonic()
        for step in steps:
            try:
                step()
            except (ApiError, ApiUnreachable, httpx.HTTPError) as exc:
                detail = exc.message if isinstance(exc, LedgerError) else f"{type(exc).__name__}: {exc}"
                raise DemoError(f"step {self.step_no} ({self.step_title}) failed: {detail}") from exc
        say()
        say(f"done in {time.monotonic() - began:.1f} s: every act above is a signed, relayed transaction; "
            "every release has its access-trail receipt.")  # fmt: skip


def _once_anchored(fetch: Callable[[], dict[str, Any]], wait_seconds: float) -> dict[str, Any]:
    """`fetch`'s proof bundle, asked again while the answer is 409 (not anchored yet)."""
    began = time.monotonic()
    while True:
        try:
            return fetch()
        except ApiError as exc:
            if exc.status != 409 or time.monotonic() - began > wait_seconds:
                raise
            time.sleep(0.5)


def synthetic_scorecard(
    model_version: str, seed: int = 7, count: int = 1_500
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A scorecard and its card trained on a SYNTHETIC cohort (`ledger.evaluation.synthetic`):
    the demo has no real outcomes to train on, and says so. Named `model_version`, so each
    run proposes a document of its own (a registry refuses a document twice)."""
    from ledger.evaluation.schema import default_indicators
    from ledger.evaluation.synthetic import SyntheticCohort
    from ledger.evaluation.training import TrainingRow, TrainingSource, train

    indicators = default_indicators()
    labelled = list(SyntheticCohort(seed, date.today(), indicators).labelled(0, count))
    rows = [TrainingRow(x.subject, x.portrait.values, x.default) for x in labelled if x.portrait.sufficient]
    source = TrainingSource(
        synthetic=True,
        description_en="SYNTHETIC SME cohort for the demo",
        description_zh="演示用合成中小企业样本",
        details={"generator": "ledger.evaluation.synthetic", "seed": seed, "enterprises": count},
        excluded_insufficient=len(labelled) - len(rows),
    )
    trained = train(rows, indicators, source)
    document = trained.document.model_copy(update={"model_version": model_version})
    card = trained.card.model_copy(update={"model_sha256": document.content_hash().hex()})
    return document.model_dump(mode="json"), card.model_dump(mode="json")


def _wrap(items: Iterable[str], width: int) -> list[str]:
    lines: list[str] = []
    for item in items:
        if lines and len(lines[-1]) + 3 + len(item) <= width:
            lines[-1] += " · " + item
        else:
            lines.append(item)
    return lines


def check_platform(url: str, http: httpx.Client | None = None) -> dict[str, Any]:
    """The platform's `/chain`, or a `DemoError` saying how to start one."""
    hint = f"start one with `{START_COMMAND}` (or pass --url)"
    try:
        client = http or httpx.Client(base_url=url, timeout=10.0)
        health = client.get("/healthz")
        ready = health.status_code == 200 and health.json().get("ready") is True
        chain: dict[str, Any] = client.get("/chain").json() if ready else {}
    except (httpx.HTTPError, ValueError) as exc:
        raise DemoError(f"the platform at {url} is not reachable ({type(exc).__name__}): {hint}") from None
    if not ready:
        raise DemoError(f"the platform at {url} is not ready (GET /healthz: {health.text[:200]}): {hint}")
    return chain


def run(url: str, keys_dir: Path | None = None) -> None:
    """Walk the whole story against the platform at `url`, saving its keystores under
    `keys_dir` (a folder per run); raises `DemoError` if it cannot."""
    Demo(url.rstrip("/"), keys_dir=keys_dir).run()

"""Gas of each agreement, consent and catalogue act, and the latency of the authorization call.

Starts a throw-away anvil (Cancun rules, like the ledger's devnet), deploys the real
Membership, Agreements, CatalogueRegistry and Consents, admits two banks and two
enterprises, and measures each act as a relayed EIP-712 signature. "Steady" means the
signer's nonce slot in the contract is already non-zero; a member's first signature in
a contract pays about 17,100 gas more for it.

Then it times `Consents.authorize` for an allowed request that walks two grants
(the covering one is the older): through a plain web3 contract call, through the fast
path of `ledger.chain.authorize_call` (one raw `eth_call` over a kept-alive
connection), and through JSON-RPC batches of 100 calls.

    .venv/bin/python bench/gas_authorization.py
"""

from __future__ import annotations

import socket
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3.types import TxReceipt

from ledger.chain.agreements import AgreementsContract, AgreementTerms, CommitmentKind
from ledger.chain.authorize_call import AuthorizeCaller
from ledger.chain.catalogue_registry import CatalogueRegistryContract, CatalogueVersion
from ledger.chain.client import ChainClient
from ledger.chain.compile import compile_contracts
from ledger.chain.consents import AuthorizationQuery, ConsentsContract, GrantTerms
from ledger.chain.membership import Action, InstitutionKind, MembershipContract, Role, name_hash, uscc_hash
from ledger.devnet import Devnet, devnet_key

CALLS = 2_000
WARM_UP = 200
BATCH = 100
DAY = 86_400
TAX, SOCIAL_INSURANCE, UTILITIES = 1 << 6, 1 << 7, 1 << 9
PUBLIC = 0b111
CREDIT_ASSESSMENT = 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _gas(receipt: TxReceipt) -> int:
    return int(receipt["gasUsed"])


def _timed(call: Callable[[], object], count: int) -> list[float]:
    for _ in range(WARM_UP):
        call()
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def _row(label: str, samples: list[float], per: int = 1) -> str:
    median = statistics.median(samples) * 1000 / per
    p99 = statistics.quantiles(samples, n=100)[98] * 1000 / per
    return f"  {label:<52} median {median:7.3f} ms   p99 {p99:7.3f} ms   ({len(samples):,} samples)"


def run(client: ChainClient) -> None:
    # DEVNET ONLY keys: 1 operator, 2-3 banks, 4-5 enterprises, 9 platform
    accounts = [Account.from_key(devnet_key(i)) for i in range(10)]
    operator, bank, bank2, enterprise, enterprise2 = accounts[1:6]
    m = MembershipContract.deploy(client, [operator.address], 1, 3600, accounts[9].address)
    for b in (bank, bank2):
        m.propose(
            m.sign_propose(
                operator,
                Action.ADMIT,
                account=b.address,
                role=Role.INSTITUTION,
                kind=InstitutionKind.BANK,
                name_hash=name_hash(b.address),
            )
        )
    uscc, uscc2 = "91350200776049653A", "91110000600037341L"
    for e, code in ((enterprise, uscc), (enterprise2, uscc2)):
        m.register_enterprise(m.sign_register_enterprise(operator, e.address, code, code))
    agreements = AgreementsContract.deploy(client, m.address)
    catalogue = CatalogueRegistryContract.deploy(client, m.address)
    consents = ConsentsContract.deploy(client, m.address, agreements.address, catalogue.address)
    rows: list[tuple[str, int]] = []

    def act(label: str, receipt: TxReceipt) -> None:
        rows.append((label, _gas(receipt)))

    # -- catalogue --------------------------------------------------------------------
    act(
        "publish catalogue v1 (operator's first signature)",
        catalogue.publish(catalogue.sign_publish(operator, CatalogueVersion(1, keccak(text="v1"), PUBLIC))),
    )
    act(
        "publish catalogue v2 (steady)",
        catalogue.publish(catalogue.sign_publish(operator, CatalogueVersion(2, keccak(text="v2"), PUBLIC))),
    )

    # -- commitments and agreements ---------------------------------------------------
    a = agreements
    act(
        "commit InstitutionUsage (institution's first signature)",
        a.relay("commit", a.sign_commit(bank, CommitmentKind.INSTITUTION_USAGE, keccak(text="letter"))),
    )
    act(
        "commit InstitutionUsage (steady)",
        a.relay("commit", a.sign_commit(bank, CommitmentKind.INSTITUTION_USAGE, keccak(text="letter 2"))),
    )
    now = int(client.w3.eth.get_block("latest")["timestamp"])
    terms = AgreementTerms((1 << 12) - 1, 0b111, 3, now - 60, now + 365 * DAY, keccak(text="agreement"), 1)
    act("propose agreement (steady)", a.relay("propose", a.sign_propose(bank, terms)))
    act("countersign (operator's first signature)", a.countersign(a.sign_countersign(operator, 1)))
    a.commit(a.sign_commit(bank2, CommitmentKind.INSTITUTION_USAGE, keccak(text="letter bank2")))
    a.countersign(
        a.sign_countersign(operator, a.propose(a.sign_propose(bank2, replace(terms, commitment_id=3))))
    )
    act(
        "countersign (steady)",
        a.countersign(a.sign_countersign(operator, a.propose(a.sign_propose(bank, terms)))),
    )
    act("suspend agreement", a.suspend(a.sign_suspend(operator, 3)))
    act("reinstate agreement", a.reinstate(a.sign_reinstate(operator, 3)))
    act("terminate agreement (by its institution)", a.terminate(a.sign_terminate(bank, 3)))
    act(
        "mark commitment breached",
        a.mark_breached(a.sign_mark_breached(operator, 2, keccak(text="evidence"))),
    )

    # -- consents ---------------------------------------------------------------------
    def grant(by: LocalAccount, code: str, institution: str, categories: int) -> TxReceipt:
        t = GrantTerms(
            uscc_hash(code), institution, 0, categories, CREDIT_ASSESSMENT, categories & TAX, now + 90 * DAY
        )
        return consents.relay("grant", consents.sign_grant(by, t))

    act(
        "grant: enterprise's first signature, first grant to the bank",
        grant(enterprise, uscc, bank.address, TAX),
    )
    act("grant: same enterprise and bank again (steady)", grant(enterprise, uscc, bank.address, UTILITIES))
    act("grant: same enterprise, another bank (new pair)", grant(enterprise, uscc, bank2.address, TAX))
    grant(enterprise2, uscc2, bank.address, TAX)
    act("grant: another enterprise's 2nd grant, new pair", grant(enterprise2, uscc2, bank2.address, TAX))
    act("revoke (steady)", consents.revoke(consents.sign_revoke(enterprise, 3)))

    print("Gas per act (relayed EIP-712 signature; goal for a grant: < 120,000)")
    for label, gas in rows:
        print(f"  {label:<62} {gas:>8,}")

    # -- authorization latency --------------------------------------------------------
    query = AuthorizationQuery(bank.address, uscc_hash(uscc), TAX | 1, CREDIT_ASSESSMENT, 1, 2)
    decision = consents.authorize(query)
    assert decision.allowed and decision.grant_id == 1, decision
    fn = consents.contract.functions.authorize(*query.args())
    estimate = client.w3.eth.estimate_gas({"to": consents.address, "data": fn._encode_transaction_data()})
    print(f"\nauthorize() as an eth_call: {estimate:,} gas (estimate incl. 21,000 base), walks 2 grants")
    print(f"Latency of one authorization ({CALLS:,} calls after {WARM_UP} warm-up; goal fast path < 1.5 ms):")
    print(_row("web3 contract call  functions.authorize(...).call()", _timed(fn.call, CALLS)))
    print(
        _row(
            "ConsentsContract.authorize (web3 + error mapping)",
            _timed(lambda: consents.authorize(query), CALLS),
        )
    )
    block = client.block_number()
    with AuthorizeCaller(client.rpc_url, consents.address) as fast:
        assert fast.authorize(query) == decision
        print(_row('fast path, "latest"', _timed(lambda: fast.authorize(query), CALLS)))
        print(_row(f"fast path, explicit block {block}", _timed(lambda: fast.authorize(query, block), CALLS)))
        batch = [query] * BATCH
        batches = _timed(lambda: fast.authorize_many(batch, block), CALLS // BATCH * 5)
        print(_row(f"batched, {BATCH} calls per HTTP request (per request)", batches))
        print(_row(f"batched, {BATCH} calls per HTTP request (per decision)", batches, per=BATCH))


def main() -> None:
    artifacts = compile_contracts()
    with tempfile.TemporaryDirectory(prefix="gas-authorization-") as tmp:
        node = Devnet(Path(tmp), port=_free_port())
        node.start()
        try:
            run(ChainClient.connect(node.url, devnet_key(0), artifacts=artifacts))
        finally:
            node.stop()


if __name__ == "__main__":
    main()

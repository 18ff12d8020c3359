"""Checkpoints and the RFC9162 library against a real anvil node.

Three sources of truth are checked against each other:
- the public CT test vectors (roots of sizes 0..8, the 6 → 8 consistency proof, the
  inclusion proof of leaf 0 in the tree of 8), copied from the reference notes;
- `RefLog` below: the RFC 9162 definitions (MTH, PATH, SUBPROOF) written as the RFC's
  recursion, deliberately naive, used to build proofs for random sizes;
- the project's `ledger.merkle.rfc9162`, cross-checked against `RefLog`.
The on-chain verifier is exercised through `eth_call`s to `RFC9162Harness` (cheap, many
cases) and through real `Checkpoints` transactions (vectors, refusals, roles, gas).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web3.contract import Contract

from ledger.chain.checkpoints import Checkpoint, CheckpointsContract, log_id
from ledger.chain.client import ChainClient
from ledger.chain.eip712 import domain_of, sign_typed_data
from ledger.chain.errors import ContractRevert
from ledger.domain.log_names import ACCESS_TRAIL_LOG, CREDIT_RECORDS_LOG
from ledger.merkle import rfc9162

# ------------------------------------------------------------------ reference material

EMPTY_ROOT = hashlib.sha256(b"").digest()
#: the on-chain ids of the two standard logs
RECORDS_LOG_ID = log_id(CREDIT_RECORDS_LOG)
TRAIL_LOG_ID = log_id(ACCESS_TRAIL_LOG)

CT_LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
CT_ROOTS = [
    bytes.fromhex(h)
    for h in [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]
]
CT_INCLUSION_0_OF_8 = [
    bytes.fromhex(h)
    for h in [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ]
]
CT_CONSISTENCY_6_TO_8 = [
    bytes.fromhex(h)
    for h in [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]
]


def ref_leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def ref_node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """k: the largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


class RefLog:
    """RFC 9162 §2.1 written as the RFC's recursive definitions, with a memo of MTH."""

    def __init__(self, leaf_hashes: list[bytes]) -> None:
        self.leaves = leaf_hashes
        self._memo: dict[tuple[int, int], bytes] = {}

    def mth(self, lo: int, hi: int) -> bytes:
        n = hi - lo
        if n == 0:
            return EMPTY_ROOT
        if n == 1:
            return self.leaves[lo]
        key = (lo, hi)
        if key not in self._memo:
            k = split(n)
            self._memo[key] = ref_node(self.mth(lo, lo + k), self.mth(lo + k, hi))
        return self._memo[key]

    def root(self, size: int) -> bytes:
        return self.mth(0, size)

    def path(self, m: int, lo: int, hi: int) -> list[bytes]:  # §2.1.3.1 PATH(m, D[lo:hi])
        n = hi - lo
        if n == 1:
            return []
        k = split(n)
        if m < k:
            return [*self.path(m, lo, lo + k), self.mth(lo + k, hi)]
        return [*self.path(m - k, lo + k, hi), self.mth(lo, lo + k)]

    def inclusion(self, index: int, size: int) -> list[bytes]:
        return self.path(index, 0, size)

    def subproof(self, m: int, lo: int, hi: int, b: bool) -> list[bytes]:  # §2.1.4.1
        n = hi - lo
        if m == n:
            return [] if b else [self.mth(lo, hi)]
        k = split(n)
        if m <= k:
            return [*self.subproof(m, lo, lo + k, b), self.mth(lo + k, hi)]
        return [*self.subproof(m - k, lo + k, hi, False), self.mth(lo, lo + k)]

    def consistency(self, size1: int, size2: int) -> list[bytes]:
        if size1 in (0, size2):
            return []
        return self.subproof(size1, 0, size2, True)


CT_LOG = RefLog([ref_leaf(leaf) for leaf in CT_LEAVES])
BIG_SIZE = 1030  # crosses 1024: power-of-two and odd edges on both sides
BIG_LOG = RefLog([ref_leaf(i.to_bytes(4, "big")) for i in range(BIG_SIZE)])


def flip_bit(value: bytes, bit: int) -> bytes:
    out = bytearray(value)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


# ------------------------------------------------------------------ membership helpers

ROLE_OPERATOR, ROLE_PROVIDER, ROLE_INSTITUTION, ROLE_PLATFORM = 1, 2, 3, 6
KIND_BANK = 1
ACTION_ADMIT, ACTION_SUSPEND, ACTION_REINSTATE = 0, 1, 2
PROPOSE_TYPES = {
    "Propose": [
        {"name": "action", "type": "uint8"},
        {"name": "account", "type": "address"},
        {"name": "role", "type": "uint8"},
        {"name": "kind", "type": "uint8"},
        {"name": "nameHash", "type": "bytes32"},
        {"name": "newQuorum", "type": "uint256"},
        {"name": "proposer", "type": "address"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}


@dataclass
class Governance:
    """The real Membership with one operator and quorum 1: each signed proposal executes."""

    chain: ChainClient
    membership: Contract
    operator: LocalAccount

    def _propose(self, action: int, account: str, role: int = 0, kind: int = 0) -> None:
        nonce = self.membership.functions.nonces(self.operator.address).call()
        deadline = int(self.chain.w3.eth.get_block("latest")["timestamp"]) + 3600
        message: dict[str, Any] = {
            "action": action,
            "account": account,
            "role": role,
            "kind": kind,
            "nameHash": b"\x00" * 32,
            "newQuorum": 0,
            "proposer": self.operator.address,
            "nonce": nonce,
            "deadline": deadline,
        }
        signature = sign_typed_data(
            self.operator.key, domain_of(self.membership), PROPOSE_TYPES, "Propose", message
        )
        self.chain.transact(self.membership.functions.propose(*message.values(), signature))

    def admit(self, account: str, role: int, kind: int = 0) -> None:
        self._propose(ACTION_ADMIT, account, role, kind)

    def suspend(self, account: str) -> None:
        self._propose(ACTION_SUSPEND, account)

    def reinstate(self, account: str) -> None:
        self._propose(ACTION_REINSTATE, account)


@dataclass
class Setup:
    chain: ChainClient
    checkpoints: CheckpointsContract  # driven by the platform account (the relayer)
    governance: Governance
    accounts: list[LocalAccount]

    def as_account(self, account: LocalAccount) -> CheckpointsContract:
        """The same contract driven by `account` sending its own transactions."""
        return CheckpointsContract(
            ChainClient(self.chain.w3, account, self.chain.artifacts), self.checkpoints.address
        )


@pytest.fixture
def setup(chain: ChainClient, dev_accounts: list[LocalAccount]) -> Setup:
    platform, operator = dev_accounts[0], dev_accounts[1]
    membership_address = chain.deploy("Membership", [operator.address], 1, 3600, platform.address)
    membership = chain.contract("Membership", membership_address)
    checkpoints = CheckpointsContract.deploy(chain, membership_address)
    return Setup(chain, checkpoints, Governance(chain, membership, operator), dev_accounts)


@pytest.fixture
def harness(chain: ChainClient) -> Contract:
    return chain.contract("RFC9162Harness", chain.deploy("RFC9162Harness"))


def reverts(action: Callable[[], object]) -> ContractRevert:
    with pytest.raises(ContractRevert) as info:
        action()
    return info.value


# ------------------------------------------------------------------ reference sanity


def test_reference_reproduces_ct_vectors() -> None:
    assert [CT_LOG.root(n) for n in range(9)] == CT_ROOTS
    assert CT_LOG.consistency(6, 8) == CT_CONSISTENCY_6_TO_8
    assert CT_LOG.inclusion(0, 8) == CT_INCLUSION_0_OF_8


def test_reference_agrees_with_ledger_merkle() -> None:
    leaves = BIG_LOG.leaves
    tree = rfc9162.MerkleTree(leaves)
    for size1, size2 in [(0, 5), (1, 2), (3, 7), (4, 8), (6, 8), (511, 1030), (1024, 1030), (700, 1024)]:
        proof = BIG_LOG.consistency(size1, size2)
        assert rfc9162.consistency_proof(leaves, size1, size2) == proof
        assert tree.consistency_proof(size1, size2) == proof
        assert rfc9162.consistency_proof_length(size1, size2) == len(proof)
        assert tree.root(size2) == BIG_LOG.root(size2)


# ------------------------------------------------------------------ library via eth_call


def consistency(
    chain: ChainClient, harness: Contract
) -> Callable[[int, int, bytes, bytes, list[bytes]], bool]:
    def check(size1: int, size2: int, root1: bytes, root2: bytes, proof: list[bytes]) -> bool:
        return bool(chain.call(harness.functions.verifyConsistency(size1, size2, root1, root2, proof)))

    return check


def test_library_ct_vectors(chain: ChainClient, harness: Contract) -> None:
    verify = consistency(chain, harness)
    assert verify(6, 8, CT_ROOTS[6], CT_ROOTS[8], CT_CONSISTENCY_6_TO_8)
    leaf0 = ref_leaf(CT_LEAVES[0])
    assert chain.call(harness.functions.verifyInclusion(0, 8, leaf0, CT_ROOTS[8], CT_INCLUSION_0_OF_8))
    assert chain.call(harness.functions.hashLeaf(b"")) == leaf0
    # every pair of the CT tree: the library accepts the reference's proofs
    for size2 in range(9):
        for size1 in range(size2 + 1):
            assert verify(size1, size2, CT_ROOTS[size1], CT_ROOTS[size2], CT_LOG.consistency(size1, size2))


def test_library_edge_cases(chain: ChainClient, harness: Contract) -> None:
    verify = consistency(chain, harness)
    r = CT_ROOTS
    # size1 == 0: empty proof, root1 must be the empty-tree root
    assert verify(0, 5, EMPTY_ROOT, r[5], [])
    assert verify(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    err = reverts(lambda: verify(0, 5, EMPTY_ROOT, r[5], [r[4]]))
    assert (err.error_name, err.error_args) == ("ConsistencyProofLength", {"expected": 0, "actual": 1})
    err = reverts(lambda: verify(0, 5, b"\x00" * 32, r[5], []))
    assert err.error_name == "ConsistencyRootMismatch"
    assert err.error_args == {"size": 0, "expected": EMPTY_ROOT, "computed": b"\x00" * 32}
    # size1 == size2: empty proof, equal roots
    assert verify(5, 5, r[5], r[5], [])
    err = reverts(lambda: verify(5, 5, r[5], r[6], []))
    assert err.error_args == {"size": 5, "expected": r[6], "computed": r[5]}
    err = reverts(lambda: verify(5, 5, r[5], r[5], [r[4]]))
    assert err.error_args == {"expected": 0, "actual": 1}
    # size1 a power of two: the proof does not repeat root1; prepending it is refused
    for size1, size2 in [(1, 2), (1, 8), (2, 7), (4, 8), (4, 5)]:
        proof = CT_LOG.consistency(size1, size2)
        assert r[size1] not in proof[:1]
        assert verify(size1, size2, r[size1], r[size2], proof)
        with pytest.raises(ContractRevert) as info:
            verify(size1, size2, r[size1], r[size2], [r[size1], *proof])
        assert info.value.error_args == {"expected": len(proof), "actual": len(proof) + 1}
    # a log never shrinks
    err = reverts(lambda: verify(6, 5, r[6], r[5], []))
    assert (err.error_name, err.error_args) == ("ConsistencySizeDecrease", {"size1": 6, "size2": 5})
    # 0 < size1 < size2 needs a proof
    err = reverts(lambda: verify(3, 5, r[3], r[5], []))
    assert err.error_args == {"expected": len(CT_LOG.consistency(3, 5)), "actual": 0}


def test_library_inclusion_refusals(chain: ChainClient, harness: Contract) -> None:
    leaf0, proof, root8 = ref_leaf(CT_LEAVES[0]), CT_INCLUSION_0_OF_8, CT_ROOTS[8]
    fn = harness.functions
    err = reverts(lambda: chain.call(fn.verifyInclusion(8, 8, leaf0, root8, proof)))
    assert (err.error_name, err.error_args) == ("InclusionIndexOutOfRange", {"index": 8, "size": 8})
    err = reverts(lambda: chain.call(fn.verifyInclusion(0, 8, leaf0, root8, proof[:2])))
    assert (err.error_name, err.error_args) == ("InclusionProofLength", {"expected": 3, "actual": 2})
    bad = [proof[0], flip_bit(proof[1], 77), proof[2]]
    err = reverts(lambda: chain.call(fn.verifyInclusion(0, 8, leaf0, root8, bad)))
    assert err.error_name == "InclusionRootMismatch"
    assert err.error_args["expected"] == root8
    # domain separation: an interior node is not a leaf of a smaller path
    node01 = ref_node(ref_leaf(CT_LEAVES[0]), ref_leaf(CT_LEAVES[1]))
    err = reverts(lambda: chain.call(fn.verifyInclusion(0, 8, node01, root8, proof[1:])))
    assert err.error_name == "InclusionProofLength"


EDGE_PAIRS = [
    (0, 1030),
    (1, 1030),
    (512, 1024),
    (1023, 1024),
    (1024, 1025),
    (1024, 1030),
    (1029, 1030),
    (1030, 1030),
]


def test_library_edge_sizes_of_big_log(chain: ChainClient, harness: Contract) -> None:
    verify = consistency(chain, harness)
    for size1, size2 in EDGE_PAIRS:
        proof = BIG_LOG.consistency(size1, size2)
        assert verify(size1, size2, BIG_LOG.root(size1), BIG_LOG.root(size2), proof)
        with pytest.raises(ContractRevert) as info:
            verify(
                size1,
                size2,
                BIG_LOG.root(size1),
                BIG_LOG.root(size2),
                [*proof, proof[-1] if proof else EMPTY_ROOT],
            )
        assert info.value.error_name == "ConsistencyProofLength"


sizes = st.integers(min_value=1, max_value=BIG_SIZE).flatmap(
    lambda size2: st.tuples(st.integers(min_value=0, max_value=size2), st.just(size2))
)


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(pair=sizes, data=st.data())
def test_library_random_consistency(
    chain: ChainClient, harness: Contract, pair: tuple[int, int], data: st.DataObject
) -> None:
    size1, size2 = pair
    verify = consistency(chain, harness)
    root1, root2 = BIG_LOG.root(size1), BIG_LOG.root(size2)
    proof = BIG_LOG.consistency(size1, size2)
    assert verify(size1, size2, root1, root2, proof)
    # short and long proofs
    if proof:
        err = reverts(lambda: verify(size1, size2, root1, root2, proof[:-1]))
        assert err.error_args == {"expected": len(proof), "actual": len(proof) - 1}
    err = reverts(lambda: verify(size1, size2, root1, root2, [*proof, root2]))
    assert (err.error_name, err.error_args) == (
        "ConsistencyProofLength",
        {"expected": len(proof), "actual": len(proof) + 1},
    )
    if not proof:
        return
    # one flipped bit anywhere in the proof
    i = data.draw(st.integers(0, len(proof) - 1), label="node")
    bit = data.draw(st.integers(0, 255), label="bit")
    bad = [*proof]
    bad[i] = flip_bit(bad[i], bit)
    err = reverts(lambda: verify(size1, size2, root1, root2, bad))
    assert err.error_name == "ConsistencyRootMismatch"
    assert (err.error_args["size"], err.error_args["expected"]) in [(size1, root1), (size2, root2)]
    # two different nodes swapped
    distinct = [(a, b) for a in range(len(proof)) for b in range(a + 1, len(proof)) if proof[a] != proof[b]]
    if distinct:
        a, b = data.draw(st.sampled_from(distinct), label="swap")
        swapped = [*proof]
        swapped[a], swapped[b] = swapped[b], swapped[a]
        assert (
            reverts(lambda: verify(size1, size2, root1, root2, swapped)).error_name
            == "ConsistencyRootMismatch"
        )
    # the proof of another pair of sizes, or against the wrong new root
    err = reverts(lambda: verify(size1, size2, root1, BIG_LOG.root(size2 - 1), proof))
    assert err.error_name == "ConsistencyRootMismatch"


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(index_size=st.integers(1, BIG_SIZE).flatmap(lambda n: st.tuples(st.integers(0, n - 1), st.just(n))))
def test_library_random_inclusion(chain: ChainClient, harness: Contract, index_size: tuple[int, int]) -> None:
    index, size = index_size
    leaf, root, proof = BIG_LOG.leaves[index], BIG_LOG.root(size), BIG_LOG.inclusion(index, size)
    assert chain.call(harness.functions.rootFromInclusionProof(index, size, leaf, proof)) == root
    assert chain.call(harness.functions.verifyInclusion(index, size, leaf, root, proof))
    err = reverts(
        lambda: chain.call(harness.functions.verifyInclusion(index, size, leaf, root, [*proof, root]))
    )
    assert err.error_args == {"expected": len(proof), "actual": len(proof) + 1}


# ------------------------------------------------------------------ Checkpoints contract


def test_fresh_log_is_empty(setup: Setup) -> None:
    assert setup.checkpoints.latest(RECORDS_LOG_ID) == Checkpoint(0, EMPTY_ROOT)
    assert setup.checkpoints.history(RECORDS_LOG_ID) == []
    assert setup.checkpoints.membership() == setup.governance.membership.address


def test_ct_roots_anchored_one_leaf_at_a_time(setup: Setup) -> None:
    cps, platform = setup.checkpoints, setup.accounts[0]
    for size in range(1, 9):
        receipt = cps.submit(RECORDS_LOG_ID, size, CT_ROOTS[size], CT_LOG.consistency(size - 1, size))
        assert cps.latest(RECORDS_LOG_ID) == Checkpoint(size, CT_ROOTS[size])
        (event,) = cps.events_in(receipt)
        assert (event.log_id, event.previous_size, event.size, event.root, event.submitter) == (
            RECORDS_LOG_ID,
            size - 1,
            size,
            CT_ROOTS[size],
            platform.address,
        )
        assert (event.block_number, event.transaction_hash) == (
            receipt["blockNumber"],
            receipt["transactionHash"],
        )
    history = cps.history(RECORDS_LOG_ID)
    assert [(e.previous_size, e.size, e.root) for e in history] == [
        (n - 1, n, CT_ROOTS[n]) for n in range(1, 9)
    ]
    assert cps.history(TRAIL_LOG_ID) == []
    assert cps.history(RECORDS_LOG_ID, from_block=history[-1].block_number) == history[-1:]


def test_ct_consistency_vector_6_to_8_on_chain(setup: Setup) -> None:
    cps = setup.checkpoints
    cps.submit(RECORDS_LOG_ID, 6, CT_ROOTS[6], [])  # from the empty log: nothing to prove
    receipt = cps.submit(RECORDS_LOG_ID, 8, CT_ROOTS[8], CT_CONSISTENCY_6_TO_8)
    assert receipt["status"] == 1
    assert cps.latest(RECORDS_LOG_ID) == Checkpoint(8, CT_ROOTS[8])
    assert [(e.previous_size, e.size) for e in cps.history(RECORDS_LOG_ID)] == [(0, 6), (6, 8)]


def test_jumps_and_independent_logs(setup: Setup) -> None:
    cps = setup.checkpoints
    steps = [0, 1, 4, 7, 64, 100, 512, 513, 1024, 1030]
    for before, after in itertools.pairwise(steps):
        cps.submit(TRAIL_LOG_ID, after, BIG_LOG.root(after), BIG_LOG.consistency(before, after))
    cps.submit(RECORDS_LOG_ID, 3, CT_ROOTS[3], [])
    assert cps.latest(TRAIL_LOG_ID) == Checkpoint(1030, BIG_LOG.root(1030))
    assert cps.latest(RECORDS_LOG_ID) == Checkpoint(3, CT_ROOTS[3])
    assert [e.size for e in cps.history(TRAIL_LOG_ID)] == steps[1:]
    assert TRAIL_LOG_ID == keccak(text="access-trail") == CheckpointsContract.log_id(ACCESS_TRAIL_LOG)


@pytest.fixture
def at_six(setup: Setup) -> Setup:
    """The credit-record log anchored at the CT tree of 6 leaves."""
    setup.checkpoints.submit(RECORDS_LOG_ID, 6, CT_ROOTS[6], [])
    return setup


def refused(setup: Setup, size: int, root: bytes, proof: list[bytes]) -> ContractRevert:
    err = reverts(lambda: setup.checkpoints.submit(RECORDS_LOG_ID, size, root, proof))
    assert setup.checkpoints.latest(RECORDS_LOG_ID) == Checkpoint(6, CT_ROOTS[6])
    return err


def test_refuses_flipped_bit(at_six: Setup) -> None:
    proof = [*CT_CONSISTENCY_6_TO_8]
    proof[0] = flip_bit(proof[0], 3)  # the seed: both recomputed roots change, root1 is checked first
    err = refused(at_six, 8, CT_ROOTS[8], proof)
    assert err.error_name == "ConsistencyRootMismatch"
    assert err.error_args["size"] == 6 and err.error_args["expected"] == CT_ROOTS[6]
    assert err.error_args["computed"] != CT_ROOTS[6]
    proof = [*CT_CONSISTENCY_6_TO_8]
    proof[1] = flip_bit(proof[1], 200)  # a right sibling beyond size 6: only root2 changes
    err = refused(at_six, 8, CT_ROOTS[8], proof)
    assert err.error_args["size"] == 8 and err.error_args["expected"] == CT_ROOTS[8]


def test_refuses_short_long_and_reordered_proofs(at_six: Setup) -> None:
    proof = CT_CONSISTENCY_6_TO_8
    err = refused(at_six, 8, CT_ROOTS[8], proof[:2])
    assert (err.error_name, err.error_args) == ("ConsistencyProofLength", {"expected": 3, "actual": 2})
    err = refused(at_six, 8, CT_ROOTS[8], [*proof, proof[0]])
    assert (err.error_name, err.error_args) == ("ConsistencyProofLength", {"expected": 3, "actual": 4})
    err = refused(at_six, 8, CT_ROOTS[8], [proof[1], proof[0], proof[2]])
    assert err.error_name == "ConsistencyRootMismatch"
    err = refused(at_six, 8, CT_ROOTS[7], proof)  # right proof, wrong new root
    assert err.error_args == {"size": 8, "expected": CT_ROOTS[7], "computed": CT_ROOTS[8]}
    assert len(CT_LOG.consistency(6, 7)) == len(proof)
    err = refused(at_six, 7, CT_ROOTS[7], proof)  # the 6 -> 8 proof offered for 6 -> 7
    assert err.error_args["size"] == 7 and err.error_args["expected"] == CT_ROOTS[7]


def test_refuses_shrinking_log(at_six: Setup) -> None:
    err = refused(at_six, 5, CT_ROOTS[5], [])
    assert (err.error_name, err.error_args) == ("ConsistencySizeDecrease", {"size1": 6, "size2": 5})
    err = refused(at_six, 0, EMPTY_ROOT, [])
    assert err.error_args == {"size1": 6, "size2": 0}


def test_same_size_is_idempotent_only_with_same_root(at_six: Setup) -> None:
    cps = at_six.checkpoints
    receipt = cps.submit(RECORDS_LOG_ID, 6, CT_ROOTS[6], [])
    assert receipt["status"] == 1 and receipt["logs"] == []
    assert len(cps.history(RECORDS_LOG_ID)) == 1
    err = refused(at_six, 6, CT_ROOTS[7], [])
    assert (err.error_name, err.error_args) == (
        "CheckpointsConflictingRoot",
        {"logId": RECORDS_LOG_ID, "size": 6, "anchoredRoot": CT_ROOTS[6], "submittedRoot": CT_ROOTS[7]},
    )
    err = refused(at_six, 6, CT_ROOTS[6], [CT_ROOTS[6]])
    assert (err.error_name, err.error_args) == ("ConsistencyProofLength", {"expected": 0, "actual": 1})


def test_empty_log_rules(setup: Setup) -> None:
    cps = setup.checkpoints
    assert cps.submit(TRAIL_LOG_ID, 0, EMPTY_ROOT, [])["logs"] == []  # re-anchoring the empty tree
    err = reverts(lambda: cps.submit(TRAIL_LOG_ID, 0, CT_ROOTS[1], []))
    assert err.error_args == {
        "logId": TRAIL_LOG_ID, "size": 0, "anchoredRoot": EMPTY_ROOT, "submittedRoot": CT_ROOTS[1],
    }  # fmt: skip
    err = reverts(lambda: cps.submit(TRAIL_LOG_ID, 4, CT_ROOTS[4], [CT_ROOTS[2]]))
    assert (err.error_name, err.error_args) == ("ConsistencyProofLength", {"expected": 0, "actual": 1})
    assert cps.latest(TRAIL_LOG_ID) == Checkpoint(0, EMPTY_ROOT)


def test_submitter_roles(setup: Setup) -> None:
    gov, accounts = setup.governance, setup.accounts
    operator, provider, bank, stranger = accounts[1], accounts[2], accounts[3], accounts[4]
    gov.admit(provider.address, ROLE_PROVIDER)
    gov.admit(bank.address, ROLE_INSTITUTION, KIND_BANK)
    for account in (operator, bank, stranger):
        with pytest.raises(ContractRevert) as info:
            setup.as_account(account).submit(RECORDS_LOG_ID, 1, CT_ROOTS[1], [])
        assert (info.value.error_name, info.value.error_args) == (
            "CheckpointsUnauthorizedSubmitter",
            {"account": account.address.lower()},
        )

    receipt = setup.as_account(provider).submit(RECORDS_LOG_ID, 1, CT_ROOTS[1], [])
    (event,) = setup.checkpoints.events_in(receipt)
    assert event.submitter == provider.address and event.size == 1

    gov.suspend(provider.address)
    err = reverts(
        lambda: setup.as_account(provider).submit(RECORDS_LOG_ID, 2, CT_ROOTS[2], CT_LOG.consistency(1, 2))
    )
    assert (err.error_name, err.error_args) == (
        "CheckpointsUnauthorizedSubmitter",
        {"account": provider.address.lower()},
    )
    gov.reinstate(provider.address)
    setup.as_account(provider).submit(RECORDS_LOG_ID, 2, CT_ROOTS[2], CT_LOG.consistency(1, 2))

    gov.suspend(accounts[0].address)  # the platform itself
    err = reverts(lambda: setup.checkpoints.submit(RECORDS_LOG_ID, 3, CT_ROOTS[3], CT_LOG.consistency(2, 3)))
    assert (err.error_name, err.error_args) == (
        "CheckpointsUnauthorizedSubmitter",
        {"account": accounts[0].address.lower()},
    )
    own = setup.checkpoints.contract.functions.providerLogId(provider.address, RECORDS_LOG_ID).call()
    assert setup.checkpoints.latest(own) == Checkpoint(2, CT_ROOTS[2])  # the provider's own log
    assert setup.checkpoints.latest(RECORDS_LOG_ID) == Checkpoint(0, EMPTY_ROOT)


def test_constructor_refuses_zero_membership(chain: ChainClient) -> None:
    err = reverts(lambda: chain.deploy("Checkpoints", "0x" + "00" * 20))
    assert (err.error_name, err.error_args) == (
        "CheckpointsInvalidMembership",
        {"membership": "0x0000000000000000000000000000000000000000"},
    )


@pytest.mark.parametrize("new_entries", [1, 100, 10_000])
def test_checkpoint_gas_is_flat(setup: Setup, new_entries: int) -> None:
    """After a first anchor, a checkpoint costs < 70k gas whatever the batch size."""
    tree = rfc9162.MerkleTree(ref_leaf(i.to_bytes(4, "big")) for i in range(1000 + new_entries))
    cps = setup.checkpoints
    first = cps.submit(RECORDS_LOG_ID, 1000, tree.root(1000), [])
    assert first["gasUsed"] < 100_000  # two fresh storage slots, paid once per log
    size = 1000 + new_entries
    receipt = cps.submit(RECORDS_LOG_ID, size, tree.root(size), tree.consistency_proof(1000, size))
    assert receipt["gasUsed"] < 70_000


def test_a_provider_cannot_touch_the_platforms_log(setup: Setup) -> None:
    """A provider anchoring under the platform's log id writes its own namespace only."""
    gov, accounts = setup.governance, setup.accounts
    provider = accounts[2]
    gov.admit(provider.address, ROLE_PROVIDER)
    receipt = setup.as_account(provider).submit(RECORDS_LOG_ID, 1, CT_ROOTS[1], [])
    own = setup.checkpoints.contract.functions.providerLogId(provider.address, RECORDS_LOG_ID).call()
    (event,) = setup.checkpoints.events_in(receipt)
    assert event.log_id == own != RECORDS_LOG_ID
    assert setup.checkpoints.latest(own) == Checkpoint(1, CT_ROOTS[1])
    assert setup.checkpoints.latest(RECORDS_LOG_ID) == Checkpoint(0, EMPTY_ROOT)  # untouched
    setup.checkpoints.submit(RECORDS_LOG_ID, 2, CT_ROOTS[2], [])  # the platform's own history
    assert setup.checkpoints.latest(RECORDS_LOG_ID) == Checkpoint(2, CT_ROOTS[2])

"""A small web3.py client for the ledger's contracts.

It owns the relayer account that pays for members' signed acts, sends transactions in
nonce order under a lock, waits for receipts with a short poll interval (web3's default
0.1 s dominates on a fast devnet), and turns every failure into a ledger error:
contract custom errors into `ContractRevert`, transport failures into `ChainUnavailable`.

A transaction is answered only once its block is durable under the client's finality
rule (`ledger.chain.finality`), and each relayed call is written to the client's
journal, when it has one (`ledger.services.chain_watch`): the calldata, which carries the
member's own signature, nonce and deadline, is what a reconciliation re-submits if the
chain comes back without it. The relayer's nonce is cached for speed and re-read from
the chain after any failure, a receipt timeout included: a transaction that never made
it into a block must not leave every later one waiting behind a gap.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar, cast

import requests
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import (
    BlockNotFound,
    ContractCustomError,
    ContractLogicError,
    ProviderConnectionError,
    TimeExhausted,
    TransactionNotFound,
    Web3RPCError,
)
from web3.middleware import ExtraDataToPOAMiddleware
from web3.types import BlockIdentifier, Nonce, RPCEndpoint, TxParams, TxReceipt, Wei

from ledger.chain.compile import CompiledContract, compile_contracts
from ledger.chain.errors import ChainUnavailable, ContractRevert, ErrorTable
from ledger.chain.finality import Finality, Inclusion
from ledger.chain.signer import TransactionSigner, as_signer

T = TypeVar("T")

RECEIPT_POLL_SECONDS = 0.005
RECEIPT_TIMEOUT_SECONDS = 30.0
#: how often a missing receipt makes the client check the node still counts its nonce
NONCE_CHECK_SECONDS = 1.0
DURABLE_TIMEOUT_SECONDS = 30.0
#: how often a transaction is rebuilt when another process used the relayer's nonce
NONCE_RETRIES = 5


class NonceGap(ChainUnavailable):
    """The node does not count the nonce a transaction was sent with: it will never run."""

    code = "nonce_gap"


class Journal(Protocol):
    """Where relayed calls are remembered (`ledger.chain.journal.ActJournal`)."""

    def included(self, to: str, function: str, calldata: bytes, receipt: TxReceipt) -> int:
        """Remember a call the chain included; returns its journal id."""
        ...

    def durable(self, entry: int, receipt: TxReceipt) -> None:
        """The call's block is durable: it is acknowledged and relied on from now."""
        ...


class ChainClient:
    """Connection to one EVM JSON-RPC endpoint with the compiled contracts at hand.

    `finality` decides when a transaction is acknowledged (default: at inclusion, for
    clients that only read or that tests drive); `journal` remembers relayed calls.
    """

    def __init__(
        self,
        w3: Web3,
        relayer: LocalAccount | TransactionSigner,
        artifacts: dict[str, CompiledContract],
        *,
        finality: Finality | None = None,
    ) -> None:
        self.w3 = w3
        self.relayer: TransactionSigner = as_signer(relayer)
        self.artifacts = artifacts
        self.errors = ErrorTable(a.abi for a in artifacts.values())
        self.finality: Finality = finality or Inclusion()
        self.durable_timeout = DURABLE_TIMEOUT_SECONDS
        #: how long a sent transaction may wait for a block (a chain sealing every N seconds
        #: makes every transaction wait up to N); `LEDGER_RECEIPT_TIMEOUT_SECONDS`
        self.receipt_timeout = RECEIPT_TIMEOUT_SECONDS
        self.journal: Journal | None = None
        #: called before each new transaction; raises to refuse it (the chain watch's gate)
        self.gate: Callable[[], None] | None = None
        self._nonce_lock = threading.Lock()
        self._next_nonce: int | None = None
        #: tip per gas of every transaction; None: the node's `eth_maxPriorityFeePerGas`,
        #: which some nodes lack (ethereumjs), where web3's fallback asks a `pending` fee
        #: history they refuse too; so the tip can be set (`LEDGER_PRIORITY_FEE_WEI`)
        self.priority_fee: int | None = None

    @classmethod
    def connect(
        cls,
        rpc_url: str,
        relayer_key: str | TransactionSigner,
        *,
        poa: bool = False,
        timeout: float = 10.0,
        artifacts: dict[str, CompiledContract] | None = None,
        finality: Finality | None = None,
    ) -> ChainClient:
        """Client for `rpc_url`; `poa` injects the extra-data middleware of Clique/QBFT chains."""
        provider = Web3.HTTPProvider(
            rpc_url,
            request_kwargs={"timeout": timeout},
            # Fail fast: the release path must refuse quickly when the chain is down,
            # and callers that want retries (the anchoring worker) do their own.
            exception_retry_configuration=None,
            # web3 asks the node for its chain id around every call (its validation): that
            # id never changes for an endpoint, so it is asked once, not twice a call
            cache_allowed_requests=True,
            cacheable_requests={RPCEndpoint("eth_chainId")},
        )
        w3 = Web3(provider)
        if poa:
            w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
        return cls(w3, as_signer(relayer_key), artifacts or compile_contracts(), finality=finality)

    # -- reads -------------------------------------------------------------------------

    @property
    def rpc_url(self) -> str:
        return str(self.w3.provider.endpoint_uri)  # type: ignore[attr-defined]

    def chain_id(self) -> int:
        return self.guard(lambda: int(self.w3.eth.chain_id))

    def block_number(self) -> int:
        return self.guard(lambda: int(self.w3.eth.block_number))

    def block_at(self, block: int | str) -> tuple[int, bytes] | None:
        """(number, hash) of block `block` (a number or a tag), or None if the chain lacks it."""
        try:
            found = self.guard(lambda: self.w3.eth.get_block(cast(BlockIdentifier, block)))
        except BlockNotFound:
            return None
        return int(found["number"]), bytes(found["hash"])

    def reset_nonce(self) -> None:
        """Forget the cached relayer nonce: the next transaction reads it from the chain."""
        with self._nonce_lock:
            self._next_nonce = None

    def contract(self, name: str, address: str) -> Contract:
        return self.w3.eth.contract(address=Web3.to_checksum_address(address), abi=self.artifacts[name].abi)

    def call(self, fn: ContractFunction, block_identifier: int | str = "latest") -> Any:
        """A view call at `block_identifier` (a number or a tag), with contract errors decoded."""
        block = cast(BlockIdentifier, block_identifier)
        return self.guard(lambda: fn.call(block_identifier=block))

    def call_many(self, fns: Sequence[ContractFunction], block_identifier: int | str = "latest") -> list[Any]:
        """View calls at one block in one JSON-RPC batch (one round trip instead of one each),
        each answer decoded as `call` decodes it; any failure fails them all."""
        if not fns:
            return []
        block = cast(BlockIdentifier, block_identifier)

        def batched() -> list[Any]:
            with self.w3.batch_requests() as batch:
                for fn in fns:
                    batch.add(fn.call(block_identifier=block))
                return list(batch.execute())

        return self.guard(batched)

    def guard(self, action: Callable[[], T]) -> T:
        """Run `action`, translating web3 and transport failures into ledger errors."""
        try:
            return action()
        except ContractCustomError as exc:
            raise self.errors.decode(_revert_data(exc)) from exc
        except ContractLogicError as exc:
            data = _revert_data(exc)
            if data:
                raise self.errors.decode(data) from exc
            raise ContractRevert("Reverted", {"message": str(exc)}) from exc
        except (requests.exceptions.RequestException, ProviderConnectionError, OSError) as exc:
            # The node may be restarting, perhaps from older state: re-read the nonce next time.
            self._next_nonce = None
            raise ChainUnavailable(f"chain endpoint {self.rpc_url} unavailable: {exc}") from exc
        except TimeExhausted as exc:
            raise ChainUnavailable(f"no receipt from {self.rpc_url}: {exc}") from exc

    # -- writes ------------------------------------------------------------------------

    def deploy(self, name: str, *args: Any) -> str:
        """Deploy contract `name` with constructor `args`; returns its address."""
        artifact = self.artifacts[name]
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        receipt = self._send(
            lambda nonce: factory.constructor(*args).build_transaction(self._tx_fields(nonce))
        )
        address = receipt["contractAddress"]
        assert address is not None
        return str(address)

    def transact(self, fn: ContractFunction) -> TxReceipt:
        """Send `fn` from the relayer; its receipt once durable. Refusals raise `ContractRevert`."""
        if self.gate is not None:
            self.gate()
        receipt = self._send(lambda nonce: fn.build_transaction(self._tx_fields(nonce)), fn)
        entry = None
        if self.journal is not None:
            calldata = bytes.fromhex(fn._encode_transaction_data().removeprefix("0x"))
            entry = self.journal.included(str(fn.address), fn.fn_name, calldata, receipt)
        try:
            self.wait_durable(receipt)
        except ChainUnavailable:
            self.reset_nonce()  # the block may be gone, and the nonces counted after it
            raise
        if self.journal is not None and entry is not None:
            self.journal.durable(entry, receipt)
        return receipt

    def resend(self, to: str, calldata: bytes) -> TxReceipt:
        """Send stored calldata to contract `to` again (a reconciliation); its receipt once durable."""
        fn = self.function_of(to, calldata)
        receipt = self._send(lambda nonce: fn.build_transaction(self._tx_fields(nonce)), fn)
        self.wait_durable(receipt)
        return receipt

    def function_of(self, to: str, calldata: bytes) -> ContractFunction:
        """The call `calldata` encodes, bound to contract `to` (decoded with our ABIs)."""
        for artifact in self.artifacts.values():
            contract = self.w3.eth.contract(address=Web3.to_checksum_address(to), abi=artifact.abi)
            try:
                fn, args = contract.decode_function_input(calldata)
            except ValueError:
                continue
            bound = contract.functions[fn.fn_name](*args.values())
            if bytes.fromhex(bound._encode_transaction_data().removeprefix("0x")) == calldata:
                return bound
        raise ContractRevert("UnknownCall", {"to": to, "selector": "0x" + calldata[:4].hex()})

    def wait_durable(self, receipt: TxReceipt) -> None:
        """Block until the receipt's block is durable under `finality`."""
        self.finality.wait_durable(
            int(receipt["blockNumber"]), bytes(receipt["blockHash"]), self.durable_timeout
        )

    def _tx_fields(self, nonce: int) -> TxParams:
        fields: TxParams = {"from": self.relayer.address, "nonce": Nonce(nonce)}
        if self.priority_fee is not None:
            fields["maxPriorityFeePerGas"] = Wei(self.priority_fee)
        return fields

    def _sign_and_send(self, build: Callable[[int], Any], nonce: int) -> Any:
        # build_transaction estimates gas, which surfaces a revert before sending
        tx = self.guard(lambda: build(nonce))
        raw = self.relayer.sign_transaction(dict(tx))
        return self.guard(lambda: self.w3.eth.send_raw_transaction(raw))

    def _send(self, build: Callable[[int], Any], fn: ContractFunction | None = None) -> TxReceipt:
        for attempt in range(NONCE_RETRIES + 1):
            tx_hash, nonce = self._submit(build)
            try:
                receipt = self._receipt(tx_hash, nonce)
            except NonceGap:
                if attempt == NONCE_RETRIES:
                    raise
                # The node lost the blocks our cached nonce counted on: nothing was executed
                # (the transaction waits behind a gap), so send it again at the node's nonce.
                # Should the waiting one run later, the contract refuses it as a replay
                # (members' nonces) or ignores it (an anchor already there).
                continue
            break
        if receipt["status"] != 1:
            # The state changed between estimation and inclusion; replay for the reason.
            if fn is not None:
                self.call(fn, block_identifier=receipt["blockNumber"] - 1)
            raise ContractRevert("Reverted", {"transaction": receipt["transactionHash"]})
        return receipt

    def _submit(self, build: Callable[[int], Any]) -> tuple[Any, int]:
        """Sign and send at the next relayer nonce, in nonce order; (hash, nonce)."""
        with self._nonce_lock:
            for attempt in range(NONCE_RETRIES + 1):
                if self._next_nonce is None:
                    self._next_nonce = self.guard(
                        lambda: self.w3.eth.get_transaction_count(self.relayer.address, "pending")
                    )
                nonce = self._next_nonce
                try:
                    tx_hash = self._sign_and_send(build, nonce)
                except Web3RPCError as exc:
                    self._next_nonce = None  # resynchronise from the node
                    if _nonce_taken(exc) and attempt < NONCE_RETRIES:
                        # Another process relaying from the same account (the anchoring
                        # worker, another API worker) used this nonce. The node refused
                        # this transaction, so nothing happened: rebuild with a fresh nonce.
                        continue
                    raise ChainUnavailable(f"transaction refused by the node: {exc}") from exc
                except Exception:
                    self._next_nonce = None
                    raise
                self._next_nonce = nonce + 1
                return tx_hash, nonce
        raise AssertionError("unreachable: the loop returns or raises")

    def _receipt(self, tx_hash: Any, nonce: int) -> TxReceipt:
        """Wait for the receipt of the transaction sent with `nonce`; fail fast on a nonce gap.

        A node that lost blocks (a restart from older state) has a lower nonce for the
        relayer than the one cached here: a transaction sent above it waits in the pool
        for the gap to fill, forever. So every `NONCE_CHECK_SECONDS` without a receipt
        the node's pending nonce is read: if it does not count our transaction, the
        cached nonce is forgotten and the act refused now, not after the timeout.
        """
        deadline = time.monotonic() + self.receipt_timeout
        next_check = time.monotonic() + NONCE_CHECK_SECONDS
        while True:
            try:
                return self.guard(lambda: self.w3.eth.get_transaction_receipt(tx_hash))
            except TransactionNotFound:
                pass
            except ChainUnavailable:
                self.reset_nonce()
                raise
            now = time.monotonic()
            if now >= deadline:
                self.reset_nonce()
                raise ChainUnavailable(
                    f"no receipt from {self.rpc_url} within {self.receipt_timeout:g} s: the transaction "
                    "is not in a block yet; it is not acknowledged and may or may not take effect: "
                    "read the chain before signing it again"
                )
            if now >= next_check:
                next_check = now + NONCE_CHECK_SECONDS
                pending = self.guard(
                    lambda: self.w3.eth.get_transaction_count(self.relayer.address, "pending")
                )
                if pending <= nonce:
                    self.reset_nonce()
                    raise NonceGap(
                        f"the node does not count relayer nonce {nonce} (its pending nonce is {pending}): "
                        "the chain lost blocks; nothing was acknowledged, send again"
                    )
            time.sleep(RECEIPT_POLL_SECONDS)


def _nonce_taken(exc: Exception) -> bool:
    """The node refused a transaction because its nonce is used: mined, or pending in its
    pool (geth: "replacement transaction underpriced"; ethereumjs: "replacement gas too low")."""
    message = str(exc).lower()
    return any(
        sign in message
        for sign in ("nonce too low", "already known", "replacement transaction", "replacement gas")
    )


def _revert_data(exc: Exception) -> str:
    data = getattr(exc, "data", None)
    if isinstance(data, dict):
        data = data.get("data")
    return data if isinstance(data, str) else ""

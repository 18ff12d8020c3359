#!/usr/bin/env node
// One node of credit-ledger's second-client devnet: @ethereumjs/client sealing Clique on
// 127.0.0.1. It takes the client's own command-line options (`ethereumjs --help`) and
// starts the client as its CLI does (bin/cli.js, which runs on import and so cannot be
// reused), with two changes the stock CLI cannot make (written by hand: no option of the
// client does them):
//
// 1. Opcodes. Clique is a pre-Merge engine (the client's miner stops at the Merge), so the
//    chain runs London rules; the platform's contracts are compiled for Cancun, whose code
//    uses PUSH0 (EIP-3855) and MCOPY (EIP-5656). Those EIPs, and the other execution-only
//    EIPs of Shanghai and Cancun, are switched on in the chain's Common. The client's
//    `setEIPs` refuses MCOPY below Shanghai by a hardfork check alone, so the list is set
//    the way `setEIPs` sets it, without that check.
// 2. Start order. The stock miner seals from the moment the client starts; a signer that
//    seals before its peers are connected builds a chain of its own that never merges
//    back (measured; see the README). With SEAL_AFTER_PEERS=N the miner starts only once
//    the node has N peers, and with SEAL_AFTER_HEIGHT=H only once its chain is H blocks
//    high. The first block is the one every signer may seal (no one has signed recently):
//    when two seal it, each keeps its own and neither may seal the next (measured: 1 start
//    in 4 under load), so all nodes but one wait for block 1 to arrive. With NODE_KEY (hex) the node's identity is that key rather
//    than one it makes up, so every node's enode is known before any starts.
//
// And repairs of the client's own Clique support (0.10.5), without which it ran no
// contract at all:
// - its EVM is created without the `cliqueSigner` function that the EVM requires under
//   proof of authority (for COINBASE): every call or deployment failed with "Must include
//   cliqueSigner function". The launcher hands it the block library's.
// - its block builder runs each transaction in a trial block without Clique's extra data,
//   which the block library's header check refuses ("extraData must be 97 bytes"): the
//   miner skipped every transaction and sealed only empty blocks. The trial block now
//   skips that format check (the sealed block is checked in full, by every node). In the
//   unsealed trial block the signer is the zero address: a tip would be credited there
//   while importing nodes credit the real signer, and the state roots would differ. So
//   the network runs with a zero tip (the platform's LEDGER_PRIORITY_FEE_WEI=0), and
//   contracts must not read block.coinbase (ours do not). The client takes zero-tip
//   transactions over RPC but refuses them from peers (below 0.1 gwei), so only the node
//   a transaction was sent to would include it: the nodes take each other's as their own,
//   as a free-gas permissioned network does.
// - `eth_estimateGas` builds its trial block the same way, so every estimate failed; and
//   it gave a gas figure for a call that reverts. The copy below skips the check and
//   answers a revert as `eth_call` does (code 3 with the revert data), as geth and anvil do.
// - it indexes a sealed block's receipts before it stores the block, and imports a block
//   as the head before executing it: a receipt asked for, a transaction sent or a call
//   made in between failed ("value for 0x… not found in DB", "State trie does not
//   contain state root"; the platform's receipt polls hit it often), and the miner,
//   assembling on a head not yet executed, crashed the node. The miner now waits for the
//   head's state; those reads wait for the node to catch up (milliseconds; at most
//   `STATE_WAIT_MS`), and a receipt still unknown then is answered as not yet mined (null).
// - `eth_getTransactionCount` at `pending` added the sender's pooled transactions to its
//   nonce, but looked the pool up by the address as given while the pool is keyed in
//   lower case (a checksummed address, as web3 sends, never counted them), and a node
//   keeps in its pool the transactions a peer's block included (the count ran ahead, and
//   a transaction sent at it waited forever). It answers as geth does: the nonce at the
//   head, past the pooled transactions that follow it without a gap.
// - those stale transactions also stopped the miner: it takes a sender's transactions
//   only when the lowest pooled nonce is the account's, so a node never included another
//   transaction of a sender once a peer's block had included one (measured: node 1
//   sealed 0 of 43 transactions of the story). Before assembling, the miner now drops
//   the pooled transactions whose nonce the chain has passed.
import { mkdirSync } from 'node:fs'

import { cliqueSigner, createBlock } from '@ethereumjs/block'
import { CliqueConsensus, createBlockchain } from '@ethereumjs/blockchain'
import { ConsensusAlgorithm } from '@ethereumjs/common'
import { createTx } from '@ethereumjs/tx'
import { BIGINT_1, bytesToHex, createAddressFromString, createZeroAddress, hexToBytes } from '@ethereumjs/util'
import { BlockBuilder, runTx } from '@ethereumjs/vm'
import { Level } from 'level'

import { startRPCServers } from '@ethereumjs/client/dist/esm/bin/startRPC.js'
import { generateClientConfig, getArgs } from '@ethereumjs/client/dist/esm/bin/utils.js'
import { EthereumClient } from '@ethereumjs/client/dist/esm/src/client.js'
import { LevelDB } from '@ethereumjs/client/dist/esm/src/execution/level.js'
import { Config, DataDirectory } from '@ethereumjs/client/dist/esm/src/config.js'
import { Miner } from '@ethereumjs/client/dist/esm/src/miner/miner.js'
import { getBlockByOption } from '@ethereumjs/client/dist/esm/src/rpc/helpers.js'
import { Eth } from '@ethereumjs/client/dist/esm/src/rpc/modules/eth.js'
import { TxPool } from '@ethereumjs/client/dist/esm/src/service/txpool.js'

// PUSH0, initcode limit, warm coinbase (Shanghai); transient storage, MCOPY, SELFDESTRUCT
// only in the same transaction (Cancun). Blob opcodes need blob transactions: not here.
const EXECUTION_EIPS = [3855, 3860, 3651, 1153, 5656, 6780]

function enableExecutionEips(common) {
  common._eips = [...new Set([...common._eips, ...EXECUTION_EIPS])]
  common._buildParamsCache()
  common._buildActivatedEIPsCache()
  // a hardfork switch rebuilds the caches from `_eips`, which now holds ours
}

if (process.env.NODE_KEY !== undefined) {
  const key = hexToBytes(`0x${process.env.NODE_KEY}`)
  Config.getClientKey = async () => key
}

const sealAfterPeers = Number(process.env.SEAL_AFTER_PEERS ?? '0')
const sealAfterHeight = BigInt(process.env.SEAL_AFTER_HEIGHT ?? '0')
const startMiner = Miner.prototype.start
Miner.prototype.start = function () {
  if (!this.config.mine) return false
  const wait = () => {
    const peers = this.service.pool.peers.length
    if (peers >= sealAfterPeers && this.service.chain.headers.height >= sealAfterHeight) {
      this.config.logger?.info(`sealing: ${peers} peer(s) connected`)
      startMiner.call(this)
    } else {
      setTimeout(wait, 100)
    }
  }
  wait()
  return true
}

const STATE_WAIT_MS = 2000

function waitingForState(method, { answerNull = false } = {}) {
  return async function (...args) {
    const deadline = Date.now() + STATE_WAIT_MS
    for (;;) {
      try {
        return await method.apply(this, args)
      } catch (err) {
        if (!/not found in DB|does not contain state root/.test(err?.message ?? '')) throw err
        if (Date.now() > deadline) {
          if (answerNull) return null
          throw err
        }
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    }
  }
}

TxPool.prototype.validate = waitingForState(TxPool.prototype.validate)
const addToPool = TxPool.prototype.add
TxPool.prototype.add = function (tx) {
  return addToPool.call(this, tx, true)
}
const getTransactionCount = Eth.prototype.getTransactionCount
Eth.prototype.getTransactionCount = async function ([address, blockOpt]) {
  const pending = blockOpt === 'pending'
  const count = await getTransactionCount.call(this, [address, pending ? 'latest' : blockOpt])
  if (!pending) return count
  const pooled = this.service.txPool.pool.get(address.toLowerCase().slice(2)) ?? []
  const nonces = new Set(pooled.map((entry) => entry.tx.nonce))
  let nonce = BigInt(count)
  while (nonces.has(nonce)) nonce += 1n
  return `0x${nonce.toString(16)}`
}
for (const name of ['call', 'getBalance', 'getTransactionCount', 'getCode', 'getStorageAt', 'getProof']) {
  Eth.prototype[name] = waitingForState(Eth.prototype[name])
}
for (const name of ['getTransactionReceipt', 'getTransactionByHash']) {
  Eth.prototype[name] = waitingForState(Eth.prototype[name], { answerNull: true })
}

const assembleBlock = Miner.prototype.assembleBlock
Miner.prototype.assembleBlock = async function () {
  const head = this.service.chain.blocks.latest
  try {
    if (this.assembling || (await this.execution.vm.stateManager.hasStateRoot(head.header.stateRoot))) {
      return await assembleBlock.call(this)
    }
  } catch (err) {
    this.assembling = false
    this.config.logger?.warn(`Miner: could not assemble a block (${err.message}): trying again`)
  }
  setTimeout(() => void this.assembleBlock(), 20)
}

const txsByPriceAndNonce = TxPool.prototype.txsByPriceAndNonce
TxPool.prototype.txsByPriceAndNonce = async function (vm, opts) {
  for (const [address, pooled] of [...this.pool]) {
    const account = await vm.stateManager.getAccount(createAddressFromString(`0x${address}`))
    const nonce = account?.nonce ?? 0n
    for (const { tx, hash } of pooled.filter((entry) => entry.tx.nonce < nonce)) {
      this.removeByHash(hash, tx)
    }
  }
  return txsByPriceAndNonce.call(this, vm, opts)
}

const addTransaction = BlockBuilder.prototype.addTransaction
BlockBuilder.prototype.addTransaction = async function (tx, opts) {
  const blockOpts = this.blockOpts
  this.blockOpts = { ...blockOpts, skipConsensusFormatValidation: true }
  try {
    return await addTransaction.call(this, tx, opts)
  } finally {
    this.blockOpts = blockOpts
  }
}

// The client's estimateGas (rpc/modules/eth.js), with the two changes named above.
Eth.prototype.estimateGas = waitingForState(async function (params) {
  const [transaction, blockOpt] = params
  const block = await getBlockByOption(blockOpt ?? 'latest', this._chain)
  const vm = await this._vm.shallowCopy()
  await vm.stateManager.setStateRoot(block.header.stateRoot)
  if (transaction.gas === undefined) {
    transaction.gas = `0x${(await this._chain.getCanonicalHeadHeader()).gasLimit.toString(16)}`
  }
  if (transaction.gasPrice === undefined && transaction.maxFeePerGas === undefined) {
    const fee = `0x${block.header.calcNextBaseFee().toString(16)}`
    if (transaction.type !== undefined && parseInt(transaction.type) === 2) transaction.maxFeePerGas = fee
    else transaction.gasPrice = fee
  }
  const trial = createBlock(
    {
      header: {
        parentHash: block.hash(),
        number: block.header.number + BIGINT_1,
        timestamp: block.header.timestamp + BIGINT_1,
        baseFeePerGas: block.header.calcNextBaseFee(),
      },
    },
    { common: vm.common, setHardfork: true, skipConsensusFormatValidation: true },
  )
  vm.common.setHardforkBy({ timestamp: trial.header.timestamp, blockNumber: trial.header.number })
  const tx = createTx({ ...transaction, gasLimit: transaction.gas }, { common: vm.common, freeze: false })
  const from = transaction.from !== undefined ? createAddressFromString(transaction.from) : createZeroAddress()
  tx.getSenderAddress = () => from
  const { totalGasSpent, execResult } = await runTx(vm, {
    tx,
    skipNonce: true,
    skipBalance: true,
    skipBlockGasLimitValidation: true,
    block: trial,
  })
  if (execResult.exceptionError !== undefined) {
    throw { code: 3, data: bytesToHex(execResult.returnValue), message: execResult.exceptionError.error }
  }
  return `0x${totalGasSpent.toString(16)}`
})

function openDatabases(config) {
  const open = (kind) => {
    const dir = config.getDataDirectory(kind)
    mkdirSync(dir, { recursive: true })
    return new Level(dir)
  }
  return {
    chainDB: open(DataDirectory.Chain),
    stateDB: open(DataDirectory.State),
    metaDB: open(DataDirectory.Meta),
  }
}

async function main() {
  const args = getArgs()
  const { config, customGenesisState } = await generateClientConfig(args)
  enableExecutionEips(config.chainCommon)
  enableExecutionEips(config.execCommon)
  const dbs = openDatabases(config)
  let blockchain
  if (customGenesisState !== undefined) {
    const clique = config.chainCommon.consensusAlgorithm() === ConsensusAlgorithm.Clique
    blockchain = await createBlockchain({
      db: new LevelDB(dbs.chainDB),
      genesisState: customGenesisState,
      common: config.chainCommon,
      hardforkByHeadBlockNumber: true,
      validateBlocks: true,
      validateConsensus: clique,
      consensusDict: clique ? { [ConsensusAlgorithm.Clique]: new CliqueConsensus() } : {},
    })
    config.chainCommon.setForkHashes(blockchain.genesisBlock.hash())
  }
  const client = await EthereumClient.create({
    config,
    blockchain,
    genesisState: customGenesisState,
    ...dbs,
  })
  await client.open()
  if (config.chainCommon.consensusAlgorithm() === ConsensusAlgorithm.Clique) {
    // copies of the VM (mining, calls, estimates) take the EVM's options from here
    client.service.execution.vm.evm._optsCached.cliqueSigner = cliqueSigner
  }
  client.config.updateSynchronizedState(client.chain.headers.latest)
  if (client.config.synchronized === true) client.service.txPool?.checkRunState()
  await client.start()
  const servers = startRPCServers(client, args)
  config.superMsg('Client started successfully')
  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    for (const server of servers) {
      server.http !== undefined ? server.http().close() : server.close()
    }
    await client.stop()
    process.exit(0)
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})

// A replica's first create_transfers batches ran 3-5 times slower than the rest (first batch 35-56
// ms of execution against 5-8, and about ten batches to settle; the first bar's flush 20 ms against
// 3-8): V8 compiles the hot functions only after they run, and recompiles them when the objects they
// see change hidden class or a field changes representation. So before `scarab start` builds its
// replica, it runs a few realistic batches through a scratch ledger and grid of the same classes,
// built and driven the way the replica drives its own (prefetch, execute, evict, flush at bar ends),
// with values of the same ranges as real ones (ids of 128 random bits, cluster timestamps in
// nanoseconds, a pulse). The replica's objects, created afterwards, take the hidden classes the
// warm-up settled on, and its first requests find the code already optimised.
//
// Warming up after the replica had opened did not help (tried): its objects existed by then with
// older hidden classes, and the first real batch deoptimised every hot function ("wrong map").
// The scratch ledger and grid write to no file and are dropped afterwards; they touch nothing the
// replica owns, so they cannot change what the replica computes.
import { Operation } from "../core/command.js";
import { assert } from "../core/assert.js";
import { decodeResults, encodeEvents, operationCodecs } from "../core/ledger/object_codec.js";
import { StateMachine } from "../core/ledger/state_machine.js";
import type { Config } from "../core/config.js";
import { CreateAccountStatus, CreateTransferStatus } from "../core/layouts.js";
import { Grid } from "../grid/grid.js";
import type { Storage } from "../io/storage.js";
import { Prng } from "../core/prng.js";
import { account, buildTransfers, randomU128 } from "./benchmark_workload.js";

/** A pulse consumes this many timestamps (ledger.md §5). */
const pulseEvents = 8190;
/** The status of an event created, for either create operation (the same value in both). */
const created = CreateTransferStatus.created;
assert(created === (CreateAccountStatus.created as number));

export interface WarmUpOptions {
  /** The replica's configuration: the scratch grid has its block size and bar length. */
  readonly config: Config;
  /** Accounts created (10,000, as `scarab benchmark`). */
  readonly accounts?: number;
  /** create_transfers batches (default: one bar and two more, so a whole bar's flush runs). */
  readonly transferBatches?: number;
}

/** Completes every IO later, writing and reading nothing: the scratch grid's disk. */
const nullStorage: Storage = {
  read: (_zone, _offset, _buffer, callback) => setImmediate(callback),
  write: (_zone, _offset, _buffer, callback) => setImmediate(callback),
  nextTick: (callback) => setImmediate(callback),
};

/** Runs the warm-up; returns its wall time in milliseconds (for the start-up log). */
export function warmUpLedger(options: WarmUpOptions): number {
  const started = performance.now();
  const config = options.config;
  const accounts = options.accounts ?? 10_000;
  // As many events as a request holds (8189 in production): the body ends with a trailer.
  const batchSize = Math.floor(config.messageBodySizeMax / 128) - 1;
  const ledger = new StateMachine();
  // A cache (a page count: nothing is allocated up front) that never evicts the warm-up's pages:
  // every page stays resident, so execution never waits for a read the null storage cannot serve.
  const grid = new Grid(nullStorage, config, 0n, 1 << 20, 1 << 30);
  ledger.configurePages(grid.pagePool);
  grid.reset(ledger.spaces().length);
  const prng = new Prng(0x5ca7ab);
  const reply = new Uint8Array(config.messageBodySizeMax); // as the replica's reply buffer
  let timestamp = BigInt(Date.now()) * 1_000_000n;
  let op = 0;
  const execute = (operation: Operation, events: number, body: Uint8Array): number => {
    timestamp += BigInt(events) + 1n;
    op += 1;
    const needs = ledger.prefetch(operation, timestamp, body);
    grid.touchIfResident(ledger.spaces(), needs);
    const length = ledger.execute(operation, timestamp, body, reply);
    grid.evict(ledger.spaces());
    if ((op + 1) % config.lsmCompactionOps === 0) grid.flush(ledger.spaces());
    else grid.flushBehindTails(ledger.spaces());
    return length;
  };
  type CreateCodec = typeof operationCodecs.createAccounts | typeof operationCodecs.createTransfers;
  /** Every event of a create request was created: the warm-up ran the paths real requests run. */
  const executeCreate = (codec: CreateCodec, body: Uint8Array, events: number): void => {
    const results = decodeResults(codec, reply.subarray(0, execute(codec.operation, events, body)));
    assert(typeof results !== "string" && results.length === 1 && results[0]!.length === events &&
      results[0]!.every((result) => result.status === created), "ledger warm-up: an event was not created");
  };
  // The replica's first pulse (at start-up: pulse_next starts due) sets pulse_next to "never",
  // 2^32 - 1 in both words: not a small integer, so V8 changes the fields' representation, and
  // every function compiled against the old one is thrown away. Here, before anything compiles.
  execute(Operation.pulse, pulseEvents, new Uint8Array(0));
  const accountIds = Array.from({ length: accounts }, () => randomU128(prng));
  for (let from = 0; from < accounts; from += batchSize) {
    const batch = accountIds.slice(from, from + batchSize).map(account);
    executeCreate(operationCodecs.createAccounts, encodeEvents(operationCodecs.createAccounts, [batch]), batch.length);
  }
  let transferId = randomU128(prng);
  const transferIds: bigint[] = [];
  // Past a bar's end, so that the flush of a whole bar runs too.
  const transferBatches = options.transferBatches ?? config.lsmCompactionOps + 2;
  for (let b = 0; b < transferBatches; b++) {
    const batch = buildTransfers(batchSize, accountIds, prng, () => (transferId += 1n));
    transferIds.push(transferId);
    executeCreate(operationCodecs.createTransfers, encodeEvents(operationCodecs.createTransfers, [batch]), batch.length);
  }
  execute(Operation.lookup_accounts, 0, encodeEvents(operationCodecs.lookupAccounts, [accountIds.slice(0, Math.min(100, batchSize))]));
  execute(Operation.lookup_transfers, 0, encodeEvents(operationCodecs.lookupTransfers, [transferIds.slice(0, batchSize)]));
  return performance.now() - started;
}

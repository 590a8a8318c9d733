// The ledger state machine (ledger.md): executes committed requests against typed-array tables.
// One `execute` per request: per-request timestamp P → per-batch T_k → per-event t_i (§5).
import { assert } from "../assert.js";
import { Operation } from "../command.js";
import { MultiBatchReader, MultiBatchWriter } from "../multi_batch.js";
import { CreateBatchLoop } from "./batch_loop.js";
import { ExecutionContext } from "./context.js";
import { PulseExecutor } from "./pulse.js";
import { QueryExecutor } from "./queries.js";
import type { PagePool } from "../page_pool.js";
import type { PageNeeds, PageSpace, PersistentState } from "../persistent_state.js";
import { noProbe, type ProbeSink } from "../probes.js";
import { LedgerPrefetcher, PageNeedsCollector } from "./prefetch.js";
import {
  beginLedgerRestore, encodeLedgerMeta, finishLedgerRestore, ledgerSpaces, restoreSpaces, type LedgerRestore,
} from "./persistence.js";
import { decodeSnapshot, encodeSnapshot } from "./snapshot.js";
import { LedgerState, type LedgerOptions } from "./state.js";
import { hiOf, joinTimestamp, loOf, timestampMax } from "./timestamps.js";
import * as validate from "./validate.js";

export type { LedgerOptions } from "./state.js";

export interface StateMachineOptions extends LedgerOptions {
  /** Coverage probes (core/probes.ts): an expiry, a rolled-back chain. Default: none. */
  readonly probe?: ProbeSink;
}

const two32 = 0x1_0000_0000;

export class StateMachine implements PersistentState {
  // Replaced as a whole by restore().
  private context!: ExecutionContext;
  private batchLoop!: CreateBatchLoop;
  private pulseExecutor!: PulseExecutor;
  private queries!: QueryExecutor;
  private prefetcher!: LedgerPrefetcher;
  private readonly collector = new PageNeedsCollector();
  /** The configured capacities: restore() sizes tables to max(these, the snapshot's counts). */
  private capacities: LedgerOptions;
  private readonly reader = new MultiBatchReader();
  private readonly writer = new MultiBatchWriter();
  private bodyScratch = new Uint32Array(0);
  private replyScratch = new Uint32Array(0);
  private timestampLast = 0n;
  /** Between restoreBegin() and restoreFinish(): the state being restored. */
  private restoring: LedgerRestore | null = null;
  private readonly probe: ProbeSink;

  constructor(options: StateMachineOptions = {}) {
    this.capacities = {
      accountsCapacity: options.accountsCapacity, pageBytes: options.pageBytes, pagePool: options.pagePool,
    };
    this.probe = options.probe ?? noProbe;
    this.install(new LedgerState(options));
  }

  private install(state: LedgerState): void {
    // The replaced state is dropped here (nothing else holds it): its pages go back to the pool.
    if (this.context !== undefined && this.context.state !== state) this.context.state.releasePages();
    this.context = new ExecutionContext(state, this.probe);
    this.batchLoop = new CreateBatchLoop(this.context);
    this.pulseExecutor = new PulseExecutor(this.context);
    this.queries = new QueryExecutor(this.context.state);
    this.prefetcher = new LedgerPrefetcher(this.context.state, this.queries, this.collector);
  }

  /**
   * The whole state, canonically serialised (snapshot.ts): state machines that executed the same
   * requests give byte-identical snapshots, whatever their capacities. A pure read.
   */
  snapshot(): Uint8Array {
    assert(!this.context.undo.active, "snapshot between requests only");
    return encodeSnapshot(this.context.state, this.timestampLast);
  }

  /**
   * Replaces the state with `snapshot` (taken by snapshot()): fresh tables, rebuilt indexes and
   * expiry heap, every dirty page clean. The state then behaves exactly as the original did.
   */
  restore(snapshot: Uint8Array): void {
    assert(!this.context.undo.active, "restore between requests only");
    const decoded = decodeSnapshot(snapshot, this.capacities);
    this.install(decoded.state);
    this.timestampLast = decoded.timestampLast;
  }

  // ---- PersistentState (persistence.ts): what the grid writes at checkpoints ----

  configurePages(pool: PagePool): void {
    const state = this.context.state;
    assert(state.accounts.count === 0 && state.transfers.count === 0 && this.timestampLast === 0n,
      "ledger: pages configured on an empty state");
    if (state.pagePool === pool) return;
    this.capacities = { ...this.capacities, pageBytes: pool.pageBytes, pagePool: pool };
    this.install(new LedgerState(this.capacities));
  }

  spaces(): readonly PageSpace[] {
    return this.restoring === null ? ledgerSpaces(this.context.state) : restoreSpaces(this.restoring);
  }

  meta(): Uint8Array {
    assert(!this.context.undo.active && this.restoring === null, "meta between requests only");
    return encodeLedgerMeta(this.context.state, this.timestampLast);
  }

  restoreBegin(meta: Uint8Array): void {
    assert(!this.context.undo.active, "restore between requests only");
    // An unfinished restore that this one supersedes gives its pages back.
    this.restoring?.state.releasePages();
    this.restoring = beginLedgerRestore(meta, this.capacities);
  }

  restoreFinish(): void {
    assert(this.restoring !== null, "restoreFinish without restoreBegin");
    const restoring = this.restoring;
    this.restoring = null;
    this.install(finishLedgerRestore(restoring));
    this.timestampLast = restoring.timestampLast;
  }

  /** P of the last executed request (0 before the first): part of the snapshot. */
  get lastTimestamp(): bigint {
    return this.timestampLast;
  }

  /** ledger.md §12: true when the request body is valid for this operation (eviction 5 otherwise). */
  static validateRequest(operation: number, body: Uint8Array, batchSizeLimit: number): boolean {
    return validate.validateRequest(operation, body, batchSizeLimit);
  }

  /** N of ledger.md §5: total events for create ops, 0 for lookups/queries, 8190 for pulse. */
  static eventCount(operation: number, body: Uint8Array): number {
    return validate.eventCount(operation, body);
  }

  /** Largest reply body any valid request of this operation can produce given the body. */
  static replySizeMax(operation: number, body: Uint8Array): number {
    return validate.replySizeMax(operation, body);
  }

  get accountCount(): number {
    return this.context.state.accounts.count;
  }

  get transferCount(): number {
    return this.context.state.transfers.count;
  }

  /** The tables, for checkpoints (dirty pages), checkers and tests. Read-only by convention. */
  get state(): LedgerState {
    return this.context.state;
  }

  /** ledger.md §9.3: true when a pulse should be injected at cluster time `now` (pulse_next ≤ now). */
  pulseNeeded(now: bigint): boolean {
    return this.pulseNext() <= now;
  }

  /** The cluster time from which pulseNeeded holds (u64 max while nothing is pending). */
  pulseNext(): bigint {
    const state = this.context.state;
    return joinTimestamp(state.pulseNextHi, state.pulseNextLo);
  }

  /**
   * One prefetch round for a committed request (prefetch.ts): the pages of the lazy spaces that
   * its execution touches, as far as the resident pages show. The caller reads the missing ones
   * and asks again until none is missing, then executes.
   */
  prefetch(operation: number, timestamp: bigint, body: Uint8Array): PageNeeds {
    const time = { hi: hiOf(timestamp), lo: loOf(timestamp) };
    if (validate.isPulse(operation)) {
      this.prefetcher.round(operation, time, new Uint32Array(0), null);
      return this.collector.needs;
    }
    const shape = validate.shapeOf(operation);
    assert(shape !== undefined, "prefetch: not a ledger operation");
    assert(this.reader.reset(body, shape.eventSize) === null, "prefetch: the request body is valid");
    this.prefetcher.round(operation, time, this.wordsOf(body), this.reader);
    return this.collector.needs;
  }

  /**
   * Executes one committed request with prepare timestamp P. Writes the multi-batch reply body into
   * `reply` and returns its length. `reply` must hold the actual reply; replySizeMax() bounds it for
   * any state. A reply that does not fit is an assertion failure (the multi-batch writer checks every
   * batch before it is counted), never a silently truncated result.
   */
  execute(operation: number, timestamp: bigint, body: Uint8Array, reply: Uint8Array): number {
    assert(timestamp > this.timestampLast && timestamp <= timestampMax, "prepare timestamps increase (§5)");
    this.timestampLast = timestamp;
    if (validate.isPulse(operation)) {
      assert(body.length === 0, "a pulse has an empty body");
      this.pulseExecutor.execute(hiOf(timestamp), loOf(timestamp));
      return 0;
    }
    const shape = validate.shapeOf(operation);
    assert(shape !== undefined, "execute: not a ledger operation");
    assert(this.reader.reset(body, shape.eventSize) === null, "execute: the request body is valid");
    const events = this.wordsOf(body);
    const aligned = (reply.byteOffset & 3) === 0;
    const out = aligned ? new Uint32Array(reply.buffer, reply.byteOffset, reply.length >>> 2) : this.scratchFor(reply.length);
    const outBytes = aligned ? reply : new Uint8Array(out.buffer, 0, reply.length);
    this.writer.reset(outBytes, shape.resultSize);
    if (shape.kind === "create") this.executeCreate(operation === Operation.create_transfers, timestamp, events, out);
    else if (shape.kind === "lookup") this.executeLookup(operation, events, out);
    else this.executeQuery(operation, events, out);
    const length = this.writer.finish();
    if (!aligned) reply.set(outBytes.subarray(0, length));
    return length;
  }

  private executeCreate(isTransfers: boolean, timestamp: bigint, events: Uint32Array, out: Uint32Array): void {
    const reader = this.reader;
    const context = this.context;
    const total = reader.elementTotal;
    const base = timestamp - BigInt(total);
    assert(base >= 0n);
    if (isTransfers) context.state.reserveTransfers(total);
    else context.state.reserveAccounts(total);
    // Events get base+1 … base+N in batch order, then event order (§5 rules 4–5).
    context.tHi = hiOf(base + 1n);
    context.tLo = loOf(base + 1n);
    for (let k = 0; k < reader.batchCount; k++) {
      const n = reader.elementCount(k);
      this.writer.beginBatch();
      const at = this.writer.reserveElements(n);
      if (n > 0) {
        // T_k = t of the batch's last event.
        const lo = context.tLo + n - 1;
        context.batchLo = lo % two32;
        context.batchHi = context.tHi + Math.floor(lo / two32);
        this.batchLoop.run(isTransfers, events, reader.batchOffset(k) >>> 2, n, out, at >>> 2);
      }
      this.writer.endBatch();
    }
  }

  private executeLookup(operation: number, events: Uint32Array, out: Uint32Array): void {
    const state = this.context.state;
    const accounts = operation === Operation.lookup_accounts;
    const table = accounts ? state.accounts : state.transfers;
    const index = accounts ? state.accountIndex : state.transferIndex;
    const reader = this.reader;
    for (let k = 0; k < reader.batchCount; k++) {
      this.writer.beginBatch();
      const at = this.writer.reserveElements(0);
      const found = this.queries.lookup(
        table, index, events, reader.batchOffset(k) >>> 2, reader.elementCount(k), out, at >>> 2,
      );
      this.writer.reserveElements(found);
      this.writer.endBatch();
    }
  }

  private executeQuery(operation: number, events: Uint32Array, out: Uint32Array): void {
    const state = this.context.state;
    const reader = this.reader;
    for (let k = 0; k < reader.batchCount; k++) {
      assert(reader.elementCount(k) === 1, "a query batch is one filter (§12)");
      const f = reader.batchOffset(k) >>> 2;
      this.writer.beginBatch();
      const at = this.writer.reserveElements(0) >>> 2;
      let found: number;
      switch (operation) {
        case Operation.get_account_transfers: found = this.queries.accountTransfers(events, f, out, at); break;
        case Operation.get_account_balances: found = this.queries.accountBalances(events, f, out, at); break;
        case Operation.query_accounts: found = this.queries.query(state.accounts, events, f, out, at); break;
        default: found = this.queries.query(state.transfers, events, f, out, at); break;
      }
      this.writer.reserveElements(found);
      this.writer.endBatch();
    }
  }

  /** A Uint32Array over the body: a view when 4-byte aligned, else an aligned copy. */
  private wordsOf(body: Uint8Array): Uint32Array {
    if ((body.byteOffset & 3) === 0) return new Uint32Array(body.buffer, body.byteOffset, body.length >>> 2);
    if (this.bodyScratch.length * 4 < body.length) this.bodyScratch = new Uint32Array(Math.ceil(body.length / 4));
    new Uint8Array(this.bodyScratch.buffer, 0, body.length).set(body);
    return this.bodyScratch;
  }

  private scratchFor(bytes: number): Uint32Array {
    if (this.replyScratch.length * 4 < bytes) this.replyScratch = new Uint32Array(Math.ceil(bytes / 4));
    return this.replyScratch;
  }
}

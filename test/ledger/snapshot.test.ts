// Ledger snapshots (src/core/ledger/snapshot.ts, StateMachine.snapshot/restore):
// 1. property: after a random sequence A on L1, a fresh state machine restored from L1's snapshot
//    (L2) answers a random sequence B exactly as L1 does: every result, lookup, query and pulse,
//    and the final snapshots and expiry pop orders are identical;
// 2. canonical: ledgers with very different capacities give byte-identical snapshots after every
//    request, and snapshot → restore → snapshot is the identity;
// 3. stories: chain rollback with an orphan, expiry exactly at the boundary after a restore, history
//    queries across a restore, the expiry heap with ties, lazily deleted entries and the pulse cap.
//
// Reproduce a failure: fast-check prints the seed and path of the counterexample; rerun with
// `FC_SEED=<seed> npx vitest run test/ledger/snapshot.test.ts` (FC_RUNS sets the number of runs).
// Measure snapshot size and speed: `SNAPSHOT_BENCH=1 npx vitest run test/ledger/snapshot.test.ts`.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AccountFlags as AF,
  CreateTransferStatus as TS,
  TransferFlags as TF,
  type Account,
  type AccountFilter,
  type CreateAccountResult,
  type CreateTransferResult,
  type QueryFilter,
  type Transfer,
} from "../../src/core/layouts.js";
import { StateMachine } from "../../src/core/ledger/state_machine.js";
import { SW } from "../../src/core/ledger/state.js";
import { SyncLedger } from "../../src/core/ledger/sync_ledger.js";
import { AMOUNT_MAX, Clock, NS_PER_S, TIMESTAMP_MAX, acct, accountFilter, queryFilter, resolve, show, xfer } from "./helpers.js";

const CREATED = 0xffff_ffff;
const ACCOUNT_ID_MAX = 14;
const ALL_ACCOUNT_IDS = Array.from({ length: ACCOUNT_ID_MAX + 2 }, (_, i) => BigInt(i));

// ---------------------------------------------------------------------------------------------
// Commands (generated data) and requests (commands resolved against what L1 has created)
// ---------------------------------------------------------------------------------------------

interface AccountSpec { id: bigint; ledger: number; flags: number }
type TransferSpec =
  | { kind: "single"; id: bigint | null; dr: bigint; cr: bigint; amount: bigint; flags: number; timeout: number; ledger: number }
  | { kind: "resolve"; id: bigint | null; pendingRef: number; isVoid: boolean; amount: bigint; flags: number };
type Command =
  | { kind: "accounts"; batches: AccountSpec[][]; imported: boolean }
  | { kind: "transfers"; batches: TransferSpec[][]; imported: boolean }
  | { kind: "getAccountTransfers" | "getAccountBalances"; account: bigint; flags: number; limit: number; min: number | null; max: number | null }
  | { kind: "queryAccounts" | "queryTransfers"; ledger: number; code: number; flags: number; limit: number; min: number | null }
  | { kind: "advance"; ns: bigint }
  | { kind: "aim"; offset: bigint; resolve: boolean; isVoid: boolean }
  | { kind: "pulse" };

type Request =
  | { op: "createAccounts"; batches: Account[][] }
  | { op: "createTransfers"; batches: Transfer[][] }
  | { op: "getAccountTransfers" | "getAccountBalances"; filter: AccountFilter }
  | { op: "queryAccounts" | "queryTransfers"; filter: QueryFilter }
  | { op: "pulse" }
  | { op: "none" };

const chance = (percent: number): fc.Arbitrary<boolean> => fc.integer({ min: 0, max: 99 }).map((x) => x < percent);
const flag = (on: boolean, value: number): number => (on ? value : 0);

const amountArb = fc.oneof(
  { weight: 10, arbitrary: fc.bigInt({ min: 0n, max: 20n }) },
  { weight: 1, arbitrary: fc.constantFrom(100n, AMOUNT_MAX, AMOUNT_MAX - 1n, 1n << 127n) },
);
const transferIdArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant(null) }, // fresh
  { weight: 3, arbitrary: fc.bigInt({ min: 1n, max: 24n }) }, // collisions: exists, orphans
);
const accountIdArb = fc.oneof(
  { weight: 12, arbitrary: fc.bigInt({ min: 1n, max: 6n }) },
  { weight: 2, arbitrary: fc.bigInt({ min: 7n, max: BigInt(ACCOUNT_ID_MAX) }) },
);

const accountSpecArb: fc.Arbitrary<AccountSpec> = fc.record({
  id: fc.bigInt({ min: 1n, max: BigInt(ACCOUNT_ID_MAX) }),
  ledger: fc.constantFrom(1, 1, 1, 2),
  linked: chance(15), history: chance(40), dmnec: chance(15), cmned: chance(10), closed: chance(5),
}).map((r) => ({
  id: r.id, ledger: r.ledger,
  flags: flag(r.linked, AF.linked) | flag(r.history, AF.history) | flag(r.dmnec, AF.debits_must_not_exceed_credits) |
    flag(r.cmned, AF.credits_must_not_exceed_debits) | flag(r.closed, AF.closed),
}));

/** (debit, credit, ledger): mostly two different accounts of ledger 1 (1..6), sometimes 7 ↔ 8 on ledger 2. */
const pairArb: fc.Arbitrary<[bigint, bigint, number]> = fc.oneof(
  { weight: 12, arbitrary: fc.tuple(fc.bigInt({ min: 1n, max: 6n }), fc.bigInt({ min: 1n, max: 5n }))
    .map(([d, k]): [bigint, bigint, number] => [d, ((d - 1n + k) % 6n) + 1n, 1]) },
  { weight: 2, arbitrary: fc.constantFrom<[bigint, bigint, number]>([7n, 8n, 2], [8n, 7n, 2]) },
  { weight: 1, arbitrary: fc.tuple(accountIdArb, accountIdArb, fc.constantFrom(1, 2)) },
);

const singleArb: fc.Arbitrary<TransferSpec> = fc.record({
  id: transferIdArb, pair: pairArb, amount: amountArb,
  linked: chance(15), pending: chance(50), bd: chance(8), bc: chance(8), cd: chance(4), cc: chance(4),
  timeout: fc.constantFrom(0, 1, 1, 2, 3),
}).map((r) => ({
  kind: "single" as const, id: r.id, dr: r.pair[0], cr: r.pair[1], amount: r.amount, ledger: r.pair[2],
  flags: flag(r.linked, TF.linked) | flag(r.pending, TF.pending) | flag(r.bd, TF.balancing_debit) |
    flag(r.bc, TF.balancing_credit) | flag(r.cd, TF.closing_debit) | flag(r.cc, TF.closing_credit),
  timeout: r.pending ? r.timeout : 0,
}));

const resolveArb: fc.Arbitrary<TransferSpec> = fc.record({
  id: transferIdArb, pendingRef: fc.nat(30), isVoid: fc.boolean(), linked: chance(15),
  amount: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(0n, AMOUNT_MAX) }, { weight: 1, arbitrary: amountArb }),
}).map((r) => ({ kind: "resolve" as const, ...r, flags: flag(r.linked, TF.linked) }));

const transferSpecArb = fc.oneof({ weight: 2, arbitrary: singleArb }, { weight: 1, arbitrary: resolveArb });

function batchesArb<T>(spec: fc.Arbitrary<T>): fc.Arbitrary<T[][]> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.array(spec, { maxLength: 8, size: "max" }).map((b) => [b]) },
    { weight: 1, arbitrary: fc.array(fc.array(spec, { maxLength: 4, size: "max" }), { minLength: 1, maxLength: 3 }) },
  );
}

const boundArb = fc.oneof({ weight: 2, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.nat(60) });
const limitArb = fc.constantFrom(1, 2, 5, 8189);

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("accounts" as const), batches: batchesArb(accountSpecArb), imported: chance(10) }) },
  { weight: 12, arbitrary: fc.record({ kind: fc.constant("transfers" as const), batches: batchesArb(transferSpecArb), imported: chance(8) }) },
  { weight: 2, arbitrary: fc.record({
    kind: fc.constantFrom("getAccountTransfers" as const, "getAccountBalances" as const),
    account: accountIdArb, flags: fc.integer({ min: 1, max: 7 }), limit: limitArb, min: boundArb, max: boundArb,
  }) },
  { weight: 1, arbitrary: fc.record({
    kind: fc.constantFrom("queryAccounts" as const, "queryTransfers" as const),
    ledger: fc.constantFrom(0, 1, 2), code: fc.constantFrom(0, 1), flags: fc.constantFrom(0, 1), limit: limitArb, min: boundArb,
  }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("advance" as const), ns: fc.constantFrom(1n, NS_PER_S / 2n, NS_PER_S, 2n * NS_PER_S) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("aim" as const), offset: fc.bigInt({ min: -2n, max: 2n }), resolve: fc.boolean(), isVoid: fc.boolean() }) },
  { weight: 2, arbitrary: fc.constant({ kind: "pulse" as const }) },
);

/** Accounts 1..8 first (1..6 on ledger 1, 7..8 on ledger 2), with random flags. */
const genesisFlagsArb = fc.record({ history: chance(50), dmnec: chance(10), cmned: chance(10) })
  .map((r) => flag(r.history, AF.history) | flag(r.dmnec, AF.debits_must_not_exceed_credits) | flag(r.cmned && !r.dmnec, AF.credits_must_not_exceed_debits));
const genesisArb: fc.Arbitrary<Command> = fc.array(genesisFlagsArb, { minLength: 8, maxLength: 8 }).map((flags) => ({
  kind: "accounts" as const, imported: false,
  batches: [flags.map((f, i) => ({ id: BigInt(i + 1), ledger: i < 6 ? 1 : 2, flags: f }))],
}));

const commandsArb = (min: number, max: number): fc.Arbitrary<Command[]> => fc.array(commandArb, { minLength: min, maxLength: max, size: "max" });
const startArb = fc.constantFrom(1_700_000_000_000_000_000n, 1_000_000n, TIMESTAMP_MAX - 100n * NS_PER_S);

/** What L1 has created, used to aim commands (resolving never reads L2). */
class Tracker {
  private fresh = 1000n;
  readonly transferIds = new Set<bigint>();
  readonly timestamps: bigint[] = [];
  readonly pendings: { id: bigint; expires: bigint }[] = [];

  freshId(): bigint {
    return this.fresh++;
  }

  observe(request: Request, result: unknown): void {
    if (request.op !== "createAccounts" && request.op !== "createTransfers") return;
    const results = result as (CreateAccountResult | CreateTransferResult)[][];
    request.batches.forEach((batch, k) => batch.forEach((event, i) => {
      const r = results[k]![i]!;
      if (r.status !== CREATED) return;
      this.timestamps.push(r.timestamp);
      if (request.op !== "createTransfers") return;
      const t = event as Transfer;
      if ((t.flags & TF.pending) !== 0) {
        this.pendings.push({ id: t.id, expires: t.timeout === 0 ? 0n : r.timestamp + BigInt(t.timeout) * NS_PER_S });
      }
    }));
  }

  earliestExpiry(): { id: bigint; expires: bigint } | undefined {
    let best: { id: bigint; expires: bigint } | undefined;
    for (const p of this.pendings) if (p.expires !== 0n && (best === undefined || p.expires < best.expires)) best = p;
    return best;
  }
}

function resolveTransfer(spec: TransferSpec, tracker: Tracker): Transfer {
  const id = spec.id ?? tracker.freshId();
  tracker.transferIds.add(id);
  if (spec.kind === "single") {
    return xfer(id, spec.dr, spec.cr, spec.amount, { flags: spec.flags, timeout: spec.timeout, ledger: spec.ledger });
  }
  const p = tracker.pendings.length === 0 ? undefined : tracker.pendings[spec.pendingRef % tracker.pendings.length];
  return resolve({
    id, pending_id: p?.id ?? 7n, amount: spec.amount,
    flags: spec.flags | (spec.isVoid ? TF.void_pending_transfer : TF.post_pending_transfer),
  });
}

/** An imported request: every event imported, timestamps after prev and before its batch's T_k. */
function importAll<T extends { flags: number; timestamp: bigint; timeout?: number }>(batches: T[][], prev: bigint, importedFlag: number): T[][] {
  let next = prev + 1n;
  return batches.map((b) => b.map((e) => ({ ...e, flags: e.flags | importedFlag, timestamp: next++, ...("timeout" in e ? { timeout: 0 } : {}) })));
}

function bound(tracker: Tracker, index: number | null): bigint {
  return index === null || tracker.timestamps.length === 0 ? 0n : tracker.timestamps[index % tracker.timestamps.length]!;
}

/** Turns a command into a request; clock commands move the (shared) clock here, once. */
function resolveCommand(command: Command, tracker: Tracker, l1: SyncLedger, clock: Clock): Request {
  switch (command.kind) {
    case "accounts": {
      const batches = command.batches.map((b) => b.map((s) => acct(s.id, { ledger: s.ledger, flags: s.flags })));
      return { op: "createAccounts", batches: command.imported ? importAll(batches, l1.lastTimestamp, AF.imported) : batches };
    }
    case "transfers": {
      const batches = command.batches.map((b) => b.map((s) => resolveTransfer(s, tracker)));
      return { op: "createTransfers", batches: command.imported ? importAll(batches, l1.lastTimestamp, TF.imported) : batches };
    }
    case "getAccountTransfers":
    case "getAccountBalances": {
      const filter = accountFilter({
        account_id: command.account, flags: command.flags, limit: command.limit,
        timestamp_min: bound(tracker, command.min), timestamp_max: bound(tracker, command.max),
      });
      if (filter.timestamp_max !== 0n && filter.timestamp_max < filter.timestamp_min) filter.timestamp_max = 0n;
      return { op: command.kind, filter };
    }
    case "queryAccounts":
    case "queryTransfers":
      return { op: command.kind, filter: queryFilter({
        ledger: command.ledger, code: command.code, flags: command.flags, limit: command.limit, timestamp_min: bound(tracker, command.min),
      }) };
    case "advance":
      clock.advance(command.ns);
      return { op: "none" };
    case "aim": {
      const p = tracker.earliestExpiry();
      if (p === undefined) return { op: "none" };
      // The next create's first event gets t_0 = realtime + 1 (when the clock is ahead of prev).
      clock.now = p.expires + command.offset - 1n;
      if (!command.resolve) return { op: "none" };
      const id = tracker.freshId();
      tracker.transferIds.add(id);
      const flags = command.isVoid ? TF.void_pending_transfer : TF.post_pending_transfer;
      return { op: "createTransfers", batches: [[resolve({ id, pending_id: p.id, flags })]] };
    }
    case "pulse":
      return { op: "pulse" };
  }
}

function execute(ledger: SyncLedger, request: Request): unknown {
  switch (request.op) {
    case "createAccounts": return ledger.createAccountsBatches(request.batches);
    case "createTransfers": return ledger.createTransfersBatches(request.batches);
    case "getAccountTransfers": return ledger.getAccountTransfers(request.filter);
    case "getAccountBalances": return ledger.getAccountBalances(request.filter);
    case "queryAccounts": return ledger.queryAccounts(request.filter);
    case "queryTransfers": return ledger.queryTransfers(request.filter);
    case "pulse": return ledger.pulse();
    case "none": return null;
  }
}

/** Every account and every transfer id ever used, plus the last timestamp (lookups are requests too). */
function observe(ledger: SyncLedger, tracker: Tracker): string {
  const accounts = ledger.lookupAccounts(ALL_ACCOUNT_IDS);
  const transfers = ledger.lookupTransfers([...tracker.transferIds]);
  return show({ accounts, transfers, last: ledger.lastTimestamp });
}

// ---------------------------------------------------------------------------------------------
// Comparison helpers
// ---------------------------------------------------------------------------------------------

function same(where: string, what: string, a: unknown, b: unknown): void {
  const x = typeof a === "string" ? a : show(a);
  const y = typeof b === "string" ? b : show(b);
  if (x !== y) throw new Error(`${where}: ${what} differs\n  original: ${x}\n  restored: ${y}`);
}

function sameBytes(where: string, a: Uint8Array, b: Uint8Array): void {
  if (Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length))) return;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  throw new Error(`${where}: snapshots differ (lengths ${a.length} and ${b.length}, first difference at byte ${i})`);
}

function dirtyPageCount(machine: StateMachine): number {
  let count = 0;
  for (const space of machine.spaces()) for (let page = 0; page < space.pageCount(); page++) if (space.isDirty(page)) count++;
  return count;
}

/** Drains the expiry heap (destructive): the live entries in pop order, as (row, hi, lo). */
function drainLive(machine: StateMachine): number[] {
  const state = machine.state;
  const heap = state.expiry;
  const live: number[] = [];
  while (heap.length > 0) {
    if (state.isPending(heap.topRow)) live.push(heap.topRow, heap.topHi, heap.topLo);
    heap.pop();
  }
  return live;
}

const fcOptions = (runs: number): fc.Parameters<unknown> => ({
  numRuns: process.env["FC_RUNS"] !== undefined ? Number(process.env["FC_RUNS"]) : runs,
  ...(process.env["FC_SEED"] !== undefined ? { seed: Number(process.env["FC_SEED"]) } : {}),
  endOnFailure: false, // shrink: the report gives the seed and path of the smallest counterexample
});

// ---------------------------------------------------------------------------------------------
// 1. Restore, then behave identically
// ---------------------------------------------------------------------------------------------

interface Capacities { accountsCapacity?: number; pageBytes?: number }
const capacitiesArb: fc.Arbitrary<Capacities> = fc.constantFrom({}, { accountsCapacity: 1, pageBytes: 3840 }, { accountsCapacity: 5000, pageBytes: 1024 });

/** Runs `command` on L1 only (sequence A), keeping the tracker up to date. */
function step(command: Command, tracker: Tracker, l1: SyncLedger, clock: Clock): void {
  const request = resolveCommand(command, tracker, l1, clock);
  tracker.observe(request, execute(l1, request));
}

function runRestored(
  start: bigint, a: Command[], b: Command[], capacities: Capacities, preload: boolean,
  onSnapshot?: (original: StateMachine) => void,
): void {
  const clock = new Clock(start);
  const tracker = new Tracker();
  const l1 = new SyncLedger({ realtime: clock.realtime });
  for (const command of a) step(command, tracker, l1, clock);
  const snapshot = l1.stateMachine.snapshot();
  onSnapshot?.(l1.stateMachine);
  const machine = new StateMachine(capacities);
  if (preload) {
    // Restore replaces whatever state was there.
    const junk = new SyncLedger({ stateMachine: machine });
    junk.createAccounts([acct(1n), acct(2n, { flags: AF.history })]);
    junk.createTransfers([xfer(1n, 1n, 2n, 5n, { flags: TF.pending, timeout: 1 })]);
  }
  machine.restore(snapshot);
  expect(dirtyPageCount(machine)).toBe(0);
  sameBytes("after restore", snapshot, machine.snapshot());
  const l2 = new SyncLedger({ realtime: clock.realtime, stateMachine: machine });
  expect(l2.lastTimestamp).toBe(l1.lastTimestamp);
  same("after restore", "state", observe(l1, tracker), observe(l2, tracker));
  b.forEach((command, i) => {
    const where = `B step ${i + 1} ${show(command)}`;
    const request = resolveCommand(command, tracker, l1, clock);
    const result = execute(l1, request);
    same(where, "result", result, execute(l2, request));
    tracker.observe(request, result);
    same(where, "state", observe(l1, tracker), observe(l2, tracker));
  });
  sameBytes("after B", l1.stateMachine.snapshot(), l2.stateMachine.snapshot());
  same("after B", "expiry pop order", drainLive(l1.stateMachine), drainLive(l2.stateMachine));
}

describe("snapshot → restore: the restored ledger behaves exactly as the original", () => {
  it("random sequence A, restore into a fresh state machine, then the same random sequence B on both", () => {
    fc.assert(fc.property(startArb, genesisArb, commandsArb(0, 40), commandsArb(1, 30), capacitiesArb, fc.boolean(),
      (start, genesis, a, b, capacities, preload) => runRestored(start, [genesis, ...a], b, capacities, preload)), fcOptions(300));
  });

  it("the generator reaches the interesting states at snapshot time (guards against a toothless generator)", () => {
    const seen = { runs: 0, transfers: 0, history: 0, orphans: 0, stale: 0, liveExpiries: 0, states: [0, 0, 0, 0, 0] };
    const count = (machine: StateMachine): void => {
      const state = machine.state;
      seen.runs++;
      seen.transfers += state.transfers.count;
      seen.history += state.history.count;
      seen.orphans += state.orphans.count;
      let live = 0;
      for (let row = 0; row < state.transfers.count; row++) {
        seen.states[state.sideField(row, SW.state)]!++;
        if (state.isPending(row) && (state.sideField(row, SW.expiresLo) | state.sideField(row, SW.expiresHi)) !== 0) live++;
      }
      seen.liveExpiries += live;
      seen.stale += state.expiry.length - live;
    };
    fc.assert(fc.property(startArb, genesisArb, commandsArb(0, 40), commandsArb(1, 5), (start, genesis, a, b) =>
      runRestored(start, [genesis, ...a], b, {}, false, count)), { numRuns: 100, seed: 7 });
    expect(seen.transfers / seen.runs).toBeGreaterThan(5);
    for (const key of ["history", "orphans", "stale", "liveExpiries"] as const) expect(seen[key], key).toBeGreaterThan(20);
    for (const state of seen.states) expect(state).toBeGreaterThan(10); // none, pending, posted, voided, expired
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Canonical bytes
// ---------------------------------------------------------------------------------------------

const smallCapacities = { accountsCapacity: 1, pageBytes: 1024 };
const bigCapacities = { accountsCapacity: 10_000, pageBytes: 524_032 };

describe("snapshots are canonical", () => {
  it("capacities 1 and 10,000 give byte-identical snapshots after every request; restore → snapshot is the identity", () => {
    fc.assert(fc.property(startArb, genesisArb, commandsArb(1, 40), (start, genesis, commands) => {
      const clock = new Clock(start);
      const tracker = new Tracker();
      const small = new SyncLedger({ realtime: clock.realtime, ...smallCapacities });
      const big = new SyncLedger({ realtime: clock.realtime, ...bigCapacities });
      [genesis, ...commands].forEach((command, i) => {
        const request = resolveCommand(command, tracker, small, clock);
        const result = execute(small, request);
        same(`step ${i} ${show(command)}`, "result", result, execute(big, request));
        tracker.observe(request, result);
        sameBytes(`step ${i} ${show(command)}`, small.stateMachine.snapshot(), big.stateMachine.snapshot());
      });
      const snapshot = small.stateMachine.snapshot();
      for (const capacities of [smallCapacities, {}, bigCapacities]) {
        const machine = new StateMachine(capacities);
        machine.restore(snapshot);
        sameBytes(`restore → snapshot ${show(capacities)}`, snapshot, machine.snapshot());
      }
      big.stateMachine.restore(snapshot); // onto a state machine that already holds this state
      sameBytes("restore onto itself → snapshot", snapshot, big.stateMachine.snapshot());
    }), fcOptions(150));
  });

  it("lays out a header and the used part of every table, nothing more", () => {
    const ledger = new SyncLedger({ accountsCapacity: 1000 });
    const empty = ledger.stateMachine.snapshot();
    const header = new Uint32Array(empty.buffer, 0, 12);
    expect([...header]).toEqual([0x4e53_4c53, 1, 0, 0, 0, 0, 1, 0, 0, 0, 12, 0]);
    expect(Buffer.from(empty.subarray(0, 4)).toString("latin1")).toBe("SLSN");
    ledger.createAccounts([acct(1n, { flags: AF.history }), acct(2n), acct(3n, { flags: AF.debits_must_not_exceed_credits })]);
    ledger.createTransfers([xfer(1n, 1n, 2n, 5n), xfer(2n, 2n, 1n, 1n, { flags: TF.pending, timeout: 9 }), xfer(3n, 3n, 1n, 1n)]);
    const snapshot = ledger.stateMachine.snapshot();
    const words = new Uint32Array(snapshot.buffer);
    // A = 3, T = 2, H = 2 (one per created transfer: account 1 has history), O = 1 (exceeds_credits).
    expect([...words.subarray(2, 6)]).toEqual([3, 2, 2, 1]);
    expect(snapshot.length).toBe(48 + 3 * (128 + 16) + 2 * (128 + 40) + 2 * 80 + 1 * 16);
    expect(words[10]! * 4).toBe(snapshot.length);
    expect(words[8]! + words[9]! * 2 ** 32).toBe(Number(ledger.lastTimestamp));
  });

  it("snapshot is a pure read; restore leaves every page clean; execution marks pages again", () => {
    const ledger = new SyncLedger();
    ledger.createAccounts([acct(1n, { flags: AF.history }), acct(2n)]);
    ledger.createTransfers([xfer(1n, 1n, 2n, 5n), xfer(3n, 1n, 9n, 5n)]);
    const before = dirtyPageCount(ledger.stateMachine);
    expect(before).toBeGreaterThan(0);
    const snapshot = ledger.stateMachine.snapshot();
    expect(dirtyPageCount(ledger.stateMachine)).toBe(before);
    const machine = new StateMachine();
    machine.restore(snapshot);
    expect(dirtyPageCount(machine)).toBe(0);
    new SyncLedger({ stateMachine: machine }).createTransfers([xfer(2n, 2n, 1n, 1n)]);
    expect(dirtyPageCount(machine)).toBeGreaterThan(0);
  });

  it("restores from an unaligned buffer; rejects a bad magic, version, length or reference", () => {
    const ledger = new SyncLedger();
    ledger.createAccounts([acct(1n), acct(2n)]);
    ledger.createTransfers([xfer(1n, 1n, 2n, 5n)]);
    const snapshot = ledger.stateMachine.snapshot();
    const unaligned = new Uint8Array(snapshot.length + 1).subarray(1);
    unaligned.set(snapshot);
    const machine = new StateMachine();
    machine.restore(unaligned);
    sameBytes("unaligned", snapshot, machine.snapshot());
    const corrupt = (word: number, value: number): Uint8Array => {
      const copy = snapshot.slice();
      new Uint32Array(copy.buffer)[word] = value;
      return copy;
    };
    expect(() => new StateMachine().restore(corrupt(0, 0))).toThrow(/magic/);
    expect(() => new StateMachine().restore(corrupt(1, 2))).toThrow(/version/);
    expect(() => new StateMachine().restore(corrupt(3, 2))).toThrow(/length/);
    expect(() => new StateMachine().restore(snapshot.subarray(0, snapshot.length - 4))).toThrow(/length/);
    const sideDebitRow = 12 + 2 * 32 + 32 + SW.debitRow;
    expect(() => new StateMachine().restore(corrupt(sideDebitRow, 7))).toThrow(/account rows/);
    const duplicate = snapshot.slice();
    new Uint32Array(duplicate.buffer).copyWithin(12 + 32, 12, 12 + 4); // account 2 gets account 1's id
    expect(() => new StateMachine().restore(duplicate)).toThrow(/duplicate/);
  });
});

// ---------------------------------------------------------------------------------------------
// 3. Stories
// ---------------------------------------------------------------------------------------------

function statuses(results: { status: number }[]): number[] {
  return results.map((r) => r.status);
}

/** A ledger restored from `original`'s snapshot into a fresh state machine, on the same clock. */
function restoredCopy(original: SyncLedger, clock: Clock): SyncLedger {
  const machine = new StateMachine();
  machine.restore(original.stateMachine.snapshot());
  return new SyncLedger({ realtime: clock.realtime, stateMachine: machine });
}

/** Runs `call` on both ledgers, expects identical results, returns the original's. */
function both<T>(l1: SyncLedger, l2: SyncLedger, what: string, call: (ledger: SyncLedger) => T): T {
  const result = call(l1);
  same(what, "result", result, call(l2));
  return result;
}

function debitsPending(ledger: SyncLedger, id: bigint): bigint {
  return ledger.lookupAccounts([id])[0]!.debits_pending;
}

describe("stories across a restore", () => {
  it("a rolled-back chain, its orphan and its lowered pulse_next survive a restore", () => {
    const clock = new Clock(1_000n * NS_PER_S);
    const l1 = new SyncLedger({ realtime: clock.realtime });
    l1.createAccounts([acct(1n), acct(2n, { flags: AF.history }), acct(3n, { flags: AF.debits_must_not_exceed_credits })]);
    expect(statuses(l1.createTransfers([xfer(10n, 1n, 2n, 7n, { flags: TF.pending, timeout: 5 })]))).toEqual([CREATED]);
    const chain = [
      xfer(20n, 1n, 2n, 3n, { flags: TF.pending | TF.linked, timeout: 1 }), // arms expiry, lowers pulse_next
      resolve({ id: 21n, pending_id: 10n, flags: TF.post_pending_transfer | TF.linked }), // posts 10
      xfer(22n, 3n, 1n, 5n), // exceeds_credits: transient, so 22 becomes an orphan
    ];
    expect(statuses(l1.createTransfers(chain))).toEqual([TS.linked_event_failed, TS.linked_event_failed, TS.exceeds_credits]);
    expect(l1.stateMachine.state.orphans.count).toBe(1);
    const l2 = restoredCopy(l1, clock);
    // The rollback left pulse_next at 20's expiry (undo_log.ts): one pulse that finds nothing due.
    clock.advanceSeconds(2);
    expect(both(l1, l2, "pulse", (l) => l.pulse())).toBe(true);
    expect(both(l1, l2, "pulse again", (l) => l.pulse())).toBe(false);
    expect(both(l1, l2, "pending of 1", (l) => debitsPending(l, 1n))).toBe(7n);
    const retry = both(l1, l2, "orphan retry", (l) => statuses(l.createTransfers([xfer(22n, 1n, 2n, 1n)])));
    expect(retry).toEqual([TS.id_already_failed]);
    const again = both(l1, l2, "chain again", (l) => statuses(l.createTransfers(chain.slice(0, 2).map((t, i) => (i === 1 ? { ...t, flags: TF.post_pending_transfer } : t)))));
    expect(again).toEqual([CREATED, CREATED]);
    both(l1, l2, "lookups", (l) => show([l.lookupAccounts([1n, 2n, 3n]), l.lookupTransfers([10n, 20n, 21n, 22n])]));
    sameBytes("end", l1.stateMachine.snapshot(), l2.stateMachine.snapshot());
  });

  it("an expiry due exactly at the first pulse after a restore", () => {
    const start = 5_000n * NS_PER_S;
    const clock = new Clock(start);
    const l1 = new SyncLedger({ realtime: clock.realtime });
    l1.createAccounts([acct(1n, { flags: AF.history }), acct(2n)]);
    const [p] = l1.createTransfers([xfer(30n, 1n, 2n, 4n, { flags: TF.pending, timeout: 1 })]);
    const expires = p!.timestamp + NS_PER_S;
    // pulse_next starts at 1 (§9.3: the first check after start-up scans); this scan sets it to expires.
    expect(l1.pulse()).toBe(true);
    expect(l1.stateMachine.pulseNeeded(expires - 1n)).toBe(false);
    const l2 = restoredCopy(l1, clock);
    clock.now = expires - 1n;
    expect(both(l1, l2, "pulse at expires − 1", (l) => l.pulse())).toBe(false);
    clock.now = expires;
    expect(both(l1, l2, "pulse at expires", (l) => l.pulse())).toBe(true);
    expect(both(l1, l2, "pending", (l) => debitsPending(l, 1n))).toBe(0n);
    const post = both(l1, l2, "post after expiry", (l) => statuses(l.createTransfers([resolve({ id: 31n, pending_id: 30n, flags: TF.post_pending_transfer })])));
    expect(post).toEqual([TS.pending_transfer_expired]);
    sameBytes("end", l1.stateMachine.snapshot(), l2.stateMachine.snapshot());
  });

  it("a post at expires_at − 1 succeeds and one at expires_at finds the transfer expired, after a restore", () => {
    const clock = new Clock(9_000n * NS_PER_S);
    const l1 = new SyncLedger({ realtime: clock.realtime });
    l1.createAccounts([acct(1n), acct(2n)]);
    const [a, b] = l1.createTransfers([
      xfer(40n, 1n, 2n, 4n, { flags: TF.pending, timeout: 2 }), xfer(41n, 1n, 2n, 5n, { flags: TF.pending, timeout: 2 }),
    ]);
    const l2 = restoredCopy(l1, clock);
    // A single-event request gets t_0 = realtime + 1 while the clock is ahead of prev.
    clock.now = a!.timestamp + 2n * NS_PER_S - 2n;
    const first = both(l1, l2, "post at expires − 1", (l) => l.createTransfers([resolve({ id: 42n, pending_id: 40n, flags: TF.post_pending_transfer })]));
    expect(statuses(first)).toEqual([CREATED]);
    expect(first[0]!.timestamp).toBe(a!.timestamp + 2n * NS_PER_S - 1n);
    clock.now = b!.timestamp + 2n * NS_PER_S - 1n;
    const second = both(l1, l2, "void at expires", (l) => l.createTransfers([resolve({ id: 43n, pending_id: 41n, flags: TF.void_pending_transfer })]));
    expect(statuses(second)).toEqual([TS.pending_transfer_expired]);
    expect(both(l1, l2, "pulse", (l) => l.pulse())).toBe(true);
    expect(both(l1, l2, "pending", (l) => debitsPending(l, 1n))).toBe(0n);
    sameBytes("end", l1.stateMachine.snapshot(), l2.stateMachine.snapshot());
  });

  it("history queries see the entries from before and after a restore", () => {
    const clock = new Clock(100n * NS_PER_S);
    const l1 = new SyncLedger({ realtime: clock.realtime });
    l1.createAccounts([acct(1n, { flags: AF.history }), acct(2n, { flags: AF.history }), acct(3n)]);
    l1.createTransfers([
      xfer(1n, 1n, 2n, 5n), xfer(2n, 2n, 3n, 4n, { flags: TF.pending, timeout: 1 }), xfer(3n, 3n, 1n, 2n),
      xfer(4n, 1n, 2n, 1n, { flags: TF.pending }), resolve({ id: 5n, pending_id: 4n, flags: TF.post_pending_transfer }),
    ]);
    const l2 = restoredCopy(l1, clock);
    const filter = (account: bigint, flags: number) => accountFilter({ account_id: account, flags, limit: 100 });
    for (const flags of [1, 2, 3, 7]) {
      both(l1, l2, `balances of 1 (flags ${flags}) before`, (l) => l.getAccountBalances(filter(1n, flags)));
      both(l1, l2, `transfers of 2 (flags ${flags}) before`, (l) => l.getAccountTransfers(filter(2n, flags)));
    }
    expect(both(l1, l2, "balances of 1", (l) => l.getAccountBalances(filter(1n, 3)).length)).toBe(4);
    clock.advanceSeconds(2);
    expect(both(l1, l2, "pulse expires 2", (l) => l.pulse())).toBe(true); // an expiry history entry for account 2
    both(l1, l2, "more transfers", (l) => l.createTransfers([xfer(6n, 2n, 1n, 3n), xfer(7n, 1n, 3n, 1n)]));
    for (const flags of [1, 2, 3, 7]) {
      both(l1, l2, `balances of 1 (flags ${flags}) after`, (l) => l.getAccountBalances(filter(1n, flags)));
      both(l1, l2, `balances of 2 (flags ${flags}) after`, (l) => l.getAccountBalances(filter(2n, flags)));
      both(l1, l2, `transfers of 1 (flags ${flags}) after`, (l) => l.getAccountTransfers(filter(1n, flags)));
    }
    expect(both(l1, l2, "balances of 1", (l) => l.getAccountBalances(filter(1n, 3)).length)).toBe(6);
    sameBytes("end", l1.stateMachine.snapshot(), l2.stateMachine.snapshot());
  });

  it("expiry ties, lazily deleted entries and the per-pulse cap pop in the same order after a restore", () => {
    const start = 1_000_000n * NS_PER_S;
    const clock = new Clock(start);
    const l1 = new SyncLedger({ realtime: clock.realtime });
    l1.createAccounts([acct(1n, { flags: AF.history }), acct(2n)]);
    const n = 6000;
    // Group A: t = start + 1 + i, timeout 2 s. Group B, one second later: timeout 1 s. Every B
    // transfer expires at exactly the same instant as its A partner (ties broken by row).
    const groupA = Array.from({ length: n }, (_, i) => xfer(BigInt(10_000 + i), 1n, 2n, 1n, { flags: TF.pending, timeout: 2 }));
    const groupB = Array.from({ length: n }, (_, i) => xfer(BigInt(20_000 + i), 1n, 2n, 1n, { flags: TF.pending, timeout: 1 }));
    const [a0] = l1.createTransfers(groupA);
    clock.now = a0!.timestamp - 1n + NS_PER_S; // B's t_0 = A's t_0 + 1 s
    const [b0] = l1.createTransfers(groupB);
    expect(b0!.timestamp + NS_PER_S).toBe(a0!.timestamp + 2n * NS_PER_S);
    // Lazy deletions: void every third of A, post every fourth of B (their heap entries stay).
    clock.now = start + NS_PER_S + NS_PER_S / 2n;
    const resolves = [
      ...groupA.filter((_, i) => i % 3 === 0).map((t, i) => resolve({ id: BigInt(30_000 + i), pending_id: t.id, flags: TF.void_pending_transfer })),
      ...groupB.filter((_, i) => i % 4 === 0).map((t, i) => resolve({ id: BigInt(40_000 + i), pending_id: t.id, flags: TF.post_pending_transfer })),
    ];
    expect(statuses(l1.createTransfers(resolves)).every((s) => s === CREATED)).toBe(true);
    const live = 2 * n - resolves.length;
    expect(live).toBeGreaterThan(8189);
    expect(l1.stateMachine.state.expiry.length).toBe(2 * n); // stale entries included
    const l2 = restoredCopy(l1, clock);
    expect(l2.stateMachine.state.expiry.length).toBe(live); // rebuilt from the live ones only
    clock.now = start + 10n * NS_PER_S;
    expect(both(l1, l2, "first pulse", (l) => l.pulse())).toBe(true);
    expect(both(l1, l2, "pending after the first pulse", (l) => debitsPending(l, 1n))).toBe(BigInt(live - 8189));
    sameBytes("after the capped pulse", l1.stateMachine.snapshot(), l2.stateMachine.snapshot());
    expect(both(l1, l2, "second pulse", (l) => l.pulse())).toBe(true);
    expect(both(l1, l2, "pending", (l) => debitsPending(l, 1n))).toBe(0n);
    sameBytes("after the second pulse", l1.stateMachine.snapshot(), l2.stateMachine.snapshot());
    same("end", "history", l1.getAccountBalances(accountFilter({ account_id: 1n, flags: 3, limit: 8189 })),
      l2.getAccountBalances(accountFilter({ account_id: 1n, flags: 3, limit: 8189 })));
  });
});

// ---------------------------------------------------------------------------------------------
// Size and speed (measured on demand: SNAPSHOT_BENCH=1)
// ---------------------------------------------------------------------------------------------

describe.runIf(process.env["SNAPSHOT_BENCH"] === "1")("snapshot size and speed", () => {
  it("10,000 accounts + 100,000 transfers", () => {
    const ledger = new SyncLedger();
    const accounts = 10_000;
    for (let first = 0; first < accounts; first += 5000) {
      ledger.createAccounts(Array.from({ length: 5000 }, (_, i) => acct(BigInt(first + i + 1), { flags: (first + i) % 10 === 0 ? AF.history : 0 })));
    }
    for (let first = 0; first < 100_000; first += 5000) {
      const batch = Array.from({ length: 5000 }, (_, i) => {
        const k = first + i;
        const debit = BigInt((k * 7919) % accounts + 1);
        const credit = BigInt(((k * 7919) % accounts + 1 + (k % 97) + 1) % accounts + 1);
        return k % 4 === 0
          ? xfer(BigInt(k + 1), debit, credit, 10n, { flags: TF.pending, timeout: 3600 })
          : xfer(BigInt(k + 1), debit, credit, BigInt(k % 1000 + 1));
      });
      expect(statuses(ledger.createTransfers(batch)).every((s) => s === CREATED)).toBe(true);
    }
    const machine = ledger.stateMachine;
    let started = performance.now();
    const snapshot = machine.snapshot();
    const snapshotMs = performance.now() - started;
    const restored = new StateMachine();
    started = performance.now();
    restored.restore(snapshot);
    const restoreMs = performance.now() - started;
    sameBytes("bench", snapshot, restored.snapshot());
    const state = machine.state;
    console.log(`snapshot: ${state.accounts.count} accounts, ${state.transfers.count} transfers, ${state.history.count} history entries, ` +
      `${restored.state.expiry.length} live expiries: ${snapshot.length} bytes (${(snapshot.length / 2 ** 20).toFixed(1)} MiB), ` +
      `snapshot ${snapshotMs.toFixed(1)} ms, restore ${restoreMs.toFixed(1)} ms`);
  });
});

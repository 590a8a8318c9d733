// Unit tests of the ledger state machine's data structures (src/core/ledger/) and a few smoke
// tests of SyncLedger. The spec scenarios, status precedence and model-based tests live in the
// other files of test/ledger/.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { AccountFlags, TransferFlags, encodeTransfer, type Account, type Transfer } from "../../src/core/layouts.js";
import { encodeMultiBatch } from "../../src/core/multi_batch.js";
import { ExpiryHeap } from "../../src/core/ledger/expiry.js";
import { HashIndex } from "../../src/core/ledger/hash_index.js";
import { HW } from "../../src/core/ledger/history.js";
import type { PagedRecords } from "../../src/core/paged_records.js";
import { StateMachine } from "../../src/core/ledger/state_machine.js";
import { SyncLedger } from "../../src/core/ledger/sync_ledger.js";
import { DirtyPages, RowTable } from "../../src/core/ledger/tables.js";
import { addTimeout, prepareTimestamp } from "../../src/core/ledger/timestamps.js";

const created = 0xffff_ffff;

function key(id: bigint): Uint32Array {
  const words = new Uint32Array(4);
  for (let w = 0; w < 4; w++) words[w] = Number((id >> BigInt(32 * w)) & 0xffff_ffffn);
  return words;
}

function account(id: bigint, fields: Partial<Account> = {}): Account {
  return {
    id, debits_pending: 0n, debits_posted: 0n, credits_pending: 0n, credits_posted: 0n, user_data_128: 0n,
    user_data_64: 0n, user_data_32: 0, reserved: 0, ledger: 1, code: 1, flags: 0, timestamp: 0n, ...fields,
  };
}

function transfer(id: bigint, debit: bigint, credit: bigint, amount: bigint, fields: Partial<Transfer> = {}): Transfer {
  return {
    id, debit_account_id: debit, credit_account_id: credit, amount, pending_id: 0n, user_data_128: 0n,
    user_data_64: 0n, user_data_32: 0, timeout: 0, ledger: 1, code: 1, flags: 0, timestamp: 0n, ...fields,
  };
}

const u128 = fc.oneof(
  fc.bigInt({ min: 0n, max: 1000n }),
  fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
  fc.bigInt({ min: 0n, max: 0xffffn }).map((x) => x << 112n),
);

describe("HashIndex", () => {
  test("insert/find/grow agree with a Map", () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.boolean(), u128), { maxLength: 400 }), (ops) => {
      const index = new HashIndex(1);
      const model = new Map<bigint, number>();
      for (const [insert, id] of ops) {
        if (insert && !model.has(id)) {
          index.reserve(1);
          index.insert(key(id), 0, model.size);
          model.set(id, model.size);
        }
        expect(index.find(key(id), 0)).toBe(model.get(id) ?? -1);
      }
      expect(index.count).toBe(model.size);
      for (const [id, value] of model) expect(index.find(key(id), 0)).toBe(value);
    }));
  });

  test("removeLast in LIFO order restores the table byte for byte", () => {
    fc.assert(fc.property(fc.uniqueArray(u128, { maxLength: 300 }), fc.nat(), (ids, cut) => {
      const index = new HashIndex(ids.length);
      const keep = ids.length === 0 ? 0 : cut % (ids.length + 1);
      ids.slice(0, keep).forEach((id, i) => index.insert(key(id), 0, i));
      const snapshot = index.slots.slice();
      ids.slice(keep).forEach((id, i) => index.insert(key(id), 0, keep + i));
      for (const id of ids.slice(keep).reverse()) index.removeLast(key(id), 0);
      expect(index.slots).toEqual(snapshot);
      expect(index.count).toBe(keep);
      for (const id of ids.slice(keep)) expect(index.find(key(id), 0)).toBe(-1);
    }));
  });

  test("colliding keys (same low words) still resolve", () => {
    const index = new HashIndex(4);
    index.reserve(1000);
    for (let i = 0; i < 1000; i++) index.insert(key(BigInt(i) << 96n), 0, i);
    for (let i = 0; i < 1000; i++) expect(index.find(key(BigInt(i) << 96n), 0)).toBe(i);
  });
});

describe("ExpiryHeap", () => {
  const entry = fc.tuple(fc.nat({ max: 3 }), fc.nat({ max: 5 }));

  test("pops in (expires_at, row) order", () => {
    fc.assert(fc.property(fc.array(entry, { maxLength: 200 }), (entries) => {
      const heap = new ExpiryHeap(2);
      entries.forEach(([hi, lo], row) => heap.push(hi, lo, row));
      const popped: number[][] = [];
      while (heap.length > 0) {
        popped.push([heap.topHi, heap.topLo, heap.topRow]);
        heap.pop();
      }
      const sorted = entries.map(([hi, lo], row) => [hi, lo, row]).sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!);
      expect(popped).toEqual(sorted);
    }));
  });

  test("undoPush in reverse order restores the exact layout", () => {
    fc.assert(fc.property(fc.array(entry, { maxLength: 100 }), fc.array(entry, { maxLength: 30 }), fc.nat(), (before, pushed, pops) => {
      const heap = new ExpiryHeap(256);
      before.forEach(([hi, lo], row) => heap.push(hi, lo, row));
      for (let i = 0; i < pops % 5 && heap.length > 0; i++) heap.pop();
      const layout = (): unknown[] => Array.from({ length: heap.length }, (_, i) => heap.entry(i));
      const snapshot = layout();
      pushed.forEach(([hi, lo], i) => heap.push(hi, lo, 1000 + i));
      for (let i = pushed.length - 1; i >= 0; i--) heap.undoPush(1000 + i);
      expect(layout()).toEqual(snapshot);
    }));
  });
});

describe("timestamps", () => {
  test("prepareTimestamp follows §5", () => {
    expect(prepareTimestamp(10n, 5n, 3n, 2)).toBe(13n); // base = prev + 1 = 11
    expect(prepareTimestamp(10n, 20n, 3n, 0)).toBe(21n); // commit ahead of prev
    expect(prepareTimestamp(10n, 10n, 1000n, 5)).toBe(1005n); // the clock wins
  });

  test("addTimeout is exact", () => {
    const ts = fc.bigInt({ min: 0n, max: (1n << 63n) - 1n });
    fc.assert(fc.property(ts, fc.nat({ max: 0xffff_ffff }), (t, timeout) => {
      const out = new Uint32Array(3);
      addTimeout(Number(t >> 32n), Number(t & 0xffff_ffffn), timeout, out, 1);
      expect((BigInt(out[2]!) << 32n) | BigInt(out[1]!)).toBe(t + BigInt(timeout) * 1_000_000_000n);
    }));
  });
});

describe("tables", () => {
  test("dirty pages track appends and in-place writes; clear resets", () => {
    const table = new RowTable(4);
    table.reserve(100);
    for (let i = 0; i < 100; i++) table.append();
    expect(table.dirty.dirtyPages()).toEqual([0, 1, 2, 3]); // 32 rows of 128 bytes per 4 KiB page
    table.dirty.clear();
    table.dirty.mark(70);
    expect(table.dirty.dirtyPages()).toEqual([2]);
    const words = new DirtyPages(4, 4096);
    words.mark(1023);
    words.mark(1024);
    expect(words.dirtyPages()).toEqual([0, 1]);
  });

  test("rows are found by timestamp with binary search", () => {
    const table = new RowTable(2);
    table.reserve(50);
    for (let i = 0; i < 50; i++) {
      const row = table.append();
      table.u32[row * 32 + 30] = 10 * i + 5; // lo
      table.u32[row * 32 + 31] = i >= 25 ? 1 : 0; // hi
    }
    expect(table.lowerBound(0, 0)).toBe(0);
    expect(table.lowerBound(0, 15)).toBe(1);
    expect(table.lowerBound(0, 16)).toBe(2);
    expect(table.lowerBound(1, 0)).toBe(25);
    expect(table.lowerBound(2, 0)).toBe(50);
    expect(table.hasTimestamp(1, 255)).toBe(true);
    expect(table.hasTimestamp(0, 255)).toBe(false);
    expect(table.notAfterLast(1, 495)).toBe(true);
    expect(table.notAfterLast(1, 496)).toBe(false);
  });
});

/** The used bytes of every page of a paged table, concatenated. */
function pagesOf(records: PagedRecords): number[] {
  const bytes: number[] = [];
  for (let page = 0; page < records.pageCount(); page++) bytes.push(...records.pageBody(page));
  return bytes;
}

/** Copies of every rolled-back structure of a StateMachine (the orphan set is excluded: §4.3). */
function snapshot(machine: StateMachine): unknown {
  const s = machine.state;
  return {
    accounts: s.accounts.u8.slice(), accountCount: s.accounts.count,
    transfers: pagesOf(s.transfers), transferCount: s.transfers.count,
    accountLinks: s.accountLinks.slice(), side: pagesOf(s.side),
    history: pagesOf(s.history), historyCount: s.history.count,
    accountIndex: s.accountIndex.slots.slice(),
    // The id tree keeps the splits of a rolled-back chain (id_tree.ts), so it is compared by
    // content: the same number of keys, each existing transfer's id mapping to its row.
    transferIndexCount: s.transferIndex.count,
    transferIndex: Array.from({ length: s.transfers.count }, (_, row) => s.transferIndex.find(s.transfers.u32(row), s.transfers.at(row))),
    heap: Array.from({ length: s.expiry.length }, (_, i) => s.expiry.entry(i)),
  };
}

describe("linked-chain undo log", () => {
  test("a failed chain restores every table byte for byte", () => {
    const ledger = new SyncLedger({ accountsCapacity: 64 });
    const results = ledger.createAccounts([
      account(1n), account(2n, { flags: AccountFlags.history }), account(3n), account(4n, { flags: AccountFlags.history }),
    ]);
    expect(results.every((r) => r.status === created)).toBe(true);
    const setup = ledger.createTransfers([
      transfer(10n, 1n, 2n, 100n, { flags: TransferFlags.pending, timeout: 60 }),
      transfer(11n, 3n, 4n, 50n, { flags: TransferFlags.pending | TransferFlags.closing_credit }),
      transfer(12n, 1n, 3n, 7n),
    ]);
    expect(setup.map((r) => r.status)).toEqual([created, created, created]);
    const before = snapshot(ledger.stateMachine);
    const linked = TransferFlags.linked;
    const members = [
      transfer(20n, 2n, 3n, 5n, { flags: linked }),
      transfer(21n, 3n, 1n, 9n, { flags: linked | TransferFlags.pending | TransferFlags.closing_debit, timeout: 5 }),
      transfer(22n, 0n, 0n, 30n, { flags: linked | TransferFlags.post_pending_transfer, pending_id: 10n, ledger: 0, code: 0 }),
      transfer(23n, 0n, 0n, 0n, { flags: linked | TransferFlags.void_pending_transfer, pending_id: 11n, ledger: 0, code: 0 }),
      transfer(24n, 4n, 1n, 1n, { flags: linked }),
    ];
    // `exists` fails the chain (§6 rule 3.3), and is not transient.
    const chain = ledger.createTransfers([...members, transfer(12n, 1n, 3n, 7n)]);
    expect(chain.map((r) => r.status)).toEqual([1, 1, 1, 1, 1, 46]);
    expect(snapshot(ledger.stateMachine)).toEqual(before);
    // The rolled-back ids were never stored nor orphaned: the same chain, closed, applies in full.
    const replay = ledger.createTransfers([...members.slice(0, 4), { ...members[4]!, flags: 0 }]);
    expect(replay.map((r) => r.status)).toEqual([created, created, created, created, created]);
  });

  test("a failed chain of accounts restores the account table", () => {
    const ledger = new SyncLedger({ accountsCapacity: 64 });
    ledger.createAccounts([account(1n)]);
    const before = snapshot(ledger.stateMachine);
    const results = ledger.createAccounts([
      account(5n, { flags: AccountFlags.linked }), account(6n, { flags: AccountFlags.linked }), account(7n, { ledger: 0 }),
    ]);
    expect(results.map((r) => r.status)).toEqual([1, 1, 13]);
    expect(snapshot(ledger.stateMachine)).toEqual(before);
  });
});

describe("pulse", () => {
  test("expires at most 8189 per pulse, in (expires_at, timestamp) order, with timestamps P − c + j + 1", () => {
    let now = 1_000_000_000_000n;
    const ledger = new SyncLedger({ realtime: () => now });
    ledger.createAccounts([account(1n, { flags: AccountFlags.history }), account(2n)]);
    const count = 8189 + 10;
    const batch = Array.from({ length: count }, (_, i) =>
      transfer(BigInt(100 + i), 1n, 2n, 1n, { flags: TransferFlags.pending, timeout: i % 2 === 0 ? 2 : 1 }));
    expect(ledger.createTransfers(batch.slice(0, 8189)).every((r) => r.status === created)).toBe(true);
    expect(ledger.createTransfers(batch.slice(8189)).every((r) => r.status === created)).toBe(true);
    expect(ledger.pulse()).toBe(true); // pulse_next starts at 1 (§9.3): nothing is due yet
    expect(ledger.lookupAccounts([1n])[0]!.debits_pending).toBe(BigInt(count));
    now += 3_000_000_000n;
    const history = ledger.stateMachine.state.history;
    const historyBefore = history.count;
    expect(ledger.pulse()).toBe(true);
    const p = ledger.lastTimestamp;
    expect(ledger.lookupAccounts([1n])[0]!.debits_pending).toBe(10n);
    expect(history.count - historyBefore).toBe(8189);
    // Timeout-1 transfers (odd i) expire first, then timeout 2; each in timestamp order.
    const entry = (index: number, field: number): number => history.u32(index)[history.at(index) + field]!;
    const first = historyBefore;
    const last = history.count - 1;
    expect(entry(first, HW.transferRow)).toBe(1);
    expect((BigInt(entry(first, HW.timestampHi)) << 32n) | BigInt(entry(first, HW.timestampLo))).toBe(p - 8189n + 1n);
    expect((BigInt(entry(last, HW.timestampHi)) << 32n) | BigInt(entry(last, HW.timestampLo))).toBe(p);
    expect(ledger.stateMachine.pulseNeeded(p)).toBe(true); // stopped at the cap
    expect(ledger.pulse()).toBe(true);
    expect(ledger.lookupAccounts([1n])[0]!.debits_pending).toBe(0n);
    expect(ledger.stateMachine.pulseNeeded((1n << 63n) - 1n)).toBe(false); // +∞: nothing left
  });
});

describe("StateMachine", () => {
  test("unaligned request and reply buffers", () => {
    const machine = new StateMachine();
    const accounts = new Uint8Array(2 * 128);
    const view = new DataView(accounts.buffer);
    for (let i = 0; i < 2; i++) {
      view.setUint32(i * 128, i + 1, true);
      view.setUint32(i * 128 + 112, 1, true);
      view.setUint16(i * 128 + 116, 1, true);
    }
    machine.execute(146, 10n, encodeMultiBatch([accounts], 128), new Uint8Array(64));
    const payload = new Uint8Array(128);
    encodeTransfer(new DataView(payload.buffer), 0, transfer(7n, 1n, 2n, 3n));
    const body = encodeMultiBatch([payload], 128);
    const shifted = new Uint8Array(body.length + 1).subarray(1);
    shifted.set(body);
    const reply = new Uint8Array(64).subarray(3, 3 + StateMachine.replySizeMax(147, shifted));
    const length = machine.execute(147, 20n, shifted, reply);
    expect(length).toBe(32);
    const result = new DataView(reply.buffer, reply.byteOffset);
    expect(result.getUint32(8, true)).toBe(created);
    expect(result.getBigUint64(0, true)).toBe(20n);
    expect(machine.transferCount).toBe(1);
  });

  test("eventCount and replySizeMax", () => {
    const body = encodeMultiBatch([new Uint8Array(3 * 128), new Uint8Array(128)], 128);
    expect(StateMachine.eventCount(147, body)).toBe(4);
    expect(StateMachine.eventCount(128, new Uint8Array(0))).toBe(8190);
    expect(StateMachine.eventCount(4, new Uint8Array(0))).toBe(8190);
    expect(StateMachine.replySizeMax(147, body)).toBe(4 * 16 + 16);
    expect(StateMachine.eventCount(140, encodeMultiBatch([new Uint8Array(32)], 16))).toBe(0);
  });
});

describe("SyncLedger smoke", () => {
  test("create accounts, a transfer, lookups", () => {
    const ledger = new SyncLedger();
    expect(ledger.createAccounts([account(1n), account(2n)]).map((r) => r.status)).toEqual([created, created]);
    const [result] = ledger.createTransfers([transfer(100n, 1n, 2n, 50n)]);
    expect(result).toEqual({ timestamp: ledger.lastTimestamp, status: created });
    const [a, b] = ledger.lookupAccounts([1n, 2n, 99n]);
    expect(a!.debits_posted).toBe(50n);
    expect(b!.credits_posted).toBe(50n);
    expect(ledger.lookupTransfers([100n, 0n, 100n]).map((t) => t.id)).toEqual([100n, 100n]);
    expect(ledger.lookupTransfers([100n])[0]!.timestamp).toBe(result!.timestamp);
    expect(ledger.stateMachine.accountCount).toBe(2);
    expect(ledger.stateMachine.transferCount).toBe(1);
  });

  test("multi-batch requests get one result batch per request batch", () => {
    const ledger = new SyncLedger();
    const results = ledger.createAccountsBatches([[account(1n), account(2n)], [], [account(1n)]]);
    expect(results.map((batch) => batch.map((r) => r.status))).toEqual([[created, created], [], [21]]);
    expect(results[2]![0]!.timestamp).toBe(results[0]![0]!.timestamp);
  });

  test("an invalid request is refused with a clear error", () => {
    const ledger = new SyncLedger();
    expect(() => ledger.lookupAccounts(Array.from({ length: 8190 }, (_, i) => BigInt(i + 1)))).toThrow(/invalid request body/);
  });
});

describe("StateMachine reply sizing", () => {
  test("a reply buffer smaller than the worst case works when the actual reply fits", () => {
    const machine = new StateMachine();
    const filter = new Uint8Array(64);
    new DataView(filter.buffer).setUint32(56, 8189, true); // limit 8189: worst case ≈ 1 MiB
    const body = encodeMultiBatch([filter], 64);
    expect(StateMachine.replySizeMax(144, body)).toBe(8189 * 128 + 128);
    expect(machine.execute(144, 1n, body, new Uint8Array(4096))).toBe(128); // no accounts: empty batch
  });
});

describe("u64 timestamps", () => {
  test("event timestamps above 2^53 carry across the low word inside a batch", () => {
    const start = (0x1234_5678n << 32n) | 0xffff_fff0n; // ≈ 1.3e18, low word about to wrap
    let now = start;
    const ledger = new SyncLedger({ realtime: () => now });
    const accounts = ledger.createAccounts(Array.from({ length: 40 }, (_, i) => account(BigInt(i + 1))));
    expect(accounts.map((r) => r.timestamp)).toEqual(Array.from({ length: 40 }, (_, i) => start + BigInt(i + 1)));
    expect(ledger.lookupAccounts([40n])[0]!.timestamp).toBe(start + 40n);
    expect(ledger.pulse()).toBe(true); // pulse_next starts at 1; afterwards it is +∞
    now = ledger.lastTimestamp + 1_000n;
    const imported = ledger.createTransfers([
      transfer(1n, 1n, 2n, 1n, { flags: TransferFlags.imported, timestamp: start + 100n }),
    ]);
    expect(imported[0]).toEqual({ timestamp: start + 100n, status: created });
    const pending = ledger.createTransfers([transfer(2n, 1n, 2n, 5n, { flags: TransferFlags.pending, timeout: 4_000_000_000 })]);
    expect(pending[0]!.status).toBe(created);
    now = pending[0]!.timestamp + 4_000_000_000n * 1_000_000_000n;
    expect(ledger.stateMachine.pulseNeeded(now - 1n)).toBe(false);
    expect(ledger.stateMachine.pulseNeeded(now)).toBe(true);
    expect(ledger.pulse()).toBe(true);
    expect(ledger.lookupAccounts([1n])[0]!.debits_pending).toBe(0n);
    // timeout·10^9 past 2^63 − 1 overflows (53).
    now = (1n << 63n) - 10_000_000_000n;
    const overflow = ledger.createTransfers([transfer(3n, 1n, 2n, 1n, { flags: TransferFlags.pending, timeout: 11 })]);
    expect(overflow[0]!.status).toBe(53);
  });
});

describe("orphaned ids", () => {
  test("a transient failure inside a rolled-back chain is still recorded, once, for checkpoints", () => {
    const ledger = new SyncLedger();
    ledger.createAccounts([account(1n), account(2n)]);
    const results = ledger.createTransfers([
      transfer(5n, 1n, 2n, 1n, { flags: TransferFlags.linked }),
      transfer(6n, 1n, 99n, 1n), // credit account missing: 22, transient
      transfer(6n, 1n, 2n, 1n),
    ]);
    expect(results.map((r) => r.status)).toEqual([1, 22, 68]);
    const state = ledger.stateMachine.state;
    expect(state.orphans.count).toBe(1);
    expect(Array.from(state.orphanIds.subarray(0, 4))).toEqual([6, 0, 0, 0]);
    expect(state.orphanIdsDirty.dirtyPages()).toEqual([0]);
    expect(ledger.lookupTransfers([5n, 6n])).toEqual([]);
  });
});

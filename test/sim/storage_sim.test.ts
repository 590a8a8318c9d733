// Simulated storage (spec/vopr.md §7): out-of-order completion, callbacks never re-entrant, crashes
// and torn writes, deterministic corruption of faulty sectors, seeded never-written sectors, and
// read/write faults confined to the replica's atlas chunks.
import { describe, expect, it } from "vitest";
import { AssertionError } from "../../src/core/assert.js";
import { sectorSize, testConfig } from "../../src/core/config.js";
import { Prng } from "../../src/core/prng.js";
import { Zone } from "../../src/io/storage.js";
import { FaultAtlas } from "../../src/sim/world/fault_atlas.js";
import { percent, ratioZero } from "../../src/sim/ratio.js";
import {
  performanceStorageOptions, swarmStorageOptions, type StorageSimOptions,
} from "../../src/sim/world/storage_options.js";
import { StorageSim } from "../../src/sim/world/storage_sim.js";
import { DeviceTicks } from "../../src/sim/world/device_ticks.js";

const sizeBytes = testConfig.zones.gridOffset + 256 * testConfig.blockSize;

function options(overrides: Partial<StorageSimOptions> = {}): StorageSimOptions {
  return {
    ...performanceStorageOptions,
    config: testConfig,
    sizeBytes,
    replicaIndex: 0,
    seed: 1n,
    faultAtlas: null,
    ...overrides,
  };
}

function sector(fill: number): Uint8Array {
  return new Uint8Array(sectorSize).fill(fill);
}

/** Steps until idle, then ticks; `ticks` times (the cluster's loop, spec/vopr.md §5). */
function run(storage: StorageSim, ticks: number): void {
  for (let t = 0; t < ticks; t++) {
    while (storage.step()) { /* until no progress */ }
    storage.tick();
  }
  while (storage.step()) { /* drain */ }
}

function readNow(storage: StorageSim, zone: Zone, offset: number, length = sectorSize): Uint8Array {
  const buffer = new Uint8Array(length);
  let done = false;
  storage.read(zone, offset, buffer, () => { done = true; });
  run(storage, 200);
  expect(done).toBe(true);
  return buffer;
}

function writeNow(storage: StorageSim, zone: Zone, offset: number, data: Uint8Array): void {
  let done = false;
  storage.write(zone, offset, data, () => { done = true; });
  run(storage, 2000);
  expect(done).toBe(true);
}

function differingBytes(a: Uint8Array, b: Uint8Array): number {
  let count = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) count += 1;
  return count;
}

describe("IO completion", () => {
  it("completes out of order, after max(min, exp(mean)) latency", () => {
    const storage = new StorageSim(options({ readLatencyMinMs: 20, readLatencyMeanMs: 100 }));
    const order: number[] = [];
    const ticks: number[] = [];
    for (let i = 0; i < 50; i++) {
      storage.read(Zone.grid, i * sectorSize, new Uint8Array(sectorSize), () => {
        order.push(i);
        ticks.push(storage.ticks);
      });
    }
    expect(storage.pendingIo).toBe(50);
    run(storage, 1000);
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(order).not.toEqual([...order].sort((a, b) => a - b));
    expect(Math.min(...ticks)).toBeGreaterThanOrEqual(2); // 20 ms
    expect(storage.pendingIo).toBe(0);
  });

  it("never runs a callback inside the call that registered it, even at zero latency", () => {
    const storage = new StorageSim(options());
    const events: string[] = [];
    storage.read(Zone.superblock, 0, new Uint8Array(sectorSize), () => {
      events.push("read");
      storage.nextTick(() => events.push("nested next tick"));
      storage.write(Zone.superblock, 0, sector(1), () => events.push("nested write"));
    });
    storage.nextTick(() => events.push("next tick"));
    expect(events).toEqual([]);
    expect(storage.step()).toBe(true);
    expect(events).toEqual(["next tick", "read"]);
    expect(storage.step()).toBe(true);
    expect(events).toEqual(["next tick", "read", "nested next tick", "nested write"]);
    expect(storage.step()).toBe(false);
  });

  it("writes land when they complete, and reads see what landed", () => {
    const storage = new StorageSim(options({ writeLatencyMinMs: 100, writeLatencyMeanMs: 0 })); // exactly 10 ticks
    const data = new Uint8Array(2 * sectorSize).map((_, i) => i & 0xff);
    let landed = false;
    storage.write(Zone.wal_prepares, sectorSize, data, () => { landed = true; });
    expect(storage.pendingWrites).toBe(1);
    expect(storage.isWritten(Zone.wal_prepares, sectorSize)).toBe(false);
    run(storage, 9);
    expect(landed).toBe(false);
    run(storage, 1);
    expect(landed).toBe(true);
    expect(storage.pendingWrites).toBe(0);
    expect(readNow(storage, Zone.wal_prepares, sectorSize, 2 * sectorSize)).toEqual(data);
    const pristine = new Uint8Array(sectorSize);
    storage.readPristine(Zone.wal_prepares, 2 * sectorSize, pristine);
    expect(pristine).toEqual(data.subarray(sectorSize));
  });
});

describe("a cluster's shared tick count (device_ticks.ts)", () => {
  it("advances every storage that shares it; a storage's own tick() runs that one ahead", () => {
    const ticks = new DeviceTicks();
    const a = new StorageSim(options({ writeLatencyMinMs: 100, writeLatencyMeanMs: 0, ticks })); // exactly 10 ticks
    const b = new StorageSim(options({ writeLatencyMinMs: 100, writeLatencyMeanMs: 0, ticks }));
    const landed = { a: false, b: false };
    a.write(Zone.wal_prepares, 0, sector(1), () => { landed.a = true; });
    b.write(Zone.wal_prepares, 0, sector(2), () => { landed.b = true; });
    ticks.now += 9;
    expect([a.hasDue, b.hasDue]).toEqual([false, false]);
    a.tick(); // driven alone, as the cluster formats a storage: a is now at tick 10, b at 9
    expect([a.ticks, b.ticks]).toEqual([10, 9]);
    expect([a.step(), b.step()]).toEqual([true, false]);
    ticks.now += 1;
    expect(b.step()).toBe(true);
    expect(landed).toEqual({ a: true, b: true });
    expect([a.ticks, b.ticks]).toEqual([11, 10]);
  });

  it("storages lower the shared ioDueAt to their earliest due IO, in cluster ticks", () => {
    const ticks = new DeviceTicks();
    const a = new StorageSim(options({ writeLatencyMinMs: 100, writeLatencyMeanMs: 0, ticks })); // 10 ticks
    const b = new StorageSim(options({ writeLatencyMinMs: 50, writeLatencyMeanMs: 0, ticks })); // 5 ticks
    expect(ticks.ioDueAt).toBe(Infinity);
    a.write(Zone.wal_prepares, 0, sector(1), () => {});
    expect(ticks.ioDueAt).toBe(10);
    b.write(Zone.wal_prepares, 0, sector(2), () => {});
    expect(ticks.ioDueAt).toBe(5);
    a.tick(); // a alone is one tick ahead: its write is due at cluster tick 9
    expect(ticks.ioDueAt).toBe(5);
    ticks.ioDueAt = Infinity; // the cluster's scan starts over, and every storage notes itself
    a.noteDue();
    b.noteDue();
    expect(ticks.ioDueAt).toBe(5);
    ticks.now = 5;
    expect(b.step()).toBe(true);
    ticks.ioDueAt = Infinity;
    a.noteDue();
    b.noteDue(); // b is idle now
    expect(ticks.ioDueAt).toBe(9);
    b.nextTick(() => {});
    expect(ticks.ioDueAt).toBe(-Infinity); // due on the next step
  });
});

describe("never-written sectors", () => {
  it("read as seeded pseudo-random bytes: stable per sector and seed, never zeros", () => {
    const a = new StorageSim(options({ seed: 9n }));
    const b = new StorageSim(options({ seed: 9n }));
    const c = new StorageSim(options({ seed: 10n }));
    const first = readNow(a, Zone.grid, 0);
    expect(first.some((x) => x !== 0)).toBe(true);
    expect(readNow(a, Zone.grid, 0)).toEqual(first);
    expect(readNow(b, Zone.grid, 0)).toEqual(first);
    expect(readNow(c, Zone.grid, 0)).not.toEqual(first);
    expect(readNow(a, Zone.grid, sectorSize)).not.toEqual(first);
    const histogram = new Array<number>(256).fill(0);
    for (const x of first) histogram[x]! += 1;
    expect(Math.max(...histogram)).toBeLessThan(40); // roughly uniform (mean 16)
  });
});

describe("crash", () => {
  it("drops pending writes, tears one sector of each, cancels reads and next ticks", () => {
    const storage = new StorageSim(options({
      writeLatencyMinMs: 500, writeLatencyMeanMs: 500, crashFaultProbability: percent(100),
    }));
    writeNow(storage, Zone.superblock, 0, sector(7));
    const before = readNow(storage, Zone.grid, 0, 4 * sectorSize);
    const called: string[] = [];
    storage.write(Zone.superblock, 0, sector(8), () => called.push("write superblock"));
    storage.write(Zone.grid, 0, new Uint8Array(4 * sectorSize).fill(9), () => called.push("write grid"));
    storage.read(Zone.wal_headers, 0, new Uint8Array(sectorSize), () => called.push("read"));
    storage.nextTick(() => called.push("next tick"));
    storage.crash();
    expect(storage.pendingWrites).toBe(0);
    expect(storage.pendingIo).toBe(0);
    run(storage, 100);
    expect(called).toEqual([]);
    // One torn sector per dropped write (crash faults hit any zone, the superblock included).
    expect(storage.faultyCount).toBe(2);
    expect(storage.isFaulty(Zone.superblock, 0)).toBe(true);
    const tornGrid = [0, 1, 2, 3].filter((s) => storage.isFaulty(Zone.grid, s * sectorSize));
    expect(tornGrid).toHaveLength(1);
    // The data never landed: faults hidden, the old bytes read back.
    storage.faulty = false;
    expect(readNow(storage, Zone.superblock, 0)).toEqual(sector(7));
    expect(readNow(storage, Zone.grid, 0, 4 * sectorSize)).toEqual(before);
    // The buffers are free again after a crash.
    const reused = sector(3);
    storage.write(Zone.grid, 0, reused, () => {});
    storage.crash();
    storage.write(Zone.grid, 0, reused, () => {});
  });

  it("with crash_fault_probability 0 a crash only loses the writes", () => {
    const storage = new StorageSim(options({ writeLatencyMinMs: 500, writeLatencyMeanMs: 500 }));
    storage.write(Zone.grid, 0, sector(1), () => {});
    storage.crash();
    expect(storage.faultyCount).toBe(0);
    expect(storage.isWritten(Zone.grid, 0)).toBe(false);
  });

  it("a crash inside a completion callback stops the step", () => {
    const storage = new StorageSim(options());
    const called: number[] = [];
    storage.read(Zone.grid, 0, new Uint8Array(sectorSize), () => { called.push(0); storage.crash(); });
    storage.read(Zone.grid, sectorSize, new Uint8Array(sectorSize), () => called.push(1));
    run(storage, 10);
    expect(called).toEqual([0]);
  });

  it("unfaultWalHeaders clears every WAL header sector", () => {
    const storage = new StorageSim(options());
    storage.fault(Zone.wal_headers, 0, testConfig.zones.walHeaders.size);
    storage.fault(Zone.wal_prepares, 0);
    expect(storage.faultyCount).toBe(3);
    storage.unfaultWalHeaders();
    expect(storage.faultyCount).toBe(1);
    expect(storage.isFaulty(Zone.wal_prepares, 0)).toBe(true);
  });
});

describe("faulty sectors", () => {
  it("read corrupted in one byte, identically on every retry; hidden when not faulty", () => {
    const storage = new StorageSim(options());
    const data = new Uint8Array(sectorSize).map((_, i) => (i * 7) & 0xff);
    writeNow(storage, Zone.client_replies, sectorSize, data);
    storage.fault(Zone.client_replies, sectorSize);
    const first = readNow(storage, Zone.client_replies, sectorSize);
    expect(differingBytes(first, data)).toBe(1);
    expect(readNow(storage, Zone.client_replies, sectorSize)).toEqual(first);
    storage.faulty = false;
    expect(readNow(storage, Zone.client_replies, sectorSize)).toEqual(data);
    storage.faulty = true;
    // A different pristine first 8 bytes picks a different corruption.
    const other = new StorageSim(options());
    const data2 = data.slice();
    data2[0] ^= 1;
    writeNow(other, Zone.client_replies, sectorSize, data2);
    other.fault(Zone.client_replies, sectorSize);
    const second = readNow(other, Zone.client_replies, sectorSize);
    const position = (bytes: Uint8Array, pristine: Uint8Array): number => bytes.findIndex((x, i) => x !== pristine[i]);
    expect(position(second, data2)).not.toBe(position(first, data));
  });

  it("only the faulty sector of a multi-sector read is corrupted", () => {
    const storage = new StorageSim(options());
    const data = new Uint8Array(3 * sectorSize).fill(0x5a);
    writeNow(storage, Zone.grid, 0, data);
    storage.fault(Zone.grid, sectorSize);
    const read = readNow(storage, Zone.grid, 0, 3 * sectorSize);
    expect(read.subarray(0, sectorSize)).toEqual(data.subarray(0, sectorSize));
    const middle = [sectorSize, 2 * sectorSize] as const;
    expect(differingBytes(read.subarray(...middle), data.subarray(...middle))).toBe(1);
    expect(read.subarray(2 * sectorSize)).toEqual(data.subarray(2 * sectorSize));
  });

  it("writing a sector clears its fault", () => {
    const storage = new StorageSim(options());
    storage.fault(Zone.grid, 0, 2 * sectorSize);
    writeNow(storage, Zone.grid, 0, sector(4));
    expect(storage.isFaulty(Zone.grid, 0)).toBe(false);
    expect(storage.isFaulty(Zone.grid, sectorSize)).toBe(true);
    expect(readNow(storage, Zone.grid, 0)).toEqual(sector(4));
  });
});

describe("read and write faults (atlas-confined)", () => {
  const atlas = new FaultAtlas(new Prng(3n), 3, testConfig, sizeBytes);

  function faultyStorage(replicaIndex: number, overrides: Partial<StorageSimOptions>): StorageSim {
    return new StorageSim(options({ replicaIndex, faultAtlas: atlas, ...overrides }));
  }

  it("read faults land only in this replica's faulty chunks, never the superblock", () => {
    for (let replica = 0; replica < 3; replica++) {
      const storage = faultyStorage(replica, { readFaultProbability: percent(100) });
      for (const zone of [Zone.superblock, Zone.wal_headers, Zone.wal_prepares, Zone.client_replies, Zone.grid]) {
        const zones = testConfig.zones;
        const size = zone === Zone.grid ? 256 * testConfig.blockSize
          : [zones.superblock, zones.walHeaders, zones.walPrepares, zones.clientReplies][zone]!.size;
        storage.faulty = false; // (the write itself must not fault)
        writeNow(storage, zone, 0, new Uint8Array(size).fill(7));
        storage.faulty = true;
        for (let offset = 0; offset < size; offset += sectorSize) readNow(storage, zone, offset);
        for (let offset = 0; offset < size; offset += sectorSize) {
          if (storage.isFaulty(zone, offset)) expect(atlas.isFaultyAt(replica, zone, offset)).toBe(true);
          else expect(atlas.isFaultyAt(replica, zone, offset)).toBe(false); // 100 %: every candidate read faulted
        }
      }
      expect(storage.isFaulty(Zone.superblock, 0)).toBe(false);
    }
  });

  it("read faults strike sectors that hold data, not never-written ones (already garbage)", () => {
    const storage = faultyStorage(0, { readFaultProbability: percent(100) });
    const slot = Array.from({ length: testConfig.journalSlotCount }, (_, i) => i)
      .find((i) => atlas.isFaultyAt(0, Zone.wal_prepares, i * testConfig.messageSizeMax))!;
    const offset = slot * testConfig.messageSizeMax;
    readNow(storage, Zone.wal_prepares, offset); // never written: it reads as garbage anyway
    expect(storage.faultyCount).toBe(0);
    storage.faulty = false;
    writeNow(storage, Zone.wal_prepares, offset, sector(1));
    storage.faulty = true;
    expect(readNow(storage, Zone.wal_prepares, offset)).not.toEqual(sector(1));
    expect(storage.isFaulty(Zone.wal_prepares, offset)).toBe(true);
  });

  it("write faults mark one sector of a landed write, within a faulty chunk", () => {
    const storage = faultyStorage(0, { writeFaultProbability: percent(100) });
    let faulted = 0;
    for (let slot = 0; slot < testConfig.journalSlotCount; slot++) {
      const offset = slot * testConfig.messageSizeMax;
      writeNow(storage, Zone.wal_prepares, offset, sector(slot));
      const faulty = storage.isFaulty(Zone.wal_prepares, offset);
      expect(faulty).toBe(atlas.isFaultyAt(0, Zone.wal_prepares, offset));
      if (faulty) faulted += 1;
    }
    expect(faulted).toBe(atlas.faultyChunkCount(0, Zone.wal_prepares) * 16);
  });

  it("no read or write faults while faults are hidden, nor for a standby", () => {
    const always = { readFaultProbability: percent(100), writeFaultProbability: percent(100) };
    const hidden = faultyStorage(0, { ...always, faulty: false });
    const standby = faultyStorage(3, always);
    for (const storage of [hidden, standby]) {
      for (let offset = 0; offset < testConfig.zones.walPrepares.size; offset += sectorSize) {
        writeNow(storage, Zone.wal_prepares, offset, sector(1));
        readNow(storage, Zone.wal_prepares, offset);
      }
      expect(storage.faultyCount).toBe(0);
    }
  });
});

describe("misdirected writes (§7 item 3)", () => {
  const atlas = new FaultAtlas(new Prng(3n), 3, testConfig, sizeBytes);
  const blockSize = testConfig.blockSize;
  const faultyBlocks = (replica: number): number[] =>
    Array.from({ length: 256 }, (_, block) => block).filter((block) => atlas.isFaulty(replica, Zone.grid, block));

  function block(fill: number): Uint8Array {
    return new Uint8Array(blockSize).fill(fill);
  }

  it("lose the write at its target and land it in another faulty chunk of the zone, visible only while faulty", () => {
    const storage = new StorageSim(options({ faultAtlas: atlas, writeMisdirectProbability: percent(100) }));
    const [first, second] = faultyBlocks(0);
    writeNow(storage, Zone.grid, second! * blockSize, block(7)); // misdirected: somewhere faulty, not here
    expect(storage.stats.misdirectedWrites).toBe(1);
    expect(readNow(storage, Zone.grid, second! * blockSize, blockSize)).not.toEqual(block(7));
    // Exactly one other block shows the new bytes, and it is one of this replica's faulty chunks.
    const showing = faultyBlocks(0).filter((b) => b !== second &&
      readNow(storage, Zone.grid, b * blockSize, blockSize).every((byte) => byte === 7));
    expect(showing).toHaveLength(1);
    const nonFaulty = Array.from({ length: 256 }, (_, b) => b).filter((b) => !atlas.isFaulty(0, Zone.grid, b));
    for (const b of nonFaulty.slice(0, 20)) expect(readNow(storage, Zone.grid, b * blockSize, blockSize)).not.toEqual(block(7));
    // Pristine memory holds the write where it was meant to go; with faults hidden that is what reads see.
    const pristine = new Uint8Array(blockSize);
    storage.readPristine(Zone.grid, second! * blockSize, pristine);
    expect(pristine).toEqual(block(7));
    storage.faulty = false;
    expect(readNow(storage, Zone.grid, second! * blockSize, blockSize)).toEqual(block(7));
    storage.faulty = true;
    // One misdirect at a time: the next write lands where it should, and rewriting clears the overlay.
    writeNow(storage, Zone.grid, first! * blockSize, block(9));
    expect(readNow(storage, Zone.grid, first! * blockSize, blockSize)).toEqual(block(9));
    expect(storage.stats.misdirectedWrites).toBe(1);
    writeNow(storage, Zone.grid, showing[0]! * blockSize, block(3));
    writeNow(storage, Zone.grid, second! * blockSize, block(8)); // the last overlay goes
    expect(readNow(storage, Zone.grid, second! * blockSize, blockSize)).toEqual(block(8));
    writeNow(storage, Zone.grid, first! * blockSize, block(2)); // the overlays are free again
    expect(readNow(storage, Zone.grid, first! * blockSize, blockSize)).not.toEqual(block(2));
    expect(storage.stats.misdirectedWrites).toBe(2);
  });

  it("never misdirect outside the faulty chunks, in the superblock, or while faults are hidden", () => {
    const storage = new StorageSim(options({ faultAtlas: atlas, writeMisdirectProbability: percent(100) }));
    const safe = Array.from({ length: 256 }, (_, b) => b).find((b) => !atlas.isFaulty(0, Zone.grid, b))!;
    writeNow(storage, Zone.grid, safe * blockSize, block(5));
    expect(readNow(storage, Zone.grid, safe * blockSize, blockSize)).toEqual(block(5));
    writeNow(storage, Zone.superblock, 0, sector(6));
    expect(readNow(storage, Zone.superblock, 0)).toEqual(sector(6));
    storage.faulty = false;
    writeNow(storage, Zone.grid, faultyBlocks(0)[0]! * blockSize, block(4));
    expect(storage.stats.misdirectedWrites).toBe(0);
  });

  it("never misdirect one copy of a WAL entry while the other copy's chunk is faulty or overlaid", () => {
    // A replica with a faulty WAL chunk (the prepare misdirects to another of its 16 slots).
    const chunks = Array.from({ length: atlas.chunkCount(Zone.wal_headers) }, (_, c) => c);
    const replica = [0, 1, 2].find((r) => chunks.some((c) => atlas.isFaulty(r, Zone.wal_headers, c)))!;
    expect(replica).toBeDefined();
    const storage = new StorageSim(options({ replicaIndex: replica, faultAtlas: atlas, writeMisdirectProbability: percent(100) }));
    const chunk = chunks.find((c) => atlas.isFaulty(replica, Zone.wal_headers, c))!;
    const prepareOffset = chunk * atlas.chunkSize(Zone.wal_prepares);
    storage.fault(Zone.wal_headers, chunk * sectorSize);
    writeNow(storage, Zone.wal_prepares, prepareOffset, sector(1));
    expect(storage.stats.misdirectedWrites).toBe(0);
    storage.unfault(Zone.wal_headers, chunk * sectorSize);
    writeNow(storage, Zone.wal_prepares, prepareOffset, sector(2)); // misdirected: now the header copy is overlaid-safe
    expect(storage.stats.misdirectedWrites).toBe(1);
    storage.unfaultWalHeaders();
    writeNow(storage, Zone.wal_headers, chunk * sectorSize, sector(3)); // its prepares' chunk is overlaid
    expect(storage.stats.misdirectedWrites).toBe(1);
    expect(readNow(storage, Zone.wal_headers, chunk * sectorSize)).toEqual(sector(3));
  });
});

describe("misuse and limits", () => {
  it("asserts alignment, bounds and buffer ownership", () => {
    const storage = new StorageSim(options({ writeLatencyMinMs: 100, writeLatencyMeanMs: 100 }));
    const noop = (): void => {};
    expect(() => storage.read(Zone.grid, 100, new Uint8Array(sectorSize), noop)).toThrow(AssertionError);
    expect(() => storage.read(Zone.grid, 0, new Uint8Array(100), noop)).toThrow(AssertionError);
    const pastEnd = testConfig.zones.walHeaders.size;
    expect(() => storage.read(Zone.wal_headers, pastEnd, new Uint8Array(sectorSize), noop)).toThrow(AssertionError);
    const buffer = sector(1);
    storage.write(Zone.grid, 0, buffer, noop);
    storage.write(Zone.grid, sectorSize, buffer, noop); // writes may share an unchanging buffer
    expect(() => storage.read(Zone.grid, 2 * sectorSize, buffer, noop)).toThrow(/pending IO owns/);
    const target = sector(0);
    storage.read(Zone.grid, 2 * sectorSize, target, noop);
    expect(() => storage.read(Zone.grid, 3 * sectorSize, target, noop)).toThrow(/pending IO owns/);
    expect(() => storage.write(Zone.grid, 3 * sectorSize, target, noop)).toThrow(/pending read owns/);
    buffer[3] = 99; // the IO owns the buffer until its callback
    expect(() => run(storage, 20)).toThrow(/modified while the write was in flight/);
  });

  it("swarm options stay inside spec/vopr.md §3.3 and heal() turns faults off", () => {
    for (let seed = 0n; seed < 200n; seed++) {
      const o = swarmStorageOptions(new Prng(seed));
      expect(o.readLatencyMinMs).toBeLessThanOrEqual(30);
      expect(o.readLatencyMeanMs).toBeGreaterThanOrEqual(o.readLatencyMinMs);
      expect(o.readLatencyMeanMs).toBeLessThanOrEqual(100);
      expect(o.writeLatencyMeanMs).toBeGreaterThanOrEqual(o.writeLatencyMinMs);
      expect(o.writeLatencyMeanMs).toBeLessThanOrEqual(1000);
      expect(o.readFaultProbability.numerator).toBeLessThanOrEqual(10);
      expect(o.crashFaultProbability.numerator).toBeGreaterThanOrEqual(80);
      expect(o.writeMisdirectProbability.numerator).toBeLessThanOrEqual(10);
      expect(o.writeFaultProbability.numerator).toBeLessThanOrEqual(10);
    }
    const storage = new StorageSim(options({
      readLatencyMinMs: 30, readLatencyMeanMs: 100, crashFaultProbability: percent(100),
      faultAtlas: new FaultAtlas(new Prng(1n), 3, testConfig, sizeBytes), readFaultProbability: percent(100),
    }));
    storage.heal();
    storage.write(Zone.grid, 0, sector(1), () => {});
    storage.crash();
    expect(storage.faultyCount).toBe(0);
    let done = false;
    storage.read(Zone.grid, 0, new Uint8Array(sectorSize), () => { done = true; });
    expect(storage.step()).toBe(true); // 1 ms: due at once
    expect(done).toBe(true);
  });

  it("wipe forgets data and faults", () => {
    const storage = new StorageSim(options());
    writeNow(storage, Zone.grid, 0, sector(1));
    storage.fault(Zone.grid, sectorSize);
    storage.wipe();
    expect(storage.isWritten(Zone.grid, 0)).toBe(false);
    expect(storage.faultyCount).toBe(0);
  });
});

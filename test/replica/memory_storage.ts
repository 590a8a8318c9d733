// A minimal in-memory Storage for journal and superblock tests. Completions are delivered only by
// an explicit step(), in FIFO or seeded-shuffled order, never inside the call that submitted the
// IO. Like StorageSim, a write lands (its bytes are copied) at completion, so crash() loses exactly
// the writes still pending. It asserts the storage contract the callers must keep: a buffer is not
// modified while its write is in flight, and no two pending writes overlap.
import { sectorSize, type Config } from "../../src/core/config.js";
import { Prng } from "../../src/core/prng.js";
import { Zone, type Storage } from "../../src/io/storage.js";

export interface PendingIo {
  readonly write: boolean;
  readonly zone: Zone;
  readonly offset: number;
  readonly buffer: Uint8Array;
  readonly callback: () => void;
  /** For writes: the bytes at submit, to check that the caller left them alone. */
  readonly snapshot: Uint8Array | null;
}

export interface MemoryStorageOptions {
  readonly order?: "fifo" | "shuffled";
  readonly seed?: number;
  /** Bytes of the grid zone (small by default: these tests never use it). */
  readonly gridSize?: number;
}

export class MemoryStorage implements Storage {
  readonly zones: Uint8Array[];
  readonly pending: PendingIo[] = [];
  private nextTicks: (() => void)[] = [];
  private readonly prng: Prng;
  private readonly order: "fifo" | "shuffled";
  writesInFlight = 0;
  writesInFlightMax = 0;
  /** Per zone, the most writes in flight at once. */
  readonly writesInFlightMaxByZone = [0, 0, 0, 0, 0];
  private readonly writesInFlightByZone = [0, 0, 0, 0, 0];
  writesCompleted = 0;

  constructor(config: Config, options: MemoryStorageOptions = {}) {
    const z = config.zones;
    this.zones = [z.superblock.size, z.walHeaders.size, z.walPrepares.size, z.clientReplies.size,
      options.gridSize ?? 16 * sectorSize].map((size) => new Uint8Array(size));
    this.prng = new Prng(options.seed ?? 1);
    this.order = options.order ?? "fifo";
  }

  read(zone: Zone, offset: number, buffer: Uint8Array, callback: () => void): void {
    this.check(zone, offset, buffer);
    this.pending.push({ write: false, zone, offset, buffer, callback, snapshot: null });
  }

  write(zone: Zone, offset: number, buffer: Uint8Array, callback: () => void): void {
    this.check(zone, offset, buffer);
    for (const io of this.pending) {
      if (io.write && io.zone === zone && io.offset < offset + buffer.length && offset < io.offset + io.buffer.length) {
        throw new Error(`MemoryStorage: overlapping writes in flight (zone ${zone}, offset ${offset})`);
      }
    }
    this.pending.push({ write: true, zone, offset, buffer, callback, snapshot: buffer.slice() });
    this.writesInFlight += 1;
    this.writesInFlightByZone[zone] += 1;
    this.writesInFlightMax = Math.max(this.writesInFlightMax, this.writesInFlight);
    this.writesInFlightMaxByZone[zone] = Math.max(this.writesInFlightMaxByZone[zone]!, this.writesInFlightByZone[zone]!);
  }

  nextTick(callback: () => void): void {
    this.nextTicks.push(callback);
  }

  /** Completes one pending IO (the oldest, or a random one) or, if none, one batch of next ticks. */
  stepOne(): boolean {
    if (this.pending.length > 0) {
      const index = this.order === "fifo" ? 0 : this.prng.int(this.pending.length);
      const [io] = this.pending.splice(index, 1);
      this.complete(io!);
      return true;
    }
    return this.runNextTicks();
  }

  /** Completes the next-tick callbacks and the IO pending at the start of the step. */
  step(): boolean {
    let progressed = this.runNextTicks();
    let count = this.pending.length;
    while (count > 0 && this.pending.length > 0) {
      const index = this.order === "fifo" ? 0 : this.prng.int(Math.min(count, this.pending.length));
      const [io] = this.pending.splice(index, 1);
      this.complete(io!);
      count -= 1;
      progressed = true;
    }
    return progressed;
  }

  /** Steps until nothing is pending. */
  run(stepsMax = 1_000_000): void {
    for (let step = 0; step < stepsMax; step++) if (!this.step()) return;
    throw new Error("MemoryStorage: did not become idle");
  }

  /** Completes pending IO one at a time until `predicate` holds (checked before each step). */
  runUntil(predicate: () => boolean, stepsMax = 1_000_000): void {
    for (let step = 0; step < stepsMax; step++) {
      if (predicate()) return;
      if (!this.stepOne()) throw new Error("MemoryStorage: idle before the condition held");
    }
    throw new Error("MemoryStorage: condition never held");
  }

  /**
   * Drops every pending write (its data never lands), cancels reads and next ticks. `tear` picks
   * dropped writes whose first sector is then corrupted, as a torn write would leave it.
   */
  crash(tear: (io: PendingIo) => boolean = () => false): void {
    for (const io of this.pending) {
      if (io.write && tear(io)) this.corrupt(io.zone, io.offset);
    }
    this.pending.length = 0;
    this.nextTicks = [];
    this.writesInFlight = 0;
    this.writesInFlightByZone.fill(0);
  }

  /** Flips bits in one byte of the sector at `offset` (a latent sector error). */
  corrupt(zone: Zone, offset: number, byte = 100): void {
    this.zones[zone]![offset + byte] ^= 0x5a;
  }

  bytes(zone: Zone, offset: number, length: number): Uint8Array {
    return this.zones[zone]!.subarray(offset, offset + length);
  }

  private complete(io: PendingIo): void {
    if (io.write) {
      const snapshot = io.snapshot!;
      for (let i = 0; i < snapshot.length; i++) {
        if (snapshot[i] !== io.buffer[i]) throw new Error("MemoryStorage: write buffer modified while in flight");
      }
      this.zones[io.zone]!.set(io.buffer, io.offset);
      this.writesInFlight -= 1;
      this.writesInFlightByZone[io.zone] -= 1;
      this.writesCompleted += 1;
    } else {
      io.buffer.set(this.zones[io.zone]!.subarray(io.offset, io.offset + io.buffer.length));
    }
    io.callback();
  }

  private runNextTicks(): boolean {
    if (this.nextTicks.length === 0) return false;
    const running = this.nextTicks;
    this.nextTicks = [];
    for (const callback of running) callback();
    return true;
  }

  private check(zone: Zone, offset: number, buffer: Uint8Array): void {
    const size = this.zones[zone]!.length;
    if (offset % sectorSize !== 0 || buffer.length % sectorSize !== 0 || buffer.length === 0) {
      throw new Error("MemoryStorage: IO not sector-aligned");
    }
    if (offset + buffer.length > size) throw new Error("MemoryStorage: IO beyond its zone");
    for (const io of this.pending) {
      const other = io.buffer;
      if (other.buffer === buffer.buffer && other.byteOffset < buffer.byteOffset + buffer.length &&
        buffer.byteOffset < other.byteOffset + other.length) {
        throw new Error("MemoryStorage: buffer memory already owned by a pending IO");
      }
    }
  }
}

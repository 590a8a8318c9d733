// Simulated storage for one replica (spec/vopr.md §7): a sparse in-memory data file, IO that
// completes out of order after max(min, exp(mean)) latency, crashes that tear pending writes, and
// deterministic sector faults.
//
// Units: `ticks` counts StorageSim.tick() calls (1 tick = 10 ms); an IO is due at
// ready_at = ticks + floor(latency_ms / 10) and completes at the first step() with ticks ≥
// ready_at. A zero latency completes at the next step, never inside read()/write().
//
// Buffer ownership (TigerBeetle's contract): the caller's buffer belongs to the IO from submit
// until its callback runs. A write's bytes are copied into the data file when the write lands,
// not at submit, so there is exactly one copy (§15 rule 5) and a crash loses exactly the writes
// still pending. A read's buffer is filled at completion. Misuse is asserted where cheap: a read
// into a buffer that any IO still owns, a write from a buffer that a read still owns (several
// writes may share one unchanging buffer, e.g. superblock copies), and a write whose first 16
// bytes (a checksum, for every header, prepare and block) changed while it was in flight.
//
// Faults: `faults` marks faulty 4 KiB sectors. A faulty sector reads back as its pristine bytes
// with bits flipped in one byte, chosen by a PRNG seeded with the pristine first 8 bytes, so a
// retry sees the same corruption (a latent error, not a transient one). Writing a sector clears
// its fault. Faults are visible, and read/write faults injected, only while `faulty` is on;
// crash faults are always recorded (they stay latent until faults are visible).
//
// Misdirected writes (§7 item 3) keep `memory` pristine too: the write lands there as intended,
// and two overlays make it look misdirected while faults are visible — the intended sectors read
// back their old bytes (a lost write) and sectors of another faulty chunk of the same zone read back
// the new ones. A real write over an overlaid sector removes its overlay.
import { assert, assertFailed } from "../../core/assert.js";
import { readU32 } from "../../core/bytes.js";
import { sectorSize } from "../../core/config.js";
import { Prng } from "../../core/prng.js";
import { tickMs } from "../../io/time.js";
import { Zone, type Storage } from "../../io/storage.js";
import type { FaultAtlas } from "./fault_atlas.js";
import { TimedHeap, type Timed } from "./heap.js";
import { assertRatio, chance, intBelow, ratioZero, type Ratio } from "../ratio.js";
import { SectorFaults, corruptSector, fillUnwrittenSector } from "./sector_faults.js";
import type { StorageSimOptions } from "./storage_options.js";
import { DeviceTicks } from "./device_ticks.js";

interface Io extends Timed {
  write: boolean;
  zone: Zone;
  /** Byte offset within the zone. */
  offset: number;
  buffer: Uint8Array | null;
  callback: (() => void) | null;
  /** The write buffer's first 16 bytes at submit, as four u32 words. */
  fingerprint0: number;
  fingerprint1: number;
  fingerprint2: number;
  fingerprint3: number;
}

/** Faults injected so far (the fleet summary adds them up, spec/vopr.md §7). */
export interface StorageFaultStats {
  /** Read faults: a sector of a completed read made faulty (latent until overwritten). */
  latentErrors: number;
  /** Write faults: a sector of a landed write made faulty. */
  writeCorruptions: number;
  /** Misdirected writes (a lost write plus a wrong target). */
  misdirectedWrites: number;
  /** Sectors torn by a crash with the write pending. */
  tornWrites: number;
}

export class StorageSim implements Storage {
  readonly stats: StorageFaultStats = { latentErrors: 0, writeCorruptions: 0, misdirectedWrites: 0, tornWrites: 0 };
  /** Whether faults are visible on reads and read/write faults are injected (§7). */
  get faulty(): boolean {
    return this.faultyValue;
  }
  set faulty(faulty: boolean) {
    if (faulty !== this.faultyValue) this.changesStamp += 1; // visibleSector changes everywhere
    this.faultyValue = faulty;
  }
  private faultyValue = true;
  /**
   * For checkers that re-verify the superblock and WAL zones (durability_checker.ts): per sector
   * below the client replies zone, a count bumped whenever what pristineSector or visibleSector
   * show for it may have changed; and `changesStamp`, bumped when they may have changed for every
   * sector (a wipe, `faulty` toggled). What neither moved needs no second look.
   */
  private readonly sectorChanges: Uint32Array;
  changesStamp = 0;
  /** The sum of the sectors' change counts: unmoved, no sector's count moved either. */
  sectorChangesTotal = 0;
  /** Superblock writes landed so far (the durability checker re-reads the superblock after one). */
  superblockWritesLanded = 0;
  /** Told of every write when it is submitted (the durability checker). */
  onWrite: ((zone: Zone, offset: number, buffer: Uint8Array) => void) | null = null;
  readonly sizeBytes: number;
  readonly replicaIndex: number;
  /** The cluster's device tick count (device_ticks.ts), or a count of 0 for a storage on its own. */
  private readonly clusterTicks: DeviceTicks;
  /** The ticks this storage was driven alone: all of them on its own, format's in a cluster. */
  private ticksAlone = 0;
  private seqNext = 0;
  /** Bumped by crash(), so a step interrupted by a crash stops completing anything. */
  private epoch = 0;
  private writesPending = 0;
  private readonly prng: Prng;
  private readonly unwrittenSeed: number;
  private readonly atlas: FaultAtlas | null;
  private readonly zoneStart: readonly number[];
  private readonly zoneSize: readonly number[];
  /** Pristine sectors by index; absent = never written (so `memory` is also the written set). */
  private readonly memory = new Map<number, Uint8Array>();
  private readonly faults: SectorFaults;
  /**
   * Overlaid sectors of the one misdirected write that may be outstanding: what they read back
   * while faults are visible (null: never written, so seeded garbage).
   */
  private readonly overlays = new Map<number, Uint8Array | null>();
  private readonly queue = new TimedHeap<Io>();
  private readonly ioPool: Io[] = [];
  private nextTicks: (() => void)[] = [];
  /**
   * The tick from which step() has something to run, kept as the queue and the next-tick list
   * change (the cluster asks every storage on every round of every tick): the earliest ready_at,
   * −Infinity while next-tick callbacks wait, Infinity when idle.
   */
  private dueAt = Infinity;
  private nextTicksRunning: (() => void)[] = [];
  private readLatencyMinMs: number;
  private readLatencyMeanMs: number;
  private writeLatencyMinMs: number;
  private writeLatencyMeanMs: number;
  private readFault: Ratio;
  private writeFault: Ratio;
  private crashFault: Ratio;
  private misdirectFault: Ratio;

  constructor(options: StorageSimOptions) {
    const zones = options.config.zones;
    assert(options.sizeBytes % sectorSize === 0 && options.sizeBytes > zones.gridOffset, "StorageSim: bad size");
    assertRatio(options.readFaultProbability);
    assertRatio(options.writeFaultProbability);
    assertRatio(options.crashFaultProbability);
    assertRatio(options.writeMisdirectProbability);
    this.sizeBytes = options.sizeBytes;
    this.clusterTicks = options.ticks ?? new DeviceTicks();
    this.replicaIndex = options.replicaIndex;
    this.faultyValue = options.faulty ?? true;
    this.prng = new Prng(options.seed);
    this.unwrittenSeed = this.prng.nextU32();
    this.atlas = options.faultAtlas;
    // Indexed by Zone: superblock, wal_headers, wal_prepares, client_replies, grid (vsr.md §12).
    this.zoneStart = [
      zones.superblock.offset, zones.walHeaders.offset, zones.walPrepares.offset, zones.clientReplies.offset,
      zones.gridOffset,
    ];
    this.zoneSize = [
      zones.superblock.size, zones.walHeaders.size, zones.walPrepares.size, zones.clientReplies.size,
      options.sizeBytes - zones.gridOffset,
    ];
    this.faults = new SectorFaults(options.sizeBytes / sectorSize);
    this.sectorChanges = new Uint32Array(zones.clientReplies.offset / sectorSize);
    this.readLatencyMinMs = options.readLatencyMinMs;
    this.readLatencyMeanMs = options.readLatencyMeanMs;
    this.writeLatencyMinMs = options.writeLatencyMinMs;
    this.writeLatencyMeanMs = options.writeLatencyMeanMs;
    this.readFault = options.readFaultProbability;
    this.writeFault = options.writeFaultProbability;
    this.crashFault = options.crashFaultProbability;
    this.misdirectFault = options.writeMisdirectProbability;
  }

  get ticks(): number {
    return this.clusterTicks.now + this.ticksAlone;
  }

  /** Writes submitted and not yet landed (the VOPR crashes such replicas ×10 more often, §3.4). */
  get pendingWrites(): number {
    return this.writesPending;
  }

  get pendingIo(): number {
    return this.queue.size;
  }

  get pendingNextTicks(): number {
    return this.nextTicks.length;
  }

  /** Whether step() would run something now: a next-tick callback, or an IO due by this tick. */
  get hasDue(): boolean {
    return this.dueAt <= this.ticks;
  }

  /** Lowers the shared DeviceTicks.ioDueAt to this storage's due tick, in cluster ticks. */
  noteDue(): void {
    const dueAt = this.dueAt - this.ticksAlone;
    if (dueAt < this.clusterTicks.ioDueAt) this.clusterTicks.ioDueAt = dueAt;
  }

  read(zone: Zone, offset: number, buffer: Uint8Array, callback: () => void): void {
    this.submit(false, zone, offset, buffer, callback, this.readLatencyMinMs, this.readLatencyMeanMs);
  }

  write(zone: Zone, offset: number, buffer: Uint8Array, callback: () => void): void {
    this.onWrite?.(zone, offset, buffer);
    this.submit(true, zone, offset, buffer, callback, this.writeLatencyMinMs, this.writeLatencyMeanMs);
  }

  nextTick(callback: () => void): void {
    this.nextTicks.push(callback);
    this.dueAt = -Infinity;
    this.noteDue();
  }

  /** One tick of this storage alone (a cluster advances its storages' shared count instead). */
  tick(): void {
    this.ticksAlone += 1;
    this.noteDue(); // its due tick, in cluster ticks, came one closer
  }

  /**
   * Runs the next-tick callbacks registered before this step, then completes every IO due by
   * now that was submitted before this step; work created meanwhile waits for the next step.
   * Returns whether anything ran (spec/vopr.md §5 "until neither makes progress").
   */
  step(): boolean {
    const epoch = this.epoch;
    const seqLimit = this.seqNext;
    let progressed = this.runNextTicks(epoch);
    while (this.queue.size > 0 && this.epoch === epoch) {
      const io = this.queue.peek()!;
      // Same ready_at sorts by seq, so IO submitted during this step sorts after older due IO.
      if (io.readyAt > this.ticks || io.seq >= seqLimit) break;
      this.queue.pop();
      progressed = true;
      this.complete(io);
    }
    this.refreshDueAt();
    return progressed;
  }

  /** See dueAt; after anything but a submission or a next-tick registration (which lower it themselves). */
  private refreshDueAt(): void {
    this.dueAt = this.nextTicks.length > 0 ? -Infinity : this.queue.peek()?.readyAt ?? Infinity;
  }

  /**
   * spec/vopr.md §7 item 5: every pending write is dropped (its data never lands) and, with
   * crash_fault_probability, tears one random sector of its target, in any zone and regardless of
   * the atlas. Pending reads and next-tick callbacks are cancelled.
   */
  crash(): void {
    for (let index = 0; index < this.queue.size; index++) {
      const io = this.queue.at(index);
      if (io.write && chance(this.prng, this.crashFault)) {
        const sectors = io.buffer!.length / sectorSize;
        this.faults.set(this.sectorIndex(io.zone, io.offset) + intBelow(this.prng, sectors));
        this.stats.tornWrites += 1;
      }
      this.release(io);
    }
    this.queue.clear();
    this.writesPending = 0;
    this.nextTicks.length = 0;
    this.refreshDueAt();
    this.epoch += 1;
  }

  /**
   * spec/vopr.md §8 "Restart" rule 1: always un-fault the WAL header sectors. One simulated crash
   * can tear both; in production journal_iops_write_max is below the header-sector count.
   */
  unfaultWalHeaders(): void {
    this.unfault(Zone.wal_headers, 0, this.zoneSize[Zone.wal_headers]!);
    const first = this.sectorIndex(Zone.wal_headers, 0);
    for (let sector = first; sector < first + this.zoneSize[Zone.wal_headers]! / sectorSize; sector++) {
      this.overlays.delete(sector);
      this.changed(sector);
    }
  }

  /** The liveness phase (§6.2): 1 ms latency and no new faults; corrupt sectors stay corrupt. */
  heal(): void {
    this.readLatencyMinMs = 1;
    this.readLatencyMeanMs = 1;
    this.writeLatencyMinMs = 1;
    this.writeLatencyMeanMs = 1;
    this.readFault = ratioZero;
    this.writeFault = ratioZero;
    this.crashFault = ratioZero;
    this.misdirectFault = ratioZero;
  }

  /** Reformat (§8): forget every sector and fault. Only between a crash and a restart. */
  wipe(): void {
    assert(this.queue.size === 0 && this.nextTicks.length === 0, "wipe: IO pending");
    this.memory.clear();
    this.faults.clear();
    this.overlays.clear();
    this.changesStamp += 1;
    this.superblockWritesLanded += 1; // the superblock changed
  }

  // Inspection and scenario tests ("corrupt its prepare 2").

  /** Marks every sector of [offset, offset + length) of `zone` faulty. */
  fault(zone: Zone, offset: number, length: number = sectorSize): void {
    this.assertRange(zone, offset, length);
    const first = this.sectorIndex(zone, offset);
    for (let sector = 0; sector < length / sectorSize; sector++) this.faults.set(first + sector);
  }

  unfault(zone: Zone, offset: number, length: number = sectorSize): void {
    this.assertRange(zone, offset, length);
    const first = this.sectorIndex(zone, offset);
    for (let sector = 0; sector < length / sectorSize; sector++) this.faults.unset(first + sector);
  }

  isFaulty(zone: Zone, offset: number): boolean {
    return this.faults.has(this.sectorIndex(zone, offset));
  }

  isWritten(zone: Zone, offset: number): boolean {
    return this.memory.has(this.sectorIndex(zone, offset));
  }

  /** Faulty sectors in the whole file. */
  get faultyCount(): number {
    return this.faults.count;
  }

  /** Copies pristine bytes synchronously, faults ignored (for checkers, never the replica). */
  readPristine(zone: Zone, offset: number, target: Uint8Array): void {
    this.assertRange(zone, offset, target.length);
    const first = this.sectorIndex(zone, offset);
    for (let sector = 0; sector < target.length / sectorSize; sector++) {
      this.copyPristine(first + sector, target, sector * sectorSize);
    }
  }

  /**
   * The pristine bytes of the sector at `offset` of `zone`, without a copy (checkers only: never
   * write to it); null if the sector was never written.
   */
  pristineSector(zone: Zone, offset: number): Uint8Array | null {
    this.assertRange(zone, offset, sectorSize);
    return this.memory.get(this.sectorIndex(zone, offset)) ?? null;
  }

  /**
   * The sector at `offset` of `zone` as a read sees it through a misdirected write (checkers only):
   * its overlay, while faults are visible and it has one; else the pristine bytes.
   */
  visibleSector(zone: Zone, offset: number): Uint8Array | null {
    this.assertRange(zone, offset, sectorSize);
    const sector = this.sectorIndex(zone, offset);
    const overlay = this.faulty ? this.overlays.get(sector) : undefined;
    return overlay === undefined ? this.memory.get(sector) ?? null : overlay;
  }

  /**
   * Scenario tests: flips every bit of `length` bytes at byte `offset` of `zone` in the pristine
   * data itself — a latent corruption at an exact place (one WAL header, one superblock copy),
   * visible whether or not `faulty` is on, and gone only when the sector is rewritten.
   */
  corruptBytes(zone: Zone, offset: number, length: number): void {
    assert(Number.isSafeInteger(offset) && offset >= 0 && length > 0 && offset + length <= this.zoneSize[zone]!,
      "StorageSim.corruptBytes: outside the zone");
    for (let at = this.zoneStart[zone]! + offset; at < this.zoneStart[zone]! + offset + length; at++) {
      const pristine = this.memory.get(Math.floor(at / sectorSize));
      assert(pristine !== undefined, "StorageSim.corruptBytes: sector never written");
      pristine[at % sectorSize] = pristine[at % sectorSize]! ^ 0xff;
      this.changed(Math.floor(at / sectorSize));
    }
  }

  // Internals.

  private submit(write: boolean, zone: Zone, offset: number, buffer: Uint8Array, callback: () => void,
    latencyMinMs: number, latencyMeanMs: number): void {
    this.assertRange(zone, offset, buffer.length);
    this.own(buffer, write);
    const io = this.ioPool.pop() ?? newIo();
    io.write = write;
    io.zone = zone;
    io.offset = offset;
    io.buffer = buffer;
    io.callback = callback;
    io.readyAt = this.ticks + Math.floor(Math.max(latencyMinMs, this.prng.exponential(latencyMeanMs)) / tickMs);
    io.seq = this.seqNext++;
    if (write) {
      io.fingerprint0 = readU32(buffer, 0);
      io.fingerprint1 = readU32(buffer, 4);
      io.fingerprint2 = readU32(buffer, 8);
      io.fingerprint3 = readU32(buffer, 12);
      this.writesPending += 1;
    }
    this.queue.push(io);
    if (io.readyAt < this.dueAt) {
      this.dueAt = io.readyAt;
      this.noteDue();
    }
  }

  private runNextTicks(epoch: number): boolean {
    if (this.nextTicks.length === 0) return false;
    // Swap the lists so callbacks registered now run on the next step, not this one.
    const running = this.nextTicks;
    this.nextTicks = this.nextTicksRunning;
    this.nextTicksRunning = running;
    for (let index = 0; index < running.length && this.epoch === epoch; index++) running[index]!();
    running.length = 0;
    return true;
  }

  private complete(io: Io): void {
    const { write, zone, offset } = io;
    const buffer = io.buffer!;
    const callback = io.callback!;
    if (write) {
      assert(io.fingerprint0 === readU32(buffer, 0) && io.fingerprint1 === readU32(buffer, 4) &&
        io.fingerprint2 === readU32(buffer, 8) && io.fingerprint3 === readU32(buffer, 12),
        "StorageSim: write buffer modified while the write was in flight");
    }
    this.release(io);
    if (write) {
      this.writesPending -= 1;
      this.land(zone, offset, buffer);
    } else {
      this.fill(zone, offset, buffer);
    }
    callback();
  }

  private land(zone: Zone, offset: number, buffer: Uint8Array): void {
    const first = this.sectorIndex(zone, offset);
    const sectors = buffer.length / sectorSize;
    const misdirectedTo = this.faulty ? this.misdirectTarget(zone, offset, buffer.length) : -1;
    if (misdirectedTo >= 0) {
      // The intended sectors keep showing their old bytes; the mistaken ones show the new bytes.
      for (let sector = 0; sector < sectors; sector++) this.overlays.set(first + sector, this.memory.get(first + sector)?.slice() ?? null);
      const mistaken = this.sectorIndex(zone, misdirectedTo);
      for (let sector = 0; sector < sectors; sector++) {
        this.overlays.set(mistaken + sector, buffer.slice(sector * sectorSize, (sector + 1) * sectorSize));
        this.changed(mistaken + sector);
      }
      this.stats.misdirectedWrites += 1;
    } else if (this.overlays.size > 0) {
      for (let sector = 0; sector < sectors; sector++) this.overlays.delete(first + sector);
    }
    for (let sector = 0; sector < sectors; sector++) {
      let pristine = this.memory.get(first + sector);
      if (pristine === undefined) {
        pristine = new Uint8Array(sectorSize);
        this.memory.set(first + sector, pristine);
      }
      pristine.set(sectors === 1 ? buffer : buffer.subarray(sector * sectorSize, (sector + 1) * sectorSize));
      this.faults.unset(first + sector);
      this.changed(first + sector);
    }
    if (this.faulty && this.injectFault(this.writeFault, zone, offset, buffer.length)) this.stats.writeCorruptions += 1;
    if (zone === Zone.superblock) this.superblockWritesLanded += 1;
  }

  private fill(zone: Zone, offset: number, buffer: Uint8Array): void {
    const first = this.sectorIndex(zone, offset);
    const sectors = buffer.length / sectorSize;
    for (let sector = 0; sector < sectors; sector++) this.copyPristine(first + sector, buffer, sector * sectorSize);
    if (!this.faulty) return;
    if (this.overlays.size > 0) {
      for (let sector = 0; sector < sectors; sector++) {
        const overlay = this.overlays.get(first + sector);
        if (overlay === undefined) continue;
        if (overlay === null) fillUnwrittenSector(buffer, sector * sectorSize, this.unwrittenSeed, first + sector);
        else buffer.set(overlay, sector * sectorSize);
      }
    }
    if (this.injectFault(this.readFault, zone, offset, buffer.length, true)) this.stats.latentErrors += 1;
    if (this.faults.count === 0) return;
    for (let sector = 0; sector < sectors; sector++) {
      if (this.faults.has(first + sector)) corruptSector(buffer, sector * sectorSize);
    }
  }

  private copyPristine(sector: number, target: Uint8Array, at: number): void {
    const pristine = this.memory.get(sector);
    if (pristine === undefined) fillUnwrittenSector(target, at, this.unwrittenSeed, sector);
    else target.set(pristine, at);
  }

  /**
   * spec/vopr.md §7 items 1–2: with `probability`, mark one sector of the IO faulty, chosen among
   * the sectors in this replica's faulty atlas chunks (none in the superblock, item 6). True when
   * it did. A latent error (`writtenOnly`) strikes a sector that holds data: a never-written
   * sector already reads as garbage (§7 item 4), so an error there would change nothing but count.
   */
  private injectFault(probability: Ratio, zone: Zone, offset: number, length: number, writtenOnly = false): boolean {
    const atlas = this.atlas;
    if (atlas === null || probability.numerator === 0 || zone === Zone.superblock) return false;
    let candidates = 0;
    for (let at = offset; at < offset + length; at += sectorSize) {
      if (this.faultCandidate(atlas, zone, at, writtenOnly)) candidates += 1;
    }
    if (candidates === 0 || !chance(this.prng, probability)) return false;
    let pick = intBelow(this.prng, candidates);
    for (let at = offset; at < offset + length; at += sectorSize) {
      if (!this.faultCandidate(atlas, zone, at, writtenOnly)) continue;
      if (pick === 0) {
        this.faults.set(this.sectorIndex(zone, at));
        return true;
      }
      pick -= 1;
    }
    assert(false, "injectFault: the pick is among the candidates");
    return false;
  }

  /** A sector of this replica's faulty atlas chunks (that holds data, if `writtenOnly`). */
  private faultCandidate(atlas: FaultAtlas, zone: Zone, at: number, writtenOnly: boolean): boolean {
    return atlas.isFaultyAt(this.replicaIndex, zone, at) && (!writtenOnly || this.memory.has(this.sectorIndex(zone, at)));
  }

  /**
   * §7 item 3: with misdirect probability, where the overlays are free (one misdirected write at a
   * time), the write lies inside one of this replica's faulty atlas chunks, and the WAL would not
   * be left with both copies of an entry lost (the rule below), the zone offset where this write
   * lands instead: another slot of the zone (a WAL slot, a header sector, a block) inside a faulty
   * chunk, in this chunk or another (the test configuration's WAL has only two chunks). Else −1.
   */
  private misdirectTarget(zone: Zone, offset: number, length: number): number {
    const atlas = this.atlas;
    if (atlas === null || this.misdirectFault.numerator === 0 || this.overlays.size > 0) return -1;
    if (zone === Zone.superblock || !atlas.isFaultyAt(this.replicaIndex, zone, offset)) return -1;
    const chunkSize = atlas.chunkSize(zone);
    const chunk = atlas.chunkOf(zone, offset);
    if (Math.floor((offset + length - 1) / chunkSize) !== chunk || !this.walCopiesIntact(zone, chunk)) return -1;
    if (!chance(this.prng, this.misdirectFault)) return -1;
    const slotSize = zone === Zone.wal_headers ? sectorSize : Math.min(chunkSize, this.slotSize(zone));
    if (offset % slotSize !== 0 || length > slotSize) return -1;
    // A bounded search: roughly faults_max / R of the chunks are this replica's.
    for (let attempt = 0; attempt < 16; attempt++) {
      const target = intBelow(this.prng, this.zoneSize[zone]! / slotSize) * slotSize;
      if (target === offset || !atlas.isFaultyAt(this.replicaIndex, zone, target)) continue;
      if (this.walCopiesIntact(zone, atlas.chunkOf(zone, target))) return target;
    }
    return -1;
  }

  /** The unit a write of `zone` targets: a WAL or reply slot (one message), or a grid block. */
  private slotSize(zone: Zone): number {
    return zone === Zone.grid ? this.atlas!.chunkSize(Zone.grid) : this.atlas!.chunkSize(Zone.client_replies);
  }

  /**
   * A WAL entry has two copies, its header in a header sector and the header inside its prepare,
   * and recovery tells a torn write from corruption by comparing them. Losing both to faults looks
   * like a write that never happened, which no replica can tell apart, so a write to one copy is
   * never misdirected while the other copy's chunk (the same atlas chunk number in the other zone)
   * is overlaid or faulty.
   */
  private walCopiesIntact(zone: Zone, chunk: number): boolean {
    if (zone !== Zone.wal_headers && zone !== Zone.wal_prepares) return true;
    const other = zone === Zone.wal_headers ? Zone.wal_prepares : Zone.wal_headers;
    const chunkSize = this.atlas!.chunkSize(other);
    const first = this.sectorIndex(other, chunk * chunkSize);
    for (let sector = first; sector < first + chunkSize / sectorSize; sector++) {
      if (this.faults.has(sector) || this.overlays.has(sector)) return false;
    }
    return true;
  }

  /**
   * A buffer belongs to its pending IO until the IO completes: several writes may share one, a
   * read owns its alone. Pending IO is few (a scan of the queue costs less than a map of owners).
   */
  private own(buffer: Uint8Array, write: boolean): void {
    for (const io of this.queue.items) {
      if (io.buffer !== buffer) continue;
      if (!write) assertFailed("StorageSim: read into a buffer that a pending IO owns");
      if (!io.write) assertFailed("StorageSim: write from a buffer that a pending read owns");
    }
  }

  private release(io: Io): void {
    io.buffer = null;
    io.callback = null;
    this.ioPool.push(io);
  }

  /** The change count of the sector at `offset` of `zone` (see sectorChanges); zones below client replies only. */
  sectorChangeCount(zone: Zone, offset: number): number {
    const sector = this.sectorIndex(zone, offset);
    assert(Number.isInteger(sector) && sector < this.sectorChanges.length,
      "sectorChangeCount: not a superblock or WAL sector");
    return this.sectorChanges[sector]!;
  }

  private changed(sector: number): void {
    if (sector < this.sectorChanges.length) {
      this.sectorChanges[sector] = this.sectorChanges[sector]! + 1;
      this.sectorChangesTotal += 1;
    }
  }

  private sectorIndex(zone: Zone, offset: number): number {
    return (this.zoneStart[zone]! + offset) / sectorSize;
  }

  private assertRange(zone: Zone, offset: number, length: number): void {
    assert(zone >= Zone.superblock && zone <= Zone.grid, "StorageSim: bad zone");
    assert(Number.isSafeInteger(offset) && offset >= 0 && offset % sectorSize === 0,
      "StorageSim: offset not sector-aligned");
    assert(length > 0 && length % sectorSize === 0, "StorageSim: length not a positive multiple of 4096");
    assert(offset + length <= this.zoneSize[zone]!, "StorageSim: IO beyond the end of its zone");
  }
}

function newIo(): Io {
  return {
    write: false, zone: Zone.superblock, offset: 0, buffer: null, callback: null, readyAt: 0, seq: 0,
    fingerprint0: 0, fingerprint1: 0, fingerprint2: 0, fingerprint3: 0,
  };
}

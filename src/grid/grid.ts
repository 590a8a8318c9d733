// The grid (DESIGN.md "Data file and storage engine", spec/vsr.md §9): the part of the data file
// after the client replies, cut into blocks addressed from 1, where the state machine's pages and
// every checkpoint's roots live. Copy-on-write throughout: a changed page goes to a newly acquired
// block and its old block is released (free once the next checkpoint is durable, free_set.ts).
//
// When blocks are written is a function of the op sequence alone, never of timing or memory, so
// replicas that executed the same ops hold identical blocks at identical addresses:
// - at the end of every bar (flush), the pages changed during the bar;
// - at a checkpoint (also the end of a bar), the changed directory blocks, the three blobs (the
//   state machine's metadata, the client sessions, the free set) and the manifest.
// A checkpoint's I/O is therefore proportional to what changed, spread over its bars; the
// superblock then points at the manifest (protocol/checkpoint.ts).
import { assert, FatalError } from "../core/assert.js";
import { headerSize, type Config } from "../core/config.js";
import type { PageNeeds, PageSpace, PersistentState } from "../core/persistent_state.js";
import { Zone, type Storage } from "../io/storage.js";
import {
  BlockType, blockBody, blockChecksum, blockType, buildBlock, misplacedBlock, referenceSize, sealBlock, verifyBlock,
  verifyBlockAt, verifyBlockHeader,
  type BlockReference,
} from "./block.js";
import { FreeSet } from "./free_set.js";
import { GridRepair, type RepairedFault } from "./grid_repair.js";
import { emptyGridStats, type GridStats } from "./grid_stats.js";
import { Blob, decodeManifest, encodeManifest, type BlobReference, type Manifest } from "./manifest.js";
import { PagePool } from "../core/page_pool.js";
import { PageCache } from "./page_cache.js";
import { SpaceMap } from "./space_map.js";

/** Page blocks kept for reuse after their writes complete (grid.write). */
const spareBlocksMax = 64;
/** Free blocks always kept for a checkpoint's roots (manifest, directories, blobs, free set). */
const storageReserveBlocksMin = 64;

/** How far behind a lazy space's last page the mid-bar flush looks (flushBehindTails). */
const behindTailPages = 4;

/** Reads in flight while opening a checkpoint. */
const openReadsMax = 64;

/** The block cache when none is configured: 1 GiB in production, 8 pages in the test configuration. */
export function gridCacheBytesDefault(config: Config): number {
  return config.name === "production" ? 2 ** 30 : 8 * config.blockSize;
}

/** The storage limit when none is configured: 16 TiB of grid in production (TigerBeetle's default). */
export function gridBlocksLimitDefault(config: Config): number {
  return config.name === "production" ? (16 * 2 ** 40) / config.blockSize : 16_384;
}

export interface ManifestReference extends BlockReference {
  /** The manifest block's header size (what the superblock records as manifest_size). */
  size: number;
}

export class Grid {
  readonly stats: GridStats = emptyGridStats();
  readonly pageSize: number;
  /** Which pages of the lazy spaces stay in memory (page_cache.ts). */
  readonly cache: PageCache;
  /** The memory of the lazy spaces' pages (the state machine takes its pages from here). */
  readonly pagePool: PagePool;
  freeSet: FreeSet;
  private maps: SpaceMap[] = [];
  /** The last checkpoint's blobs and manifest, released when the next checkpoint replaces them. */
  private checkpointBlobs: BlobReference[] = [];
  /** The last checkpoint's manifest block (null before the first checkpoint). */
  private manifest: BlockReference | null = null;
  private writesPending = 0;
  /**
   * Page blocks whose writes completed, for the next flush to reuse: a bar's flush writes many
   * 512 KiB blocks, and allocating each (zeroed, fresh memory) cost more than its checksum.
   */
  private readonly spareBlocks: Uint8Array[] = [];
  /** Blocks being written, by address: a read of one is served from here, not from the disk. */
  private readonly writing = new Map<number, Uint8Array>();
  private writesDrained: (() => void)[] = [];
  private bytesWrittenAtCheckpoint = 0;
  /** Blocks acquired since the last checkpoint was written. */
  private acquiredThisInterval = 0;
  /** Blocks the interval before acquired: what storageNearlyFull expects the next to take. */
  private acquiredLastInterval = 0;
  /** The refusal decided when this interval's releases became free (storageNearlyFull). */
  private storageRefusing = false;
  /** The most blocks one bar's flushes have acquired since open. */
  private acquiredBarMax = 0;
  /** acquiredThisInterval when the current bar started (the last bar-end flush or checkpoint). */
  private acquiredAtBarStart = 0;
  /** The first block that failed the last open, for its error message. */
  private readProblem = "";
  /** False only for the planted bug gridReadWithoutBodyChecksum (replica/bugs.ts). */
  verifyBodies = true;
  /** Bumped by reset(): reads issued for the state before it are dropped (readEach). */
  private generation = 0;
  /** Repair of faulty blocks from peers (grid_repair.ts); null without peers to ask. */
  repair: GridRepair | null = null;

  constructor(
    private readonly storage: Storage, readonly config: Config, private readonly cluster: bigint,
    readonly blocksLimit: number, cacheBytes = gridCacheBytesDefault(config),
  ) {
    this.cache = new PageCache(Math.max(1, Math.floor(cacheBytes / config.blockSize)));
    this.pageSize = config.blockSize - headerSize;
    assert(this.pageSize % 128 === 0, "grid pages hold whole 128-byte rows");
    this.pagePool = new PagePool(this.pageSize);
    this.freeSet = new FreeSet(blocksLimit);
    this.stats.blocksLimit = blocksLimit;
  }

  /** Allocates the cache's pages now, resident (page_pool.ts): a production replica's memory is known from start-up. */
  reserveCache(): void {
    this.pagePool.reserve(this.cache.pagesMax);
    // A bar's end seals some 40 blocks at once: their buffers are allocated (and touched) now, not then.
    while (this.spareBlocks.length < spareBlocksMax) this.spareBlocks.push(new Uint8Array(this.config.blockSize).fill(0));
  }

  get referencesPerBlock(): number {
    return Math.floor(this.pageSize / referenceSize);
  }

  /** From now on a block of our own state that reads back faulty is fetched from peers. */
  enableRepair(): void {
    this.repair ??= new GridRepair(this.cluster);
  }

  /** Forgets everything: the state of the root checkpoint (an empty grid). */
  reset(spaceCount: number): void {
    assert(this.writesPending === 0, "grid reset with writes in flight");
    this.repair?.dropBackground();
    assert(this.repair === null || this.repair.pending === 0, "grid reset with repairs waiting");
    this.generation += 1;
    this.freeSet = new FreeSet(this.blocksLimit);
    this.maps = Array.from({ length: spaceCount }, () => new SpaceMap(this.referencesPerBlock));
    this.checkpointBlobs = [];
    this.manifest = null;
    this.cache.clear();
  }

  // ---- writing ----

  /** Writes every page changed since the last flush (the end of a bar). */
  flush(spaces: readonly PageSpace[]): void {
    this.ensureMaps(spaces.length);
    spaces.forEach((space, index) => this.flushSpace(space, index, this.maps[index]!));
    this.acquiredBarMax = Math.max(this.acquiredBarMax, this.acquiredThisInterval - this.acquiredAtBarStart);
    this.acquiredAtBarStart = this.acquiredThisInterval;
    this.cache.evict(spaces);
  }

  /**
   * After a commit inside a bar: writes the changed pages just behind each lazy space's last
   * page. Appends leave them full and they rarely change again, so writing them now spreads a
   * bar's flush over its ops, instead of stalling the op that ends it (30 ms and more at full
   * production load). A page that changes again is rewritten by the bar-end flush. Which pages
   * are written depends only on the state (page counts, changed pages), so every replica, and a
   * replica replaying its WAL, writes the same blocks at the same ops.
   */
  flushBehindTails(spaces: readonly PageSpace[]): void {
    this.ensureMaps(spaces.length);
    spaces.forEach((space, index) => {
      if (!space.lazy) return;
      const map = this.maps[index]!;
      const last = space.pageCount() - 1;
      // Pages not in the map yet are all written, in order (a map grows one page at a time).
      for (let page = Math.min(map.pageCount, Math.max(0, last - behindTailPages)); page < last; page++) {
        if (page < map.pageCount && !space.isDirty(page)) continue;
        this.writePage(space, index, map, page);
        space.clearDirtyPage!(page);
      }
    });
  }

  private ensureMaps(count: number): void {
    if (this.maps.length === 0) this.maps = Array.from({ length: count }, () => new SpaceMap(this.referencesPerBlock));
    assert(this.maps.length === count, "the state machine's space count changed");
  }

  private flushSpace(space: PageSpace, index: number, map: SpaceMap): void {
    const pageCount = space.pageCount();
    // A page of a flat space whose used extent changed is rewritten even if nothing in it was
    // marked (prefilled bytes became part of it): only the previous last page can be one. A lazy
    // space marks every page it appends to, and what is written must never depend on which pages
    // happen to be resident (that differs between replicas).
    const extentChanged = !space.lazy && space.usedBytes() !== map.usedBytes ? Math.min(pageCount, map.pageCount) - 1 : -1;
    for (let page = 0; page < pageCount; page++) {
      const rewrite = page >= map.pageCount || space.isDirty(page) || page === extentChanged;
      if (rewrite) this.writePage(space, index, map, page);
    }
    for (const address of map.truncate(pageCount)) this.freeSet.release(address);
    map.usedBytes = space.usedBytes();
    space.clearDirty();
  }

  /** Writes page `page` of a space to a new block and points the space's map at it. */
  private writePage(space: PageSpace, index: number, map: SpaceMap, page: number): void {
    if (space.lazy) this.cache.touch(index, page);
    const body = space.pageBody(page);
    assert(body.length === space.pageUsedBytes(page) && body.length <= this.pageSize, "a page within a block");
    const address = this.acquire();
    const block = this.spareBlocks.pop() ?? new Uint8Array(this.config.blockSize);
    block.set(body, headerSize);
    block.fill(0, headerSize + body.length); // a reused buffer: the padding stays zero
    sealBlock(block, this.cluster, address, BlockType.page, body.length);
    const old = map.set(page, { address, checksum: blockChecksum(block) });
    if (old !== 0) this.freeSet.release(old);
    this.write(address, block, undefined, true);
  }

  /**
   * Takes a checkpoint of `state` and `sessions` (the client sessions' bytes): flushes the pages,
   * writes the changed directory blocks, the blobs, the free set and the manifest, and calls back
   * with the manifest's reference once every grid write of the interval is durable.
   */
  checkpoint(state: PersistentState, sessions: Uint8Array, callback: (manifest: ManifestReference) => void): void {
    const spaces = state.spaces();
    this.flush(spaces);
    // The previous checkpoint's roots are replaced: released now, free once this one is durable.
    for (const blob of this.checkpointBlobs) for (const block of blob.blocks) this.freeSet.release(block.address);
    if (this.manifest !== null) this.freeSet.release(this.manifest.address);
    const directories = this.maps.map((map) => {
      const written = new Map<number, BlockReference>();
      for (const run of map.runsToWrite()) {
        const address = this.acquire();
        const block = buildBlock(this.config.blockSize, this.cluster, address, BlockType.directory, map.encodeRun(run));
        written.set(run, { address, checksum: blockChecksum(block) });
        this.write(address, block);
      }
      for (const address of map.commitDirectory(written)) this.freeSet.release(address);
      return map.directory.slice();
    });
    const meta = this.writeBlob(state.meta());
    const sessionsBlob = this.writeBlob(sessions);
    const manifestAddress = this.acquire();
    const freeSetBlob = this.writeFreeSet();
    const manifest: Manifest = {
      blobs: [meta, sessionsBlob, freeSetBlob],
      spaces: spaces.map((space, index) => ({
        usedBytes: space.usedBytes(), pageCount: this.maps[index]!.pageCount, directory: directories[index]!,
      })),
    };
    const block = buildBlock(this.config.blockSize, this.cluster, manifestAddress, BlockType.manifest,
      encodeManifest(manifest, this.pageSize));
    this.write(manifestAddress, block);
    this.checkpointBlobs = manifest.blobs;
    const reference = { address: manifestAddress, checksum: blockChecksum(block), size: blockBody(block).length + headerSize };
    this.manifest = { address: reference.address, checksum: reference.checksum };
    this.checkReferencesMatchFreeSet();
    this.afterWrites(() => callback(reference));
  }

  /** The checkpoint last taken is written (the superblock points at it): a new interval starts. */
  checkpointWritten(): void {
    this.acquiredLastInterval = this.acquiredThisInterval;
    this.acquiredThisInterval = 0;
    this.acquiredAtBarStart = 0;
    this.stats.checkpointBytesWritten = this.stats.bytesWritten - this.bytesWrittenAtCheckpoint;
    this.bytesWrittenAtCheckpoint = this.stats.bytesWritten;
  }

  /**
   * The checkpoint this grid was last taken at or opened from is durable on the cluster: the blocks
   * its interval released are free. Called at the same op on every replica (free_set.ts).
   */
  checkpointDurable(): void {
    // Blocks released before now may be reused from now on: a background repair of one is stale.
    this.repair?.dropBackground();
    this.freeSet.checkpointDurable();
    this.storageRefusing = this.freeSet.blocksFree < 2 * this.acquiredLastInterval + storageReserveBlocksMin;
    this.stats.blocksAcquired = this.freeSet.acquiredCount;
  }

  /** The grid's extent: where the data file must reach for the last acquired block. */
  storageSizeBytes(): number {
    return this.config.zones.gridOffset + this.freeSet.highestAcquired() * this.config.blockSize;
  }

  private writeBlob(bytes: Uint8Array): BlobReference {
    const blocks: BlockReference[] = [];
    for (let start = 0; start < bytes.length || blocks.length === 0; start += this.pageSize) {
      const address = this.acquire();
      const block = buildBlock(this.config.blockSize, this.cluster, address, BlockType.blob,
        bytes.subarray(start, Math.min(bytes.length, start + this.pageSize)));
      blocks.push({ address, checksum: blockChecksum(block) });
      this.write(address, block);
    }
    return { bytes: bytes.length, blocks };
  }

  /** The free set's own blocks are acquired before it is encoded, so it records them as in use. */
  private writeFreeSet(): BlobReference {
    const addresses: number[] = [];
    for (;;) {
      const bytesNeeded = this.freeSet.encodedSize();
      if (addresses.length * this.pageSize >= bytesNeeded) break;
      addresses.push(this.acquire());
    }
    const bytes = this.freeSet.encode();
    assert(bytes.length <= addresses.length * this.pageSize);
    const blocks = addresses.map((address, i) => {
      const block = buildBlock(this.config.blockSize, this.cluster, address, BlockType.blob,
        bytes.subarray(Math.min(bytes.length, i * this.pageSize), Math.min(bytes.length, (i + 1) * this.pageSize)));
      this.write(address, block);
      return { address, checksum: blockChecksum(block) };
    });
    return { bytes: bytes.length, blocks };
  }

  /** The free set holds exactly the blocks this checkpoint references: nothing leaks. */
  private checkReferencesMatchFreeSet(): void {
    let referenced = 1; // the manifest
    for (const blob of this.checkpointBlobs) referenced += blob.blocks.length;
    for (const map of this.maps) referenced += map.blockCount();
    assert(this.freeSet.acquiredAfterReleases() === referenced,
      `grid: the free set holds ${this.freeSet.acquiredAfterReleases()} blocks, the checkpoint references ${referenced}`);
  }

  private acquire(): number {
    const address = this.freeSet.acquire();
    if (address === null) {
      // The primary refuses requests well before this (storageNearlyFull); reaching it means an
      // interval far heavier than the last. Stop rather than write a partial checkpoint.
      throw new FatalError(`storage limit reached: all ${this.blocksLimit} grid blocks ` +
        `(${this.blocksLimit * this.config.blockSize} bytes) are in use; restart with a larger --limit-storage ` +
        "(nothing acknowledged is lost: the WAL replays it)");
    }
    this.acquiredThisInterval += 1;
    return address;
  }

  /**
   * Whether the primary should refuse creations now. Mainly decided once per checkpoint interval,
   * when the last checkpoint is durable and its releases free: refuse unless the free blocks cover
   * twice what the last interval acquired plus a checkpoint's roots, so an accepted interval runs
   * to its checkpoint. Deciding once per interval keeps it stable: mid-interval, refusing would
   * wait for a checkpoint that only committed requests bring, while the blocks it frees sit
   * released. Mid-interval it refuses only in an emergency: fewer blocks free than two of the
   * heaviest bar flushes seen, plus the roots (an interval heavier than the last, or the first
   * after a restart, which has no measure of the last). Then the hard limit is not reached, and
   * requests wait for a checkpoint or for the operator.
   */
  storageNearlyFull(): boolean {
    const emergency = this.freeSet.blocksFree < 2 * this.acquiredBarMax + storageReserveBlocksMin;
    return this.storageRefusing || emergency;
  }

  /** Free blocks, and the limit, for the operator's messages. */
  storageUsage(): { blocksFree: number; blocksLimit: number } {
    return { blocksFree: this.freeSet.blocksFree, blocksLimit: this.blocksLimit };
  }

  /** Writes a whole block at its address (also used by state sync). */
  write(address: number, block: Uint8Array, callback?: () => void, recycle = false): void {
    assert(block.length === this.config.blockSize && address >= 1);
    this.stats.blocksWritten += 1;
    this.stats.bytesWritten += block.length;
    this.writesPending += 1;
    this.writing.set(address, block);
    this.storage.write(Zone.grid, (address - 1) * this.config.blockSize, block, () => {
      this.writesPending -= 1;
      if (this.writing.get(address) === block) this.writing.delete(address);
      if (recycle && this.spareBlocks.length < spareBlocksMax) this.spareBlocks.push(block);
      callback?.();
      if (this.writesPending === 0 && this.writesDrained.length > 0) {
        const drained = this.writesDrained;
        this.writesDrained = [];
        for (const continuation of drained) continuation();
      }
    });
  }

  /** Calls back once no grid write is in flight (never inside this call). */
  afterWrites(callback: () => void): void {
    if (this.writesPending === 0) return this.storage.nextTick(callback);
    this.writesDrained.push(callback);
  }

  // ---- reading ----

  /**
   * Reads a block of our own state: calls back with it once it is the one referenced, repaired from
   * peers if our copy is faulty (grid_repair.ts); with null only where it cannot be repaired.
   */
  read(reference: BlockReference, callback: (block: Uint8Array | null) => void): void {
    const generation = this.generation;
    this.readAt(reference.address, reference, (block, misplaced) => {
      // A read issued before a reset is for a state that is gone: never repair for it.
      const repairable = block === null && this.repair !== null && this.generation === generation;
      if (!repairable || !this.repair!.want(reference, callback, false, misplaced)) callback(block);
    });
  }

  /**
   * Reads the block at reference.address if it is intact and the one referenced; never repairs.
   * `misplaced` (with a null block): what we hold there is another intact block (misplacedBlock).
   */
  readLocal(reference: BlockReference, callback: (block: Uint8Array | null, misplaced: boolean) => void,
    into?: Uint8Array): void {
    this.readAt(reference.address, reference, callback, into);
  }

  /**
   * A block a peer served: if a read is waiting for it, it is written back home and handed to
   * every waiting read. Returns what our copy was (grid_repair.ts RepairedFault), or null when no
   * read wants it (or it is not the block wanted).
   */
  receiveRepair(block: Uint8Array): RepairedFault | null {
    const taken = this.repair?.receive(block) ?? null;
    if (taken === null) return null;
    const { reference, waiters } = taken;
    assert(block.length === this.config.blockSize, "a repaired block of the wrong size");
    this.write(reference.address, block);
    for (const waiter of waiters) waiter(block.slice());
    return taken.misplaced ? "misplaced" : "faulty";
  }

  /**
   * Reads the block stored at `address`, which must be the one `reference` names (null if not):
   * `address` differs from the reference's only where state sync staged a block (sync_moves.ts).
   * A null reference takes any intact block of this cluster written for `address`. A null block
   * comes with `misplaced` (block.ts misplacedBlock), which only says why it is not ours. `into`
   * (a block-sized buffer the caller reuses, free until the callback) saves the allocation.
   */
  readAt(address: number, reference: BlockReference | null,
    callback: (block: Uint8Array | null, misplaced: boolean) => void, into?: Uint8Array): void {
    const verify = (block: Uint8Array): boolean =>
      reference === null ? verifyBlockAt(block, address, this.cluster)
        : this.verifyBodies ? verifyBlock(block, reference, this.cluster) : verifyBlockHeader(block, reference, this.cluster);
    const writing = this.writing.get(address);
    if (writing !== undefined) {
      // A page flushed and then evicted while its write is in flight: the disk may not hold it yet.
      const copy = writing.slice();
      return this.storage.nextTick(() => callback(verify(copy) ? copy : null, false));
    }
    assert(into === undefined || into.length === this.config.blockSize, "a read buffer of the wrong size");
    // A reused buffer starts zeroed, as a fresh one: no earlier read's bytes can pass for this one.
    const block = into?.fill(0) ?? new Uint8Array(this.config.blockSize);
    this.storage.read(Zone.grid, (address - 1) * this.config.blockSize, block, () => {
      if (verify(block)) return callback(block, false);
      callback(null, reference !== null && misplacedBlock(block, reference, this.cluster));
    });
  }

  /**
   * Opens a checkpoint: loads its free set and directories, and every page into `state`
   * (restoreBegin → pages → restoreFinish). Calls back with the client sessions' bytes, or with an
   * error when a block is missing or corrupt.
   */
  open(reference: BlockReference, state: PersistentState,
    callback: (result: { sessions: Uint8Array } | { error: string }) => void): void {
    assert(this.writesPending === 0, "opening a checkpoint with grid writes in flight");
    // A reset (a state sync replacing this state) ends an open that is still reading.
    const generation = this.generation;
    const done = callback;
    callback = (result) => done(this.generation === generation ? result : { error: "superseded by a state sync" });
    this.read(reference, (block) => {
      if (this.generation !== generation) return callback({ error: "superseded" });
      if (block === null || blockType(block) !== BlockType.manifest) return callback({ error: `manifest block ${reference.address} missing or corrupt` });
      const manifest = decodeManifest(blockBody(block));
      if (manifest === null) return callback({ error: "manifest of an unknown format" });
      this.readBlobs(manifest, (blobs) => {
        if (this.generation !== generation) return callback({ error: "superseded" });
        if (blobs === null) return callback({ error: "checkpoint metadata blocks missing or corrupt" });
        this.loadDirectories(manifest, (maps) => {
          if (this.generation !== generation) return callback({ error: "superseded" });
          if (maps === null) return callback({ error: "checkpoint directory blocks missing or corrupt" });
          const highest = FreeSet.highestAcquiredIn(blobs[Blob.freeSet]!);
          if (highest > this.blocksLimit) {
            return callback({ error: `the checkpoint uses grid block ${highest}, beyond the storage ` +
              `limit of ${this.blocksLimit} blocks (${this.blocksLimit * this.config.blockSize} bytes of grid): raise --limit-storage` });
          }
          state.restoreBegin(blobs[Blob.meta]!);
          const spaces = state.spaces();
          if (spaces.length !== maps.length) return callback({ error: `checkpoint of ${maps.length} spaces, state machine of ${spaces.length}` });
          this.loadPages(spaces, maps, manifest, (ok) => {
            if (!ok) return callback({ error: `checkpoint ${this.readProblem}` });
            state.restoreFinish();
            this.maps = maps;
            this.freeSet = new FreeSet(this.blocksLimit);
            this.freeSet.decode(blobs[Blob.freeSet]!);
            this.checkpointBlobs = manifest.blobs;
            this.manifest = { address: reference.address, checksum: reference.checksum };
            this.checkReferencesMatchFreeSet();
            this.stats.blocksAcquired = this.freeSet.acquiredCount;
            // What the last interval took is not recorded: only the roots' reserve is known.
            this.acquiredThisInterval = 0;
            this.acquiredLastInterval = 0;
            this.acquiredAtBarStart = 0;
            this.storageRefusing = this.freeSet.blocksFree < storageReserveBlocksMin;
            callback({ sessions: blobs[Blob.sessions]! });
          });
        });
      });
    });
  }

  private readBlobs(manifest: Manifest, callback: (blobs: Uint8Array[] | null) => void): void {
    const blocks = manifest.blobs.flatMap((blob) => blob.blocks);
    this.readMany(blocks, BlockType.blob, (bodies) => {
      if (bodies === null) return callback(null);
      let next = 0;
      const blobs = manifest.blobs.map((blob) => {
        const bytes = new Uint8Array(blob.bytes);
        let offset = 0;
        for (let i = 0; i < blob.blocks.length; i++) {
          const body = bodies[next++]!;
          bytes.set(body.subarray(0, Math.min(body.length, blob.bytes - offset)), offset);
          offset += body.length;
        }
        return offset === blob.bytes ? bytes : null;
      });
      callback(blobs.some((blob) => blob === null) ? null : blobs as Uint8Array[]);
    });
  }

  private loadDirectories(manifest: Manifest, callback: (maps: SpaceMap[] | null) => void): void {
    const blocks = manifest.spaces.flatMap((space) => space.directory);
    this.readMany(blocks, BlockType.directory, (bodies) => {
      if (bodies === null) return callback(null);
      let next = 0;
      const maps: SpaceMap[] = [];
      for (const space of manifest.spaces) {
        const map = new SpaceMap(this.referencesPerBlock);
        const runs = bodies.slice(next, next + space.directory.length);
        next += space.directory.length;
        if (!map.load(space.directory.slice(), runs, space.pageCount, space.usedBytes)) return callback(null);
        maps.push(map);
      }
      callback(maps);
    });
  }

  private loadPages(spaces: readonly PageSpace[], maps: SpaceMap[], manifest: Manifest, callback: (ok: boolean) => void): void {
    const jobs: { space: PageSpace; page: number }[] = [];
    const references: BlockReference[] = [];
    for (let s = 0; s < spaces.length; s++) {
      const space = spaces[s]!;
      if (space.usedBytes() !== manifest.spaces[s]!.usedBytes || space.pageCount() !== maps[s]!.pageCount) {
        this.readProblem = `space ${s}: the metadata's counts do not match its pages`;
        return this.storage.nextTick(() => callback(false));
      }
      if (space.lazy) continue; // read on demand (prefetch)
      for (let page = 0; page < maps[s]!.pageCount; page++) {
        jobs.push({ space, page });
        references.push(maps[s]!.page(page));
      }
    }
    this.readEach(references, BlockType.page, (body, i) => jobs[i]!.space.install(jobs[i]!.page, body), callback,
      (i) => `page ${jobs[i]!.page} of space ${spaces.indexOf(jobs[i]!.space)}`);
  }

  // ---- what the scrubber walks (grid_scrubber.ts) ----

  /** Root `index` of the last checkpoint (its manifest, then its blobs, then its directories), or null past the last. */
  liveRoot(index: number): BlockReference | null {
    // Walked, not built as a list: the scrubber asks for one root at a time, every half second.
    let at = index;
    if (this.manifest !== null) {
      if (at === 0) return this.manifest;
      at -= 1;
    }
    for (const blob of this.checkpointBlobs) {
      if (at < blob.blocks.length) return blob.blocks[at]!;
      at -= blob.blocks.length;
    }
    for (const map of this.maps) {
      if (at < map.directory.length) return map.directory[at]!;
      at -= map.directory.length;
    }
    return null;
  }

  get spaceCount(): number {
    return this.maps.length;
  }

  /** The block that holds page `page` of space `space` now, or null past the space's end. */
  livePage(space: number, page: number): BlockReference | null {
    const map = this.maps[space];
    return map === undefined || page >= map.pageCount ? null : map.page(page);
  }

  /**
   * Fetches `reference` from peers and writes it home, with no read waiting for it (the scrubber
   * found our copy faulty). False without peers to ask, or while a state sync replaces the state.
   */
  repairInBackground(reference: BlockReference, misplaced = false): boolean {
    return this.repair?.want(reference, () => {}, true, misplaced) ?? false;
  }

  // ---- the block cache ----

  /**
   * Makes the pages `needs` names (space, page pairs) resident: reads the missing ones from their
   * blocks and marks all of them used. True when none was missing (no callback); otherwise calls
   * back with null once they are read, or with what failed (a block that is missing or corrupt;
   * repairing it from peers is the storage fault model's work).
   */
  prefetch(spaces: readonly PageSpace[], needs: PageNeeds, callback: (error: string | null) => void): boolean {
    assert(needs.length % 2 === 0);
    const jobs: { space: number; page: number }[] = [];
    const references: BlockReference[] = [];
    for (let i = 0; i < needs.length; i += 2) {
      const space = needs[i]!;
      const page = needs[i + 1]!;
      if (!spaces[space]!.isResident(page)) {
        // Names are unique within a round (prefetch.ts), so each missing page is read once.
        assert(spaces[space]!.lazy && page < this.maps[space]!.pageCount, "prefetch of a page that the grid does not hold");
        jobs.push({ space, page });
        references.push(this.maps[space]!.page(page));
      }
      this.cache.touch(space, page);
    }
    if (jobs.length === 0) return true;
    this.stats.pagesRead += jobs.length;
    this.readEach(references, BlockType.page, (body, i) => spaces[jobs[i]!.space]!.install(jobs[i]!.page, body),
      (ok) => callback(ok ? null : `grid ${this.readProblem}`),
      (i) => `page ${jobs[i]!.page} of space ${jobs[i]!.space}`);
    return false;
  }

  /** True, with each page touched as prefetch() does, when every named page is resident; else false and nothing changes. */
  touchIfResident(spaces: readonly PageSpace[], needs: PageNeeds): boolean {
    assert(needs.length % 2 === 0);
    for (let i = 0; i < needs.length; i += 2) if (!spaces[needs[i]!]!.isResident(needs[i + 1]!)) return false;
    for (let i = 0; i < needs.length; i += 2) this.cache.touch(needs[i]!, needs[i + 1]!);
    return true;
  }

  /** Changes whenever a page may have left memory (page_cache.ts epoch). */
  get residencyEpoch(): number {
    return this.cache.epoch;
  }

  /** Drops the least recently used clean pages beyond the cache's budget (between prepares). */
  evict(spaces: readonly PageSpace[]): void {
    this.cache.evict(spaces);
  }

  /** Reads `references` and collects their bodies in order (null when any fails). */
  private readMany(references: BlockReference[], type: number, callback: (bodies: Uint8Array[] | null) => void): void {
    const bodies: Uint8Array[] = new Array(references.length);
    this.readEach(references, type, (body, index) => {
      bodies[index] = body.slice();
      return true;
    }, (ok) => callback(ok ? bodies : null));
  }

  /**
   * Reads and verifies `references`, at most openReadsMax in flight, handing each body to `consume`
   * (false rejects it); calls back true when every block was intact, of `type`, and accepted.
   */
  private readEach(references: BlockReference[], type: number, consume: (body: Uint8Array, index: number) => boolean,
    callback: (ok: boolean) => void, name: (index: number) => string = (index) => `block ${index}`): void {
    let next = 0;
    let done = 0;
    let ok = true;
    let stopped = false;
    const generation = this.generation;
    const issue = (): void => {
      if (stopped || next >= references.length) return;
      const index = next++;
      this.read(references[index]!, (block) => {
        if (this.generation !== generation) {
          // The grid was reset (a state sync replaced the state): these blocks are not for it.
          ok = false;
          stopped = true;
        } else {
          const problem = block === null ? "missing or corrupt" : blockType(block) !== type ? `of type ${blockType(block)}`
            : !consume(blockBody(block), index) ? "of the wrong size" : null;
          if (problem !== null) {
            if (ok) this.readProblem = `${name(index)} (block ${references[index]!.address}) ${problem}`;
            ok = false;
          }
        }
        done += 1;
        // `next` reads were issued; all of them are done, and no more will be.
        if (done === next && (stopped || next === references.length)) return callback(ok);
        issue();
      });
    };
    if (references.length === 0) return this.storage.nextTick(() => callback(true));
    for (let i = 0; i < openReadsMax; i++) issue();
  }
}


// State sync by blocks (DESIGN.md "State sync"): a replica adopting a peer's checkpoint walks it
// from the manifest down (manifest → blobs and directory blocks → pages) and fetches only the blocks
// it lacks. Every block it learns of is first looked for locally, at its address with its checksum;
// replicas hold identical blocks at identical addresses, so after a short lag most blocks are
// already there. A fetched block whose address is free in our checkpoint is written at once: that
// space is ours to overwrite, so a cancelled sync (a newer target, a silent peer) after which the
// replica commits again loses nothing, and the next sync finds the block locally. A block whose
// address our checkpoint still uses is held in memory until all are here, then written in two
// steps so that a crash never leaves the superblock's checkpoint overwritten (sync_moves.ts):
// stage(), then the superblock switches, then move().
import { assert } from "../core/assert.js";
import { BlockHeader } from "../core/header.js";
import {
  BlockType, blockBody, blockChecksum, blockType, readReference, referenceSize, verifyBlock, type BlockReference,
} from "./block.js";
import type { Grid } from "./grid.js";
import { decodeManifest, manifestReferences } from "./manifest.js";
import { buildMovesBlocks, movesPerBlock, type SyncMove } from "./sync_moves.js";

type Stage = "checking" | "wanted" | "have";

/** Local reads in flight while looking for the target's blocks (each reads a whole block). */
const checksInFlightMax = 64;

interface Entry {
  readonly reference: BlockReference;
  /** The block type the parent says this is (directory, blob, page); manifest for the root. */
  readonly type: number;
  stage: Stage;
}

export class GridSync {
  private readonly entries = new Map<number, Entry>();
  /** Addresses that were wanted, in discovery order (the request rotation walks it; stale ones skipped). */
  private wanted: number[] = [];
  private wantedNext = 0;
  private wantedCount = 0;
  /** Blocks discovered and not yet looked for locally, or being looked for. */
  private checksPending = 0;
  private readonly checksQueued: Entry[] = [];
  private checksInFlight = 0;
  private readonly held = new Map<number, Uint8Array>();
  /** Fetched blocks staged elsewhere by stage(), for move() to write at their own addresses. */
  private readonly movePending = new Map<number, Uint8Array>();
  /** Set when a block contradicts its reference's promise (a bug or a malformed checkpoint). */
  failure: string | null = null;
  blocksFetched = 0;
  blocksLocal = 0;

  constructor(private readonly grid: Grid, manifest: BlockReference, private readonly cluster: bigint) {
    // Our own bar flush may still be landing: look for blocks locally only once it has.
    this.checksPending += 1;
    grid.afterWrites(() => {
      this.checksPending -= 1;
      this.discover(manifest, BlockType.manifest);
    });
  }

  /** True once every block of the target is local or fetched. */
  get complete(): boolean {
    return this.failure === null && this.checksPending === 0 && this.wantedCount === 0;
  }

  get blocksKnown(): number {
    return this.entries.size;
  }

  /** Blocks found locally or fetched so far: grows while the sync makes progress. */
  get blocksResolved(): number {
    return this.blocksLocal + this.blocksFetched;
  }

  /** Up to `count` wanted references, rotating so that a lost request is retried soon. */
  nextWanted(count: number): BlockReference[] {
    if (this.wanted.length > 2 * this.wantedCount) {
      this.wanted = this.wanted.filter((address) => this.entries.get(address)!.stage === "wanted");
      this.wantedNext = 0;
    }
    assert(this.wanted.length >= this.wantedCount);
    const references: BlockReference[] = [];
    for (let i = 0; i < this.wanted.length && references.length < Math.min(count, this.wantedCount); i++) {
      this.wantedNext %= this.wanted.length;
      const entry = this.entries.get(this.wanted[this.wantedNext]!)!;
      this.wantedNext += 1;
      if (entry.stage === "wanted") references.push(entry.reference);
    }
    return references;
  }

  /** Why a received block is not taken, or null when it was taken. */
  receive(block: Uint8Array): string | null {
    const address = new BlockHeader(block, 0).address;
    const entry = this.entries.get(address);
    if (entry === undefined) return "not a block of the target";
    if (entry.stage !== "wanted") return "already have it";
    if (!verifyBlock(block, entry.reference, this.cluster)) return "checksum mismatch";
    if (blockType(block) !== entry.type) {
      this.failure = `block ${address} is of type ${blockType(block)}, its reference says ${entry.type}`;
      return "block of the wrong type";
    }
    this.blocksFetched += 1;
    this.wantedCount -= 1;
    entry.stage = "have";
    this.expand(block, entry);
    // Free here (our checkpoint does not reference it): written now, not held. Memory stays
    // bounded, and if this target is abandoned for a newer one, the next sync finds the block
    // locally instead of fetching it again (a recovered replica under load never finished
    // otherwise: each target was replaced before its gigabytes were fetched).
    if (this.grid.freeSet.isAcquired(address)) this.held.set(address, block);
    else this.grid.write(address, block);
    return null;
  }

  /**
   * Step 1 of sync_moves.ts: writes the fetched blocks whose addresses are free here in place, and
   * stages the others with the chain of moves that names them; calls back once all of it is
   * durable, with the chain's first address (0 when nothing had to be staged) for the superblock.
   * `stagedInPlace` is true when there was no room to stage (then everything went in place, and a
   * crash before the superblock switches loses this replica's data file, as before staging).
   */
  stage(checkpointId: bigint, callback: (movesAddress: number, stagedInPlace: boolean) => void): void {
    assert(this.complete, "finishing an incomplete sync");
    const grid = this.grid;
    for (const [address, block] of this.held) {
      if (grid.freeSet.isAcquired(address)) this.movePending.set(address, block);
      else grid.write(address, block);
    }
    this.held.clear();
    const count = this.movePending.size;
    if (count === 0) return grid.afterWrites(() => callback(0, false));
    const staging = this.stagingAddresses(count + Math.ceil(count / movesPerBlock(grid.pageSize)));
    if (staging === null) return this.move(() => callback(0, true));
    const moves: SyncMove[] = [];
    for (const [address, block] of this.movePending) {
      const at = staging[moves.length]!;
      grid.write(at, block);
      moves.push({ staging: at, target: { address, checksum: blockChecksum(block) } });
    }
    const chain = staging.slice(count);
    const chainBlocks = buildMovesBlocks(grid.config.blockSize, grid.pageSize, this.cluster, checkpointId, moves, chain);
    chainBlocks.forEach((block, i) => grid.write(chain[i]!, block));
    grid.afterWrites(() => callback(chain[0]!, false));
  }

  /** Step 2: writes the staged blocks at their own addresses; calls back once that is durable. */
  move(callback: () => void): void {
    for (const [address, block] of this.movePending) this.grid.write(address, block);
    this.movePending.clear();
    this.grid.afterWrites(callback);
  }

  /**
   * `count` addresses that neither checkpoint references: free in our free set (which still holds
   * every block of the superblock's checkpoint) and not a block of the target. Null when the
   * storage limit leaves too few.
   */
  private stagingAddresses(count: number): number[] | null {
    const addresses: number[] = [];
    for (let address = 1; address <= this.grid.blocksLimit && addresses.length < count; address++) {
      if (!this.grid.freeSet.isAcquired(address) && !this.entries.has(address)) addresses.push(address);
    }
    return addresses.length === count ? addresses : null;
  }

  private discover(reference: BlockReference, type: number): void {
    if (this.entries.has(reference.address)) {
      const known = this.entries.get(reference.address)!;
      if (known.reference.checksum !== reference.checksum) this.failure = `block ${reference.address} referenced twice`;
      return;
    }
    const entry: Entry = { reference, type, stage: "checking" };
    this.entries.set(reference.address, entry);
    this.checksPending += 1;
    this.checksQueued.push(entry);
    this.checkNext();
  }

  /** Looks for queued blocks locally, a bounded number at a time. */
  private checkNext(): void {
    while (this.checksInFlight < checksInFlightMax && this.checksQueued.length > 0) {
      const entry = this.checksQueued.shift()!;
      this.checksInFlight += 1;
      this.grid.readLocal(entry.reference, (block) => {
        this.checksInFlight -= 1;
        this.checksPending -= 1;
        if (block !== null && blockType(block) === entry.type) {
          this.blocksLocal += 1;
          entry.stage = "have";
          this.expand(block, entry);
        } else {
          entry.stage = "wanted";
          this.wanted.push(entry.reference.address);
          this.wantedCount += 1;
        }
        this.checkNext();
      });
    }
  }

  /** Learns the references a manifest or directory block holds. */
  private expand(block: Uint8Array, entry: Entry): void {
    const body = blockBody(block);
    if (entry.type === BlockType.manifest) {
      const manifest = decodeManifest(body);
      if (manifest === null) {
        this.failure = "the target's manifest has an unknown format";
        return;
      }
      for (const blob of manifest.blobs) for (const reference of blob.blocks) this.discover(reference, BlockType.blob);
      for (const space of manifest.spaces) for (const reference of space.directory) this.discover(reference, BlockType.directory);
      assert(manifestReferences(manifest).length <= this.entries.size);
    } else if (entry.type === BlockType.directory) {
      const view = new DataView(body.buffer, body.byteOffset, body.length);
      for (let offset = 0; offset + referenceSize <= body.length; offset += referenceSize) {
        const reference = readReference(view, offset);
        if (reference === null || reference.address === 0) {
          this.failure = "a directory block with a malformed reference";
          return;
        }
        this.discover(reference, BlockType.page);
      }
    }
  }
}

// Checkpoint storage in the grid (spec/vsr.md §9, §12). A checkpoint's state (state machine plus
// client sessions, serialised canonically so equal states give equal bytes) is cut into blocks;
// a manifest block lists each data block's checksum; the superblock holds the manifest's address
// and checksum. Every block is a message with a 256-byte header whose checksum is kept OUTSIDE the
// block (in the manifest or the superblock), so a stale or misdirected block is detected on read.
//
// Simplification (DESIGN.md allows replacing the LSM forest with simpler deterministic
// structures): the grid has two areas used alternately, so the previous checkpoint stays intact
// while the next one is written (copy-on-write at the granularity of a whole checkpoint). A
// block's header holds its index within its checkpoint, not its absolute address, so the same
// checkpoint has the same block checksums whichever area holds it — that is what lets a lagging
// replica fetch blocks from any peer (state sync). Incremental checkpoints are future work.
import { assert } from "../core/assert.js";
import { headerSize, type Config } from "../core/config.js";
import { Command } from "../core/command.js";
import { BlockHeader, setChecksums, verifyBodyChecksum, verifyHeaderChecksum } from "../core/header.js";
import { Zone, type Storage } from "../io/storage.js";
import { emptyGridStats, type GridStats } from "../grid/grid_stats.js";

export interface GridReference {
  /** Absolute grid address (1-based) of the manifest block, the first block of its area. */
  readonly address: number;
  readonly checksum: bigint;
  /** Bytes of the serialised state. */
  readonly size: number;
}

export const blockTypeData = 1;
export const blockTypeManifest = 2;
/** Index (the header's `address` field) of the manifest within its checkpoint; data follow. */
const manifestIndex = 1;

/** Blocks in each of the two checkpoint areas. */
export function gridAreaBlocks(config: Config): number {
  return config.name === "production" ? 2048 : 4096;
}

export function areaOf(config: Config, address: number): number {
  return address === 0 ? 1 : Math.floor((address - 1) / gridAreaBlocks(config));
}

export function areaFirstAddress(config: Config, area: number): number {
  return 1 + area * gridAreaBlocks(config);
}

export class GridSnapshots {
  readonly bodySize: number;
  readonly stats: GridStats = emptyGridStats();

  constructor(private readonly storage: Storage, private readonly config: Config, private readonly cluster: bigint) {
    this.bodySize = config.blockSize - headerSize;
  }

  /** The blocks of `state`: [manifest, data...], each a whole block-sized buffer. */
  buildBlocks(state: Uint8Array): Uint8Array[] {
    const dataCount = Math.ceil(state.length / this.bodySize);
    assert(dataCount * 16 <= this.bodySize, "state too large for one manifest block");
    assert(dataCount + 1 <= gridAreaBlocks(this.config), "state too large for a grid area");
    const data: Uint8Array[] = [];
    const manifest = new Uint8Array(dataCount * 16);
    for (let i = 0; i < dataCount; i++) {
      const block = this.buildBlock(manifestIndex + 1 + i, blockTypeData, state.subarray(i * this.bodySize, (i + 1) * this.bodySize));
      manifest.set(block.subarray(0, 16), i * 16); // the block's checksum, kept outside it
      data.push(block);
    }
    return [this.buildBlock(manifestIndex, blockTypeManifest, manifest), ...data];
  }

  /** Writes a checkpoint's blocks into grid area `area`; calls back with the manifest reference. */
  writeBlocks(blocks: readonly Uint8Array[], size: number, area: number, callback: (reference: GridReference) => void): void {
    const first = areaFirstAddress(this.config, area);
    const reference = { address: first, checksum: new BlockHeader(blocks[0]!, 0).checksum, size };
    let pending = blocks.length;
    blocks.forEach((block, i) => {
      this.stats.blocksWritten += 1;
      this.stats.bytesWritten += block.length;
      this.storage.write(Zone.grid, (first + i - 1) * this.config.blockSize, block, () => {
        pending -= 1;
        if (pending === 0) callback(reference);
      });
    });
  }

  write(state: Uint8Array, area: number, callback: (reference: GridReference) => void): void {
    this.writeBlocks(this.buildBlocks(state), state.length, area, callback);
  }

  /** Reads and verifies a checkpoint's state; null when any block is missing or corrupt. */
  read(reference: GridReference, callback: (state: Uint8Array | null) => void): void {
    const first = reference.address;
    this.readBlock(first, reference.checksum, (manifestBlock) => {
      if (manifestBlock === null) return callback(null);
      const checksums = manifestChecksums(manifestBlock);
      const count = Math.ceil(reference.size / this.bodySize);
      if (checksums.length !== count) return callback(null);
      const state = new Uint8Array(reference.size);
      if (count === 0) return callback(state);
      let pending = count;
      let failed = false;
      checksums.forEach((checksum, i) => {
        this.readBlock(first + 1 + i, checksum, (block) => {
          if (block === null) failed = true;
          else state.set(blockBody(block).subarray(0, reference.size - i * this.bodySize), i * this.bodySize);
          pending -= 1;
          if (pending === 0) callback(failed ? null : state);
        });
      });
    });
  }

  /** Reads the block at `address` and calls back with it only if its checksum is `checksum`. */
  readBlock(address: number, checksum: bigint, callback: (block: Uint8Array | null) => void): void {
    const block = new Uint8Array(this.config.blockSize);
    this.storage.read(Zone.grid, (address - 1) * this.config.blockSize, block, () => {
      callback(verifyBlock(block, checksum, this.cluster) ? block : null);
    });
  }

  /** Reassembles a checkpoint's state from its verified blocks (state sync). */
  assemble(blocks: readonly Uint8Array[], size: number): Uint8Array {
    const state = new Uint8Array(size);
    for (let i = 1; i < blocks.length; i++) {
      state.set(blockBody(blocks[i]!).subarray(0, size - (i - 1) * this.bodySize), (i - 1) * this.bodySize);
    }
    return state;
  }

  private buildBlock(index: number, blockType: number, body: Uint8Array): Uint8Array {
    const block = new Uint8Array(this.config.blockSize);
    block.set(body, headerSize);
    const header = new BlockHeader(block, 0);
    header.command = Command.block;
    header.cluster = this.cluster;
    header.size = headerSize + body.length;
    header.address = index;
    header.block_type = blockType;
    setChecksums(block, 0, header.size);
    return block;
  }
}

/** Both checksums hold, and the header checksum is the one the reference expects. */
export function verifyBlock(block: Uint8Array, checksum: bigint, cluster: bigint): boolean {
  if (block.length < headerSize || !verifyHeaderChecksum(block, 0)) return false;
  const header = new BlockHeader(block, 0);
  if (header.checksum !== checksum || header.cluster !== cluster || header.command !== Command.block) return false;
  return header.size <= block.length && verifyBodyChecksum(block, 0);
}

/** The data-block checksums listed in a verified manifest block. */
export function manifestChecksums(manifest: Uint8Array): bigint[] {
  const body = blockBody(manifest);
  const view = new DataView(body.buffer, body.byteOffset, body.length);
  const checksums: bigint[] = [];
  for (let offset = 0; offset + 16 <= body.length; offset += 16) {
    checksums.push((view.getBigUint64(offset + 8, true) << 64n) | view.getBigUint64(offset, true));
  }
  return checksums;
}

function blockBody(block: Uint8Array): Uint8Array {
  return block.subarray(headerSize, new BlockHeader(block, 0).size);
}

// The grid part of `scarab inspect` (spec/vsr.md §12, replica/grid_snapshot.ts): the blocks of the
// checkpoint the superblock points at. The manifest is verified against the checksum held in the
// superblock, and each data block against the checksum listed in the manifest, with the replica's
// own verifyBlock(): a block's checksum always lives outside the block.
import { type Config, headerSize } from "../core/config.js";
import { BlockHeader, verifyHeaderChecksum } from "../core/header.js";
import { manifestChecksums, verifyBlock } from "../replica/grid_snapshot.js";
import type { SuperBlockState } from "../replica/superblock/layout.js";
import type { DataFile } from "./inspect_read.js";

export interface BlockReport {
  readonly address: number;
  /** "manifest", or "data i" (1-based within the checkpoint). */
  readonly role: string;
  /** Absolute file offset of the block. */
  readonly offset: number;
  /** The checksum the reference (superblock or manifest) expects. */
  readonly checksum: bigint;
  /** Why the block does not verify; "" when it does. */
  readonly problem: string;
}

export interface GridReport {
  /** The checkpoint's manifest address; 0 for the root checkpoint, which has no blocks. */
  readonly manifestAddress: number;
  readonly stateSize: number;
  readonly blocks: readonly BlockReport[];
  /** Data blocks that could not be checked because the manifest listing them is damaged. */
  readonly unreachable: number;
}

function blockOffset(config: Config, address: number): number {
  return config.zones.gridOffset + (address - 1) * config.blockSize;
}

function isZero(bytes: Uint8Array): boolean {
  return bytes.every((byte) => byte === 0);
}

/** Why verifyBlock fails, in the order it checks. */
function blockProblem(file: DataFile, offset: number, block: Uint8Array, checksum: bigint, cluster: bigint): string {
  if (offset >= file.size) return "beyond the end of the file (truncated)";
  if (isZero(block)) return "zeroed (never written, or lost)";
  if (!verifyHeaderChecksum(block, 0)) return "bad header checksum";
  const header = new BlockHeader(block, 0);
  if (header.checksum !== checksum) {
    return `holds another block (index ${header.address}, checksum 0x${header.checksum.toString(16)}): stale or misdirected`;
  }
  if (header.cluster !== cluster) return `belongs to cluster ${header.cluster}`;
  if (header.size > block.length || header.size < headerSize) return `size ${header.size} out of range`;
  return "bad body checksum";
}

function checkBlock(file: DataFile, config: Config, cluster: bigint, address: number, role: string, checksum: bigint):
  { report: BlockReport; block: Uint8Array } {
  const offset = blockOffset(config, address);
  const block = file.read(offset, config.blockSize);
  const problem = verifyBlock(block, checksum, cluster) ? "" : blockProblem(file, offset, block, checksum, cluster);
  return { report: { address, role, offset, checksum, problem }, block };
}

/** Verifies the manifest, then every data block it lists. */
export function inspectGrid(file: DataFile, config: Config, state: SuperBlockState): GridReport {
  const checkpoint = state.vsr_state.checkpoint;
  const base = { manifestAddress: checkpoint.manifest_address, stateSize: checkpoint.manifest_size };
  if (checkpoint.manifest_address === 0) return { ...base, blocks: [], unreachable: 0 };
  const bodySize = config.blockSize - headerSize;
  const expected = Math.ceil(checkpoint.manifest_size / bodySize);
  const manifest = checkBlock(file, config, state.cluster, checkpoint.manifest_address, "manifest",
    checkpoint.manifest_checksum);
  if (manifest.report.problem !== "") return { ...base, blocks: [manifest.report], unreachable: expected };
  const checksums = manifestChecksums(manifest.block);
  if (checksums.length !== expected) {
    const problem = `lists ${checksums.length} data blocks, but the state needs ${expected}`;
    return { ...base, blocks: [{ ...manifest.report, problem }], unreachable: expected };
  }
  const blocks = [manifest.report];
  checksums.forEach((checksum, index) => {
    const address = checkpoint.manifest_address + 1 + index;
    blocks.push(checkBlock(file, config, state.cluster, address, `data ${index + 1}`, checksum).report);
  });
  return { ...base, blocks, unreachable: 0 };
}

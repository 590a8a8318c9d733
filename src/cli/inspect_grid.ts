// The grid part of `scarab inspect` (spec/vsr.md §12, src/grid/): every block of the checkpoint the
// superblock points at, walked as the replica opens it. The manifest is verified against the
// checksum held in the superblock, the blobs and directory blocks against the manifest, and each
// page against its directory block, with the grid's own verifyBlock(): a block's checksum always
// lives outside the block.
import { allZero } from "../core/bytes.js";
import { type Config, headerSize } from "../core/config.js";
import { BlockHeader, verifyHeaderChecksum } from "../core/header.js";
import { blockBody, readReference, referenceSize, verifyBlock, type BlockReference } from "../grid/block.js";
import { Blob, decodeManifest, type BlobReference } from "../grid/manifest.js";
import type { SuperBlockState } from "../replica/superblock/layout.js";
import type { DataFile } from "./inspect_read.js";

export interface BlockReport {
  readonly address: number;
  /** "manifest", "meta", "sessions", "free set", "directory s.i" or "page s.i" (space s, 0-based). */
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
  /** Blocks that could not be checked because the block listing them is damaged (0 if unknown). */
  readonly unreachable: number;
  /** The checkpoint's client-session table (encodeSessions), or null if none or a block of it is damaged. */
  readonly sessions: Uint8Array | null;
}

function blockOffset(config: Config, address: number): number {
  return config.zones.gridOffset + (address - 1) * config.blockSize;
}

/** Why verifyBlock fails, in the order it checks. */
function blockProblem(file: DataFile, offset: number, block: Uint8Array, checksum: bigint, cluster: bigint): string {
  if (offset >= file.size) return "beyond the end of the file (truncated)";
  if (allZero(block)) return "zeroed (never written, or lost)";
  if (!verifyHeaderChecksum(block, 0)) return "bad header checksum";
  const header = new BlockHeader(block, 0);
  if (header.checksum !== checksum) {
    return `holds another block (address ${header.address}, checksum 0x${header.checksum.toString(16)}): stale or misdirected`;
  }
  if (header.cluster !== cluster) return `belongs to cluster ${header.cluster}`;
  if (header.size > block.length || header.size < headerSize) return `size ${header.size} out of range`;
  return "bad body checksum";
}

function checkBlock(file: DataFile, config: Config, cluster: bigint, address: number, role: string, checksum: bigint):
  { report: BlockReport; block: Uint8Array } {
  const offset = blockOffset(config, address);
  const block = file.read(offset, config.blockSize);
  const problem = verifyBlock(block, { address, checksum }, cluster) ? "" : blockProblem(file, offset, block, checksum, cluster);
  return { report: { address, role, offset, checksum, problem }, block };
}

const blobNames = ["meta", "sessions", "free set"];

/** Verifies the manifest, then every block it names, then every page the directory blocks name. */
export function inspectGrid(file: DataFile, config: Config, state: SuperBlockState): GridReport {
  const checkpoint = state.vsr_state.checkpoint;
  const base = { manifestAddress: checkpoint.manifest_address, stateSize: checkpoint.manifest_size };
  if (checkpoint.manifest_address === 0) return { ...base, blocks: [], unreachable: 0, sessions: null };
  const check = (reference: BlockReference, role: string): { report: BlockReport; block: Uint8Array } =>
    checkBlock(file, config, state.cluster, reference.address, role, reference.checksum);
  const root = check({ address: checkpoint.manifest_address, checksum: checkpoint.manifest_checksum }, "manifest");
  if (root.report.problem !== "") return { ...base, blocks: [root.report], unreachable: 0, sessions: null };
  const manifest = decodeManifest(blockBody(root.block));
  if (manifest === null) {
    return { ...base, blocks: [{ ...root.report, problem: "not a manifest this release can read" }], unreachable: 0, sessions: null };
  }
  const blocks = [root.report];
  let unreachable = 0;
  const blobs = manifest.blobs.map((blob, b) => readBlob(blob, (reference) => {
    const checked = check(reference, blobNames[b]!);
    blocks.push(checked.report);
    return checked.report.problem === "" ? blockBody(checked.block) : null;
  }));
  const perDirectory = Math.floor((config.blockSize - headerSize) / referenceSize);
  manifest.spaces.forEach((space, s) => space.directory.forEach((reference, d) => {
    const directory = check(reference, `directory ${s}.${d}`);
    blocks.push(directory.report);
    const pagesHere = Math.min(perDirectory, space.pageCount - d * perDirectory);
    if (directory.report.problem !== "") {
      unreachable += pagesHere;
      return;
    }
    const body = blockBody(directory.block);
    const view = new DataView(body.buffer, body.byteOffset, body.length);
    for (let i = 0; i < pagesHere; i++) {
      const page = i * referenceSize + referenceSize <= body.length ? readReference(view, i * referenceSize) : null;
      if (page === null) {
        unreachable += pagesHere - i;
        return;
      }
      blocks.push(check(page, `page ${s}.${d * perDirectory + i}`).report);
    }
  }));
  return { ...base, blocks, unreachable, sessions: blobs[Blob.sessions] ?? null };
}

/** A blob's bytes from its blocks' bodies (`read` returns null for a damaged one), or null. */
function readBlob(blob: BlobReference, read: (reference: BlockReference) => Uint8Array | null): Uint8Array | null {
  const bytes = new Uint8Array(blob.bytes);
  let offset = 0;
  let intact = true;
  for (const reference of blob.blocks) {
    const body = read(reference);
    if (body === null) intact = false;
    else if (intact) {
      bytes.set(body.subarray(0, Math.min(body.length, blob.bytes - offset)), offset);
      offset += body.length;
    }
  }
  return intact && offset === blob.bytes ? bytes : null;
}

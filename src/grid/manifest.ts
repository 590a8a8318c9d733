// A checkpoint's root block: the superblock points at it by (address, checksum), and it names
// every other block of the checkpoint, directly or through directory blocks. Layout (little-endian):
//   magic u32 "GRDM" | version u32 | space count u32 | reserved u32
//   3 blobs (state-machine meta, client sessions, free set): bytes u64 | blocks u32 | reserved u32
//   per space: used bytes u64 | pages u32 | directory blocks u32
//   then the references (24 bytes each): the blobs' blocks in that order, then each space's
//   directory blocks in space order.
// One block holds the root, so references are bounded by the block: 159 with the simulator's 4 KiB
// blocks, 21,834 with production's 512 KiB blocks (each directory block then covers 21,834 pages
// of 512 KiB: about 11 GiB of a table).
import { assert, assertFailed } from "../core/assert.js";
import { readReference, referenceSize, writeReference, type BlockReference } from "./block.js";

export const manifestMagic = 0x4d44_5247; // the bytes "GRDM"
export const manifestVersion = 1;

const fixedSize = 16;
const blobEntrySize = 16;
const spaceEntrySize = 16;
export const blobCount = 3;
export const Blob = { meta: 0, sessions: 1, freeSet: 2 } as const;

export interface BlobReference {
  bytes: number;
  blocks: BlockReference[];
}

export interface SpaceReference {
  usedBytes: number;
  pageCount: number;
  directory: BlockReference[];
}

export interface Manifest {
  blobs: BlobReference[];
  spaces: SpaceReference[];
}

export function manifestSize(manifest: Manifest): number {
  let references = 0;
  for (const blob of manifest.blobs) references += blob.blocks.length;
  for (const space of manifest.spaces) references += space.directory.length;
  return fixedSize + blobCount * blobEntrySize + manifest.spaces.length * spaceEntrySize + references * referenceSize;
}

export function encodeManifest(manifest: Manifest, bodySizeMax: number): Uint8Array {
  assert(manifest.blobs.length === blobCount);
  const size = manifestSize(manifest);
  // Grows only with the ledger's size, far beyond this machine's disks in production.
  if (size > bodySizeMax) assertFailed(`grid manifest full: ${size} bytes of references in a ${bodySizeMax}-byte block`);
  const body = new Uint8Array(size);
  const view = new DataView(body.buffer);
  view.setUint32(0, manifestMagic, true);
  view.setUint32(4, manifestVersion, true);
  view.setUint32(8, manifest.spaces.length, true);
  let offset = fixedSize;
  for (const blob of manifest.blobs) {
    view.setBigUint64(offset, BigInt(blob.bytes), true);
    view.setUint32(offset + 8, blob.blocks.length, true);
    offset += blobEntrySize;
  }
  for (const space of manifest.spaces) {
    view.setBigUint64(offset, BigInt(space.usedBytes), true);
    view.setUint32(offset + 8, space.pageCount, true);
    view.setUint32(offset + 12, space.directory.length, true);
    offset += spaceEntrySize;
  }
  const references = [...manifest.blobs.flatMap((blob) => blob.blocks), ...manifest.spaces.flatMap((space) => space.directory)];
  for (const reference of references) {
    writeReference(view, offset, reference);
    offset += referenceSize;
  }
  assert(offset === size);
  return body;
}

/** Null when the body is not a manifest of this version (it was checksummed: a bug or a newer release). */
export function decodeManifest(body: Uint8Array): Manifest | null {
  if (body.length < fixedSize + blobCount * blobEntrySize) return null;
  const view = new DataView(body.buffer, body.byteOffset, body.length);
  if (view.getUint32(0, true) !== manifestMagic || view.getUint32(4, true) !== manifestVersion) return null;
  const spaceCount = view.getUint32(8, true);
  if (spaceCount > 64 || view.getUint32(12, true) !== 0) return null;
  let offset = fixedSize;
  const blobCounts: { bytes: number; blocks: number }[] = [];
  for (let i = 0; i < blobCount; i++) {
    blobCounts.push({ bytes: Number(view.getBigUint64(offset, true)), blocks: view.getUint32(offset + 8, true) });
    offset += blobEntrySize;
  }
  const spaceCounts: { usedBytes: number; pageCount: number; directory: number }[] = [];
  if (body.length < offset + spaceCount * spaceEntrySize) return null;
  for (let i = 0; i < spaceCount; i++) {
    spaceCounts.push({
      usedBytes: Number(view.getBigUint64(offset, true)), pageCount: view.getUint32(offset + 8, true),
      directory: view.getUint32(offset + 12, true),
    });
    offset += spaceEntrySize;
  }
  const total = blobCounts.reduce((sum, blob) => sum + blob.blocks, 0) + spaceCounts.reduce((sum, space) => sum + space.directory, 0);
  if (body.length !== offset + total * referenceSize) return null;
  const next = (): BlockReference | null => {
    const reference = readReference(view, offset);
    offset += referenceSize;
    return reference;
  };
  const take = (count: number): BlockReference[] | null => {
    const references: BlockReference[] = [];
    for (let i = 0; i < count; i++) {
      const reference = next();
      if (reference === null || reference.address === 0) return null;
      references.push(reference);
    }
    return references;
  };
  const blobs: BlobReference[] = [];
  for (const blob of blobCounts) {
    const blocks = take(blob.blocks);
    if (blocks === null) return null;
    blobs.push({ bytes: blob.bytes, blocks });
  }
  const spaces: SpaceReference[] = [];
  for (const space of spaceCounts) {
    const directory = take(space.directory);
    if (directory === null) return null;
    spaces.push({ usedBytes: space.usedBytes, pageCount: space.pageCount, directory });
  }
  return { blobs, spaces };
}

/** Every block a manifest names directly (blobs and directory blocks), in manifest order. */
export function manifestReferences(manifest: Manifest): BlockReference[] {
  return [...manifest.blobs.flatMap((blob) => blob.blocks), ...manifest.spaces.flatMap((space) => space.directory)];
}

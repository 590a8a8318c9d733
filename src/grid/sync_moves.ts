// Staged state-sync writes (spec/vsr.md §8, DESIGN.md "State sync"). A syncing replica must write
// the target checkpoint's blocks at the target's addresses, and some of those addresses hold blocks
// of the checkpoint its superblock still points at (peers reuse addresses we still use). Writing
// them in place before the superblock switches would leave, after a crash, a superblock whose
// checkpoint is partly overwritten and a target that is not yet referenced: a replica that can
// never open its data file again. So the sync writes in two steps, each safe to interrupt:
//
// 1. Every fetched block whose address is free in our free set goes in place; every other one goes
//    to a staging address, free both in our free set and in the target (so neither checkpoint
//    references it), and a chain of `sync_moves` blocks, also staged, lists (staging address →
//    target reference). Then, durably, the superblock switches to the target and names the chain.
// 2. The staged blocks are written at their own addresses, and the superblock forgets the chain.
//
// A restart between the two finds the chain in the superblock and replays it (replayMoves) before
// it opens the checkpoint: staged blocks are verified against their target reference, and the
// moves are idempotent, since nothing writes to a staging address until the chain is forgotten.
//
// A moves block's body: checkpoint id u128 | next moves block reference (24 bytes, address 0 at
// the end) | count u32 | reserved u32 | count × (staging address u64, target reference 24 bytes).
import { assert } from "../core/assert.js";
import {
  BlockType, blockBody, blockChecksum, blockType, buildBlock, readReference, referenceSize, writeReference,
  type BlockReference,
} from "./block.js";
import type { Grid } from "./grid.js";

const headBytes = 16 + referenceSize + 8;
const entryBytes = 8 + referenceSize;

export interface SyncMove {
  /** Where the block is staged. */
  readonly staging: number;
  /** The block's own reference: where it belongs. */
  readonly target: BlockReference;
}

/** Moves that one block of `pageSize` body bytes lists. */
export function movesPerBlock(pageSize: number): number {
  return Math.floor((pageSize - headBytes) / entryBytes);
}

/**
 * Builds the chain of moves blocks at `addresses` (one per movesPerBlock() moves, at least one),
 * each naming the next; returns the blocks in the order of `addresses`.
 */
export function buildMovesBlocks(
  blockSize: number, pageSize: number, cluster: bigint, checkpointId: bigint, moves: readonly SyncMove[], addresses: readonly number[],
): Uint8Array[] {
  const perBlock = movesPerBlock(pageSize);
  assert(perBlock >= 1 && addresses.length === Math.max(1, Math.ceil(moves.length / perBlock)), "sync moves: one block per run");
  const blocks: Uint8Array[] = new Array(addresses.length);
  let next: BlockReference = { address: 0, checksum: 0n };
  for (let b = addresses.length - 1; b >= 0; b--) {
    const run = moves.slice(b * perBlock, (b + 1) * perBlock);
    const body = new Uint8Array(headBytes + run.length * entryBytes);
    const view = new DataView(body.buffer);
    view.setBigUint64(0, checkpointId & 0xffff_ffff_ffff_ffffn, true);
    view.setBigUint64(8, checkpointId >> 64n, true);
    writeReference(view, 16, next);
    view.setUint32(16 + referenceSize, run.length, true);
    run.forEach((move, i) => {
      view.setBigUint64(headBytes + i * entryBytes, BigInt(move.staging), true);
      writeReference(view, headBytes + i * entryBytes + 8, move.target);
    });
    const block = buildBlock(blockSize, cluster, addresses[b]!, BlockType.sync_moves, body);
    blocks[b] = block;
    next = { address: addresses[b]!, checksum: blockChecksum(block) };
  }
  return blocks;
}

interface DecodedMoves {
  readonly checkpointId: bigint;
  readonly next: BlockReference;
  readonly moves: SyncMove[];
}

function decodeMovesBlock(block: Uint8Array): DecodedMoves | null {
  if (blockType(block) !== BlockType.sync_moves) return null;
  const body = blockBody(block);
  if (body.length < headBytes) return null;
  const view = new DataView(body.buffer, body.byteOffset, body.length);
  const checkpointId = (view.getBigUint64(8, true) << 64n) | view.getBigUint64(0, true);
  const next = readReference(view, 16);
  const count = view.getUint32(16 + referenceSize, true);
  if (next === null || body.length !== headBytes + count * entryBytes) return null;
  const moves: SyncMove[] = [];
  for (let i = 0; i < count; i++) {
    const staging = view.getBigUint64(headBytes + i * entryBytes, true);
    const target = readReference(view, headBytes + i * entryBytes + 8);
    if (target === null || staging < 1n || staging > BigInt(Number.MAX_SAFE_INTEGER) || target.address < 1) return null;
    moves.push({ staging: Number(staging), target });
  }
  return { checkpointId, next, moves };
}

/**
 * Completes an interrupted sync (step 2 above): reads the chain that starts at `head`, which must
 * belong to `checkpointId`, writes each staged block at its own address, and calls back once the
 * writes are durable — with null, or with what is wrong (a damaged chain or staged block: the
 * local copy cannot complete the checkpoint, and only peers could).
 *
 * With grid repair on, damage is not fatal: a faulty staged block is fetched from peers for its own
 * address instead, and a damaged chain is left behind (`skipped` says why): every block of the
 * checkpoint that it would have moved home then reads back stale there and is repaired on demand.
 */
export function replayMoves(grid: Grid, head: number, checkpointId: bigint,
  callback: (error: string | null, skipped?: string) => void): void {
  const readChain = (address: number, reference: BlockReference | null): void => {
    grid.readAt(address, reference, (block) => {
      const decoded = block === null ? null : decodeMovesBlock(block);
      const damage = decoded === null ? `the interrupted state sync's moves block ${address} is missing or corrupt`
        : decoded.checkpointId !== checkpointId ? `moves block ${address} belongs to another checkpoint` : null;
      if (damage !== null) {
        if (grid.repair === null) return callback(damage);
        return grid.afterWrites(() => callback(null, damage));
      }
      assert(decoded !== null);
      moveEach(decoded.moves, 0, () => {
        if (decoded.next.address !== 0) return readChain(decoded.next.address, decoded.next);
        grid.afterWrites(() => callback(null));
      });
    });
  };
  const moveEach = (moves: readonly SyncMove[], index: number, done: () => void): void => {
    if (index === moves.length) return done();
    const move = moves[index]!;
    grid.readAt(move.staging, move.target, (block) => {
      if (block !== null) {
        grid.write(move.target.address, block);
        return moveEach(moves, index + 1, done);
      }
      const problem = `block ${move.target.address}, staged at ${move.staging} by an interrupted state sync, is missing or corrupt`;
      if (grid.repair === null) return callback(problem);
      // At home already (moved before the crash), or fetched from a peer and written there.
      grid.read(move.target, (home) => {
        if (home === null) return callback(problem);
        moveEach(moves, index + 1, done);
      });
    });
  };
  assert(head >= 1, "replaying moves without a chain");
  readChain(head, null);
}

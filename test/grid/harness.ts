// Test-only helpers for the grid suites: an in-memory storage sized for a grid, a way to drive a
// callback API to completion, a deterministic random ledger workload (accounts, plain, pending,
// post and void transfers, linked chains that roll back, expiry pulses) and a driver that runs it
// on a StateMachine the way a replica does: a grid flush at every bar end, a checkpoint every few
// bars, checkpointWritten() and checkpointDurable() right after.
import { expect } from "vitest";
import { testConfig } from "../../src/core/config.js";
import { AccountFlags as AF, TransferFlags as TF, type Account, type Transfer } from "../../src/core/layouts.js";
import { StateMachine } from "../../src/core/ledger/state_machine.js";
import { SyncLedger } from "../../src/core/ledger/sync_ledger.js";
import type { PageNeeds, PersistentState } from "../../src/core/persistent_state.js";
import { Prng } from "../../src/core/prng.js";
import { Zone } from "../../src/io/storage.js";
import { BlockType, blockBody, blockType, readReference, referenceSize, verifyBlock, type BlockReference } from "../../src/grid/block.js";
import { Grid, type ManifestReference } from "../../src/grid/grid.js";
import { decodeManifest } from "../../src/grid/manifest.js";
import { MemoryStorage } from "../replica/memory_storage.js";
import { acct, resolve, xfer } from "../ledger/helpers.js";

export const config = testConfig;
export const cluster = 7n;
export const blockSize = config.blockSize;
/** Ops per bar in the test configuration (a flush at every bar end). */
export const barOps = config.lsmCompactionOps;

export function gridStorage(blocks: number, options: { order?: "fifo" | "shuffled"; seed?: number } = {}): MemoryStorage {
  return new MemoryStorage(config, { gridSize: blocks * blockSize, ...options });
}

export function newGrid(storage: MemoryStorage, blocksLimit: number): Grid {
  return new Grid(storage, config, cluster, blocksLimit);
}

/** Starts a callback-style call, runs the storage until idle, and returns what it called back with. */
export function complete<T>(storage: MemoryStorage, start: (callback: (value: T) => void) => void): T {
  let result: { value: T } | null = null;
  let calls = 0;
  start((value) => {
    calls += 1;
    result = { value };
  });
  expect(result, "a callback never runs inside the call that registered it").toBeNull();
  storage.run();
  expect(calls, "called back exactly once").toBe(1);
  return result!.value;
}

/** The grid zone's bytes of the block at `address` (a live view: writing to it corrupts storage). */
export function blockBytes(storage: MemoryStorage, address: number): Uint8Array {
  return storage.bytes(Zone.grid, (address - 1) * blockSize, blockSize);
}

// ---- the workload ----

export type Request =
  | { kind: "accounts"; realtime: bigint; batches: Account[][] }
  | { kind: "transfers"; realtime: bigint; batches: Transfer[][] }
  | { kind: "pulse"; realtime: bigint };

/**
 * `count` requests from `seed`, pure data, so that a replay executes exactly the same requests.
 * `transfersPerRequest` bounds the size of a transfers batch.
 */
export function makeRequests(seed: number, count: number, transfersPerRequest = 12): Request[] {
  const prng = new Prng(seed);
  const requests: Request[] = [];
  let realtime = 1_000_000_000n;
  let nextAccount = 1n;
  let nextTransfer = 1000n;
  const pendings: bigint[] = [];
  const accountIds = (): bigint => 1n + BigInt(prng.int(Number(nextAccount - 1n)));
  const flagsOfAccount = (): number => (prng.chance(1, 3) ? AF.history : 0) |
    (prng.chance(1, 8) ? AF.debits_must_not_exceed_credits : 0) | (prng.chance(1, 10) ? AF.credits_must_not_exceed_debits : 0);
  const newAccounts = (n: number): Account[] => Array.from({ length: n }, () => acct(nextAccount++, { flags: flagsOfAccount() }));
  requests.push({ kind: "accounts", realtime, batches: [newAccounts(10)] });
  for (let i = 1; i < count; i++) {
    realtime += prng.chance(1, 6) ? 2_000_000_000n : 1_000_000n;
    const roll = prng.int(100);
    if (roll < 8) {
      // Accounts, sometimes a linked chain that fails at its end (a duplicate id) and rolls back.
      const accounts = newAccounts(1 + prng.int(4));
      if (prng.chance(1, 2)) {
        for (const a of accounts) a.flags |= AF.linked;
        accounts.push(acct(1n, { flags: 0 })); // exists: the chain fails, its new ids are rolled back
      }
      requests.push({ kind: "accounts", realtime, batches: [accounts] });
    } else if (roll < 15) {
      requests.push({ kind: "pulse", realtime });
    } else {
      const transfers: Transfer[] = [];
      const n = 1 + prng.int(transfersPerRequest);
      while (transfers.length < n) {
        const kind = prng.int(10);
        const debit = accountIds();
        let credit = accountIds();
        if (credit === debit) credit = debit === 1n ? 2n : 1n;
        const amount = BigInt(1 + prng.int(50));
        if (kind < 4) {
          transfers.push(xfer(nextTransfer++, debit, credit, amount));
        } else if (kind < 6) {
          const id = nextTransfer++;
          pendings.push(id);
          transfers.push(xfer(id, debit, credit, amount, { flags: TF.pending, timeout: prng.int(4) }));
        } else if (kind < 8 && pendings.length > 0) {
          const pendingId = pendings.splice(prng.int(pendings.length), 1)[0]!;
          const isVoid = prng.chance(1, 3);
          transfers.push(resolve({
            id: nextTransfer++, pending_id: pendingId, amount: isVoid || prng.chance(1, 2) ? 0n : BigInt(1 + prng.int(60)),
            flags: isVoid ? TF.void_pending_transfer : TF.post_pending_transfer,
          }));
        } else {
          // A linked chain; half of them end in an invalid transfer (debit = credit) and roll back.
          const length = 2 + prng.int(3);
          for (let c = 0; c < length; c++) {
            const last = c === length - 1;
            const fails = last && prng.chance(1, 2);
            transfers.push(xfer(nextTransfer++, debit, fails ? debit : credit, amount, {
              flags: (last ? 0 : TF.linked) | (prng.chance(1, 3) ? TF.pending : 0), timeout: 0,
            }));
          }
        }
      }
      requests.push({ kind: "transfers", realtime, batches: [transfers] });
    }
  }
  return requests;
}

/** Runs `requests` on a StateMachine with a grid: a flush at every bar end, checkpoints on a schedule. */
export class LedgerDriver {
  readonly machine: StateMachine;
  readonly ledger: SyncLedger;
  private realtime = 0n;
  /** The op of the next request (ops count from 0). */
  op: number;
  /** Every checkpoint taken: its op and manifest reference, the snapshot and the sessions bytes. */
  readonly checkpoints: { op: number; manifest: ManifestReference; snapshot: Uint8Array; sessions: Uint8Array }[] = [];
  /** A checkpoint at the end of every bar whose op + 1 is a multiple of this. */
  readonly checkpointEveryOps: number;
  /** Whether checkpointDurable() follows each checkpoint at once (else the test calls it). */
  durable: boolean;
  /** Whether ops inside a bar write the pages behind the tails, as a replica does (flushBehindTails). */
  readonly midBarFlush: boolean;

  constructor(readonly grid: Grid, readonly storage: MemoryStorage, options: {
    machine?: StateMachine; op?: number; checkpointEveryOps?: number; durable?: boolean; midBarFlush?: boolean;
  } = {}) {
    this.machine = options.machine ?? new StateMachine({ pagePool: grid.pagePool });
    this.ledger = new SyncLedger({
      stateMachine: this.machine, realtime: () => this.realtime,
      beforeExecute: (operation, timestamp, body) => prefetchRounds(grid, storage, this.machine, operation, timestamp, body),
    });
    this.op = options.op ?? 0;
    this.checkpointEveryOps = options.checkpointEveryOps ?? 4 * barOps;
    this.durable = options.durable ?? true;
    this.midBarFlush = options.midBarFlush ?? true;
  }

  execute(request: Request): void {
    this.realtime = request.realtime;
    if (request.kind === "accounts") this.ledger.createAccountsBatches(request.batches);
    else if (request.kind === "transfers") this.ledger.createTransfersBatches(request.batches);
    else this.ledger.pulse();
    const op = this.op++;
    if ((op + 1) % barOps !== 0) {
      if (this.midBarFlush) this.grid.flushBehindTails(this.machine.spaces());
      return;
    }
    if ((op + 1) % this.checkpointEveryOps === 0) this.checkpoint(op);
    else this.grid.flush(this.machine.spaces());
  }

  run(requests: readonly Request[]): void {
    for (const request of requests) this.execute(request);
  }

  /** Takes a checkpoint now (at a bar end), waits for it, and (if `durable`) marks it durable. */
  checkpoint(op: number): ManifestReference {
    const sessions = sessionsBytes(op);
    const manifest = complete<ManifestReference>(this.storage, (done) => this.grid.checkpoint(this.machine, sessions, done));
    this.grid.checkpointWritten();
    if (this.durable) this.grid.checkpointDurable();
    expect(prefetchAll(this.grid, this.storage, this.machine)).toBeNull();
    this.checkpoints.push({ op, manifest, snapshot: this.machine.snapshot(), sessions });
    return manifest;
  }

  get lastCheckpoint(): { op: number; manifest: ManifestReference; snapshot: Uint8Array; sessions: Uint8Array } {
    expect(this.checkpoints.length).toBeGreaterThan(0);
    return this.checkpoints[this.checkpoints.length - 1]!;
  }
}

/**
 * Stand-in client-session bytes for the checkpoint after `op` (the grid treats them as opaque):
 * their size varies with the op, from empty to several blocks, so the multi-block blob path runs.
 */
export function sessionsBytes(op: number): Uint8Array {
  const sizes = [0, 4, 700, 3840, 3841, 9000];
  const bytes = new Uint8Array(sizes[op % sizes.length]!);
  new Prng(op + 1).fill(bytes);
  return bytes;
}

/** Opens `manifest` into a fresh StateMachine through a fresh Grid on `storage`. */
/**
 * Opens the checkpoint `manifest` on a new grid. `durable` (the default, as LedgerDriver's) marks
 * it durable at once, as a writer that did so right after taking it: the two grids then agree.
 */
export function openFresh(storage: MemoryStorage, blocksLimit: number, manifest: { address: number; checksum: bigint },
  durable = true): { grid: Grid; machine: StateMachine; result: { sessions: Uint8Array } | { error: string } } {
  const grid = newGrid(storage, blocksLimit);
  const machine = new StateMachine({ pagePool: grid.pagePool });
  const opened = complete<{ sessions: Uint8Array } | { error: string }>(storage, (done) => grid.open(manifest, machine, done));
  if (durable && !("error" in opened)) grid.checkpointDurable();
  // Open reads no page of the lazy spaces; the tests compare whole states, so read them all now.
  const error = "error" in opened ? null : prefetchAll(grid, storage, machine);
  return { grid, machine, result: error === null ? opened : { error } };
}

/**
 * Reads `needs` through the grid's prefetch, running the storage until it is done. Returns
 * "resident" when nothing had to be read, else the read's error or null.
 */
function prefetchNow(grid: Grid, storage: MemoryStorage, machine: PersistentState, needs: PageNeeds): "resident" | string | null {
  let error: string | null | undefined;
  if (grid.prefetch(machine.spaces(), needs, (result) => { error = result; })) return "resident";
  storage.run();
  expect(error, "prefetch reads complete").toBeDefined();
  return error!;
}

/** Prefetch rounds until one finds every page resident, as the replica does before executing. */
export function prefetchRounds(grid: Grid, storage: MemoryStorage, machine: StateMachine, operation: number, timestamp: bigint, body: Uint8Array): void {
  for (let round = 0; ; round++) {
    expect(round, "prefetch converges").toBeLessThan(10_000);
    const result = prefetchNow(grid, storage, machine, machine.prefetch(operation, timestamp, body));
    if (result === "resident") return;
    expect(result).toBeNull();
  }
}

/** Makes every page of every lazy space resident (before a snapshot, which reads them all): the error or null. */
export function prefetchAll(grid: Grid, storage: MemoryStorage, machine: PersistentState): string | null {
  const needs: number[] = [];
  machine.spaces().forEach((space, index) => {
    if (space.lazy) for (let page = 0; page < space.pageCount(); page++) needs.push(index, page);
  });
  const result = prefetchNow(grid, storage, machine, needs);
  return result === "resident" ? null : result;
}

export function expectOpened(result: { sessions: Uint8Array } | { error: string }): Uint8Array {
  if ("error" in result) throw new Error(`open failed: ${result.error}`);
  return result.sessions;
}

/** True when two byte arrays are equal (faster and quieter than toEqual on large arrays). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}

// ---- walking a checkpoint on storage (synchronously, from the storage's bytes) ----

export interface CheckpointBlocks {
  manifest: BlockReference;
  /** The blobs' blocks: [meta, sessions, free set]. */
  blobs: BlockReference[][];
  directories: { space: number; reference: BlockReference }[];
  pages: { space: number; page: number; reference: BlockReference }[];
}

/** Every block a checkpoint references, read straight from `storage` and verified on the way. */
export function walkCheckpoint(storage: MemoryStorage, manifest: BlockReference): CheckpointBlocks {
  const verified = (reference: BlockReference, type: number): Uint8Array => {
    const block = blockBytes(storage, reference.address);
    expect(verifyBlock(block, reference, cluster), `block ${reference.address} intact`).toBe(true);
    expect(blockType(block)).toBe(type);
    return blockBody(block);
  };
  const root = decodeManifest(verified(manifest, BlockType.manifest));
  expect(root).not.toBeNull();
  const result: CheckpointBlocks = { manifest, blobs: root!.blobs.map((blob) => blob.blocks), directories: [], pages: [] };
  for (const blob of root!.blobs) for (const reference of blob.blocks) verified(reference, BlockType.blob);
  root!.spaces.forEach((space, index) => {
    let page = 0;
    for (const reference of space.directory) {
      result.directories.push({ space: index, reference });
      const body = verified(reference, BlockType.directory);
      const view = new DataView(body.buffer, body.byteOffset, body.length);
      for (let offset = 0; offset < body.length; offset += referenceSize) {
        const pageReference = readReference(view, offset)!;
        verified(pageReference, BlockType.page);
        result.pages.push({ space: index, page: page++, reference: pageReference });
      }
    }
    expect(page).toBe(space.pageCount);
  });
  return result;
}

export function allReferences(blocks: CheckpointBlocks): BlockReference[] {
  return [blocks.manifest, ...blocks.blobs.flat(), ...blocks.directories.map((d) => d.reference), ...blocks.pages.map((p) => p.reference)];
}

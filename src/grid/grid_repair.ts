// Grid repair from peers (spec/vsr.md §7, DESIGN.md "Checksums"): a block of this replica's own
// state that reads back corrupt or misdirected is fetched again, by (address, checksum), from any
// peer. Replicas hold identical blocks at identical addresses (grid.ts), and every block is verified
// against the checksum held outside it, so whoever serves it cannot make us take a wrong one. The
// read that found the fault waits: its callback runs once the repaired block is here, and the block
// is written back home so the latent fault is gone. A replica with no peer (a one-replica cluster)
// cannot repair: its reads fail as before.
//
// The replica drives it: it asks for `nextWanted()` on its repair tick and hands every `block`
// message that its state sync does not take to `receive()`.
import { BlockHeader } from "../core/header.js";
import { verifyBlock, type BlockReference } from "./block.js";

interface Wanted {
  readonly reference: BlockReference;
  readonly waiters: ((block: Uint8Array | null) => void)[];
  /** No read waits for it (the scrubber's find): dropped when a checkpoint becomes durable. */
  background: boolean;
  /** Our copy read back as another intact block (block.ts misplacedBlock), not as corrupt bytes. */
  misplaced: boolean;
}

/** What a repaired block replaced: another intact block (a lost or misdirected write), or corrupt bytes. */
export type RepairedFault = "misplaced" | "faulty";

export class GridRepair {
  private readonly wanted = new Map<number, Wanted>();
  /** Addresses in the order they became wanted; the request rotation walks it. */
  private order: number[] = [];
  private orderNext = 0;
  /** While set (a state sync is replacing the state), a faulty read fails at once. */
  private suspended = false;

  constructor(private readonly cluster: bigint) {}

  get pending(): number {
    return this.wanted.size;
  }

  /**
   * A read of `reference` found our copy faulty: `callback` gets the block once a peer has served
   * it. False when repair is suspended (the caller fails the read instead).
   */
  want(reference: BlockReference, callback: (block: Uint8Array | null) => void, background = false,
    misplaced = false): boolean {
    if (this.suspended) return false;
    const known = this.wanted.get(reference.address);
    if (known !== undefined) {
      // Our own state names one block per address; another checksum here is an older read's.
      if (known.reference.checksum !== reference.checksum) return false;
      known.waiters.push(callback);
      known.background &&= background;
      known.misplaced ||= misplaced;
      return true;
    }
    this.wanted.set(reference.address, { reference, waiters: [callback], background, misplaced });
    this.order.push(reference.address);
    return true;
  }

  /** Up to `count` wanted references, rotating so that a lost request is retried soon. */
  nextWanted(count: number): BlockReference[] {
    if (this.order.length > 2 * this.wanted.size) {
      this.order = this.order.filter((address) => this.wanted.has(address));
      this.orderNext = 0;
    }
    const references: BlockReference[] = [];
    for (let i = 0; i < this.order.length && references.length < Math.min(count, this.wanted.size); i++) {
      this.orderNext %= this.order.length;
      const entry = this.wanted.get(this.order[this.orderNext]!);
      this.orderNext += 1;
      if (entry !== undefined && !references.includes(entry.reference)) references.push(entry.reference);
    }
    return references;
  }

  /**
   * Takes a block a peer served if it is one we want, verified against our reference. Returns the
   * waiters to hand it to (the caller writes it back first), or null when it is not wanted.
   */
  receive(block: Uint8Array): {
    reference: BlockReference; waiters: ((block: Uint8Array | null) => void)[]; misplaced: boolean;
  } | null {
    const address = new BlockHeader(block, 0).address;
    const entry = this.wanted.get(address);
    if (entry === undefined || !verifyBlock(block, entry.reference, this.cluster)) return null;
    this.wanted.delete(address);
    return entry;
  }

  /**
   * From now on faulty reads fail, and those waiting fail now: a state sync is about to replace the
   * state those reads were for (they see the sync and stop, replica.ts).
   */
  suspend(): void {
    this.suspended = true;
    const waiting = [...this.wanted.values()];
    this.wanted.clear();
    this.order = [];
    this.orderNext = 0;
    for (const entry of waiting) for (const waiter of entry.waiters) waiter(null);
  }

  /**
   * Forgets the repairs no read waits for. Called when a checkpoint becomes durable: the blocks its
   * predecessor released may be acquired again and rewritten, and an old block written back home
   * then would destroy a new one. The scrubber finds a block again if it is still ours.
   */
  dropBackground(): void {
    for (const [address, entry] of this.wanted) if (entry.background) this.wanted.delete(address);
  }

  resume(): void {
    this.suspended = false;
  }
}

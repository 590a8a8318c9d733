// A small cache of recent prepares, indexed by op modulo its capacity, so that committing and
// re-preparing rarely need to read the journal. Bounded: a newer op evicts the older one sharing
// its index; a lookup checks both the op and the checksum.
import { headerSize } from "../core/config.js";
import { FrameField, PrepareHeader, type Header } from "../core/header.js";

export class PrepareCache {
  private readonly entries: (Uint8Array | null)[];
  private readonly header = new PrepareHeader(new Uint8Array(headerSize));

  constructor(readonly capacity: number) {
    this.entries = new Array<Uint8Array | null>(capacity).fill(null);
  }

  /** Keeps a copy of a verified prepare. */
  put(prepare: Uint8Array): void {
    const op = this.header.reset(prepare, 0).op;
    const index = op % this.capacity;
    const existing = this.entries[index];
    if (existing !== null && existing !== undefined && this.header.reset(existing, 0).op > op) return;
    this.entries[index] = prepare;
  }

  /** The prepare of `op`, if cached and (when given) with this checksum. */
  get(op: number, checksum: bigint | null): Uint8Array | null {
    const prepare = this.entries[op % this.capacity];
    if (prepare === null || prepare === undefined) return null;
    const header = this.header.reset(prepare, 0);
    if (header.op !== op || (checksum !== null && header.checksum !== checksum)) return null;
    return prepare;
  }

  /** Whether the cache holds the prepare `header` names (its op and checksum), compared as bytes. */
  holds(op: number, header: Header): boolean {
    const prepare = this.entries[op % this.capacity];
    if (prepare === null || prepare === undefined) return false;
    return this.header.reset(prepare, 0).op === op &&
      header.u128EqualsBytes(FrameField.checksum, prepare, FrameField.checksum);
  }

  clear(): void {
    this.entries.fill(null);
  }
}

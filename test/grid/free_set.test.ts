// FreeSet (src/grid/free_set.ts): lowest-free acquisition, the release rule (a released block stays
// acquired until the checkpoint that released it is durable on the cluster, also in a grid that
// opened that checkpoint), the encoded form a checkpoint stores,
// the storage limit, and a property test against a plain model.
//
// Reproduce a property failure: fast-check prints the seed and path; rerun with
// `FC_SEED=<seed> npx vitest run test/grid/free_set.test.ts`.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FreeSet } from "../../src/grid/free_set.js";

function acquired(set: FreeSet): number[] {
  const addresses: number[] = [];
  set.forEachAcquired((address) => addresses.push(address));
  return addresses;
}

function decoded(bytes: Uint8Array, limit: number): FreeSet {
  const set = new FreeSet(limit);
  set.decode(bytes);
  return set;
}

function acquireN(set: FreeSet, n: number): number[] {
  return Array.from({ length: n }, () => set.acquire()!);
}

describe("FreeSet", () => {
  it("acquires the lowest free address, from 1", () => {
    const set = new FreeSet(1000);
    expect(set.highestAcquired()).toBe(0);
    expect(acquireN(set, 5)).toEqual([1, 2, 3, 4, 5]);
    expect(set.acquiredCount).toBe(5);
    expect(set.blocksFree).toBe(995);
    expect(set.isAcquired(3)).toBe(true);
    expect(set.isAcquired(6)).toBe(false);
    expect(set.isAcquired(100_000)).toBe(false); // beyond the bits: not acquired, no throw
  });

  it("crosses word boundaries and grows past its initial 64 words", () => {
    const set = new FreeSet(5000);
    const addresses = acquireN(set, 3000);
    expect(addresses).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
    expect(set.highestAcquired()).toBe(3000);
    expect(acquired(set)).toEqual(addresses);
  });

  it("does not reacquire a released block before checkpointDurable()", () => {
    const set = new FreeSet(100);
    acquireN(set, 40);
    set.release(2);
    set.release(33);
    expect(set.isAcquired(2)).toBe(true);
    expect(set.acquire()).toBe(41); // 2 and 33 are still held for the previous checkpoint
    set.encode();
    expect(set.isAcquired(2)).toBe(true);
    expect(set.acquire()).toBe(42); // the checkpoint that released them is not durable yet
    set.checkpointDurable();
    expect(set.isAcquired(2)).toBe(false);
    expect(set.isAcquired(33)).toBe(false);
    expect(set.acquire()).toBe(2);
    expect(set.acquire()).toBe(33);
    expect(set.acquire()).toBe(43);
  });

  it("releases after encode() belong to the next checkpoint", () => {
    const set = new FreeSet(100);
    acquireN(set, 10);
    set.release(1);
    set.encode();
    set.release(5); // the next interval's release
    set.checkpointDurable();
    expect(set.isAcquired(1)).toBe(false);
    expect(set.isAcquired(5)).toBe(true);
    expect(set.acquire()).toBe(1);
    expect(set.acquire()).toBe(11);
    const bytes = set.encode();
    const opened = decoded(bytes, 100);
    expect(acquired(opened)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]); // 5 is pending there too
    set.checkpointDurable();
    opened.checkpointDurable();
    expect(acquired(opened)).toEqual([1, 2, 3, 4, 6, 7, 8, 9, 10, 11]);
    expect(set.acquire()).toBe(5);
    expect(opened.acquire()).toBe(5);
  });

  it("encode() stores this interval's releases apart, still acquired; decode(encode()) round-trips", () => {
    const set = new FreeSet(200);
    acquireN(set, 70);
    const releases = [1, 32, 33, 64, 70];
    for (const address of releases) set.release(address);
    const bytes = set.encode();
    expect(bytes.length).toBe(4 * (1 + 3 + 5)); // the count, words up to address 70, the releases
    const copy = decoded(bytes, 200);
    const all = Array.from({ length: 70 }, (_, i) => i + 1);
    expect(acquired(copy)).toEqual(all);
    expect(copy.acquiredCount).toBe(70);
    expect(copy.acquiredAfterReleases()).toBe(65);
    const held: number[] = [];
    copy.forEachHeld((address) => held.push(address));
    expect(held).toEqual(all.filter((a) => !releases.includes(a)));
    // The copy is what opening the checkpoint finds: the releases free once it is durable.
    expect(copy.acquire()).toBe(71);
    copy.checkpointDurable();
    expect(copy.acquire()).toBe(1);
    expect(copy.acquire()).toBe(32);
    expect(FreeSet.highestAcquiredIn(bytes)).toBe(70); // the storage-limit check before decode()
  });

  it("encodes an empty set as its word count alone, and stops at the highest acquired block", () => {
    const empty = new FreeSet(10);
    expect(empty.encode()).toEqual(new Uint8Array(4));
    const set = new FreeSet(500);
    acquireN(set, 300);
    for (let a = 2; a <= 300; a++) set.release(a);
    set.encode();
    set.checkpointDurable();
    const bytes = set.encode();
    expect(bytes.length).toBe(8);
    expect(acquired(decoded(bytes, 500))).toEqual([1]);
    expect(FreeSet.highestAcquiredIn(bytes)).toBe(1);
  });

  it("acquiredAfterReleases counts every pending release as free", () => {
    const set = new FreeSet(100);
    acquireN(set, 10);
    expect(set.acquiredAfterReleases()).toBe(10);
    set.release(3);
    set.release(4);
    expect(set.acquiredCount).toBe(10);
    expect(set.acquiredAfterReleases()).toBe(8);
    set.encode();
    set.release(5);
    expect(set.acquiredAfterReleases()).toBe(7);
    set.checkpointDurable();
    expect(set.acquiredCount).toBe(8);
    expect(set.acquiredAfterReleases()).toBe(7);
  });

  it("acquire() returns null at the storage limit, also mid-word", () => {
    for (const limit of [1, 5, 31, 32, 33, 64, 65, 100]) {
      const set = new FreeSet(limit);
      const addresses = acquireN(set, limit);
      expect(addresses).toEqual(Array.from({ length: limit }, (_, i) => i + 1));
      expect(set.acquire()).toBeNull();
      expect(set.acquire()).toBeNull();
      expect(set.blocksFree).toBe(0);
      expect(set.highestAcquired()).toBe(limit);
      // Released blocks come back once durable, never beyond the limit.
      set.release(limit);
      expect(set.acquire()).toBeNull();
      set.encode();
      set.checkpointDurable();
      expect(set.acquire()).toBe(limit);
      expect(set.acquire()).toBeNull();
    }
  });

  it("highestAcquired follows releases once durable", () => {
    const set = new FreeSet(1000);
    acquireN(set, 100);
    set.release(100);
    set.release(99);
    expect(set.highestAcquired()).toBe(100);
    set.encode();
    set.checkpointDurable();
    expect(set.highestAcquired()).toBe(98);
    for (let a = 33; a <= 98; a++) set.release(a);
    set.encode();
    set.checkpointDurable();
    expect(set.highestAcquired()).toBe(32);
  });

  it("decode() replaces the whole state, including pending releases", () => {
    const set = new FreeSet(100);
    acquireN(set, 20);
    set.release(7);
    const other = new FreeSet(100);
    acquireN(other, 3);
    set.decode(other.encode());
    expect(acquired(set)).toEqual([1, 2, 3]);
    expect(set.acquiredCount).toBe(3);
    expect(set.acquiredAfterReleases()).toBe(3);
    expect(set.acquire()).toBe(4);
    // The decoded checkpoint is pending until durable, like one encoded here.
    expect(() => set.encode()).toThrow();
    set.checkpointDurable();
    expect(acquired(decoded(set.encode(), 100))).toEqual([1, 2, 3, 4]);
  });

  it("refuses misuse: releasing a free block, two checkpoints at once, durable without a checkpoint", () => {
    const set = new FreeSet(100);
    acquireN(set, 2);
    expect(() => set.release(3)).toThrow();
    expect(() => set.checkpointDurable()).toThrow();
    set.encode();
    expect(() => set.encode()).toThrow();
    expect(() => new FreeSet(0)).toThrow();
    const small = new FreeSet(10);
    const big = new FreeSet(100);
    acquireN(big, 20);
    expect(() => small.decode(big.encode())).toThrow(); // a checkpoint beyond the storage limit
  });
});

// ---- property test against a model ----

type Step =
  | { kind: "acquire" }
  | { kind: "release"; pick: number }
  | { kind: "encode" }
  | { kind: "durable" }
  | { kind: "roundTrip" };

/** The release rule, written plainly: sets of addresses. */
class Model {
  readonly acquired = new Set<number>();
  released: number[] = [];
  atCheckpoint: number[] | null = null;
  constructor(readonly limit: number) {}

  acquire(): number | null {
    for (let a = 1; a <= this.limit; a++) {
      if (!this.acquired.has(a)) {
        this.acquired.add(a);
        return a;
      }
    }
    return null;
  }

  /** Acquired and not released in this interval or the pending checkpoint. */
  releasable(): number[] {
    const out = new Set([...this.released, ...(this.atCheckpoint ?? [])]);
    return [...this.acquired].filter((a) => !out.has(a)).sort((x, y) => x - y);
  }

  /** What the checkpoint references: acquired, released by neither. */
  held(): number[] {
    const out = new Set([...this.released, ...(this.atCheckpoint ?? [])]);
    return [...this.acquired].filter((a) => !out.has(a)).sort((x, y) => x - y);
  }
}

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.constant({ kind: "acquire" as const }) },
  { weight: 5, arbitrary: fc.nat().map((pick) => ({ kind: "release" as const, pick })) },
  { weight: 1, arbitrary: fc.constant({ kind: "encode" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "durable" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "roundTrip" as const }) },
);

describe("FreeSet property", () => {
  it("matches the model over random acquire / release / checkpoint sequences", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 130 }), fc.array(stepArb, { maxLength: 400 }), (limit, steps) => {
        const set = new FreeSet(limit);
        const model = new Model(limit);
        for (const step of steps) {
          switch (step.kind) {
            case "acquire":
              expect(set.acquire()).toBe(model.acquire());
              break;
            case "release": {
              const candidates = model.releasable();
              if (candidates.length === 0) break;
              const address = candidates[step.pick % candidates.length]!;
              set.release(address);
              model.released.push(address);
              break;
            }
            case "encode": {
              if (model.atCheckpoint !== null) break;
              const all = [...model.acquired].sort((x, y) => x - y);
              const held = model.held();
              expect(set.encodedSize()).toBe(4 * (1 + Math.ceil((all[all.length - 1] ?? 0) / 32) + model.released.length));
              const bytes = set.encode();
              expect(bytes.length).toBe(4 * (1 + Math.ceil((all[all.length - 1] ?? 0) / 32) + model.released.length));
              model.atCheckpoint = model.released;
              model.released = [];
              // What opening the checkpoint finds: everything acquired, the releases pending.
              const copy = decoded(bytes, limit);
              expect(acquired(copy)).toEqual(all);
              expect(copy.acquiredAfterReleases()).toBe(held.length);
              const copyHeld: number[] = [];
              copy.forEachHeld((address) => copyHeld.push(address));
              expect(copyHeld).toEqual(held);
              break;
            }
            case "durable":
              if (model.atCheckpoint === null) break;
              set.checkpointDurable();
              for (const a of model.atCheckpoint) model.acquired.delete(a);
              model.atCheckpoint = null;
              break;
            case "roundTrip": {
              // encode() then decode() of the same bytes, as if the replica restarted right after
              // taking the checkpoint: only between checkpoints (no release of this interval lost).
              if (model.atCheckpoint !== null || model.released.length > 0) break;
              set.decode(set.encode());
              model.atCheckpoint = [];
              break;
            }
          }
          const all = [...model.acquired].sort((x, y) => x - y);
          expect(acquired(set)).toEqual(all);
          expect(set.acquiredCount).toBe(all.length);
          expect(set.blocksFree).toBe(limit - all.length);
          expect(set.highestAcquired()).toBe(all[all.length - 1] ?? 0);
          expect(set.acquiredAfterReleases()).toBe(model.held().length);
        }
      }),
      { numRuns: Number(process.env["FC_RUNS"] ?? 150), seed: process.env["FC_SEED"] === undefined ? undefined : Number(process.env["FC_SEED"]) },
    );
  });
});

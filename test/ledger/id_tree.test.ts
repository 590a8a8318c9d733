// IdTree (src/core/ledger/id_tree.ts): a B+tree of u128 ids in the pages of a PagedRecords.
// A Map model under random operation sequences over tiny nodes (deep trees), a full structural
// walk after each sequence, the right-edge split for monotonic ids, determinism of the pages,
// rollback by removal in reverse order, persistence through page bodies, and probe on evicted
// nodes.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { IdTree } from "../../src/core/ledger/id_tree.js";
import { Prng } from "../../src/core/prng.js";
import { u128Max, u128WordsFromBigint, u128WordsToBigint } from "../../src/core/u128.js";

// Keys go to the tree at an offset that is not 0, to exercise the `i` argument.
const scratch = new Uint32Array(8);
const at = 3;
function put(key: bigint): Uint32Array {
  scratch.fill(0xdead_beef);
  u128WordsFromBigint(scratch, at, key);
  return scratch;
}
const find = (tree: IdTree, key: bigint): number => tree.find(put(key), at);
const insert = (tree: IdTree, key: bigint, value: number): void => tree.insert(put(key), at, value);
const remove = (tree: IdTree, key: bigint): void => tree.remove(put(key), at);
const probe = (tree: IdTree, key: bigint): number => tree.probe(put(key), at);

function invariant(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`id tree invariant: ${message}`);
}

interface Walk {
  keys: bigint[]; // in leaf order
  values: number[];
  leafCounts: number[]; // in leaf order
  interiorCounts: number[][]; // per level (1 = just above the leaves), left to right
}

/** Walks the whole tree and checks its structure; returns its contents in order. */
function checkTree(tree: IdTree): Walk {
  const nodes = tree.nodes;
  const capacity = tree.capacity;
  const valuesWord = 2 + 4 * capacity;
  const walk: Walk = { keys: [], values: [], leafCounts: [], interiorCounts: [] };
  if (tree.root === -1) {
    invariant(tree.height === 0 && tree.count === 0 && nodes.count === 0, "empty tree");
    return walk;
  }
  invariant(tree.height >= 1, "height of a tree with a root");
  for (let level = 1; level < tree.height; level++) walk.interiorCounts[level] = [];
  const visited = new Uint8Array(nodes.count);
  const visit = (n: number, depth: number, lo: bigint, hi: bigint | null): void => {
    invariant(n >= 0 && n < nodes.count, `node ${n} exists`);
    invariant(visited[n] === 0, `node ${n} reached once`);
    visited[n] = 1;
    const words = nodes.u32(n);
    const w = nodes.at(n);
    const count = words[w]!;
    const level = words[w + 1]!;
    invariant(level === tree.height - 1 - depth, `node ${n}: level ${level} at depth ${depth}`);
    invariant(count <= capacity, `node ${n}: count ${count} ≤ C`);
    invariant(level === 0 || count >= 1, `interior node ${n} has a child`);
    const keys: bigint[] = [];
    for (let j = 0; j < count; j++) {
      const key = u128WordsToBigint(words, w + 2 + 4 * j);
      invariant(key >= lo, `node ${n}: key ${j} ≥ its lower bound`);
      invariant(hi === null || key < hi, `node ${n}: key ${j} < its upper bound`);
      invariant(j === 0 || key > keys[j - 1]!, `node ${n}: keys strictly increasing`);
      keys.push(key);
    }
    for (let j = count; j < capacity; j++) {
      invariant(u128WordsToBigint(words, w + 2 + 4 * j) === 0n && words[w + valuesWord + j] === 0, `node ${n}: zero past count`);
    }
    if (level === 0) {
      for (let j = 0; j < count; j++) {
        walk.keys.push(keys[j]!);
        walk.values.push(words[w + valuesWord + j]!);
      }
      walk.leafCounts.push(count);
      return;
    }
    walk.interiorCounts[level]!.push(count);
    for (let j = 0; j < count; j++) {
      visit(words[w + valuesWord + j]!, depth + 1, keys[j]!, j + 1 < count ? keys[j + 1]! : hi);
    }
  };
  visit(tree.root, 0, 0n, null);
  invariant(visited.every((v) => v === 1), "every node is reachable");
  invariant(walk.keys.length === tree.count, `count ${tree.count} = keys in leaves ${walk.keys.length}`);
  return walk;
}

/** Checks the tree against the model: same keys in order, same values, structure. */
function checkAgainstModel(tree: IdTree, model: Map<bigint, number>): void {
  const walk = checkTree(tree);
  const sorted = [...model.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  expect(walk.keys).toEqual(sorted);
  expect(walk.values).toEqual(sorted.map((key) => model.get(key)!));
  for (const [key, value] of model) expect(find(tree, key)).toBe(value);
}

/** The node numbers on the key's root-to-leaf path (test-side descent, from the layout). */
function pathOf(tree: IdTree, key: bigint): number[] {
  const path: number[] = [];
  const valuesWord = 2 + 4 * tree.capacity;
  let n = tree.root;
  for (let level = tree.height - 1; ; level--) {
    path.push(n);
    if (level === 0) return path;
    const words = tree.nodes.u32(n);
    let child = 0;
    for (let j = 1; j < words[0]!; j++) if (u128WordsToBigint(words, 2 + 4 * j) <= key) child = j;
    n = words[valuesWord + child]!;
  }
}

/** TigerBeetle-like id(): milliseconds in the high 48 bits, 80 random bits incremented within one ms. */
function monotonicIds(prng: Prng, count: number): bigint[] {
  const ids: bigint[] = [];
  let ms = 1_700_000_000_000n;
  let random = 0n;
  for (let k = 0; k < count; k++) {
    if (k === 0 || prng.chance(1, 20)) {
      ms += BigInt(1 + prng.int(5));
      random = (prng.next() << 16n) | BigInt(prng.int(0x1_0000));
    } else {
      random += 1n;
    }
    ids.push((ms << 80n) | random);
  }
  return ids;
}

function randomIds(prng: Prng, count: number): bigint[] {
  const seen = new Set<bigint>();
  const ids: bigint[] = [];
  while (ids.length < count) {
    const id = (prng.next() << 64n) | prng.next();
    if (seen.has(id)) continue;
    seen.add(id);
    ids.push(id);
  }
  return ids;
}

function pagesOf(tree: IdTree): Uint8Array[] {
  const pages: Uint8Array[] = [];
  for (let p = 0; p < tree.nodes.pageCount(); p++) pages.push(tree.nodes.pageBody(p).slice());
  return pages;
}

// ---- model-based ----

type Op =
  | { kind: "insert"; key: bigint; value: number }
  | { kind: "run"; start: bigint; length: number; step: bigint; down: boolean }
  | { kind: "find"; pick: number }
  | { kind: "findAbsent"; key: bigint }
  | { kind: "remove"; pick: number }
  | { kind: "rollback"; length: number };

// Words biased toward edges, so that keys differ in one word only, in the top bit, and so on.
const word = fc.oneof(
  fc.constantFrom(0, 1, 2, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff),
  fc.integer({ min: 0, max: 15 }),
  fc.integer({ min: 0, max: 0xffff_ffff }),
);
const key = fc.oneof(
  fc.tuple(word, word, word, word).map(([w0, w1, w2, w3]) =>
    BigInt(w0) | (BigInt(w1) << 32n) | (BigInt(w2) << 64n) | (BigInt(w3) << 96n)),
  fc.bigInt({ min: 0n, max: u128Max }),
);
const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("insert" as const), key, value: fc.integer({ min: 0, max: 0x7fff_ffff }) }), weight: 6 },
  {
    arbitrary: fc.record({
      kind: fc.constant("run" as const),
      start: key,
      length: fc.integer({ min: 1, max: 40 }),
      step: fc.oneof(fc.constant(1n), fc.bigInt({ min: 1n, max: 1n << 100n })),
      down: fc.boolean(),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant("find" as const), pick: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("findAbsent" as const), key }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("remove" as const), pick: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("rollback" as const), length: fc.integer({ min: 1, max: 30 }) }), weight: 1 },
);

/** Applies the operations to the tree and the model, checking every result on the way. */
function run(tree: IdTree, ops: readonly Op[]): { model: Map<bigint, number>; gone: bigint[] } {
  const model = new Map<bigint, number>();
  const order: bigint[] = []; // present keys in insertion order
  const gone: bigint[] = [];
  let row = 0;
  const add = (k: bigint, value: number): void => {
    if (model.has(k)) {
      expect(find(tree, k)).toBe(model.get(k)); // fresh keys only: a repeat becomes a find
      return;
    }
    insert(tree, k, value);
    model.set(k, value);
    order.push(k);
    expect(find(tree, k)).toBe(value);
  };
  const drop = (index: number): void => {
    const k = order[index]!;
    remove(tree, k);
    model.delete(k);
    order.splice(index, 1);
    gone.push(k);
    expect(find(tree, k)).toBe(-1);
  };
  for (const o of ops) {
    switch (o.kind) {
      case "insert":
        add(o.key, o.value);
        break;
      case "run":
        for (let k = 0; k < o.length; k++) {
          const delta = BigInt(k) * o.step;
          const next = o.down ? o.start - delta : o.start + delta;
          if (next < 0n || next > u128Max) break;
          add(next, row++);
        }
        break;
      case "find":
        if (order.length > 0) {
          const k = order[o.pick % order.length]!;
          expect(find(tree, k)).toBe(model.get(k));
        }
        break;
      case "findAbsent":
        expect(find(tree, o.key)).toBe(model.has(o.key) ? model.get(o.key) : -1);
        break;
      case "remove":
        if (order.length > 0) drop(o.pick % order.length);
        break;
      case "rollback":
        for (let k = 0; k < o.length && order.length > 0; k++) drop(order.length - 1);
        break;
    }
    expect(tree.count).toBe(model.size);
  }
  return { model, gone };
}

describe("IdTree against a Map model", () => {
  for (const pageBytes of [128, 256]) {
    test(`random operations, pageBytes ${pageBytes} (C = ${new IdTree(pageBytes).capacity})`, () => {
      fc.assert(
        fc.property(fc.array(op, { minLength: 1, maxLength: 300 }), fc.array(key, { maxLength: 20 }), (ops, probes) => {
          const tree = new IdTree(pageBytes);
          const { model, gone } = run(tree, ops);
          checkAgainstModel(tree, model);
          for (const k of [...gone, ...probes]) expect(find(tree, k)).toBe(model.has(k) ? model.get(k) : -1);
        }),
        { numRuns: 150 },
      );
    });
  }

  test("the model test reaches deep trees", () => {
    const tree = new IdTree(128);
    expect(tree.capacity).toBe(6);
    const prng = new Prng(7);
    const model = new Map<bigint, number>();
    for (const id of randomIds(prng, 2000)) {
      insert(tree, id, model.size);
      model.set(id, model.size);
    }
    expect(tree.height).toBeGreaterThanOrEqual(5);
    checkAgainstModel(tree, model);
  });

  test("inserting a present key or removing an absent one is an assertion, and changes nothing", () => {
    const tree = new IdTree(128);
    for (let k = 0n; k < 50n; k++) insert(tree, k * 3n, Number(k));
    const before = pagesOf(tree);
    expect(() => insert(tree, 30n, 1)).toThrow(/present/);
    expect(() => remove(tree, 31n)).toThrow(/absent/);
    expect(() => insert(tree, 31n, 0x8000_0000)).toThrow(/2\^31/);
    expect(pagesOf(tree)).toEqual(before);
    expect(tree.count).toBe(50);
    expect(() => remove(new IdTree(128), 1n)).toThrow();
    expect(find(new IdTree(128), 1n)).toBe(-1);
  });
});

// ---- large trees ----

describe("IdTree at pageBytes 4096", () => {
  test("monotonic ids: every leaf but the last is full (right-edge split), and so is every interior node but the rightmost", () => {
    const tree = new IdTree(4096);
    const capacity = tree.capacity;
    expect(capacity).toBe(204);
    const ids = monotonicIds(new Prng(1), 100_000);
    const words = new Uint32Array(ids.length * 4);
    ids.forEach((id, k) => u128WordsFromBigint(words, k * 4, id));
    for (let k = 0; k < ids.length; k++) tree.insert(words, k * 4, k);
    for (let k = 0; k < ids.length; k++) expect(tree.find(words, k * 4)).toBe(k);
    const walk = checkTree(tree);
    expect(walk.keys).toEqual(ids);
    expect(walk.leafCounts.length).toBe(Math.ceil(ids.length / capacity));
    expect(walk.leafCounts.slice(0, -1).every((count) => count === capacity)).toBe(true);
    for (let level = 1; level < tree.height; level++) {
      expect(walk.interiorCounts[level]!.slice(0, -1).every((count) => count === capacity)).toBe(true);
    }
    expect(tree.height).toBe(3);
  });

  test("random ids: all found, absent ids are not, leaves at least half full", () => {
    const tree = new IdTree(4096);
    const prng = new Prng(2);
    const ids = randomIds(prng, 101_000);
    const words = new Uint32Array(ids.length * 4);
    ids.forEach((id, k) => u128WordsFromBigint(words, k * 4, id));
    const inserted = 100_000;
    for (let k = 0; k < inserted; k++) tree.insert(words, k * 4, k);
    for (let k = 0; k < inserted; k++) expect(tree.find(words, k * 4)).toBe(k);
    for (let k = inserted; k < ids.length; k++) expect(tree.find(words, k * 4)).toBe(-1);
    const walk = checkTree(tree);
    expect(walk.keys.length).toBe(inserted);
    expect(walk.leafCounts.slice(0, -1).every((count) => count >= (tree.capacity + 1) >> 1)).toBe(true);
  });
});

// ---- determinism and persistence ----

/** A deterministic mixed sequence: monotonic runs, random keys, removals, rollbacks. */
function scriptedOps(seed: number, count: number): Op[] {
  const prng = new Prng(seed);
  const monotonic = monotonicIds(prng, count);
  let next = 0;
  const ops: Op[] = [];
  while (ops.length < count) {
    const roll = prng.int(10);
    if (roll < 5) ops.push({ kind: "insert", key: monotonic[next++]!, value: prng.int(0x8000_0000) });
    else if (roll < 7) ops.push({ kind: "insert", key: (prng.next() << 64n) | prng.next(), value: prng.int(0x8000_0000) });
    else if (roll < 8) ops.push({ kind: "remove", pick: prng.int(1 << 30) });
    else if (roll < 9) ops.push({ kind: "rollback", length: 1 + prng.int(8) });
    else ops.push({ kind: "find", pick: prng.int(1 << 30) });
  }
  return ops;
}

describe("IdTree determinism", () => {
  test("the same operations give byte-identical pages, root and height", () => {
    for (const pageBytes of [128, 4096]) {
      const ops = scriptedOps(3, 20_000);
      const a = new IdTree(pageBytes);
      const b = new IdTree(pageBytes);
      run(a, ops);
      run(b, ops);
      expect(a.nodes.count).toBeGreaterThan(1);
      expect(b.nodes.count).toBe(a.nodes.count);
      for (let p = 0; p < a.nodes.pageCount(); p++) expect(b.nodes.pageBody(p)).toEqual(a.nodes.pageBody(p));
      expect([b.root, b.height, b.count]).toEqual([a.root, a.height, a.count]);
    }
  });

  test("the right-edge fast path writes the same bytes as a full descent", () => {
    // `slow` forgets its right edge before every operation (restore() with its own fields), so
    // it always descends; `fast` keeps it. Monotonic runs take the fast path, the rest do not.
    const forgetting = (tree: IdTree): IdTree => new Proxy(tree, {
      get(target, property) {
        if (property === "insert" || property === "find" || property === "remove") {
          target.restore(target.root, target.height, target.count);
        }
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    for (const pageBytes of [128, 4096]) {
      const ops = scriptedOps(6, 20_000);
      const fast = new IdTree(pageBytes);
      const slow = new IdTree(pageBytes);
      run(fast, ops);
      run(forgetting(slow), ops);
      expect(fast.nodes.count).toBe(slow.nodes.count);
      expect(pagesOf(fast)).toEqual(pagesOf(slow));
      expect([fast.root, fast.height, fast.count]).toEqual([slow.root, slow.height, slow.count]);
    }
  });

  test("a tree restored from its page bodies finds the same keys and continues identically", () => {
    const ops = scriptedOps(4, 6000);
    const original = new IdTree(256);
    const { model } = run(original, ops.slice(0, 3000));
    const restored = new IdTree(256);
    restored.nodes.count = original.nodes.count;
    pagesOf(original).forEach((body, p) => expect(restored.nodes.install(p, body)).toBe(true));
    restored.restore(original.root, original.height, original.count);
    checkAgainstModel(restored, model);
    // Continue both with the same insertions: the pages stay identical.
    const more = randomIds(new Prng(5), 1000);
    more.forEach((id, k) => {
      insert(original, id, k);
      insert(restored, id, k);
    });
    expect(pagesOf(restored)).toEqual(pagesOf(original));
    expect([restored.root, restored.height, restored.count]).toEqual([original.root, original.height, original.count]);
  });

  test("every change marks its nodes dirty", () => {
    const tree = new IdTree(128);
    const ids = randomIds(new Prng(6), 400);
    let snapshot = pagesOf(tree);
    for (const [k, id] of ids.entries()) {
      tree.nodes.clearDirty();
      if (k % 5 === 4) remove(tree, ids[k - 1]!);
      else insert(tree, id, k);
      const after = pagesOf(tree);
      for (let p = 0; p < after.length; p++) {
        const changed = p >= snapshot.length || !Buffer.from(after[p]!).equals(Buffer.from(snapshot[p]!));
        if (changed) expect(tree.nodes.isDirty(p)).toBe(true);
      }
      snapshot = after;
    }
  });
});

// ---- rollback and probe ----

describe("IdTree removal and probe", () => {
  test("removing a batch in reverse after splits: removed keys are gone, earlier keys stay", () => {
    const tree = new IdTree(256);
    const prng = new Prng(8);
    const ids = monotonicIds(prng, 1500);
    const earlier = ids.slice(0, 1000);
    earlier.forEach((id, k) => insert(tree, id, k));
    // The batch: the next monotonic ids mixed with random ones that land inside existing leaves.
    const batch = [...ids.slice(1000), ...randomIds(prng, 300).map((id) => (id % (ids[999]! - ids[0]!)) + ids[0]!)]
      .filter((id, k, all) => all.indexOf(id) === k && !earlier.includes(id));
    const nodesBefore = tree.nodes.count;
    batch.forEach((id, k) => insert(tree, id, 1000 + k));
    expect(tree.nodes.count).toBeGreaterThan(nodesBefore + 10); // the batch split nodes
    for (let k = batch.length - 1; k >= 0; k--) remove(tree, batch[k]!);
    for (const id of batch) expect(find(tree, id)).toBe(-1);
    const model = new Map(earlier.map((id, k) => [id, k]));
    checkAgainstModel(tree, model);
    expect(tree.count).toBe(earlier.length);
    // The tree stays usable: the batch goes back in.
    batch.forEach((id, k) => insert(tree, id, 1000 + k));
    batch.forEach((id, k) => model.set(id, 1000 + k));
    checkAgainstModel(tree, model);
  });

  test("removing every key leaves an empty, searchable, reusable tree", () => {
    const tree = new IdTree(128);
    const ids = randomIds(new Prng(9), 300);
    ids.forEach((id, k) => insert(tree, id, k));
    for (const id of ids) remove(tree, id);
    expect(tree.count).toBe(0);
    expect(checkTree(tree).leafCounts.every((count) => count === 0)).toBe(true);
    for (const id of ids) expect(find(tree, id)).toBe(-1);
    ids.forEach((id, k) => insert(tree, id, k));
    checkAgainstModel(tree, new Map(ids.map((id, k) => [id, k])));
  });

  test("probe names the first evicted node on the key's path", () => {
    const tree = new IdTree(128);
    expect(probe(tree, 1n)).toBe(-1); // empty
    const ids = randomIds(new Prng(10), 600);
    ids.forEach((id, k) => insert(tree, id, k));
    expect(tree.height).toBeGreaterThanOrEqual(4);
    for (const id of ids) expect(probe(tree, id)).toBe(-1);
    tree.nodes.clearDirty();

    const target = ids[123]!;
    const path = pathOf(tree, target);
    const leaf = path[path.length - 1]!;
    const elsewhere = ids.find((id) => pathOf(tree, id)[path.length - 1] !== leaf)!;
    const otherSubtree = ids.find((id) => pathOf(tree, id)[1] !== path[1])!;
    const leafBody = tree.nodes.pageBody(leaf).slice();
    tree.nodes.evict(leaf);
    expect(probe(tree, target)).toBe(leaf);
    expect(probe(tree, elsewhere)).toBe(-1);
    expect(() => find(tree, target)).toThrow(/not resident/);

    // An interior node above it: probe stops at the first missing node from the root.
    const interior = path[1]!;
    const interiorBody = tree.nodes.pageBody(interior).slice();
    tree.nodes.evict(interior);
    expect(probe(tree, target)).toBe(interior);
    expect(probe(tree, otherSubtree)).toBe(-1);

    expect(tree.nodes.install(interior, interiorBody)).toBe(true);
    expect(probe(tree, target)).toBe(leaf);
    expect(tree.nodes.install(leaf, leafBody)).toBe(true);
    expect(probe(tree, target)).toBe(-1);
    expect(find(tree, target)).toBe(123);

    const rootBody = tree.nodes.pageBody(tree.root).slice();
    tree.nodes.evict(tree.root);
    expect(probe(tree, elsewhere)).toBe(tree.root);
    tree.nodes.install(tree.root, rootBody);
    checkAgainstModel(tree, new Map(ids.map((id, k) => [id, k])));
  });

  test("findVisiting visits the key's path top down and finds in the same descent", () => {
    const tree = new IdTree(128);
    const none = (): boolean => true;
    expect(tree.findVisiting(put(5n), at, none)).toBe(-1); // empty
    const ids = randomIds(new Prng(11), 600);
    ids.forEach((id, k) => insert(tree, id, k));
    for (const [k, id] of ids.entries()) {
      const visited: number[] = [];
      expect(tree.findVisiting(put(id), at, (node) => visited.push(node) > 0)).toBe(k);
      expect(visited).toEqual(pathOf(tree, id));
    }
    expect(tree.findVisiting(put(1n << 100n), at, none)).toBe(find(tree, 1n << 100n));
    // A visitor that stops at the leaf (not resident, say): −2, and the leaf was the last visited.
    const target = ids[7]!;
    const path = pathOf(tree, target);
    const visited: number[] = [];
    const leaf = path[path.length - 1]!;
    expect(tree.findVisiting(put(target), at, (node) => visited.push(node) > 0 && node !== leaf)).toBe(-2);
    expect(visited).toEqual(path);
  });
});

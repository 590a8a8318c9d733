// A B+tree from u128 ids to u32 values (transfer rows): the index of transfer ids, kept in pages
// the grid persists instead of one in-memory hash table (DESIGN.md "Data file and storage engine").
//
// Nodes are the records of a PagedRecords with one record per page, so node n is page n: a node
// changed is a page marked dirty, written copy-on-write at the next checkpoint, and a clean node
// may be evicted and read back on demand. `probe` names the first node missing on a key's path,
// so that the owner can prefetch it before executing; find/insert/remove assume residency
// (PagedRecords asserts it).
//
// Node layout in u32 words (capacity C = ⌊(nodeWords − 2) / 5⌋ entries):
//   [0] key count, [1] level (0 = leaf), [2 + 4j, 2 + 4j + 4) key j (u128, least significant word
//   first), [2 + 4C + j] value j (leaf) or child j (interior).
// Interior entry j's key is a lower bound of child j's keys: when a node splits, the right half's
// first key becomes its separator in the parent. Search takes the last child whose separator is
// ≤ the key, and child 0 takes everything below separator 1; nodes on the leftmost path keep key
// 0 = zero, which is a lower bound of anything. Words past a node's count are zero, so a node's
// bytes depend only on its entries.
//
// Right-edge split: transfer ids from TigerBeetle's id() are monotonic (milliseconds in the high
// bits), so almost every insertion lands at the end of the rightmost leaf. Splitting that leaf in
// half would leave every leaf half empty forever; instead, when the rightmost node at a level is
// full and the new entry goes at its end, a new right node starts with just that entry, and the
// full node stays full. Any other full node splits in half.
//
// No rebalancing on remove: transfers are immutable, so keys leave the tree only when a linked
// chain rolls back, removing the keys it just inserted (in the rightmost leaf, in the common
// case), which the next insertions refill. A removal just takes the key out of its leaf; leaves
// may become underfull or empty and separators stay as they are, which remains a valid search
// tree (separators only need to be bounds). A rollback does not undo the splits its insertions
// caused: the tree's bytes are a function of the sequence of operations, not of its key set,
// which is what replicas executing the same operations need.
//
// Right-edge fast path: the tree remembers its right edge (the rightmost node of each level) once
// an insertion has walked it. A key above the last key of the rightmost leaf is absent, and goes
// at that leaf's end: find answers −1 and insert appends without descending, when that leaf is
// resident (the path is only a hint: a split, a removal or a restore forgets it, and the next
// insertion along the right edge learns it again). The pages touched and the bytes written are
// the same as the full descent's, so the fast path changes speed, never results.
//
// Determinism: no randomness, clock or hash order; every operation's effect on the pages is a
// function of the tree's bytes and its arguments. New nodes come from nodes.append(), so node
// numbers follow the order of splits. Insert and find allocate nothing (a preallocated path).
import { assert } from "../assert.js";
import type { PagePool } from "../page_pool.js";
import { PagedRecords } from "../paged_records.js";
import { u128Compare, u128Copy } from "../u128.js";

const countWord = 0;
const levelWord = 1;
const keysWord = 2;

/** Index of the child to descend into: the last separator ≤ the key, or 0 when none is. */
function childIndex(node: Uint32Array, words: Uint32Array, i: number): number {
  // The first j in [1, count) whose separator is > key; the child is the one before it.
  let lo = 1;
  let hi = node[countWord]!;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (u128Compare(node, keysWord + 4 * mid, words, i) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** The first position whose key is ≥ the key (the count when none is). */
function lowerBound(node: Uint32Array, words: Uint32Array, i: number): number {
  let lo = 0;
  let hi = node[countWord]!;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (u128Compare(node, keysWord + 4 * mid, words, i) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class IdTree {
  /** The nodes, one per record and one record per page: node n is page n. */
  readonly nodes: PagedRecords;
  /** Entries per node (C). */
  readonly capacity: number;
  /** Word of value/child 0. */
  private readonly valuesWord: number;

  // root, height and count are the owner's to persist in its metadata; restore() sets them back.
  /** The root node, −1 before the first insertion (removals never free nodes, so it stays set). */
  root = -1;
  /** Levels: 0 before the first insertion, 1 when the root is a leaf. */
  height = 0;
  /** Keys in the tree. */
  count = 0;

  // The path of the last descent: node and child index at each depth above the leaf.
  private pathNode = new Int32Array(16);
  private pathIndex = new Int32Array(16);
  /** The rightmost leaf, when known (−1 otherwise): see "Right-edge fast path" above. */
  private rightLeaf = -1;

  constructor(pageBytes: number, pool?: PagePool) {
    const nodeWords = Math.floor(pageBytes / 4);
    this.nodes = new PagedRecords(nodeWords, pageBytes, pool);
    assert(this.nodes.perPage === 1, "id tree: one node per page");
    this.capacity = Math.floor((nodeWords - 2) / 5);
    assert(this.capacity >= 2, "id tree: pages too small for two entries per node");
    this.valuesWord = keysWord + 4 * this.capacity;
  }

  /**
   * Sets root, height and count back from the owner's metadata, after `nodes` has its count and
   * pages again. (Assigning the three fields directly is equivalent; this also checks them.)
   */
  restore(root: number, height: number, count: number): void {
    assert(Number.isInteger(root) && Number.isInteger(height) && Number.isInteger(count));
    assert(root === -1 ? height === 0 && count === 0 : root >= 0 && root < this.nodes.count && height >= 1);
    assert(count >= 0);
    this.root = root;
    this.height = height;
    this.count = count;
    this.rightLeaf = -1;
    this.reservePath();
  }

  /**
   * True when the key is known absent because it lies above every key in the tree: the
   * rightmost leaf is known, resident and not empty, and its last key is below the key.
   */
  aboveAll(words: Uint32Array, i: number): boolean {
    const n = this.rightLeaf;
    if (n < 0 || !this.nodes.isResident(n)) return false;
    const leaf = this.nodes.u32(n);
    const count = leaf[countWord]!;
    return count > 0 && u128Compare(leaf, keysWord + 4 * (count - 1), words, i) < 0;
  }

  /** The value stored for the key at words[i..i+4), or −1. */
  find(words: Uint32Array, i: number): number {
    if (this.root < 0 || this.aboveAll(words, i)) return -1;
    return this.valueIn(this.nodes.u32(this.leafOf(words, i)), words, i);
  }

  /** The value the leaf holds for the key, or −1. */
  private valueIn(leaf: Uint32Array, words: Uint32Array, i: number): number {
    const j = lowerBound(leaf, words, i);
    if (j < leaf[countWord]! && u128Compare(leaf, keysWord + 4 * j, words, i) === 0) return leaf[this.valuesWord + j]!;
    return -1;
  }

  /** The leaf whose range holds the key (the tree is not empty). */
  private leafOf(words: Uint32Array, i: number): number {
    let n = this.root;
    for (let level = this.height - 1; level > 0; level--) {
      const node = this.nodes.u32(n);
      n = node[this.valuesWord + childIndex(node, words, i)]!;
    }
    return n;
  }

  /** The first node on the key's root-to-leaf path that is not resident, or −1 (also when empty). */
  probe(words: Uint32Array, i: number): number {
    let n = this.root;
    if (n < 0) return -1;
    const nodes = this.nodes;
    for (let level = this.height - 1; ; level--) {
      if (!nodes.isResident(nodes.pageOf(n))) return n;
      if (level === 0) return -1;
      const node = nodes.u32(n);
      n = node[this.valuesWord + childIndex(node, words, i)]!;
    }
  }

  /**
   * find(), calling `visit` with each node on the key's root-to-leaf path, top down, while it
   * returns true (the prefetch notes each node and says whether it is resident). Returns the
   * key's value (−1 when absent), or −2 when `visit` stopped the descent; otherwise find, insert
   * and remove of this key touch only the nodes visited.
   */
  findVisiting(words: Uint32Array, i: number, visit: (node: number) => boolean): number {
    let n = this.root;
    if (n < 0) return -1;
    const nodes = this.nodes;
    for (let level = this.height - 1; ; level--) {
      if (!visit(n)) return -2;
      const node = nodes.u32(n);
      if (level === 0) return this.valueIn(node, words, i);
      n = node[this.valuesWord + childIndex(node, words, i)]!;
    }
  }

  /** Inserts a key that is absent, with value `value` (< 2^31). */
  insert(words: Uint32Array, i: number, value: number): void {
    assert(value >>> 0 === value && value < 0x8000_0000, "id tree: values are u32 below 2^31");
    const nodes = this.nodes;
    if (this.root < 0) {
      const n = nodes.append();
      const leaf = nodes.u32(n);
      leaf[countWord] = 1;
      leaf[levelWord] = 0;
      u128Copy(leaf, keysWord, words, i);
      leaf[this.valuesWord] = value;
      this.root = n;
      this.height = 1;
      this.count = 1;
      this.rightLeaf = n;
      return;
    }

    if (this.aboveAll(words, i)) {
      const leaf = nodes.u32(this.rightLeaf);
      const count = leaf[countWord]!;
      if (count < this.capacity) {
        this.insertEntry(leaf, count, words, i, value);
        nodes.markDirty(this.rightLeaf);
        this.count += 1;
        return;
      }
    }

    // Descend, remembering the path and how deep it follows the right edge of the tree.
    const depth = this.height - 1; // of the leaf
    let n = this.root;
    let rightDepth = 0; // nodes at depths 0..rightDepth are the rightmost of their level
    for (let d = 0; d < depth; d++) {
      const node = nodes.u32(n);
      const j = childIndex(node, words, i);
      this.pathNode[d] = n;
      this.pathIndex[d] = j;
      if (rightDepth === d && j === node[countWord]! - 1) rightDepth = d + 1;
      n = node[this.valuesWord + j]!;
    }
    const leaf = nodes.u32(n);
    let pos = lowerBound(leaf, words, i);
    assert(
      pos === leaf[countWord]! || u128Compare(leaf, keysWord + 4 * pos, words, i) !== 0,
      "id tree: inserting a key that is present",
    );
    this.count += 1;

    // Insert the entry; a full node splits and passes (first key of the right node, right node)
    // up to its parent, at the position after the child that split.
    let keyWords = words;
    let keyAt = i;
    let payload = value;
    for (let d = depth; ; d--) {
      const node = nodes.u32(n);
      if (node[countWord]! < this.capacity) {
        this.insertEntry(node, pos, keyWords, keyAt, payload);
        nodes.markDirty(n);
        // The leaf took the entry without splitting: it is the rightmost if the path was.
        this.rightLeaf = d === depth && rightDepth === depth ? n : -1;
        return;
      }
      this.rightLeaf = -1;
      const right = this.split(n, pos, keyWords, keyAt, payload, d <= rightDepth);
      keyWords = nodes.u32(right);
      keyAt = keysWord;
      payload = right;
      if (d === 0) {
        this.growRoot(n, keyWords, keyAt, right);
        return;
      }
      n = this.pathNode[d - 1]!;
      pos = this.pathIndex[d - 1]! + 1;
    }
  }

  /** Removes a key that is present, from its leaf only (no rebalancing: see the header). */
  remove(words: Uint32Array, i: number): void {
    assert(this.root >= 0, "id tree: removing from an empty tree");
    const n = this.leafOf(words, i);
    const values = this.valuesWord;
    const leaf = this.nodes.u32(n);
    const pos = lowerBound(leaf, words, i);
    const count = leaf[countWord]!;
    assert(pos < count && u128Compare(leaf, keysWord + 4 * pos, words, i) === 0, "id tree: removing a key that is absent");
    leaf.copyWithin(keysWord + 4 * pos, keysWord + 4 * (pos + 1), keysWord + 4 * count);
    leaf.fill(0, keysWord + 4 * (count - 1), keysWord + 4 * count);
    leaf.copyWithin(values + pos, values + pos + 1, values + count);
    leaf[values + count - 1] = 0;
    leaf[countWord] = count - 1;
    this.nodes.markDirty(n);
    this.count -= 1;
    this.rightLeaf = -1;
  }

  // ---- internals ----

  /** Inserts entry (key, payload) at `pos` of a node that has room. */
  private insertEntry(node: Uint32Array, pos: number, keyWords: Uint32Array, keyAt: number, payload: number): void {
    const count = node[countWord]!;
    const values = this.valuesWord;
    if (pos < count) { // an append (the common case) moves nothing: skip the two builtin calls
      node.copyWithin(keysWord + 4 * (pos + 1), keysWord + 4 * pos, keysWord + 4 * count);
      node.copyWithin(values + pos + 1, values + pos, values + count);
    }
    u128Copy(node, keysWord + 4 * pos, keyWords, keyAt);
    node[values + pos] = payload;
    node[countWord] = count + 1;
  }

  /**
   * Splits full node `n` while inserting (key, payload) at `pos`, and returns the new right node.
   * The rightmost node of its level, taking an entry at its end, starts a new node with just that
   * entry (right-edge split); any other node keeps ⌈(C + 1) / 2⌉ entries and moves the rest.
   */
  private split(n: number, pos: number, keyWords: Uint32Array, keyAt: number, payload: number, rightmost: boolean): number {
    const nodes = this.nodes;
    const capacity = this.capacity;
    const values = this.valuesWord;
    const right = nodes.append();
    const l = nodes.u32(n);
    const r = nodes.u32(right);
    r[levelWord] = l[levelWord]!;
    if (rightmost && pos === capacity) {
      this.insertEntry(r, 0, keyWords, keyAt, payload);
    } else {
      const leftCount = (capacity + 2) >>> 1;
      const from = pos < leftCount ? leftCount - 1 : leftCount; // old entries [from, C) move right
      for (let j = from; j < capacity; j++) {
        const k = j - from;
        u128Copy(r, keysWord + 4 * k, l, keysWord + 4 * j);
        r[values + k] = l[values + j]!;
      }
      l.fill(0, keysWord + 4 * from, keysWord + 4 * capacity);
      l.fill(0, values + from, values + capacity);
      l[countWord] = from;
      r[countWord] = capacity - from;
      if (pos < leftCount) this.insertEntry(l, pos, keyWords, keyAt, payload);
      else this.insertEntry(r, pos - from, keyWords, keyAt, payload);
    }
    nodes.markDirty(n);
    nodes.markDirty(right);
    return right;
  }

  /** The root `left` split into (left, right): a new root above both. Its key 0 stays zero. */
  private growRoot(left: number, keyWords: Uint32Array, keyAt: number, right: number): void {
    const nodes = this.nodes;
    const root = nodes.append();
    const node = nodes.u32(root);
    node[countWord] = 2;
    node[levelWord] = this.height;
    u128Copy(node, keysWord + 4, keyWords, keyAt);
    node[this.valuesWord] = left;
    node[this.valuesWord + 1] = right;
    nodes.markDirty(root);
    this.root = root;
    this.height += 1;
    this.reservePath();
  }

  /** Makes the path stack hold the levels above the leaf (grows only with the height: rare). */
  private reservePath(): void {
    if (this.height <= this.pathNode.length) return;
    let length = this.pathNode.length;
    while (length < this.height) length *= 2;
    const pathNode = new Int32Array(length);
    const pathIndex = new Int32Array(length);
    pathNode.set(this.pathNode);
    pathIndex.set(this.pathIndex);
    this.pathNode = pathNode;
    this.pathIndex = pathIndex;
  }
}

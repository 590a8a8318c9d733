// The simulator's deterministic heaps, checked against a sorted-array model.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IndexedHeap, TimedHeap } from "../../src/sim/world/heap.js";

interface Item { readyAt: number; seq: number }

describe("TimedHeap", () => {
  it("pops in (readyAt, seq) order under random pushes, pops and removals", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("push" as const), readyAt: fc.integer({ min: 0, max: 20 }) }),
      fc.record({ kind: fc.constant("pop" as const) }),
      fc.record({ kind: fc.constant("remove" as const), index: fc.nat() }),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
      const heap = new TimedHeap<Item>();
      let model: Item[] = [];
      let seq = 0;
      const order = (a: Item, b: Item): number => a.readyAt - b.readyAt || a.seq - b.seq;
      for (const o of ops) {
        if (o.kind === "push") {
          const item = { readyAt: o.readyAt, seq: seq++ };
          heap.push(item);
          model.push(item);
        } else if (o.kind === "pop" && model.length > 0) {
          model.sort(order);
          expect(heap.pop()).toBe(model.shift());
        } else if (o.kind === "remove" && model.length > 0) {
          const removed = heap.removeAt(o.index % heap.size);
          model = model.filter((item) => item !== removed);
        }
        expect(heap.size).toBe(model.length);
        if (model.length > 0) expect(heap.peek()).toBe([...model].sort(order)[0]);
      }
    }));
  });
});

describe("IndexedHeap", () => {
  it("tracks the minimum (key1, key2, id) under random sets and deletes", () => {
    const op = fc.record({
      id: fc.integer({ min: 0, max: 15 }),
      remove: fc.boolean(),
      key1: fc.integer({ min: 0, max: 10 }),
      key2: fc.integer({ min: 0, max: 10 }),
    });
    fc.assert(fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
      const heap = new IndexedHeap(16);
      const model = new Map<number, [number, number]>();
      for (const o of ops) {
        if (o.remove) {
          heap.delete(o.id);
          model.delete(o.id);
        } else {
          heap.set(o.id, o.key1, o.key2);
          model.set(o.id, [o.key1, o.key2]);
        }
        expect(heap.size).toBe(model.size);
        expect(heap.has(o.id)).toBe(model.has(o.id));
        if (model.size === 0) continue;
        const best = [...model.entries()].sort((a, b) => a[1][0] - b[1][0] || a[1][1] - b[1][1] || a[0] - b[0])[0]!;
        expect(heap.peekId()).toBe(best[0]);
        expect(heap.peekKey1()).toBe(best[1][0]);
        expect(heap.peekKey2()).toBe(best[1][1]);
      }
      heap.clear();
      expect(heap.size).toBe(0);
    }));
  });
});

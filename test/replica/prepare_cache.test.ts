// The prepare cache (replica/prepare_cache.ts): lookups by op and checksum, as a BigInt (get) or
// as the bytes of a header that names the prepare (holds).
import { describe, expect, it } from "vitest";
import { Command, Operation } from "../../src/core/command.js";
import { PrepareHeader, setChecksums } from "../../src/core/header.js";
import { PrepareCache } from "../../src/replica/prepare_cache.js";

function prepare(op: number, view = 1): Uint8Array {
  const bytes = new Uint8Array(256);
  const header = new PrepareHeader(bytes, 0);
  header.command = Command.prepare;
  header.size = 256;
  header.view = view;
  header.op = op;
  header.operation = Operation.noop;
  setChecksums(bytes, 0, 256);
  return bytes;
}

describe("PrepareCache", () => {
  it("holds a prepare by op and checksum, as get finds it", () => {
    const cache = new PrepareCache(4);
    const five = prepare(5);
    cache.put(five);
    const header = new PrepareHeader(five.slice(), 0); // another buffer naming the same prepare
    expect(cache.holds(5, header)).toBe(true);
    expect(cache.get(5, header.checksum)).toBe(five);
    // Another prepare of op 5 (another view), or another op in the same index.
    const other = new PrepareHeader(prepare(5, 2), 0);
    expect(cache.holds(5, other)).toBe(false);
    expect(cache.get(5, other.checksum)).toBeNull();
    expect(cache.holds(9, new PrepareHeader(prepare(9), 0))).toBe(false);
    // A newer op evicts the older one sharing its index.
    const nine = prepare(9);
    cache.put(nine);
    expect(cache.holds(5, header)).toBe(false);
    expect(cache.holds(9, new PrepareHeader(nine, 0))).toBe(true);
  });
});

// id(): a fresh, time-ordered 128-bit identifier, as tigerbeetle-node's `id()`: the high 48 bits
// are milliseconds since the epoch and the low 80 bits are random; ids made within the same
// millisecond increase by one so they stay strictly monotonic in this process.
//
// Within a millisecond the next id is the last one plus one: a single BigInt operation (load
// generators call this for every transfer). `headroom` counts the increments left before the 80
// random bits would overflow; where it exceeds 2^53 it is inexact, but then it cannot run out.
import { randomFillSync } from "node:crypto";

const randomMax = (1n << 80n) - 1n;
let lastMs = 0;
let last = 0n;
let headroom = 0;
const randomBytes = new Uint8Array(10);

export function id(): bigint {
  const ms = Date.now();
  if (ms <= lastMs) {
    if (headroom < 1) throw new Error("id(): random bits overflowed within one millisecond");
    headroom -= 1;
    last += 1n;
    return last;
  }
  lastMs = ms;
  randomFillSync(randomBytes);
  const random = randomBytes.reduce((value, byte) => (value << 8n) | BigInt(byte), 0n);
  headroom = Number(randomMax - random);
  last = (BigInt(ms) << 80n) | random;
  return last;
}

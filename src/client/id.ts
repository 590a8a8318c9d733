// id(): a fresh, time-ordered 128-bit identifier, as tigerbeetle-node's `id()`: the high 48 bits
// are milliseconds since the epoch and the low 80 bits are random; ids made within the same
// millisecond increase by one so they stay strictly monotonic in this process.
import { randomFillSync } from "node:crypto";

let lastMs = 0;
let lastRandom = 0n; // 80 bits
const randomBytes = new Uint8Array(10);

export function id(): bigint {
  let ms = Date.now();
  if (ms <= lastMs) {
    ms = lastMs;
    lastRandom += 1n;
    if (lastRandom >> 80n !== 0n) throw new Error("id(): random bits overflowed within one millisecond");
  } else {
    lastMs = ms;
    randomFillSync(randomBytes);
    lastRandom = randomBytes.reduce((value, byte) => (value << 8n) | BigInt(byte), 0n);
  }
  return (BigInt(ms) << 80n) | lastRandom;
}

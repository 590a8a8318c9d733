// Small messages (pings, pongs, commits, repair requests, join_views: up to 4 KiB) are carved from
// shared 16 KiB slabs. A Uint8Array of more than 64 bytes gets a backing store of
// its own from V8, about 0.5 µs to allocate and to free; a view into a slab costs about 0.06 µs.
// The replica builds one for every ping, pong and heartbeat, which made these allocations the
// largest single cost of a pong in the simulator.
//
// A slab is never reused: the garbage collector frees it once every message carved from it is
// unreachable. A fresh slab is zero-filled, so a message starts as zeroed as `new Uint8Array`.
// Callers may keep a message for as long as they like; one kept for long holds its 16 KiB slab.
// Offsets are kept 8-byte aligned, so typed views over a message stay possible.

const slabBytes = 16 * 1024;
/** Larger messages (prepares, replies, large header batches) get a buffer of their own. */
const smallMessageMax = 4096;

let slab = new ArrayBuffer(slabBytes);
let used = 0;

/** A zeroed message of `size` bytes (a view into a slab when small). */
export function newMessage(size: number): Uint8Array {
  if (size > smallMessageMax) return new Uint8Array(size);
  if (used + size > slabBytes) {
    slab = new ArrayBuffer(slabBytes);
    used = 0;
  }
  const message = new Uint8Array(slab, used, size);
  used += (size + 7) & ~7;
  return message;
}

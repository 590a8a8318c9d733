import { describe, expect, it } from "vitest";
import { newMessage } from "../../src/core/message_slab.js";

describe("newMessage", () => {
  it("hands out zeroed, disjoint, 8-byte aligned small messages", () => {
    const messages = Array.from({ length: 200 }, (_, i) => newMessage(256 + (i % 3) * 4));
    for (const message of messages) {
      expect(message.every((byte) => byte === 0)).toBe(true);
      expect(message.byteOffset % 8).toBe(0);
      message.fill(0xab);
    }
    // Writing every message did not touch another: each is still all 0xab and of its size.
    messages.forEach((message, i) => {
      expect(message.length).toBe(256 + (i % 3) * 4);
      expect(message.every((byte) => byte === 0xab)).toBe(true);
    });
    // 200 messages of about 256 bytes span several 16 KiB slabs.
    expect(new Set(messages.map((message) => message.buffer)).size).toBeGreaterThan(1);
  });

  it("gives large messages a buffer of their own", () => {
    const message = newMessage(1 << 20);
    expect(message.byteOffset).toBe(0);
    expect(message.buffer.byteLength).toBe(1 << 20);
  });
});

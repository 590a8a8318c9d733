// StateMachine.validateRequest (spec/ledger.md §12, spec/wire.md §8) on hand-built multi-batch
// bodies, plus StateMachine.eventCount and prepareTimestamp (§5). Bodies are encoded by the tiny
// encoder in helpers.ts, which is itself checked byte for byte against the wire.md §8 examples.
import { describe, expect, it } from "vitest";
import { elements, encodeMultiBatch, trailerSize } from "./helpers.js";
import { prepareTimestamp, stateMachine } from "./ledgers.js";

const PRODUCTION = 1_048_320;
const DEVELOPMENT = 32_512;
const BODY_MAX = 1_048_320;

const Op = {
  lookup_accounts: 140,
  lookup_transfers: 141,
  get_account_transfers: 142,
  get_account_balances: 143,
  query_accounts: 144,
  query_transfers: 145,
  create_accounts: 146,
  create_transfers: 147,
} as const;

/** Event and result sizes per operation (§3). */
const sizes: Record<number, { event: number; result: number }> = {
  [Op.lookup_accounts]: { event: 16, result: 128 },
  [Op.lookup_transfers]: { event: 16, result: 128 },
  [Op.get_account_transfers]: { event: 128, result: 128 },
  [Op.get_account_balances]: { event: 128, result: 128 },
  [Op.query_accounts]: { event: 64, result: 128 },
  [Op.query_transfers]: { event: 64, result: 128 },
  [Op.create_accounts]: { event: 128, result: 16 },
  [Op.create_transfers]: { event: 128, result: 16 },
};

/** §12: event_max(op, L) for create and lookup operations. */
function eventMax(op: number, L: number): number {
  const { event, result } = sizes[op]!;
  return Math.min(
    Math.floor((L - trailerSize(event, 1)) / event),
    Math.floor((BODY_MAX - trailerSize(result, 1)) / result),
  );
}

/** One AccountFilter (128) or QueryFilter (64) with the given limit; other bytes zero. */
function filter(op: number, limit: number): Uint8Array {
  const size = sizes[op]!.event;
  const bytes = new Uint8Array(size);
  new DataView(bytes.buffer).setUint32(size === 128 ? 120 : 56, limit >>> 0, true);
  return bytes;
}

function body(op: number, counts: number[]): Uint8Array {
  const E = sizes[op]!.event;
  return encodeMultiBatch(E, counts.map((n) => elements(n, E)));
}

function valid(op: number, b: Uint8Array, L = PRODUCTION): boolean {
  return stateMachine().validateRequest(op, b, L);
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
const ff = (n: number): string => "ff".repeat(n);

describe("the test encoder matches wire.md §8 examples", () => {
  it("example 1: createAccounts([a, b, c]) request and reply", () => {
    const request = encodeMultiBatch(128, [elements(3, 128, 0xab)]);
    expect(request.length).toBe(512);
    expect(hex(request.subarray(384))).toBe(ff(124) + "0300" + "0100");
    const reply = encodeMultiBatch(16, [elements(3, 16)]);
    expect(reply.length).toBe(64);
    expect(hex(reply.subarray(48))).toBe(ff(12) + "0300" + "0100");
  });

  it("example 2: lookupAccounts([x])", () => {
    const request = encodeMultiBatch(16, [elements(1, 16, 0x11)]);
    expect(request.length).toBe(32);
    expect(hex(request.subarray(16))).toBe(ff(12) + "0100" + "0100");
  });

  it("examples 3–5: merged calls and the empty call", () => {
    const three = encodeMultiBatch(128, [elements(2, 128), elements(1, 128)]);
    expect(hex(three.subarray(384))).toBe(ff(122) + "0100" + "0200" + "0200");
    const four = encodeMultiBatch(128, [8, 1, 0, 4].map((n) => elements(n, 128)));
    expect(four.length).toBe(1664 + 128);
    expect(hex(four.subarray(1664))).toBe(ff(118) + "0400" + "0000" + "0100" + "0800" + "0400");
    expect(hex(encodeMultiBatch(128, [elements(0, 128)]))).toBe(ff(124) + "0000" + "0100");
    expect(hex(encodeMultiBatch(16, [elements(0, 16)]))).toBe(ff(12) + "0000" + "0100");
  });

  it("event_max per §12", () => {
    expect(eventMax(Op.create_accounts, PRODUCTION)).toBe(8189);
    expect(eventMax(Op.create_transfers, DEVELOPMENT)).toBe(253);
    expect(eventMax(Op.lookup_accounts, PRODUCTION)).toBe(8189);
    expect(eventMax(Op.lookup_transfers, DEVELOPMENT)).toBe(2031);
  });
});

describe("StateMachine.validateRequest accepts valid bodies", () => {
  for (const op of [Op.create_accounts, Op.create_transfers, Op.lookup_accounts, Op.lookup_transfers]) {
    it(`operation ${op}: one event, an empty batch, several batches`, () => {
      expect(valid(op, body(op, [1]))).toBe(true);
      expect(valid(op, body(op, [0]))).toBe(true);
      expect(valid(op, body(op, [8, 1, 0, 4]))).toBe(true);
      expect(valid(op, body(op, [1]), DEVELOPMENT)).toBe(true);
    });
  }

  for (const op of [Op.get_account_transfers, Op.get_account_balances, Op.query_accounts, Op.query_transfers]) {
    it(`operation ${op}: one filter per batch, any limit (also 0 and above 8189)`, () => {
      const E = sizes[op]!.event;
      expect(valid(op, encodeMultiBatch(E, [filter(op, 10)]))).toBe(true);
      expect(valid(op, encodeMultiBatch(E, [filter(op, 0)]))).toBe(true); // invalid filter → empty result, not eviction
      expect(valid(op, encodeMultiBatch(E, [filter(op, 0xffff_ffff)]))).toBe(true); // capped at 8189
      expect(valid(op, encodeMultiBatch(E, [filter(op, 1), filter(op, 2), filter(op, 3)]))).toBe(true);
      expect(valid(op, encodeMultiBatch(E, [filter(op, 8189)]), DEVELOPMENT)).toBe(true);
    });
  }
});

describe("StateMachine.validateRequest: decoding failures (wire.md §8)", () => {
  const op = Op.create_transfers;
  it("fewer than 2 bytes", () => {
    expect(valid(op, new Uint8Array(0))).toBe(false);
    expect(valid(op, new Uint8Array([1]))).toBe(false);
    expect(valid(Op.lookup_accounts, new Uint8Array(0))).toBe(false);
  });

  it("batch_count 0 or 0xFFFF", () => {
    expect(valid(op, encodeMultiBatch(128, [elements(1, 128)], { batchCount: 0 }))).toBe(false);
    expect(valid(op, encodeMultiBatch(128, [elements(1, 128)], { batchCount: 0xffff }))).toBe(false);
    expect(valid(Op.lookup_accounts, encodeMultiBatch(16, [elements(0, 16)], { batchCount: 0 }))).toBe(false);
  });

  it("a body shorter than its trailer", () => {
    // A 2-byte body that claims one batch: trailer(128, 1) = 128 bytes are needed.
    expect(valid(op, new Uint8Array([0x01, 0x00]))).toBe(false);
    // 64 bytes: 60 × 0xFF, count 0, batch count 1. A correct trailer for E = 64, too short for E = 128.
    const short = new Uint8Array(64).fill(0xff);
    short.set([0x00, 0x00, 0x01, 0x00], 60);
    expect(valid(op, short)).toBe(false);
    // A batch count whose trailer would not fit: 100 batches need trailer(128, 100) = 256 bytes.
    expect(valid(op, encodeMultiBatch(128, [elements(0, 128)], { batchCount: 100 }))).toBe(false);
  });

  it("padding bytes that are not 0xFF", () => {
    expect(valid(op, encodeMultiBatch(128, [elements(1, 128)], { padding: 0x00 }))).toBe(false);
    const b = encodeMultiBatch(128, [elements(1, 128)]);
    b[128] = 0xfe; // the first padding byte of the trailer
    expect(valid(op, b)).toBe(false);
    const lookup = encodeMultiBatch(16, [elements(1, 16)]);
    lookup[16 + 11] = 0x7f; // the last padding byte before the counts
    expect(valid(Op.lookup_accounts, lookup)).toBe(false);
  });

  it("counts that do not match the payload", () => {
    expect(valid(op, encodeMultiBatch(128, [elements(1, 128)], { counts: [2] }))).toBe(false);
    expect(valid(op, encodeMultiBatch(128, [elements(2, 128)], { counts: [1] }))).toBe(false);
    expect(valid(op, encodeMultiBatch(128, [elements(1, 128), elements(1, 128)], { counts: [2, 0] }))).toBe(true);
    expect(valid(op, encodeMultiBatch(128, [elements(1, 128), elements(1, 128)], { counts: [2, 1] }))).toBe(false);
  });

  it("partial events", () => {
    // 130 payload bytes with a count of 1: not a whole number of 128-byte events.
    expect(valid(op, encodeMultiBatch(128, [new Uint8Array(130)], { counts: [1] }))).toBe(false);
    expect(valid(op, encodeMultiBatch(128, [new Uint8Array(127)], { counts: [1] }))).toBe(false);
    expect(valid(Op.lookup_transfers, encodeMultiBatch(16, [new Uint8Array(24)], { counts: [1] }))).toBe(false);
    expect(valid(Op.lookup_transfers, encodeMultiBatch(16, [new Uint8Array(24)], { counts: [2] }))).toBe(false);
    // A raw (non-multi-batch) body of 3 accounts is not a valid multi-batch body.
    expect(valid(Op.create_accounts, elements(3, 128))).toBe(false);
  });
});

describe("StateMachine.validateRequest: query batches need exactly one filter", () => {
  for (const op of [Op.get_account_transfers, Op.get_account_balances, Op.query_accounts, Op.query_transfers]) {
    it(`operation ${op}`, () => {
      const E = sizes[op]!.event;
      expect(valid(op, encodeMultiBatch(E, [elements(0, E)]))).toBe(false);
      const two = new Uint8Array(2 * E);
      two.set(filter(op, 1), 0);
      two.set(filter(op, 1), E);
      expect(valid(op, encodeMultiBatch(E, [two]))).toBe(false);
      expect(valid(op, encodeMultiBatch(E, [filter(op, 1), elements(0, E)]))).toBe(false);
      expect(valid(op, encodeMultiBatch(E, [filter(op, 1), filter(op, 1)]))).toBe(true);
    });
  }
});

describe("StateMachine.validateRequest: too many events (event_max, §12)", () => {
  for (const [L, name] of [[PRODUCTION, "production"], [DEVELOPMENT, "development"]] as const) {
    for (const op of [Op.create_accounts, Op.create_transfers, Op.lookup_accounts, Op.lookup_transfers]) {
      const max = eventMax(op, L);
      it(`operation ${op}, ${name}: ${max} events per batch are valid, ${max + 1} are not`, () => {
        expect(valid(op, body(op, [max]), L)).toBe(true);
        expect(valid(op, body(op, [max + 1]), L)).toBe(false);
        // The limit is per batch: an over-full batch after a small one is still invalid.
        expect(valid(op, body(op, [1, max + 1]), L)).toBe(false);
      });
    }
  }

  it("development limits are 253 creates and 2031 lookups", () => {
    expect(valid(Op.create_accounts, body(Op.create_accounts, [253]), DEVELOPMENT)).toBe(true);
    expect(valid(Op.create_accounts, body(Op.create_accounts, [254]), DEVELOPMENT)).toBe(false);
    expect(valid(Op.lookup_accounts, body(Op.lookup_accounts, [2031]), DEVELOPMENT)).toBe(true);
    expect(valid(Op.lookup_accounts, body(Op.lookup_accounts, [2032]), DEVELOPMENT)).toBe(false);
    // The same bodies are fine in production.
    expect(valid(Op.create_accounts, body(Op.create_accounts, [254]), PRODUCTION)).toBe(true);
    expect(valid(Op.lookup_accounts, body(Op.lookup_accounts, [2032]), PRODUCTION)).toBe(true);
  });
});

describe("StateMachine.validateRequest: the worst-case reply must fit in 1,048,320 bytes", () => {
  it("lookups: Σ counts · 128 + trailer(128, b)", () => {
    // 4094 + 4095 = 8189 results: 8189 · 128 + 128 = 1,048,320 fits exactly.
    expect(valid(Op.lookup_accounts, body(Op.lookup_accounts, [4094, 4095]))).toBe(true);
    // 8190 results do not, though each batch is below event_max.
    expect(valid(Op.lookup_accounts, body(Op.lookup_accounts, [4095, 4095]))).toBe(false);
    expect(valid(Op.lookup_transfers, body(Op.lookup_transfers, [8189, 1]))).toBe(false);
    expect(valid(Op.lookup_transfers, body(Op.lookup_transfers, [8188, 1]))).toBe(true);
  });

  for (const op of [Op.get_account_transfers, Op.get_account_balances, Op.query_accounts, Op.query_transfers]) {
    it(`queries (operation ${op}): Σ min(limit, 8189) · 128 + trailer(128, b)`, () => {
      const E = sizes[op]!.event;
      expect(valid(op, encodeMultiBatch(E, [filter(op, 4094), filter(op, 4095)]))).toBe(true);
      expect(valid(op, encodeMultiBatch(E, [filter(op, 4095), filter(op, 4095)]))).toBe(false);
      expect(valid(op, encodeMultiBatch(E, [filter(op, 0xffff_ffff), filter(op, 0)]))).toBe(true);
      expect(valid(op, encodeMultiBatch(E, [filter(op, 0xffff_ffff), filter(op, 1)]))).toBe(false);
      // The reply limit does not depend on batch_size_limit.
      expect(valid(op, encodeMultiBatch(E, [filter(op, 4095), filter(op, 4095)]), DEVELOPMENT)).toBe(false);
    });
  }
});

describe("StateMachine.eventCount (§5 rule 2)", () => {
  it("creates count all events over all batches; lookups and queries count 0", () => {
    const sm = stateMachine();
    expect(sm.eventCount(Op.create_accounts, body(Op.create_accounts, [3, 2]))).toBe(5);
    expect(sm.eventCount(Op.create_transfers, body(Op.create_transfers, [8, 1, 0, 4]))).toBe(13);
    expect(sm.eventCount(Op.create_transfers, body(Op.create_transfers, [0]))).toBe(0);
    expect(sm.eventCount(Op.lookup_accounts, body(Op.lookup_accounts, [7]))).toBe(0);
    expect(sm.eventCount(Op.query_transfers, encodeMultiBatch(64, [filter(Op.query_transfers, 5)]))).toBe(0);
    expect(sm.eventCount(Op.get_account_balances, encodeMultiBatch(128, [filter(Op.get_account_balances, 5)]))).toBe(0);
  });
});

describe("prepareTimestamp (§5 rules 1–3)", () => {
  it("base = max(max(prev, commit) + 1, realtime); P = base + N", () => {
    expect(prepareTimestamp(1000n, 0n, 0n, 5)).toBe(1006n);
    expect(prepareTimestamp(999n, 1000n, 0n, 5)).toBe(1006n);
    expect(prepareTimestamp(5n, 10n, 0n, 0)).toBe(11n);
    expect(prepareTimestamp(5n, 10n, 100n, 3)).toBe(103n);
    expect(prepareTimestamp(100n, 0n, 100n, 0)).toBe(101n);
    expect(prepareTimestamp(100n, 0n, 101n, 0)).toBe(101n);
    expect(prepareTimestamp(0n, 0n, 1_700_000_000_000_000_000n, 8190)).toBe(1_700_000_000_000_008_190n);
  });
});

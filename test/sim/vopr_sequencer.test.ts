// The reply sequencer (spec/vopr.md §11.2): each op once, in op order, canonical prepares only,
// out-of-order ops held in a bounded stall queue; and the echo workload it feeds.
import { describe, expect, test } from "vitest";
import { PrepareHeader } from "../../src/core/header.js";
import { Prng } from "../../src/core/prng.js";
import { echoOperation } from "../../src/sim/workloads/echo_state_machine.js";
import { ReplySequencer } from "../../src/sim/checkers/reply_sequencer.js";
import { CorrectnessError } from "../../src/sim/checkers/state_checker.js";
import { EchoWorkload } from "../../src/sim/workloads/workload.js";
import { chain, checksumOf, prepare, replyTo, rootChecksum } from "./vopr_helpers.js";

function setup(capacity = 4) {
  const ops = chain();
  const canonical = [rootChecksum, ...ops.map(checksumOf)];
  const emitted: { op: number; reply: boolean }[] = [];
  const sequencer = new ReplySequencer(capacity, (op) => canonical[op]!, (bytes, reply) => {
    emitted.push({ op: new PrepareHeader(bytes, 0).op, reply: reply !== null });
  });
  return { ops, sequencer, emitted };
}

describe("reply sequencer", () => {
  test("emits each op once, in op order, whatever the order and number of reports", () => {
    const { ops, sequencer, emitted } = setup();
    // Three replicas report; replica 2 is ahead of the others (e.g. it synced past op 1).
    sequencer.push(ops[2]!, replyTo(ops[2]!));
    sequencer.push(ops[1]!, replyTo(ops[1]!));
    expect(emitted).toEqual([]);
    expect(sequencer.free).toBe(2);
    sequencer.push(ops[0]!, replyTo(ops[0]!));
    expect(emitted.map((entry) => entry.op)).toEqual([1, 2, 3]);
    for (const bytes of ops.slice(0, 3)) sequencer.push(bytes, replyTo(bytes)); // duplicates
    sequencer.push(ops[3]!, replyTo(ops[3]!));
    expect(emitted.map((entry) => entry.op)).toEqual([1, 2, 3, 4]);
    expect(emitted.map((entry) => entry.reply)).toEqual([true, false, true, true]); // op 2 is a pulse
    expect(sequencer.free).toBe(4);
    expect(sequencer.nextOp).toBe(5);
  });

  test("stalled buffers are copies: the reporter may reuse its buffers", () => {
    const { ops, sequencer, emitted } = setup();
    const scratch = ops[1]!.slice();
    sequencer.push(scratch, null);
    scratch.fill(0);
    sequencer.push(ops[0]!, replyTo(ops[0]!));
    expect(emitted.map((entry) => entry.op)).toEqual([1, 2]);
  });

  test("rejects a prepare that is not the canonical one, emitted or stalled", () => {
    const { ops, sequencer } = setup();
    sequencer.push(ops[0]!, replyTo(ops[0]!));
    const forged = prepare({ op: 1, parent: rootChecksum, body: new Uint8Array([1]) });
    expect(() => sequencer.push(forged, null)).toThrow(CorrectnessError);
    sequencer.push(ops[2]!, replyTo(ops[2]!));
    const forged3 = prepare({ op: 3, parent: 0n });
    expect(() => sequencer.push(forged3, null)).toThrow(/two different prepares/);
  });

  test("the stall queue is bounded", () => {
    const { ops, sequencer } = setup(2);
    sequencer.push(ops[1]!, null);
    sequencer.push(ops[2]!, replyTo(ops[2]!));
    expect(sequencer.free).toBe(0);
    expect(() => sequencer.push(ops[3]!, replyTo(ops[3]!))).toThrow(/stall queue full/);
  });
});

describe("echo workload", () => {
  test("bodies up to batch_size_limit, and replies must equal requests", () => {
    const workload = new EchoWorkload(new Prng(5), { clientCount: 2, batchSizeLimit: 300, multiBatchPerRequestLimit: 1 });
    let longest = 0;
    for (let index = 0; index < 200; index++) {
      const request = workload.nextRequest(index % 2);
      expect(request.operation).toBe(echoOperation);
      expect(request.body.length).toBeLessThanOrEqual(300);
      longest = Math.max(longest, request.body.length);
      expect(workload.onCommit(echoOperation, 1n, request.body, request.body.slice())).toBeNull();
    }
    expect(longest).toBeGreaterThan(250);
    const body = new Uint8Array([1, 2, 3]);
    expect(workload.onCommit(echoOperation, 1n, body, new Uint8Array([1, 2]))).toMatch(/2 bytes/);
    expect(workload.onCommit(echoOperation, 1n, body, new Uint8Array([1, 9, 3]))).toMatch(/byte 1/);
    expect(workload.onCommit(146, 1n, body, body)).toMatch(/operation/);
    expect(workload.describe()).toContain("batch_size_limit=300");
  });

  test("the same seed draws the same requests", () => {
    const draw = () => {
      const workload = new EchoWorkload(new Prng(9), { clientCount: 1, batchSizeLimit: 3840, multiBatchPerRequestLimit: 1 });
      return Array.from({ length: 5 }, () => [...workload.nextRequest(0).body.subarray(0, 8)]);
    };
    expect(draw()).toEqual(draw());
  });
});

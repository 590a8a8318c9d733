// Story tests of the VSR client against a hand-driven replica: what it sends, when it retries,
// and which replies and evictions it accepts (spec/wire.md §9).
import { describe, expect, test } from "vitest";
import { VsrClient, type ClientFailure } from "../../src/replica/client.js";
import { Prng } from "../../src/core/prng.js";
import { Command, EvictionReason, Operation } from "../../src/core/command.js";
import {
  buildEviction, buildReply, Header, ReplyHeader, RequestHeader,
} from "../../src/core/header.js";
import { releaseCurrent } from "../../src/core/config.js";
import type { Time } from "../../src/io/time.js";

const cluster = 7n;
const clientId = 0xabcdefn;

class ManualTime implements Time {
  ticks = 0;
  monotonic(): bigint { return BigInt(this.ticks) * 10_000_000n; }
  realtime(): bigint { return 1_700_000_000_000_000_000n + this.monotonic(); }
  tick(): void { this.ticks += 1; }
}

function setup(replicaCount = 3) {
  const sent: { replica: number; message: Uint8Array }[] = [];
  const time = new ManualTime();
  const client = new VsrClient({
    cluster, replicaCount, clientId, release: releaseCurrent, messageSizeMax: 4096, queueMax: 8,
    time, prng: new Prng(1),
    bus: {
      sendToReplica: (replica, message) => sent.push({ replica, message: message.slice() }),
      sendToClient: () => { throw new Error("clients do not send to clients"); },
    },
  });
  const tick = (n: number) => { for (let i = 0; i < n; i++) { time.tick(); client.tick(); } };
  return { client, sent, tick };
}

function registerReply(request: Uint8Array, op: number, batchSizeLimit = 3840): Uint8Array {
  const body = new Uint8Array(64);
  new DataView(body.buffer).setUint32(0, batchSizeLimit, true);
  return buildReply(new Header(request, 0), op, 1_000n + BigInt(op), 0, 0, body);
}

describe("VsrClient", () => {
  test("registers first, to the primary only, and queues requests until then", () => {
    const { client, sent } = setup();
    expect(sent.map((s) => s.replica)).toEqual([0]);
    const register = new RequestHeader(sent[0]!.message, 0);
    expect(register.command).toBe(Command.request);
    expect(register.operation).toBe(Operation.register);
    expect(register.size).toBe(512);

    client.request(146, new Uint8Array(16), () => {});
    expect(sent).toHaveLength(1); // still waiting for the register reply
    client.onMessage(registerReply(sent[0]!.message, 5));
    expect(client.session).toBe(5);
    expect(client.batchSizeLimit).toBe(3840);
    expect(sent.map((s) => s.replica)).toEqual([0, 0]);
    const first = new RequestHeader(sent[1]!.message, 0);
    expect(first.request).toBe(1);
    expect(first.session).toBe(5);
    expect(first.parent).toBe(new ReplyHeader(registerReply(sent[0]!.message, 5), 0).context);
  });

  test("a retry goes to the primary plus one hedged backup, byte-identical", () => {
    const { sent, tick } = setup();
    expect(sent.map((s) => s.replica)).toEqual([0]);
    tick(60);
    expect(sent).toHaveLength(3);
    expect(sent[1]!.replica).toBe(0);
    expect(sent[2]!.replica).not.toBe(0);
    for (const retry of sent.slice(1)) expect(Buffer.from(retry.message).equals(Buffer.from(sent[0]!.message))).toBe(true);
  });

  test("retries byte-identical messages after 600 ms, then backs off", () => {
    const { sent, tick } = setup(1);
    expect(sent).toHaveLength(1);
    tick(59);
    expect(sent).toHaveLength(1);
    tick(1);
    expect(sent).toHaveLength(2);
    expect(Buffer.from(sent[1]!.message).equals(Buffer.from(sent[0]!.message))).toBe(true);
    tick(60);
    expect(sent.length).toBeGreaterThanOrEqual(2); // backoff: rtt·2 + 1 + jitter ≥ 61 ticks
    tick(2000);
    expect(sent.length).toBeGreaterThan(3);
  });

  test("chains parent = context through replies and ignores stale or foreign replies", () => {
    const { client, sent } = setup(1);
    client.onMessage(registerReply(sent[0]!.message, 1));
    const replies: Uint8Array[] = [];
    client.request(146, new Uint8Array(32), (failure, reply) => { expect(failure).toBeNull(); replies.push(reply!); });
    client.request(146, new Uint8Array(32), (failure, reply) => { expect(failure).toBeNull(); replies.push(reply!); });
    const request1 = sent[1]!.message;
    // A reply for another client is dropped; so is one with a wrong request checksum.
    const foreign = buildReply(new Header(request1, 0), 2, 2_000n, 0, 0, new Uint8Array(16));
    new ReplyHeader(foreign, 0).client = 99n;
    client.onMessage(foreign);
    expect(replies).toHaveLength(0);
    const reply1 = buildReply(new Header(request1, 0), 2, 2_000n, 0, 0, new Uint8Array(16));
    client.onMessage(reply1);
    client.onMessage(reply1); // duplicate: ignored
    expect(replies).toHaveLength(1);
    const request2 = new RequestHeader(sent[2]!.message, 0);
    expect(request2.request).toBe(2);
    expect(request2.parent).toBe(new ReplyHeader(reply1, 0).context);
  });

  test("an eviction fails the request in flight and every later one", () => {
    const { client, sent } = setup(1);
    client.onMessage(registerReply(sent[0]!.message, 1));
    const failures: (ClientFailure | null)[] = [];
    client.request(147, new Uint8Array(16), (failure) => failures.push(failure));
    client.request(147, new Uint8Array(16), (failure) => failures.push(failure));
    client.onMessage(buildEviction(cluster, 12345n, EvictionReason.no_session, 0, 0, releaseCurrent));
    expect(failures).toEqual([]); // not ours
    client.onMessage(buildEviction(cluster, clientId, EvictionReason.no_session, 0, 0, releaseCurrent));
    expect(failures).toEqual([EvictionReason.no_session, EvictionReason.no_session]);
    client.request(147, new Uint8Array(16), (failure) => failures.push(failure));
    expect(failures).toHaveLength(3);
    expect(client.pending).toBe(0);
  });

  test("a reply from another cluster is dropped", () => {
    const { client, sent } = setup(1);
    const reply = registerReply(sent[0]!.message, 1);
    const header = new Header(reply, 0);
    header.cluster = 8n;
    header.setChecksums();
    client.onMessage(reply);
    expect(client.registered).toBe(false);
  });
});

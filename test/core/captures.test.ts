// The wire captures of tigerbeetle-node 0.17.9 (test/fixtures/captures, README "How to use
// them"): every file decodes and verifies, fields match captures.json, the stream splits into
// three messages under any chunking, our builders reproduce the server-side files byte for byte,
// and the session hash chain holds.
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checksum } from "../../src/core/checksum.js";
import { Command, EvictionReason, Operation } from "../../src/core/command.js";
import { releaseCurrent } from "../../src/core/config.js";
import {
  FrameField, Header, MessageFramer, PingClientHeader, PongClientHeader, ReplyField, ReplyHeader, RequestField,
  RequestHeader, EvictionHeader, buildEviction, buildPongClient, buildRegisterRequest, buildReply, commandLayout,
  decodeHeaderFields, validateHeader, verifyBodyChecksum, verifyHeaderChecksum,
} from "../../src/core/header.js";
import { MultiBatchReader, MultiBatchWriter } from "../../src/core/multi_batch.js";

const capturesDirectory = new URL("../fixtures/captures/", import.meta.url);

function capture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(name, capturesDirectory)));
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

interface CaptureField { offset: number; size: number; value: number | string; hex: string }
interface CaptureFile {
  bytes: number;
  command?: number;
  size?: number;
  checksum_hex?: string;
  checksum_body_hex?: string;
  fields?: Record<string, CaptureField>;
  messages?: CaptureFile[];
}
const manifest = JSON.parse(readFileSync(new URL("captures.json", capturesDirectory), "utf8")) as {
  files: Record<string, CaptureFile>;
  relations: Record<string, boolean>;
};

/** Splits a stream with a framer, copying each message out. */
function frame(bytes: Uint8Array, chunks: Uint8Array[] = [bytes]): Uint8Array[] {
  const framer = new MessageFramer();
  const messages: Uint8Array[] = [];
  for (const chunk of chunks) expect(framer.feed(chunk, (message) => messages.push(message.slice()))).toBeNull();
  expect(framer.bufferedBytes).toBe(0);
  return messages;
}

function expectMatchesManifest(message: Uint8Array, expected: CaptureFile): void {
  const header = new Header(message);
  expect(header.command).toBe(expected.command);
  expect(header.size).toBe(expected.size);
  expect(header.checksum).toBe(BigInt(expected.checksum_hex!));
  expect(header.checksum_body).toBe(BigInt(expected.checksum_body_hex!));
  const decoded = decodeHeaderFields(header);
  const layout = commandLayout(header.command)!;
  for (const [name, field] of Object.entries(expected.fields!)) {
    // Every captured field sits where our layout (or the frame) says it does.
    const ours = layout.find((f) => f.name === name);
    const frameOffset = (FrameField as Record<string, number>)[name];
    expect(ours?.offset ?? frameOffset, name).toBe(field.offset);
    expect(hex(message.subarray(field.offset, field.offset + field.size)), name).toBe(field.hex);
    if (name in decoded) expect(BigInt(decoded[name]!), name).toBe(BigInt(field.value));
  }
}

describe("captures: parsing", () => {
  const names = readdirSync(fileURLToPath(capturesDirectory)).filter((name) => name.endsWith(".bin")).sort();

  it("has the files the README lists", () => {
    expect(names).toEqual(Object.keys(manifest.files).sort());
    expect(Object.values(manifest.relations).every((holds) => holds)).toBe(true);
  });

  for (const name of names) {
    it(`${name}: frames, verifies both checksums, is valid, and matches captures.json`, () => {
      const bytes = capture(name);
      const expected = manifest.files[name]!;
      expect(bytes.length).toBe(expected.bytes);
      const messages = frame(bytes);
      const parts = expected.messages ?? [expected];
      expect(messages.length).toBe(parts.length);
      messages.forEach((message, i) => {
        expect(verifyHeaderChecksum(message, 0)).toBe(true);
        expect(verifyBodyChecksum(message, 0)).toBe(true);
        expect(validateHeader(new Header(message))).toBeNull();
        expectMatchesManifest(message, parts[i]!);
      });
    });
  }

  it("register_request_x3_stream.bin splits into three identical messages under any chunking", () => {
    const stream = capture("register_request_x3_stream.bin");
    const first = stream.subarray(0, 512);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: stream.length }), { maxLength: 40 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const chunks: Uint8Array[] = [];
        let start = 0;
        for (const point of [...points, stream.length]) {
          chunks.push(stream.slice(start, point));
          start = point;
        }
        const messages = frame(stream, chunks);
        expect(messages.map(hex)).toEqual([hex(first), hex(first), hex(first)]);
      }),
      { numRuns: 300 },
    );
    const request = new RequestHeader(first);
    expect(request.operation).toBe(Operation.register);
    expect(request.size).toBe(512);
  });

  it("register_request_cluster7.bin differs in cluster", () => {
    const request = new RequestHeader(capture("register_request_cluster7.bin"));
    expect(request.cluster).toBe(7n);
    expect(request.operation).toBe(Operation.register);
  });

  it("create_accounts_request.bin carries one multi-batch account", () => {
    const request = new RequestHeader(capture("create_accounts_request.bin"));
    const reader = new MultiBatchReader();
    expect(reader.reset(request.body(), 128)).toBeNull();
    expect(reader.batchCount).toBe(1);
    expect(reader.elementCount(0)).toBe(1);
    expect(reader.batchOffset(0)).toBe(0);
  });
});

describe("captures: builders reproduce the server-side files", () => {
  it("register_reply.bin from register_request.bin, op 1, RegisterResult{1,048,320}", () => {
    const body = new Uint8Array(64);
    new DataView(body.buffer).setUint32(0, 1_048_320, true);
    const request = new Header(capture("register_request.bin"));
    const built = buildReply(request, 1, 1_700_000_000_000_000_001n, 0, 0, body);
    expect(hex(built)).toBe(hex(capture("register_reply.bin")));
  });

  it("create_accounts_reply.bin from create_accounts_request.bin, op 2, one result via the writer", () => {
    const timestamp = 1_700_000_000_000_000_110n;
    const body = new Uint8Array(64);
    const writer = new MultiBatchWriter().reset(body, 16);
    writer.beginBatch();
    const at = writer.reserveElements(1);
    const view = new DataView(body.buffer);
    view.setBigUint64(at, timestamp, true); // CreateAccountResult.timestamp
    view.setUint32(at + 8, 0xffff_ffff, true); // status: created
    view.setUint32(at + 12, 0, true); // reserved
    writer.endBatch();
    const length = writer.finish();
    expect(length).toBe(32);
    const request = new Header(capture("create_accounts_request.bin"));
    const built = buildReply(request, 2, timestamp, 0, 0, body.subarray(0, length));
    expect(hex(built)).toBe(hex(capture("create_accounts_reply.bin")));
  });

  it("pong_client.bin from ping_client.bin", () => {
    const ping = new PingClientHeader(capture("ping_client.bin"));
    const built = buildPongClient(ping.cluster, ping.ping_timestamp_monotonic, 0, 0, releaseCurrent);
    expect(hex(built)).toBe(hex(capture("pong_client.bin")));
  });

  it("eviction_no_session.bin from its client id and reason 1", () => {
    const original = capture("eviction_no_session.bin");
    const eviction = new EvictionHeader(original);
    expect(eviction.reason).toBe(EvictionReason.no_session);
    const built = buildEviction(0n, eviction.client, EvictionReason.no_session, 0, 0, releaseCurrent);
    expect(hex(built)).toBe(hex(original));
  });

  it("register_request.bin is what our own client builds for its client id", () => {
    const captured = capture("register_request.bin");
    const client = new RequestHeader(captured).client;
    expect(hex(buildRegisterRequest(0n, client, releaseCurrent))).toBe(hex(captured));
  });
});

describe("captures: the session hash chain", () => {
  const registerRequest = new RequestHeader(capture("register_request.bin"));
  const registerReply = new ReplyHeader(capture("register_reply.bin"));
  const request1 = new RequestHeader(capture("create_accounts_request.bin"));
  const reply1 = new ReplyHeader(capture("create_accounts_reply.bin"));
  const request2 = new RequestHeader(capture("create_accounts_request_2.bin"));

  it("each reply answers its request", () => {
    expect(registerReply.u128Equals(ReplyField.request_checksum, registerRequest, FrameField.checksum)).toBe(true);
    expect(reply1.u128Equals(ReplyField.request_checksum, request1, FrameField.checksum)).toBe(true);
    expect(registerReply.release).toBe(registerRequest.release);
    expect(reply1.release).toBe(request1.release);
  });

  it("request n+1 carries parent = reply(n).context, session = the register's commit", () => {
    expect(request1.u128Equals(RequestField.parent, registerReply, ReplyField.context)).toBe(true);
    expect(request1.session).toBe(registerReply.commit);
    expect(request1.request).toBe(1);
    expect(request2.u128Equals(RequestField.parent, reply1, ReplyField.context)).toBe(true);
    expect(request2.session).toBe(registerReply.commit);
    expect(request2.request).toBe(2);
    for (const header of [registerRequest, request1, request2]) expect(header.client).toBe(registerRequest.client);
  });

  it("context = MAC(header[16..256) with context = 0)", () => {
    for (const reply of [registerReply, reply1]) {
      const zeroed = reply.bytes().slice();
      zeroed.fill(0, ReplyField.context, ReplyField.context + 16);
      expect(reply.context).toBe(checksum(zeroed.subarray(16)));
    }
  });

  it("pong echoes the ping's timestamp; pings carry the session", () => {
    const ping = new PingClientHeader(capture("ping_client.bin"));
    const pong = new PongClientHeader(capture("pong_client.bin"));
    expect(pong.command).toBe(Command.pong_client);
    expect(pong.ping_timestamp_monotonic).toBe(ping.ping_timestamp_monotonic);
    expect(ping.session).toBe(1);
    expect(ping.client).toBe(registerRequest.client);
    expect(new PingClientHeader(capture("ping_client_session0.bin")).session).toBe(0);
  });
});

// The 256-byte header (spec/wire.md §2–§6, §14): command numbers, layouts, accessor round trips
// for every command, checksum coverage, header validity rule by rule, the stream framer, and the
// golden examples built by the builders.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checksum } from "../../src/core/checksum.js";
import {
  Command, EvictionReason, Operation, commandName, isKnownCommand, isRetiredCommand, isStateMachineOperation,
  isValidEvictionReason,
} from "../../src/core/command.js";
import { releaseCurrent } from "../../src/core/config.js";
import {
  BlockField, BlockHeader, CommitField, CommitHeader, EmptyField, EvictionField, EvictionHeader, FrameField,
  GetHeadersField, GetHeadersHeader, GetPrepareField, GetPrepareHeader, GetReplyField, GetReplyHeader, GetViewField,
  GetViewHeader, Header, JoinViewField, JoinViewHeader, MessageFramer, PingClientField, PingClientHeader, PingField,
  PingHeader, PongClientField, PongClientHeader, PongField, PongHeader, PrepareField, PrepareHeader, PrepareOkField,
  PrepareOkHeader, ReplyField, ReplyHeader, RequestField, RequestHeader, ViewField, ViewHeader, buildEviction,
  buildPingClient, buildPongClient, buildRegisterRequest, buildReply, buildReplyFromPrepare, buildRequest,
  checksumBodyEmpty, commandLayout, decodeHeaderFields, restampReplyView, setChecksums, setHeaderChecksumOnly, setReplyChecksums,
  validateHeader, verifyBodyChecksum, verifyHeaderChecksum, wireMessageSizeMax, type FieldLayout,
} from "../../src/core/header.js";

const clientId = 0x0123456789abcdef0123456789abcdefn;

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

function readLE(bytes: Uint8Array, offset: number, size: number): bigint {
  let value = 0n;
  for (let i = size - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[offset + i]!);
  return value;
}

// ---------------------------------------------------------------------------------------------

describe("command numbers", () => {
  it("has every value of wire.md §3", () => {
    const expected: Record<string, number> = {
      reserved: 0, ping: 1, pong: 2, ping_client: 3, pong_client: 4, request: 5, prepare: 6, prepare_ok: 7,
      reply: 8, commit: 9, exit_view: 10, join_view: 11, deprecated_12: 12, get_view: 13, get_headers: 14,
      get_prepare: 15, get_reply: 16, headers: 17, eviction: 18, get_blocks: 19, block: 20, deprecated_21: 21,
      deprecated_22: 22, deprecated_23: 23, view: 24,
    };
    expect({ ...Command }).toEqual(expected);
    for (let n = 0; n <= 24; n++) expect(isKnownCommand(n)).toBe(true);
    for (const n of [25, 26, 255, -1, 1.5]) expect(isKnownCommand(n)).toBe(false);
    expect([0, 12, 21, 22, 23].every(isRetiredCommand)).toBe(true);
    expect(isRetiredCommand(24)).toBe(false);
    expect(commandName(11)).toBe("join_view");
    expect(commandName(99)).toBe("unknown(99)");
  });

  it("has the operations of ledger.md §3 and the eviction reasons of wire.md §4.5", () => {
    expect(Operation.register).toBe(2);
    expect(Operation.pulse).toBe(4);
    expect(Operation.lookup_accounts).toBe(140);
    expect(Operation.create_accounts).toBe(146);
    expect(Operation.create_transfers).toBe(147);
    expect(isStateMachineOperation(139)).toBe(false);
    expect(isStateMachineOperation(140) && isStateMachineOperation(147)).toBe(true);
    expect(isStateMachineOperation(148)).toBe(false);
    expect(EvictionReason.no_session).toBe(1);
    expect(EvictionReason.session_release_mismatch).toBe(8);
    expect(isValidEvictionReason(0) || isValidEvictionReason(9)).toBe(false);
  });

  it("checksumBodyEmpty is MAC(\"\")", () => {
    expect(checksum(new Uint8Array(0))).toBe(checksumBodyEmpty);
  });
});

// ---------------------------------------------------------------------------------------------
// Per-command metadata for the round-trip tests: accessor class and exported offsets.
// ---------------------------------------------------------------------------------------------

type HeaderClass = new (buffer: Uint8Array, offset?: number) => Header;

const commandClasses: ReadonlyArray<[Command, HeaderClass, Record<string, number>]> = [
  [Command.ping, PingHeader, PingField],
  [Command.pong, PongHeader, PongField],
  [Command.ping_client, PingClientHeader, PingClientField],
  [Command.pong_client, PongClientHeader, PongClientField],
  [Command.request, RequestHeader, RequestField],
  [Command.prepare, PrepareHeader, PrepareField],
  [Command.prepare_ok, PrepareOkHeader, PrepareOkField],
  [Command.reply, ReplyHeader, ReplyField],
  [Command.commit, CommitHeader, CommitField],
  [Command.exit_view, Header, EmptyField],
  [Command.join_view, JoinViewHeader, JoinViewField],
  [Command.get_view, GetViewHeader, GetViewField],
  [Command.get_headers, GetHeadersHeader, GetHeadersField],
  [Command.get_prepare, GetPrepareHeader, GetPrepareField],
  [Command.get_reply, GetReplyHeader, GetReplyField],
  [Command.headers, Header, EmptyField],
  [Command.eviction, EvictionHeader, EvictionField],
  [Command.get_blocks, Header, EmptyField],
  [Command.block, BlockHeader, BlockField],
  [Command.view, ViewHeader, ViewField],
];

describe("layouts", () => {
  it("cover [128, 256) for every live command and match the exported offsets", () => {
    for (const [command, , offsets] of commandClasses) {
      const fields = commandLayout(command)!;
      let at = 128;
      for (const field of fields) {
        expect(field.offset, `${commandName(command)}.${field.name}`).toBe(at);
        expect(offsets[field.name], `${commandName(command)}.${field.name}`).toBe(field.offset);
        at += field.size;
      }
      expect(at).toBe(256);
      expect(Object.keys(offsets).length).toBe(fields.length);
    }
    for (const retired of [0, 12, 21, 22, 23, 25]) expect(commandLayout(retired)).toBeNull();
  });

  it("places the client-command fields exactly as wire.md §4", () => {
    expect(RequestField).toEqual({
      parent: 128, parent_padding: 144, client: 160, session: 176, timestamp: 184, request: 192, operation: 196,
      padding: 197, previous_request_latency: 200, reserved: 204,
    });
    expect(ReplyField).toEqual({
      request_checksum: 128, request_checksum_padding: 144, context: 160, context_padding: 176, client: 192,
      op: 208, commit: 216, timestamp: 224, request: 232, operation: 236, reserved: 237,
    });
    expect(PingClientField).toEqual({ client: 128, ping_timestamp_monotonic: 144, session: 152, reserved: 160 });
    expect(PongClientField).toEqual({ ping_timestamp_monotonic: 128, reserved: 136 });
    expect(EvictionField).toEqual({ client: 128, reserved: 144, reason: 255 });
    expect(FrameField).toEqual({
      checksum: 0, checksum_padding: 16, checksum_body: 32, checksum_body_padding: 48, nonce_reserved: 64,
      cluster: 80, size: 96, epoch: 100, view: 104, release: 108, protocol: 112, command: 114, replica: 115,
      reserved_frame: 116,
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Round trip: random field values → accessors → bytes → fresh accessors.
// ---------------------------------------------------------------------------------------------

const u128Arbitrary = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });
const u64Arbitrary = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

function fieldArbitrary(field: FieldLayout): fc.Arbitrary<number | bigint> {
  switch (field.kind) {
    case "u8": return fc.integer({ min: 0, max: 0xff });
    case "u16": return fc.integer({ min: 0, max: 0xffff });
    case "u32": return fc.integer({ min: 0, max: 0xffff_ffff });
    case "u64": return u64Arbitrary;
    case "u64n": return fc.maxSafeNat();
    case "u128": return u128Arbitrary;
    case "zero": return fc.constant(0);
  }
}

function valuesArbitrary(command: Command): fc.Arbitrary<Record<string, number | bigint>> {
  const record: Record<string, fc.Arbitrary<number | bigint>> = {};
  for (const field of commandLayout(command)!) {
    if (field.kind !== "zero") record[field.name] = fieldArbitrary(field);
  }
  return fc.record(record);
}

const frameArbitrary = fc.record({
  cluster: u128Arbitrary,
  view: fc.integer({ min: 0, max: 0xffff_ffff }),
  release: fc.integer({ min: 0, max: 0xffff_ffff }),
  replica: fc.integer({ min: 0, max: 0xff }),
});

type Accessors = Record<string, unknown>;

describe("header round trip", () => {
  for (const [command, HeaderType] of commandClasses) {
    it(`${commandName(command)}: encode → decode, checksums, exact byte placement`, () => {
      fc.assert(
        fc.property(frameArbitrary, valuesArbitrary(command), fc.uint8Array({ maxLength: 80 }), (frame, values, body) => {
          const size = 256 + body.length;
          const buffer = new Uint8Array(size + 7);
          const header = new HeaderType(buffer, 7); // an unaligned offset on purpose
          header.command = command;
          header.size = size;
          Object.assign(header, frame);
          for (const [name, value] of Object.entries(values)) (header as unknown as Accessors)[name] = value;
          buffer.set(body, 7 + 256);
          setChecksums(buffer, 7, size);

          const copy = buffer.slice(7);
          const decoded = new HeaderType(copy) as unknown as Accessors;
          expect(verifyHeaderChecksum(copy, 0)).toBe(true);
          expect(verifyBodyChecksum(copy, 0)).toBe(true);
          expect(decoded["checksum_body"]).toBe(checksum(body));
          expect(decoded["checksum"]).toBe(checksum(copy.subarray(16, 256)));
          for (const key of ["cluster", "view", "release", "replica"] as const) expect(decoded[key]).toBe(frame[key]);
          expect(decoded["command"]).toBe(command);
          expect(decoded["size"]).toBe(size);
          const fields = decodeHeaderFields(decoded as unknown as Header);
          for (const field of commandLayout(command)!) {
            const raw = readLE(copy, field.offset, field.size);
            if (field.kind === "zero") {
              expect(raw, field.name).toBe(0n);
              continue;
            }
            const value = values[field.name]!;
            expect(decoded[field.name], field.name).toBe(value);
            expect(raw, field.name).toBe(BigInt(value));
            expect(BigInt(fields[field.name]!), field.name).toBe(BigInt(value));
            if (field.kind === "u64n") expect(decoded[`${field.name}_bigint`]).toBe(BigInt(value));
          }
        }),
        { numRuns: 60 },
      );
    });
  }

  it("flipping any byte of [16, 256) breaks the header checksum; a body byte breaks checksum_body", () => {
    const message = buildRequest(
      { cluster: 5n, client: clientId, parent: 77n, session: 3, request: 9, operation: 146, view: 2, release: 4361 },
      new Uint8Array(300).map((_, i) => i),
    );
    fc.assert(
      fc.property(fc.integer({ min: 16, max: 255 }), fc.integer({ min: 1, max: 255 }), (index, mask) => {
        const copy = message.slice();
        copy[index]! ^= mask;
        expect(verifyHeaderChecksum(copy, 0)).toBe(false);
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 256, max: message.length - 1 }), fc.integer({ min: 1, max: 255 }), (index, mask) => {
        const copy = message.slice();
        copy[index]! ^= mask;
        expect(verifyHeaderChecksum(copy, 0)).toBe(true);
        expect(verifyBodyChecksum(copy, 0)).toBe(false);
      }),
    );
    const truncated = message.slice(0, message.length - 1);
    expect(verifyBodyChecksum(truncated, 0)).toBe(false);
  });

  it("number accessors refuse u64 values above 2^53 and setters refuse out-of-range values", () => {
    const header = new ReplyHeader(new Uint8Array(256));
    header.op_bigint = 1n << 53n;
    expect(() => header.op).toThrow();
    header.op = Number.MAX_SAFE_INTEGER;
    expect(header.op_bigint).toBe(BigInt(Number.MAX_SAFE_INTEGER));
    expect(() => { header.view = 2 ** 32; }).toThrow();
    expect(() => { header.replica = 256; }).toThrow();
    expect(() => { header.client = 1n << 128n; }).toThrow();
    expect(() => { header.timestamp = -1n; }).toThrow();
  });

  it("region helpers compare and copy u128 fields without BigInt", () => {
    const a = new ReplyHeader(new Uint8Array(256));
    const b = new RequestHeader(new Uint8Array(300), 44);
    a.context = 0xdeadbeef_00000000_11111111_22222222n;
    expect(b.u128Equals(RequestField.parent, a, ReplyField.context)).toBe(false);
    b.copyBytes(RequestField.parent, a, ReplyField.context, 16);
    expect(b.u128Equals(RequestField.parent, a, ReplyField.context)).toBe(true);
    expect(b.parent).toBe(a.context);
    const words = new Uint32Array(8);
    b.readU128Words(RequestField.parent, words, 4);
    expect([...words.subarray(4)]).toEqual([0x22222222, 0x11111111, 0, 0xdeadbeef]);
    words[4] = 7;
    b.writeU128Words(RequestField.client, words, 4);
    expect(b.client).toBe(0xdeadbeef_00000000_11111111_00000007n);
    expect(b.isZero(RequestField.session, 8)).toBe(true);
  });

  it("reset re-points an accessor without reallocating its DataView for the same buffer", () => {
    const buffer = new Uint8Array(1024);
    const header = new Header(buffer, 0);
    const dataView = header.dataView;
    header.reset(buffer, 512).view = 9;
    expect(header.dataView).toBe(dataView);
    expect(new Header(buffer, 512).view).toBe(9);
    expect(() => header.reset(buffer, 1024 - 255)).toThrow();
  });
});

// ---------------------------------------------------------------------------------------------
// Golden examples (wire.md §14).
// ---------------------------------------------------------------------------------------------

/** A message from the `offset: hex` rows of wire.md §14; every other byte is zero. */
function fromRows(size: number, rows: Record<number, string>, body?: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(size);
  for (const [offset, row] of Object.entries(rows)) bytes.set(Buffer.from(row, "hex"), Number(offset));
  if (body) bytes.set(body, 256);
  return bytes;
}

function registerResultBody(batch_size_limit: number): Uint8Array {
  const body = new Uint8Array(64);
  new DataView(body.buffer).setUint32(0, batch_size_limit, true);
  return body;
}

describe("golden examples (wire.md §14)", () => {
  const registerRequest = buildRegisterRequest(0n, clientId, releaseCurrent);

  it("pong_client", () => {
    const expected = fromRows(256, {
      0: "db6fd1d0e7e1f47fc5d226c7b671c505",
      32: "83cc600dc4e3e7e62d4055826174f149",
      96: "00010000000000000000000009110000",
      112: "00000400000000000000000000000000",
      128: "15cd5b07000000000000000000000000",
    });
    expect(hex(buildPongClient(0n, 123456789n, 0, 0, releaseCurrent))).toBe(hex(expected));
    expect(new Header(expected).checksum).toBe(0x05c571b6c726d2c57ff4e1e7d0d16fdbn);
  });

  it("eviction", () => {
    const expected = fromRows(256, {
      0: "b053f2bbd3d54e03b93de0bdc067799a",
      32: "83cc600dc4e3e7e62d4055826174f149",
      96: "00010000000000000000000009110000",
      112: "00001200000000000000000000000000",
      128: "efcdab8967452301efcdab8967452301",
      240: "00000000000000000000000000000001",
    });
    const built = buildEviction(0n, clientId, EvictionReason.no_session, 0, 0, releaseCurrent);
    expect(hex(built)).toBe(hex(expected));
    expect(new Header(built).checksum).toBe(0x9a7967c0bde03db9034ed5d3bbf253b0n);
  });

  it("register request", () => {
    const expected = fromRows(512, {
      0: "f2af59ee4977ffd34506c8b7cfd08850",
      32: "651b82f3ddd4fcbf2deb8496e8ff613c",
      96: "00020000000000000000000009110000",
      112: "00000500000000000000000000000000",
      160: "efcdab8967452301efcdab8967452301",
      192: "00000000020000000000000000000000",
    });
    expect(hex(registerRequest)).toBe(hex(expected));
    expect(new Header(registerRequest).checksum).toBe(0x5088d0cfb7c80645d3ff7749ee59aff2n);
    expect(validateHeader(new Header(registerRequest))).toBeNull();
  });

  it("register reply (checksums in the order body → context → checksum)", () => {
    const body = registerResultBody(1_048_320);
    const expected = fromRows(320, {
      0: "36286725586eb31414d11e5253896a26",
      32: "b5d20e04fd672c08f88ed62b32da1c19",
      96: "40010000000000000000000009110000",
      112: "00000800000000000000000000000000",
      128: "f2af59ee4977ffd34506c8b7cfd08850",
      160: "946f8d83c30b90175f2059c80ca5248c",
      192: "efcdab8967452301efcdab8967452301",
      208: "01000000000000000100000000000000",
      224: "00002a36fe9c97170000000002000000",
    }, body);
    const built = buildReply(new Header(registerRequest), 1, 1_700_000_000_000_000_000n, 0, 0, body);
    expect(hex(built)).toBe(hex(expected));
    const reply = new ReplyHeader(built);
    expect(reply.checksum).toBe(0x266a8953521ed11414b36e5825672836n);
    expect(reply.context).toBe(0x8c24a50cc859205f17900bc3838d6f94n);
    expect(reply.checksum_body).toBe(0x191cda322bd68ef8082c67fd040ed2b5n);
    expect(validateHeader(reply)).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
// Builders and reply checksums beyond the goldens.
// ---------------------------------------------------------------------------------------------

describe("builders", () => {
  it("a reply copies release, cluster, client, request and operation from the request", () => {
    const request = buildRequest(
      { cluster: 99n, client: clientId, parent: 5n, session: 4, request: 7, operation: 147, view: 3, release: 4200 },
      new Uint8Array(128 + 128),
    );
    const reply = new ReplyHeader(buildReply(new Header(request), 12, 55n, 3, 2, new Uint8Array(16)));
    expect(reply.release).toBe(4200);
    expect(reply.cluster).toBe(99n);
    expect(reply.client).toBe(clientId);
    expect(reply.request).toBe(7);
    expect(reply.operation).toBe(147);
    expect(reply.op).toBe(12);
    expect(reply.commit).toBe(12);
    expect(reply.view).toBe(3);
    expect(reply.replica).toBe(2);
    expect(reply.request_checksum).toBe(new Header(request).checksum);
    expect(reply.verifyChecksum() && reply.verifyBodyChecksum()).toBe(true);
    // context = MAC(header[16..256) with context = 0)
    const zeroed = reply.bytes().slice();
    zeroed.fill(0, ReplyField.context, ReplyField.context + 16);
    expect(reply.context).toBe(checksum(zeroed.subarray(16)));
    expect(validateHeader(reply)).toBeNull();
  });

  it("builds into a caller buffer and returns the message view", () => {
    const output = new Uint8Array(1024).fill(0xaa);
    const message = buildPingClient(1n, clientId, 42n, 3, releaseCurrent, output);
    expect(message.buffer).toBe(output.buffer);
    expect(message.length).toBe(256);
    expect(validateHeader(new Header(message))).toBeNull();
    expect(new PingClientHeader(message).session).toBe(3);
  });

  it("restamping a reply's view keeps context and recomputes checksum", () => {
    const reply = buildReply(new Header(buildRegisterRequest(0n, clientId, releaseCurrent)), 1, 9n, 0, 0,
      registerResultBody(32_512));
    const before = new ReplyHeader(reply.slice());
    restampReplyView(reply, 0, 5);
    const after = new ReplyHeader(reply);
    expect(after.view).toBe(5);
    expect(after.context).toBe(before.context);
    expect(after.checksum).not.toBe(before.checksum);
    expect(after.verifyChecksum()).toBe(true);
  });

  it("buildReplyFromPrepare equals buildReply for the prepared request", () => {
    const requestBytes = buildRequest(
      { cluster: 3n, client: clientId, parent: 8n, session: 2, request: 4, operation: 146, view: 1, release: 4300 },
      new Uint8Array(256),
    );
    const request = new RequestHeader(requestBytes);
    const prepare = new PrepareHeader(new Uint8Array(256 + 256));
    prepare.command = Command.prepare;
    prepare.cluster = 3n;
    prepare.size = 512;
    prepare.view = 6;
    prepare.replica = 1;
    prepare.release = releaseCurrent;
    prepare.copyBytes(PrepareField.request_checksum, request, FrameField.checksum, 16);
    prepare.client = clientId;
    prepare.op = 10;
    prepare.commit = 9;
    prepare.timestamp = 1234n;
    prepare.request = 4;
    prepare.request_release = 4300;
    prepare.operation = 146;
    prepare.setChecksums();
    expect(validateHeader(prepare)).toBeNull();
    const body = new Uint8Array(16).fill(1);
    expect(hex(buildReplyFromPrepare(prepare, body))).toBe(hex(buildReply(request, 10, 1234n, 6, 1, body)));
  });

  it("setReplyChecksums refuses non-replies; setChecksums checks the size argument", () => {
    const ping = buildPingClient(0n, clientId, 1n, 0, releaseCurrent);
    expect(() => setReplyChecksums(ping, 0, 256)).toThrow();
    expect(() => setChecksums(ping, 0, 512)).toThrow();
  });
});

// ---------------------------------------------------------------------------------------------
// validateHeader: one row per rule.
// ---------------------------------------------------------------------------------------------

function createAccountsRequest(): Uint8Array {
  const body = new Uint8Array(256);
  body.fill(0xff, 128, 252);
  body.set([1, 0, 1, 0], 252);
  return buildRequest(
    { cluster: 0n, client: clientId, parent: 77n, session: 1, request: 1, operation: 146, view: 0, release: 4361 },
    body,
  );
}

function createAccountsReply(): Uint8Array {
  const body = new Uint8Array(32);
  body.fill(0xff, 16, 28);
  body.set([1, 0, 1, 0], 28);
  return buildReply(new Header(createAccountsRequest()), 2, 1_700_000_000_000_000_110n, 0, 0, body);
}

function registerReply(): Uint8Array {
  return buildReply(new Header(buildRegisterRequest(0n, clientId, 4361)), 1, 5n, 0, 0, registerResultBody(1_048_320));
}

const builders = {
  request: createAccountsRequest,
  register: () => buildRegisterRequest(0n, clientId, 4361),
  reply: createAccountsReply,
  register_reply: registerReply,
  ping_client: () => buildPingClient(0n, clientId, 5n, 1, 4361),
  pong_client: () => buildPongClient(0n, 5n, 0, 0, 4361),
  eviction: () => buildEviction(0n, clientId, EvictionReason.no_session, 0, 0, 4361),
} as const;

type Mutation = (header: RequestHeader & ReplyHeader & PingClientHeader & EvictionHeader & Header) => void;
interface Row {
  readonly base: keyof typeof builders;
  readonly rule: string;
  readonly mutate: Mutation;
  /** null: the mutation keeps the header valid. */
  readonly reason: string | null;
}

const setByte = (offset: number, value = 1): Mutation => (header) => { header.buffer[header.offset + offset] = value; };

const frameRows: Row[] = [
  { base: "request", rule: "checksum_padding", mutate: setByte(16), reason: "checksum_padding nonzero" },
  { base: "request", rule: "checksum_body_padding", mutate: setByte(63), reason: "checksum_body_padding nonzero" },
  { base: "request", rule: "nonce_reserved", mutate: setByte(70), reason: "nonce_reserved nonzero" },
  { base: "request", rule: "size < 256", mutate: (h) => { h.size = 255; }, reason: "size < header" },
  { base: "request", rule: "size > 1 MiB", mutate: (h) => { h.size = wireMessageSizeMax + 1; }, reason: "size > message_size_max" },
  { base: "request", rule: "size = 1 MiB", mutate: (h) => { h.size = wireMessageSizeMax; }, reason: null },
  { base: "request", rule: "epoch", mutate: (h) => { h.epoch = 1; }, reason: "epoch nonzero" },
  { base: "request", rule: "protocol", mutate: (h) => { h.protocol = 1; }, reason: "protocol nonzero" },
  { base: "request", rule: "reserved_frame", mutate: setByte(127), reason: "reserved_frame nonzero" },
  { base: "request", rule: "command 0", mutate: (h) => { h.command = 0; }, reason: "command reserved" },
  { base: "request", rule: "command 12", mutate: (h) => { h.command = 12; }, reason: "command deprecated" },
  { base: "request", rule: "command 23", mutate: (h) => { h.command = 23; }, reason: "command deprecated" },
  { base: "request", rule: "command 25", mutate: (h) => { h.command = 25; }, reason: "command unknown" },
];

const requestRows: Row[] = [
  { base: "request", rule: "release 0", mutate: (h) => { h.release = 0; }, reason: "release zero" },
  { base: "request", rule: "parent_padding", mutate: setByte(159), reason: "parent_padding nonzero" },
  { base: "request", rule: "padding", mutate: setByte(198), reason: "padding nonzero" },
  { base: "request", rule: "reserved", mutate: setByte(255), reason: "reserved nonzero" },
  { base: "request", rule: "operation 0", mutate: (h) => { h.operation = 0; }, reason: "operation reserved" },
  { base: "request", rule: "operation 1", mutate: (h) => { h.operation = 1; }, reason: "operation root" },
  { base: "request", rule: "operation 3 (reconfigure)", mutate: (h) => { h.operation = 3; }, reason: "operation invalid" },
  { base: "request", rule: "operation 6 (noop)", mutate: (h) => { h.operation = 6; }, reason: "operation invalid" },
  { base: "request", rule: "operation 127", mutate: (h) => { h.operation = 127; }, reason: "operation invalid" },
  { base: "request", rule: "operation 128..255 pass", mutate: (h) => { h.operation = 255; }, reason: null },
  { base: "request", rule: "pulse with client", mutate: (h) => { h.operation = 4; }, reason: "client nonzero" },
  { base: "request", rule: "upgrade with client", mutate: (h) => { h.operation = 5; }, reason: "client nonzero" },
  { base: "request", rule: "pulse with client 0", mutate: (h) => { h.operation = 4; h.client = 0n; }, reason: null },
  { base: "request", rule: "upgrade with client 0", mutate: (h) => { h.operation = 5; h.client = 0n; }, reason: null },
  { base: "request", rule: "≥128: replica", mutate: (h) => { h.replica = 1; }, reason: "replica nonzero" },
  { base: "request", rule: "≥128: client", mutate: (h) => { h.client = 0n; }, reason: "client zero" },
  { base: "request", rule: "≥128: session", mutate: (h) => { h.session = 0; }, reason: "session zero" },
  { base: "request", rule: "≥128: request", mutate: (h) => { h.request = 0; }, reason: "request zero" },
  { base: "request", rule: "session ≥ 2^53", mutate: (h) => { h.session_bigint = 1n << 53n; }, reason: "session too large" },
  { base: "request", rule: "timestamp ≠ 0 is not a header rule", mutate: (h) => { h.timestamp = 1n; }, reason: null },
  { base: "register", rule: "register: replica", mutate: (h) => { h.replica = 1; }, reason: "replica nonzero" },
  { base: "register", rule: "register: client", mutate: (h) => { h.client = 0n; }, reason: "client zero" },
  { base: "register", rule: "register: parent", mutate: (h) => { h.parent = 1n; }, reason: "parent nonzero" },
  { base: "register", rule: "register: session", mutate: (h) => { h.session = 1; }, reason: "session nonzero" },
  { base: "register", rule: "register: request", mutate: (h) => { h.request = 1; }, reason: "request nonzero" },
  { base: "register", rule: "register: size 768", mutate: (h) => { h.size = 768; }, reason: "register size" },
  { base: "register", rule: "register: size 320", mutate: (h) => { h.size = 320; }, reason: "register size" },
  { base: "register", rule: "register: size 256 (ancient client)", mutate: (h) => { h.size = 256; }, reason: null },
];

const replyRows: Row[] = [
  { base: "reply", rule: "release 0", mutate: (h) => { h.release = 0; }, reason: "release zero" },
  { base: "reply", rule: "client 0", mutate: (h) => { h.client = 0n; }, reason: "client zero" },
  { base: "reply", rule: "op ≠ commit", mutate: (h) => { h.commit = 3; }, reason: "op != commit" },
  { base: "reply", rule: "timestamp 0", mutate: (h) => { h.timestamp = 0n; }, reason: "timestamp zero" },
  { base: "reply", rule: "commit 0", mutate: (h) => { h.op = 0; h.commit = 0; }, reason: "commit zero" },
  { base: "reply", rule: "request 0", mutate: (h) => { h.request = 0; }, reason: "request zero" },
  { base: "reply", rule: "request_checksum_padding", mutate: setByte(150), reason: "request_checksum_padding nonzero" },
  { base: "reply", rule: "context_padding", mutate: setByte(191), reason: "context_padding nonzero" },
  { base: "reply", rule: "reserved", mutate: setByte(240), reason: "reserved nonzero" },
  { base: "reply", rule: "op ≥ 2^53", mutate: (h) => { h.op_bigint = 1n << 60n; h.commit_bigint = 1n << 60n; }, reason: "op too large" },
  { base: "register_reply", rule: "register reply: size 321", mutate: (h) => { h.size = 321; }, reason: "register reply size" },
  { base: "register_reply", rule: "register reply: request", mutate: (h) => { h.request = 1; }, reason: "register reply request nonzero" },
  { base: "register_reply", rule: "register reply: commit 0", mutate: (h) => { h.op = 0; h.commit = 0; }, reason: "commit zero" },
];

const pingPongEvictionRows: Row[] = [
  { base: "ping_client", rule: "size 512", mutate: (h) => { h.size = 512; }, reason: "size != header" },
  { base: "ping_client", rule: "checksum_body", mutate: (h) => { h.checksum_body = 1n; }, reason: "checksum_body not empty" },
  { base: "ping_client", rule: "release 0", mutate: (h) => { h.release = 0; }, reason: "release zero" },
  { base: "ping_client", rule: "replica", mutate: (h) => { h.replica = 1; }, reason: "replica nonzero" },
  { base: "ping_client", rule: "view", mutate: (h) => { h.view = 1; }, reason: "view nonzero" },
  { base: "ping_client", rule: "client 0", mutate: (h) => { h.client = 0n; }, reason: "client zero" },
  { base: "ping_client", rule: "reserved", mutate: setByte(200), reason: "reserved nonzero" },
  { base: "ping_client", rule: "session ≥ 2^53", mutate: (h) => { h.session_bigint = 1n << 63n; }, reason: "session too large" },
  { base: "ping_client", rule: "session 0 is valid", mutate: (h) => { h.session = 0; }, reason: null },
  { base: "pong_client", rule: "size 257", mutate: (h) => { h.size = 257; }, reason: "size != header" },
  { base: "pong_client", rule: "checksum_body", mutate: (h) => { h.checksum_body = 0n; }, reason: "checksum_body not empty" },
  { base: "pong_client", rule: "release 0", mutate: (h) => { h.release = 0; }, reason: "release zero" },
  { base: "pong_client", rule: "reserved", mutate: setByte(136), reason: "reserved nonzero" },
  { base: "pong_client", rule: "replica 6", mutate: (h) => { h.replica = 6; }, reason: "replica out of range" },
  { base: "pong_client", rule: "replica 5", mutate: (h) => { h.replica = 5; }, reason: null },
  { base: "eviction", rule: "size 512", mutate: (h) => { h.size = 512; }, reason: "size != header" },
  { base: "eviction", rule: "checksum_body", mutate: (h) => { h.checksum_body = 2n; }, reason: "checksum_body not empty" },
  { base: "eviction", rule: "release 0", mutate: (h) => { h.release = 0; }, reason: "release zero" },
  { base: "eviction", rule: "client 0", mutate: (h) => { h.client = 0n; }, reason: "client zero" },
  { base: "eviction", rule: "reason 0", mutate: (h) => { h.reason = 0; }, reason: "reason invalid" },
  { base: "eviction", rule: "reason 9", mutate: (h) => { h.reason = 9; }, reason: "reason invalid" },
  { base: "eviction", rule: "reason 8", mutate: (h) => { h.reason = 8; }, reason: null },
  { base: "eviction", rule: "reserved", mutate: setByte(254), reason: "reserved nonzero" },
];

describe("validateHeader (client commands)", () => {
  for (const base of Object.keys(builders) as (keyof typeof builders)[]) {
    it(`accepts a valid ${base}`, () => {
      expect(validateHeader(new Header(builders[base]()))).toBeNull();
    });
  }
  for (const row of [...frameRows, ...requestRows, ...replyRows, ...pingPongEvictionRows]) {
    it(`${row.base}: ${row.rule} → ${row.reason ?? "valid"}`, () => {
      const HeaderType = headerClassFor(row.base);
      const header = new HeaderType(builders[row.base]()) as Parameters<Mutation>[0];
      row.mutate(header);
      expect(validateHeader(header)).toBe(row.reason);
    });
  }

  it("honours a smaller message_size_max (the simulator's 4 KiB)", () => {
    const header = new Header(createAccountsRequest());
    header.size = 4097;
    expect(validateHeader(header, 4096)).toBe("size > message_size_max");
  });
});

function headerClassFor(base: keyof typeof builders): HeaderClass {
  switch (base) {
    case "request": case "register": return RequestHeader;
    case "reply": case "register_reply": return ReplyHeader;
    case "ping_client": return PingClientHeader;
    case "pong_client": return PongClientHeader;
    case "eviction": return EvictionHeader;
  }
}

// ---------------------------------------------------------------------------------------------
// validateHeader: replica commands (Scarab's own layouts and sanity rules).
// ---------------------------------------------------------------------------------------------

function replicaMessage<T extends Header>(
  HeaderType: new (buffer: Uint8Array) => T, command: Command, bodySize: number, fill: (header: T) => void,
): T {
  const header = new HeaderType(new Uint8Array(256 + bodySize));
  header.command = command;
  header.size = 256 + bodySize;
  header.release = releaseCurrent;
  header.replica = 2;
  header.view = 4;
  fill(header);
  header.setChecksums();
  return header;
}

const validReplicaMessages: Record<string, () => Header> = {
  ping: () => replicaMessage(PingHeader, Command.ping, 8, (h) => { h.release_count = 2; h.checkpoint_op = 20; }),
  pong: () => replicaMessage(PongHeader, Command.pong, 0, (h) => { h.pong_timestamp_wall = 1n; }),
  prepare: () => replicaMessage(PrepareHeader, Command.prepare, 128, (h) => {
    h.op = 5; h.commit = 4; h.timestamp = 10n; h.client = 3n; h.request = 1; h.request_release = 4361; h.operation = 146;
  }),
  prepare_register: () => replicaMessage(PrepareHeader, Command.prepare, 256, (h) => {
    h.op = 5; h.commit = 4; h.timestamp = 10n; h.client = 3n; h.request = 0; h.request_release = 4361; h.operation = 2;
  }),
  prepare_pulse: () => replicaMessage(PrepareHeader, Command.prepare, 0, (h) => {
    h.op = 5; h.commit = 0; h.timestamp = 10n; h.operation = 4;
  }),
  prepare_root: () => replicaMessage(PrepareHeader, Command.prepare, 0, (h) => { h.operation = 1; h.view = 0; }),
  prepare_ok: () => replicaMessage(PrepareOkHeader, Command.prepare_ok, 0, (h) => { h.op = 5; h.commit_min = 3; }),
  commit: () => replicaMessage(CommitHeader, Command.commit, 0, (h) => { h.commit = 9; h.checkpoint_op = 0; }),
  exit_view: () => replicaMessage(Header, Command.exit_view, 0, () => {}),
  join_view: () => replicaMessage(JoinViewHeader, Command.join_view, 512, (h) => { h.log_view = 4; h.op = 9; }),
  get_view: () => replicaMessage(GetViewHeader, Command.get_view, 0, (h) => { h.nonce = 77n; }),
  get_headers: () => replicaMessage(GetHeadersHeader, Command.get_headers, 0, (h) => { h.op_min = 3; h.op_max = 3; }),
  get_prepare: () => replicaMessage(GetPrepareHeader, Command.get_prepare, 0, (h) => { h.op = 3; }),
  get_reply: () => replicaMessage(GetReplyHeader, Command.get_reply, 0, (h) => { h.client = 1n; h.reply_op = 3; }),
  headers: () => replicaMessage(Header, Command.headers, 768, () => {}),
  get_blocks: () => replicaMessage(Header, Command.get_blocks, 48, () => {}),
  block: () => replicaMessage(BlockHeader, Command.block, 4096 - 256, (h) => { h.address = 1; h.block_type = 3; }),
  view: () => replicaMessage(ViewHeader, Command.view, 1000, (h) => { h.op = 9; h.commit_max = 8; h.nonce = 77n; }),
};

type ReplicaRow = [base: string, rule: string, mutate: (header: any) => void, reason: string];
const replicaRows: ReplicaRow[] = [
  ["pong", "replica ≥ 12", (h) => { h.replica = 12; }, "replica out of range"],
  ["pong", "size", (h) => { h.size = 512; }, "size != header"],
  ["pong", "reserved", (h) => { h.buffer[200] = 1; }, "reserved nonzero"],
  ["ping", "release 0", (h) => { h.release = 0; }, "release zero"],
  ["ping", "release_count 0", (h) => { h.release_count = 0; }, "release_count zero"],
  ["ping", "release_count 65", (h) => { h.release_count = 65; }, "release_count > releases_max"],
  ["ping", "size vs release_count", (h) => { h.release_count = 3; }, "ping size"],
  ["ping", "checkpoint_op ≥ 2^53", (h) => { h.checkpoint_op_bigint = 1n << 53n; }, "checkpoint_op too large"],
  ["prepare", "op 0", (h) => { h.op = 0; h.commit = 0; }, "op zero"],
  ["prepare", "operation 0", (h) => { h.operation = 0; }, "operation reserved"],
  ["prepare", "commit ≥ op", (h) => { h.commit = 5; }, "commit >= op"],
  ["prepare", "timestamp 0", (h) => { h.timestamp = 0n; }, "timestamp zero"],
  ["prepare", "client 0", (h) => { h.client = 0n; }, "client zero"],
  ["prepare", "request 0", (h) => { h.request = 0; }, "request zero"],
  ["prepare", "operation 7", (h) => { h.operation = 7; }, "operation invalid"],
  ["prepare", "request_release 0", (h) => { h.request_release = 0; }, "request_release invalid"],
  ["prepare", "reserved", (h) => { h.buffer[255] = 1; }, "reserved nonzero"],
  ["prepare_register", "register: request", (h) => { h.request = 1; }, "request nonzero"],
  ["prepare_register", "register: client 0", (h) => { h.client = 0n; }, "client zero"],
  ["prepare_pulse", "pulse: client", (h) => { h.client = 1n; }, "client nonzero"],
  ["prepare_pulse", "pulse: request_release", (h) => { h.request_release = 1; }, "request_release invalid"],
  ["prepare_root", "root: op", (h) => { h.op = 1; }, "root op nonzero"],
  ["prepare_root", "root: fields", (h) => { h.timestamp = 1n; }, "root field nonzero"],
  ["prepare_root", "root: size", (h) => { h.size = 512; }, "size != header"],
  ["prepare_ok", "size", (h) => { h.size = 300; }, "size != header"],
  ["prepare_ok", "op ≥ 2^53", (h) => { h.op_bigint = 1n << 63n; }, "op too large"],
  ["commit", "size", (h) => { h.size = 300; }, "size != header"],
  ["commit", "reserved", (h) => { h.buffer[184] = 1; }, "reserved nonzero"],
  ["exit_view", "size", (h) => { h.size = 512; }, "size != header"],
  ["exit_view", "reserved", (h) => { h.buffer[128] = 1; }, "reserved nonzero"],
  ["join_view", "log_view > view", (h) => { h.log_view = 5; }, "log_view > view"],
  ["join_view", "body", (h) => { h.size = 256 + 300; }, "body not whole headers"],
  ["get_view", "reserved", (h) => { h.buffer[144] = 1; }, "reserved nonzero"],
  ["get_headers", "op_min > op_max", (h) => { h.op_min = 4; }, "op_min > op_max"],
  ["get_headers", "size", (h) => { h.size = 512; }, "size != header"],
  ["get_prepare", "size", (h) => { h.size = 512; }, "size != header"],
  ["get_reply", "client 0", (h) => { h.client = 0n; }, "client zero"],
  ["headers", "body", (h) => { h.size = 256 + 100; }, "body not whole headers"],
  ["block", "address 0", (h) => { h.address = 0; }, "address zero"],
  ["block", "reserved", (h) => { h.buffer[137] = 1; }, "reserved nonzero"],
  ["view", "reserved", (h) => { h.buffer[170] = 1; }, "reserved nonzero"],
  ["view", "commit_max ≥ 2^53", (h) => { h.commit_max_bigint = 1n << 60n; }, "commit_max too large"],
];

describe("validateHeader (replica commands)", () => {
  for (const [name, make] of Object.entries(validReplicaMessages)) {
    it(`accepts a valid ${name}`, () => {
      const header = make();
      expect(validateHeader(header)).toBeNull();
      expect(header.verifyChecksum() && header.verifyBodyChecksum()).toBe(true);
    });
  }
  for (const [base, rule, mutate, reason] of replicaRows) {
    it(`${base}: ${rule} → ${reason}`, () => {
      const header = validReplicaMessages[base]!();
      mutate(header);
      expect(validateHeader(header)).toBe(reason);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// MessageFramer.
// ---------------------------------------------------------------------------------------------

function collect(framer: MessageFramer, chunks: Uint8Array[]): { messages: string[]; error: string | null } {
  const messages: string[] = [];
  let error: string | null = null;
  for (const chunk of chunks) {
    error = framer.feed(chunk, (message) => messages.push(hex(message)));
    if (error !== null) break;
  }
  return { messages, error };
}

function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.slice(start, point)); // copies: the framer may not rely on the caller's buffer
    start = point;
  }
  return chunks;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) { out.set(part, at); at += part.length; }
  return out;
}

/** A 256-byte message with an empty-body checksum and a valid header checksum, whatever `size` says. */
function withChecksums(mutate: (header: Header) => void): Uint8Array {
  const buffer = new Uint8Array(256);
  const header = new Header(buffer);
  header.command = Command.ping;
  header.size = 256;
  header.checksum_body = checksumBodyEmpty;
  mutate(header);
  setHeaderChecksumOnly(buffer, 0);
  return buffer;
}

describe("MessageFramer", () => {
  const messageArbitrary = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.uint8Array({ maxLength: 700 })).map(
    ([kind, body]) => {
      switch (kind) {
        case 0: return buildPingClient(1n, clientId, 5n, 0, 4361);
        case 1: return buildPongClient(1n, 5n, 0, 0, 4361);
        case 2: return buildRegisterRequest(0n, clientId, 4361);
        default: return buildRequest(
          { cluster: 0n, client: clientId, parent: 1n, session: 1, request: 1, operation: 146, view: 0, release: 4361 },
          body,
        );
      }
    },
  );

  it("yields exactly the messages fed, whatever the chunk boundaries", () => {
    fc.assert(
      fc.property(fc.array(messageArbitrary, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 20 }),
        (messages, cuts) => {
          const framer = new MessageFramer(4096);
          const { messages: out, error } = collect(framer, splitAt(concat(messages), cuts));
          expect(error).toBeNull();
          expect(out).toEqual(messages.map(hex));
          expect(framer.bufferedBytes).toBe(0);
        }),
      { numRuns: 200 },
    );
  });

  it("holds a partial message until it is complete", () => {
    const message = buildRegisterRequest(0n, clientId, 4361);
    const framer = new MessageFramer();
    const seen: Uint8Array[] = [];
    expect(framer.feed(message.subarray(0, 100), (m) => seen.push(m.slice()))).toBeNull();
    expect(framer.bufferedBytes).toBe(100);
    expect(framer.feed(message.subarray(100, 300), (m) => seen.push(m.slice()))).toBeNull();
    expect(framer.bufferedBytes).toBe(300);
    expect(framer.feed(message.subarray(300), (m) => seen.push(m.slice()))).toBeNull();
    expect(seen.map(hex)).toEqual([hex(message)]);
    expect(framer.feed(new Uint8Array(0), () => {})).toBeNull();
  });

  it("reports each fatal framing error of wire.md §1, whole or split", () => {
    const good = buildPingClient(0n, clientId, 5n, 0, 4361);
    const badHeader = good.slice();
    badHeader[200] = 1;
    const unknown = withChecksums((h) => { h.command = 25; });
    const small = withChecksums((h) => { h.size = 255; });
    const large = withChecksums((h) => { h.size = 4097; });
    const badBody = buildRequest(
      { cluster: 0n, client: clientId, parent: 1n, session: 1, request: 1, operation: 146, view: 0, release: 4361 },
      new Uint8Array(100),
    );
    badBody[300] = 1;
    const cases: [Uint8Array, string][] = [
      [badHeader, "header checksum"], [unknown, "unknown command"], [small, "size out of range"],
      [large, "size out of range"], [badBody, "body checksum"],
    ];
    for (const [bytes, error] of cases) {
      for (const cuts of [[], [1], [255, 256, 257], [100, 300]]) {
        const framer = new MessageFramer(4096);
        const result = collect(framer, splitAt(concat([good, bytes, good]), cuts.map((c) => c + 256)));
        expect(result.error).toBe(error);
        expect(result.messages).toEqual([hex(good)]);
        expect(framer.feed(good, () => { throw new Error("must not deliver after an error"); })).toBe(error);
        framer.reset();
        expect(collect(framer, [good]).messages).toEqual([hex(good)]);
      }
    }
  });

  it("accepts a deprecated command at the framing level (validity drops it later)", () => {
    const deprecated = withChecksums((h) => { h.command = 12; });
    const { messages, error } = collect(new MessageFramer(), [deprecated]);
    expect(error).toBeNull();
    expect(messages.length).toBe(1);
    expect(validateHeader(new Header(deprecated))).toBe("command deprecated");
  });

  it("never buffers more than message_size_max", () => {
    const framer = new MessageFramer(4096);
    const body = new Uint8Array(4096 - 256);
    const message = buildRequest(
      { cluster: 0n, client: clientId, parent: 1n, session: 1, request: 1, operation: 146, view: 0, release: 4361 },
      body,
    );
    const seen: number[] = [];
    for (let i = 0; i < message.length; i += 1000) {
      expect(framer.feed(message.subarray(i, i + 1000), (m) => seen.push(m.length))).toBeNull();
      expect(framer.bufferedBytes).toBeLessThanOrEqual(4096);
    }
    expect(seen).toEqual([4096]);
  });
});

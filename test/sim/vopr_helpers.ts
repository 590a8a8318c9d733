// Hand-built prepares and replies for the state checker and reply sequencer tests: a tiny
// hash-chained history with client requests and pulses, without a replica.
import { Command, Operation } from "../../src/core/command.js";
import { headerSize } from "../../src/core/config.js";
import { buildReplyFromPrepare, Header, PrepareHeader, setChecksums } from "../../src/core/header.js";
import { expect } from "vitest";
import { CorrectnessError, type ClientRequest } from "../../src/sim/checkers/state_checker.js";

export const rootChecksum = 0x1234n;

export interface PrepareSpec {
  op: number;
  parent: bigint;
  client?: bigint;
  request?: number;
  requestChecksum?: bigint;
  operation?: number;
  view?: number;
  timestamp?: bigint;
  body?: Uint8Array;
}

export function prepare(spec: PrepareSpec): Uint8Array {
  const body = spec.body ?? new Uint8Array(0);
  const bytes = new Uint8Array(headerSize + body.length);
  bytes.set(body, headerSize);
  const header = new PrepareHeader(bytes, 0);
  header.command = Command.prepare;
  header.size = bytes.length;
  header.view = spec.view ?? 0;
  header.parent = spec.parent;
  header.client = spec.client ?? 0n;
  header.request_checksum = spec.requestChecksum ?? 0n;
  header.op = spec.op;
  header.timestamp = spec.timestamp ?? BigInt(1000 + spec.op);
  header.request = spec.request ?? 0;
  header.operation = spec.operation ?? (spec.client === undefined ? Operation.pulse : 130);
  setChecksums(bytes, 0, bytes.length);
  return bytes;
}

export function checksumOf(message: Uint8Array): bigint {
  return new Header(message, 0).checksum;
}

/** The reply a replica builds from `prepareBytes` (echo: the body comes back). */
export function replyTo(prepareBytes: Uint8Array, body?: Uint8Array): Uint8Array | null {
  const header = new PrepareHeader(prepareBytes, 0);
  if (header.client === 0n) return null;
  return buildReplyFromPrepare(header, body ?? prepareBytes.subarray(headerSize, header.size)).slice();
}

/** What a client has in flight when it sent the request that became `prepareBytes`. */
export function inFlightOf(prepareBytes: Uint8Array): ClientRequest {
  const header = new PrepareHeader(prepareBytes, 0);
  return {
    client: header.client, request: header.request, checksum: header.request_checksum,
    operation: header.operation, size: header.size,
  };
}

/**
 * A chain: op 1 a client request (client 7, request 1), op 2 a pulse, op 3 client 7 request 2,
 * op 4 client 9 request 1.
 */
export function chain(): Uint8Array[] {
  const ops: Uint8Array[] = [];
  const specs: Omit<PrepareSpec, "op" | "parent">[] = [
    { client: 7n, request: 1, requestChecksum: 0xa1n, body: new Uint8Array([1, 2, 3]) },
    {},
    { client: 7n, request: 2, requestChecksum: 0xa2n, body: new Uint8Array([4]) },
    { client: 9n, request: 1, requestChecksum: 0xb1n, body: new Uint8Array([5, 6]), view: 1 },
  ];
  let parent = rootChecksum;
  specs.forEach((spec, index) => {
    const bytes = prepare({ ...spec, op: index + 1, parent });
    parent = checksumOf(bytes);
    ops.push(bytes);
  });
  return ops;
}

/** Runs `action` once (checkers are stateful) and expects a CorrectnessError matching `pattern`. */
export function expectViolation(action: () => void, pattern: RegExp): void {
  let caught: unknown = null;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(CorrectnessError);
  expect((caught as Error).message).toMatch(pattern);
}

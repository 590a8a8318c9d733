// The transport's limits on real loopback sockets (src/io/tcp_link.ts): a peer that does not read
// costs a bounded send queue and loses messages, never memory, and never delays another peer; a
// connection that goes silent, or sends half a message and stops, is closed after the idle
// timeout while the others carry on.
import { connect, createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { releaseCurrent } from "../../src/core/config.js";
import { buildPingClient } from "../../src/core/header.js";
import { reconnectDelayMs } from "../../src/io/tcp_client_bus.js";
import { TcpServerBus } from "../../src/io/tcp_server_bus.js";
import type { TcpLimits } from "../../src/io/tcp_link.js";

const cluster = 7n;
const messageSizeMax = 64 * 1024;
const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

interface Logged {
  readonly info: string[];
  readonly warn: string[];
}

function startBus(addresses: { host: string; port: number }[], limits: Partial<TcpLimits>, received: Uint8Array[] = []):
  Promise<{ bus: TcpServerBus; logged: Logged }> {
  const logged: Logged = { info: [], warn: [] };
  const bus = new TcpServerBus({
    replica: 0, addresses, messageSizeMax, cluster, limits,
    onMessage: (message) => received.push(message.slice()),
    log: { info: (line) => logged.info.push(line), warn: (line) => logged.warn.push(line) },
  });
  cleanups.push(() => bus.close());
  return new Promise((resolve, reject) => bus.listen((error) => (error ? reject(error) : resolve({ bus, logged }))));
}

/** A stand-in peer replica: a plain TCP server that records what each accepted connection does. */
function startPeer(options: { read: boolean }): Promise<{ server: Server; port: number; accepted: Socket[]; bytes: () => number }> {
  const accepted: Socket[] = [];
  let bytes = 0;
  const server = createServer((socket) => {
    accepted.push(socket);
    socket.on("error", () => {});
    socket.on("data", (chunk) => {
      bytes += chunk.length;
      // Never reads after its first bytes: the kernel buffers fill, then the sender's queue.
      if (!options.read) socket.pause();
    });
  });
  cleanups.push(() => {
    for (const socket of accepted) socket.destroy();
    server.close();
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    resolve({ server, port: typeof address === "object" && address !== null ? address.port : 0, accepted, bytes: () => bytes });
  }));
}

/**
 * Waits until the bus's outbound connection to `replica` delivers (a send before it has connected
 * is dropped, uncounted), then until the probes in flight have landed.
 */
async function connected(bus: TcpServerBus, replica: number, peer: { bytes: () => number }): Promise<void> {
  const probe = new Uint8Array(256);
  await until(() => {
    if (peer.bytes() === 0) bus.sendToReplica(replica, probe);
    return peer.bytes() > 0;
  });
  await sleep(100);
}

function openClient(port: number): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port }, () => resolve(socket));
    socket.on("error", () => {});
    cleanups.push(() => socket.destroy());
  });
}

function closed(socket: Socket): Promise<number> {
  const startMs = performance.now();
  return new Promise((resolve) => socket.once("close", () => resolve(performance.now() - startMs)));
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition() && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(condition()).toBe(true);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function ping(timestamp: number): Uint8Array {
  return buildPingClient(cluster, 0xc1n, BigInt(timestamp), 0, releaseCurrent);
}

describe("a peer that does not read", () => {
  test("costs a bounded send queue and dropped messages (reported once), and never delays another peer", async () => {
    const stuck = await startPeer({ read: false });
    const healthy = await startPeer({ read: true });
    const sendQueueBytesMax = 4 * messageSizeMax;
    const { bus, logged } = await startBus([
      { host: "127.0.0.1", port: 0 }, { host: "127.0.0.1", port: stuck.port }, { host: "127.0.0.1", port: healthy.port },
    ], { sendQueueBytesMax, idleTimeoutMs: 60_000 });
    await connected(bus, 1, stuck);
    await connected(bus, 2, healthy);
    const baseline = healthy.bytes();

    // Paced by the healthy peer: each round waits until it has read what it was sent.
    const message = new Uint8Array(messageSizeMax);
    const rounds = 800; // 50 MiB to each peer: far beyond any kernel socket buffers
    for (let round = 1; round <= rounds; round++) {
      bus.sendToReplica(1, message);
      bus.sendToReplica(2, message);
      await until(() => healthy.bytes() === baseline + round * messageSizeMax);
    }
    const sentBytes = rounds * messageSizeMax;
    // Everything the stuck peer did not get was dropped, except the bounded queue and what the
    // kernel buffers hold (a few MiB on loopback; 16 MiB is a generous ceiling).
    const keptBytes = sentBytes - bus.stats.bytesDropped;
    expect(keptBytes).toBeLessThanOrEqual(sendQueueBytesMax + 16 * 1024 * 1024);
    expect(bus.stats.messagesDropped).toBeGreaterThan(rounds / 2);
    // The healthy peer got every byte, in order and without waiting on the stuck one.
    expect(healthy.bytes() - baseline).toBe(sentBytes);
    // Reported, not once per message: the first drops within a sweep, then at most every 10 s.
    await until(() => logged.warn.some((line) => /dropped \d+ message/.test(line)));
    const dropLines = logged.warn.filter((line) => /dropped \d+ message/.test(line));
    expect(dropLines.length).toBeLessThanOrEqual(2);
    expect(dropLines[0]).toMatch(/to replica 1 \(127\.0\.0\.1:\d+\): its send queue is full/);
  }, 60_000);

  test("is reset after the idle timeout, then reconnected with backoff", async () => {
    const stuck = await startPeer({ read: false });
    const { bus, logged } = await startBus([{ host: "127.0.0.1", port: 0 }, { host: "127.0.0.1", port: stuck.port }],
      { sendQueueBytesMax: 4 * messageSizeMax, idleTimeoutMs: 300 });
    await connected(bus, 1, stuck);
    const message = new Uint8Array(messageSizeMax);
    for (let i = 0; i < 400; i++) bus.sendToReplica(1, message); // 25 MiB: the queue stays full
    await until(() => stuck.accepted.length >= 2);
    expect(bus.stats.connectionsClosedStalled).toBeGreaterThanOrEqual(1);
    expect(logged.warn.join("\n")).toMatch(/resetting the connection to replica 1 .*none sent for .*the peer is not reading/);
  }, 30_000);
});

describe("idle connections", () => {
  test("a connection that sends nothing is closed after the idle timeout; one that pings stays open", async () => {
    const { bus, logged } = await startBus([{ host: "127.0.0.1", port: 0 }], { idleTimeoutMs: 300 });
    const silent = await openClient(bus.port);
    const chatty = await openClient(bus.port);
    let chattyClosed = false;
    chatty.on("close", () => { chattyClosed = true; });
    const pinger = setInterval(() => chatty.write(ping(Date.now())), 50);
    cleanups.push(() => clearInterval(pinger));

    const silentMs = await closed(silent);
    expect(silentMs).toBeGreaterThanOrEqual(250);
    expect(silentMs).toBeLessThan(2_000);
    await sleep(1_000); // over three idle timeouts
    expect(chattyClosed).toBe(false);
    expect(bus.stats.connectionsClosedIdle).toBe(1);
    expect(logged.info.join("\n")).toMatch(/closing the connection from 127\.0\.0\.1:\d+: no complete message for/);
  }, 10_000);

  test("half a message, or one dribbled a byte at a time, closes its connection and delays no other", async () => {
    const received: Uint8Array[] = [];
    const { bus, logged } = await startBus([{ host: "127.0.0.1", port: 0 }], { idleTimeoutMs: 400 }, received);
    const half = await openClient(bus.port);
    const dribble = await openClient(bus.port);
    const healthy = await openClient(bus.port);
    half.write(ping(1).subarray(0, 100)); // a partial header, then silence
    const dribbled = ping(2);
    let position = 0;
    const dribbler = setInterval(() => {
      if (position < dribbled.length) dribble.write(dribbled.subarray(position, ++position));
    }, 20); // a byte every 20 ms: always active, never a whole message within the timeout
    cleanups.push(() => clearInterval(dribbler));

    let pending = 2;
    for (const socket of [half, dribble]) socket.once("close", () => { pending -= 1; });
    // Meanwhile the healthy connection's messages are delivered at once, one after another.
    let delivered = 0;
    for (let i = 0; pending > 0 && i < 250; i++) {
      healthy.write(ping(100 + i));
      await until(() => received.length === delivered + 1, 200);
      delivered += 1;
      await sleep(20);
    }
    expect(pending).toBe(0);
    expect(delivered).toBeGreaterThanOrEqual(10); // the idle timeout is 400 ms
    expect(healthy.destroyed).toBe(false);
    expect(bus.stats.connectionsClosedIdle).toBe(2);
    const partial = logged.warn.filter((line) => /no complete message for .* bytes of a partial message pending/.test(line));
    expect(partial).toHaveLength(2);
    expect(partial.join("\n")).toMatch(/\(100 bytes of a partial message pending\)/);
  }, 10_000);
});

describe("limits that could never work", () => {
  test("are refused when the bus is made, not at its first connection", () => {
    const make = (limits: Partial<TcpLimits>) => new TcpServerBus({
      replica: 0, addresses: [{ host: "127.0.0.1", port: 0 }], messageSizeMax, cluster, limits, onMessage: () => {},
    });
    expect(() => make({ sendQueueBytesMax: messageSizeMax - 1 })).toThrow(/one message of the largest size/);
    expect(() => make({ idleTimeoutMs: 0 })).toThrow(/idleTimeoutMs must be positive/);
  });
});

describe("reconnect backoff", () => {
  test("grows from 50 ms to at most 1 s, with jitter below the ceiling", () => {
    expect(reconnectDelayMs(0, 0.999)).toBe(50);
    expect(reconnectDelayMs(1, 0)).toBe(50);
    expect(reconnectDelayMs(1, 0.999)).toBe(100);
    expect(reconnectDelayMs(3, 0.999)).toBe(400);
    expect(reconnectDelayMs(5, 0.999)).toBe(1_000);
    expect(reconnectDelayMs(1_000, 0.999)).toBe(1_000);
  });
});

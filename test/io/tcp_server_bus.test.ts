// The replica's TCP transport routes each client's replies to the client's own connection. A
// backup forwards client requests to the primary on its peer connection; the primary must not
// then send that client's replies to the backup (which drops them): the client would wait for its
// request timeout, which made every request on a 3-replica cluster take ~600 ms.
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { releaseCurrent, testConfig } from "../../src/core/config.js";
import {
  buildPingClient, buildPongClient, buildRegisterRequest, FrameField, Header, setChecksums, verifyHeaderChecksum,
} from "../../src/core/header.js";
import { readU128 } from "../../src/core/bytes.js";
import { TcpServerBus } from "../../src/io/tcp_server_bus.js";
import { Command } from "../../src/core/command.js";

const cluster = 7n;
const client = 0xc1n;
let bus: TcpServerBus | null = null;
const sockets: Socket[] = [];

afterEach(() => {
  bus?.close();
  bus = null;
  for (const socket of sockets.splice(0)) socket.destroy();
});

function listen(received: Uint8Array[], logged: string[] = []): Promise<TcpServerBus> {
  const server = new TcpServerBus({
    replica: 0, addresses: [{ host: "127.0.0.1", port: 0 }], messageSizeMax: testConfig.messageSizeMax,
    cluster, onMessage: (message) => received.push(message.slice()),
    log: { info: (line) => logged.push(line), warn: (line) => logged.push(line) },
  });
  return new Promise((resolve, reject) => server.listen((error) => (error ? reject(error) : resolve(server))));
}

function open(port: number, inbox: Buffer[]): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port }, () => resolve(socket));
    socket.on("data", (chunk) => inbox.push(chunk));
    sockets.push(socket);
  });
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(condition()).toBe(true);
}

function anyMessage(): Uint8Array {
  return buildPongClient(cluster, 1n, 1, 0, releaseCurrent).slice();
}

/** A ping as a peer replica sends it: any replica command marks the connection as a peer's. */
function peerPing(): Uint8Array {
  const ping = buildPingClient(cluster, client, 1n, 0, releaseCurrent).slice();
  ping[114] = Command.ping; // only the command byte matters to the bus
  setChecksums(ping, 0, ping.length);
  return ping;
}

describe("TcpServerBus: replies go to the client's own connection", () => {
  test("a request forwarded by a backup does not take the client's replies away", async () => {
    const received: Uint8Array[] = [];
    bus = await listen(received);
    const clientInbox: Buffer[] = [];
    const backupInbox: Buffer[] = [];
    const own = await open(bus.port, clientInbox);
    own.write(buildPingClient(cluster, client, 1n, 0, releaseCurrent));
    await until(() => received.length === 1);
    // The backup's forward of the client's request arrives before the backup ever pinged.
    const backup = await open(bus.port, backupInbox);
    backup.write(buildRegisterRequest(cluster, client, releaseCurrent));
    await until(() => received.length === 2);
    bus.sendToClient(client, anyMessage()); // the bus routes bytes; their content does not matter
    await until(() => clientInbox.length > 0);
    expect(backupInbox).toHaveLength(0);
  });

  test("a connection that turns out to be a peer's forgets the clients learned on it", async () => {
    const received: Uint8Array[] = [];
    bus = await listen(received);
    const backupInbox: Buffer[] = [];
    const backup = await open(bus.port, backupInbox);
    backup.write(buildRegisterRequest(cluster, client, releaseCurrent)); // learned: no better route yet
    backup.write(peerPing());
    await until(() => received.length === 2);
    const clientInbox: Buffer[] = [];
    const own = await open(bus.port, clientInbox);
    own.write(buildRegisterRequest(cluster, client, releaseCurrent));
    await until(() => received.length === 3);
    bus.sendToClient(client, anyMessage()); // the bus routes bytes; their content does not matter
    await until(() => clientInbox.length > 0);
    expect(backupInbox).toHaveLength(0);
  });
});

describe("TcpServerBus: another cluster's connection", () => {
  test("is told the replica's cluster, then refused with a log line that names both, and delivers nothing", async () => {
    const received: Uint8Array[] = [];
    const logged: string[] = [];
    bus = await listen(received, logged);
    const inbox: Buffer[] = [];
    const stranger = await open(bus.port, inbox);
    const closed = new Promise<void>((resolve) => stranger.on("close", () => resolve()));
    stranger.write(buildPingClient(cluster + 1n, client, 1n, 0, releaseCurrent));
    stranger.write(buildPingClient(cluster + 1n, client, 2n, 0, releaseCurrent));
    await closed;
    expect(received).toHaveLength(0);
    expect(logged.filter((line) => /refusing/.test(line))).toEqual([expect.stringMatching(/cluster 8, but this replica is of cluster 7/)]);
    // Exactly one message, a valid pong_client of the replica's own cluster that teaches nothing (view 0).
    const notice = new Uint8Array(Buffer.concat(inbox));
    expect(notice.length).toBe(256);
    expect(verifyHeaderChecksum(notice, 0)).toBe(true);
    expect(notice[FrameField.command]).toBe(Command.pong_client);
    expect(readU128(notice, FrameField.cluster)).toBe(cluster);
    expect(new Header(notice, 0).view).toBe(0);
  });

  test("repeated refusals are logged once per interval, with a count", async () => {
    const logged: string[] = [];
    bus = await listen([], logged);
    for (let i = 0; i < 3; i++) {
      const stranger = await open(bus.port, []);
      const closed = new Promise<void>((resolve) => stranger.on("close", () => resolve()));
      stranger.write(buildPingClient(cluster + 1n, client, 1n, 0, releaseCurrent));
      await closed;
    }
    expect(logged.filter((line) => /refusing/.test(line))).toHaveLength(1);
  });
});

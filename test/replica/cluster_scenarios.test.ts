// Scenario tests of the replica on the simulator's network and storage, without the VOPR's
// randomness: a solo replica, three and five replicas, and crashes/restarts of primaries and
// backups (including one that must state-sync because the cluster wrapped its WAL meanwhile).
// Each scenario must answer every request and end with every replica at the same commit and
// checkpoint.
import { describe, test, expect } from "vitest";
import { Prng } from "../../src/core/prng.js";
import { testConfig, releaseCurrent } from "../../src/core/config.js";
import { TimeSim, idealClock } from "../../src/sim/world/time_sim.js";
import { PacketSimulator } from "../../src/sim/world/packet_simulator.js";
import { StorageSim } from "../../src/sim/world/storage_sim.js";
import { ratioZero } from "../../src/sim/ratio.js";
import { EchoStateMachine, echoOperation } from "../../src/sim/workloads/echo_state_machine.js";
import { Replica } from "../../src/replica/replica.js";
import { VsrClient } from "../../src/replica/client.js";
import { quietOptions } from "../sim/helpers.js";

function run(replicaCount: number, requests: number, ticksMax: number, crashes: [number, number, number][] = []) {
  const cluster = 1n;
  const clientCount = 2;
  const network = new PacketSimulator(quietOptions({ replicaCount, clientCount, oneWayDelayMeanMs: 20 }), (target, message) => {
    if (target < replicaCount) replicas[target]!.onMessage(message);
    else clients[target - replicaCount]!.onMessage(message);
  });
  const storages = Array.from({ length: replicaCount }, (_, i) => new StorageSim({
    config: testConfig, sizeBytes: 64 * 1024 * 1024, replicaIndex: i, seed: BigInt(i + 1), faultAtlas: null,
    readLatencyMinMs: 0, readLatencyMeanMs: 10, writeLatencyMinMs: 0, writeLatencyMeanMs: 20,
    readFaultProbability: ratioZero, writeFaultProbability: ratioZero, writeMisdirectProbability: ratioZero,
    crashFaultProbability: ratioZero,
  }));
  const times = Array.from({ length: replicaCount + clientCount }, () => new TimeSim({ offset: idealClock, epochNs: 1_700_000_000_000_000_000n }));
  const commits: number[][] = Array.from({ length: replicaCount }, () => []);
  const options = (i: number) => ({
    cluster, replica: i, replicaCount, standbyCount: 0, config: testConfig, release: releaseCurrent,
    time: times[i]!, storage: storages[i]!, bus: network.bus(i), prng: new Prng(100 + i),
    stateMachine: new EchoStateMachine(),
    onCommit: (r: Replica, prepare: Uint8Array) => { commits[i]!.push(r.commitMin); },

  });
  const replicas: Replica[] = [];
  for (let i = 0; i < replicaCount; i++) {
    let formatted = false;
    Replica.format(options(i), () => { formatted = true; });
    while (!formatted) { storages[i]!.tick(); while (storages[i]!.step()) {} }
  }
  for (let i = 0; i < replicaCount; i++) {
    const r = new Replica(options(i));
    replicas.push(r);
    let opened: string | null | undefined;
    r.open((e) => { opened = e; });
    while (opened === undefined) { storages[i]!.tick(); while (storages[i]!.step()) {} }
    expect(opened).toBeNull();
  }
  const clients: VsrClient[] = [];
  for (let c = 0; c < clientCount; c++) {
    const id = BigInt(1000 + c);
    network.registerClient(id);
    clients.push(new VsrClient({ cluster, replicaCount, clientId: id, release: releaseCurrent, messageSizeMax: 4096, queueMax: 4,
      time: times[replicaCount + c]!, bus: network.bus(replicaCount + c), prng: new Prng(200 + c) }));
  }
  let replied = 0; let sent = 0;
  const down: boolean[] = replicas.map(() => false);
  const prng = new Prng(7);
  let settle = 0;
  for (let tick = 0; tick < ticksMax && settle < 3000; tick++) {
    if (replied >= requests) settle++;
    for (;;) { let progress = false; for (const s of storages) progress = s.step() || progress; progress = network.step() || progress; if (!progress) break; }
    network.tick();
    for (let c = 0; c < clientCount; c++) { times[replicaCount + c]!.tick(); clients[c]!.tick(); }
    for (let i = 0; i < replicaCount; i++) { times[i]!.tick(); storages[i]!.tick(); if (!down[i]) replicas[i]!.tick(); }
    for (const [at, who, until] of crashes) {
      if (tick === at) { down[who] = true; storages[who]!.crash(); network.setNodeEnabled(who, false); }
      if (tick === until) {
        down[who] = false; network.setNodeEnabled(who, true);
        const r = new Replica(options(who)); replicas[who] = r; r.open((e) => { expect(e).toBeNull(); });
      }
    }
    for (const client of clients) {
      if (client.registered && client.pending === 0 && sent < requests && prng.chance(1, 5)) {
        sent++;
        const body = new Uint8Array(prng.range(0, 100)); prng.fill(body);
        client.request(echoOperation, body, (failure, reply) => { expect(failure).toBeNull(); expect(Buffer.from(reply!.subarray(256)).equals(Buffer.from(body))).toBe(true); replied++; });
      }
    }
  }
  // Converged: every replica normal, at the same commit and checkpoint, nothing left to repair.
  const first = replicas[0]!;
  for (const r of replicas) {
    expect([r.status, r.view, r.commitMin, r.opCheckpoint, r.checkpointId()])
      .toEqual(["normal", first.view, first.commitMax, first.opCheckpoint, first.checkpointId()]);
  }
  return replied;
}

describe("replica scenarios (echo state machine)", () => {
  test("a solo replica serves requests across three checkpoints", () => { expect(run(1, 60, 20000)).toBe(60); });
  test("three replicas serve requests and converge", () => { expect(run(3, 60, 20000)).toBe(60); });
  test("three replicas: the primary and both backups crash and restart in turn", () => {
    expect(run(3, 80, 40000, [[300, 1, 900], [1200, 0, 1500], [2000, 2, 2600]])).toBe(80);
  });
  test("five replicas: overlapping crashes; one restarts after the cluster wrapped its WAL (state sync)", () => {
    expect(run(5, 80, 40000, [[300, 1, 900], [400, 3, 1700], [1200, 2, 1500], [2000, 4, 2600]])).toBe(80);
  });
});

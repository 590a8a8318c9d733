// The packet simulator (spec/vopr.md §9): determinism, delays and reordering, capacity drops,
// loss and replay rates, partitions, clogging, heal, disabled nodes and the per-command counters.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AssertionError } from "../../src/core/assert.js";
import { Command } from "../../src/core/command.js";
import { Prng } from "../../src/core/prng.js";
import {
  commandMask, commandMaskAll, commandMaskNone, PartitionMode, PartitionSymmetry, swarmNetworkOptions,
  type PacketSimulatorOptions,
} from "../../src/sim/world/network_options.js";
import { PacketSimulator } from "../../src/sim/world/packet_simulator.js";
import { percent } from "../../src/sim/ratio.js";
import { TraceHash } from "../../src/sim/runner/cluster_log.js";
import { message, quietOptions, tagOf } from "./helpers.js";

interface Delivery { tick: number; source: number; target: number; tag: number; command: number }

function recording(options: PacketSimulatorOptions): { network: PacketSimulator; log: Delivery[] } {
  const log: Delivery[] = [];
  const network: PacketSimulator = new PacketSimulator(options, (target, bytes, source) => {
    log.push({ tick: network.ticks, source, target, tag: tagOf(bytes), command: bytes[114]! });
  });
  return { network, log };
}

/** Steps until idle, then ticks; `ticks` times (the cluster's loop, spec/vopr.md §5). */
function run(network: PacketSimulator, ticks: number): void {
  for (let t = 0; t < ticks; t++) {
    while (network.step()) { /* until no progress */ }
    network.tick();
  }
  while (network.step()) { /* drain what is due now */ }
}

/** A swarm network with chatter: nodes answer some deliveries, and send on their own each tick. */
function traceDigest(seed: bigint, ticks: number): string {
  const prng = new Prng(seed);
  const options = swarmNetworkOptions(prng, 4, 1, 3, 4096);
  const workload = prng.split();
  const hash = new TraceHash();
  const network: PacketSimulator = new PacketSimulator(options, (target, bytes, source) => {
    hash.u32(network.ticks);
    hash.u32(source);
    hash.u32(target);
    hash.bytes(bytes, 0, bytes.length);
    if (workload.chance(1, 3)) network.send(target, source, message(Command.prepare_ok, 260, tagOf(bytes) + 1));
  });
  for (let t = 0; t < ticks; t++) {
    const source = workload.int(network.replicaNodeCount);
    network.send(source, workload.int(network.nodeCount), message(Command.prepare, 256 + workload.int(900) * 4, t));
    while (network.step()) { /* until no progress */ }
    network.tick();
  }
  hash.u32(network.stats.droppedCapacity);
  hash.u32(network.stats.droppedFilter);
  hash.u32(network.stats.droppedLoss);
  return hash.digest;
}

describe("determinism", () => {
  it("the same seed gives the same delivery trace; another seed a different one", () => {
    const first = traceDigest(42n, 3000);
    expect(traceDigest(42n, 3000)).toBe(first);
    expect(traceDigest(43n, 3000)).not.toBe(first);
  });
});

describe("send and delay", () => {
  it("copies the bytes, never delivers inside send, and delivers after max(min, exp(mean))", () => {
    const { network, log } = recording(quietOptions({ oneWayDelayMinMs: 30, oneWayDelayMeanMs: 100 }));
    const bytes = message(Command.ping, 300, 7);
    network.send(0, 1, bytes);
    bytes.fill(0); // the network holds its own copy
    expect(log).toHaveLength(0);
    run(network, 2);
    expect(log).toHaveLength(0); // 30 ms = 3 ticks minimum
    run(network, 1000);
    expect(log).toEqual([expect.objectContaining({ source: 0, target: 1, tag: 7, command: Command.ping })]);
    expect(log[0]!.tick).toBeGreaterThanOrEqual(3);
  });

  it("zero delay is delivered by the next step in the same tick, not during send", () => {
    const { network, log } = recording(quietOptions());
    network.send(0, 1, message(Command.ping, 260, 1));
    expect(log).toHaveLength(0);
    expect(network.step()).toBe(true);
    expect(log).toHaveLength(1);
    expect(network.step()).toBe(false);
  });

  it("a packet sent by a receiver waits for the next step", () => {
    let network: PacketSimulator;
    const log: number[] = [];
    network = new PacketSimulator(quietOptions(), (target, bytes, source) => {
      log.push(tagOf(bytes));
      if (tagOf(bytes) < 3) network.send(target, source, message(Command.ping, 260, tagOf(bytes) + 1));
    });
    network.send(0, 1, message(Command.ping, 260, 0));
    expect(network.step()).toBe(true);
    expect(log).toEqual([0]);
    while (network.step()) { /* ping-pong */ }
    expect(log).toEqual([0, 1, 2, 3]);
  });

  it("per-packet delays reorder a link; ties keep send order", () => {
    const { network, log } = recording(quietOptions({ oneWayDelayMeanMs: 200 }));
    for (let tag = 0; tag < 200; tag++) network.send(0, 1, message(Command.prepare, 260, tag));
    run(network, 1000);
    const tags = log.map((d) => d.tag);
    expect([...tags].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(tags).not.toEqual([...tags].sort((a, b) => a - b)); // reordered
    for (let i = 1; i < log.length; i++) {
      if (log[i]!.tick === log[i - 1]!.tick) continue;
      expect(log[i]!.tick).toBeGreaterThan(log[i - 1]!.tick);
    }
    const quiet = recording(quietOptions());
    for (let tag = 0; tag < 50; tag++) quiet.network.send(0, 1, message(Command.prepare, 260, tag));
    run(quiet.network, 1);
    expect(quiet.log.map((d) => d.tag)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});

describe("capacity", () => {
  it("a full path drops a random queued packet per extra send", () => {
    const { network, log } = recording(quietOptions({ pathMaximumCapacity: 5, oneWayDelayMinMs: 100 }));
    for (let tag = 0; tag < 20; tag++) network.send(0, 1, message(Command.prepare, 260, tag));
    expect(network.linkQueued(0, 1)).toBe(5);
    expect(network.stats.droppedCapacity).toBe(15);
    run(network, 20);
    expect(log).toHaveLength(5);
    const survivors = log.map((d) => d.tag).sort((a, b) => a - b);
    expect(survivors).not.toEqual([15, 16, 17, 18, 19]); // random victims, not the oldest
    expect(survivors).toContain(19); // the newest packet was queued after the drop
    expect(network.packetsInFlight).toBe(0);
  });
});

describe("loss and replay", () => {
  function rates(loss: number, replay: number): { delivered: number; lost: number; replayed: number } {
    const options = quietOptions({
      seed: 5n, packetLossProbability: percent(loss), packetReplayProbability: percent(replay), oneWayDelayMeanMs: 30,
    });
    const { network } = recording(options);
    for (let t = 0; t < 2000; t++) {
      for (let i = 0; i < 5; i++) network.send(i % 3, (i + 1) % 3, message(Command.prepare, 260, i));
      run(network, 1);
    }
    run(network, 1000);
    return { delivered: network.stats.delivered, lost: network.stats.droppedLoss, replayed: network.stats.replayed };
  }

  it("loses packet_loss_probability of deliveries (±2 %)", () => {
    const { delivered, lost } = rates(20, 0);
    expect(delivered + lost).toBe(10_000);
    expect(Math.abs(lost / 10_000 - 0.2)).toBeLessThan(0.02);
  });

  it("replays packet_replay_probability of surviving deliveries (±2 %)", () => {
    const { delivered, replayed } = rates(0, 30);
    // Each delivery replays with p, and replays may replay again: N / (1 − p) deliveries.
    expect(delivered).toBe(10_000 + replayed);
    expect(Math.abs(replayed / delivered - 0.3)).toBeLessThan(0.02);
  });
});

describe("partitions", () => {
  const counts = fc.record({
    replicas: fc.integer({ min: 1, max: 6 }),
    standbys: fc.integer({ min: 0, max: 6 }),
    clients: fc.integer({ min: 1, max: 13 }),
    mode: fc.constantFrom(PartitionMode.uniform_size, PartitionMode.uniform_partition, PartitionMode.isolate_single),
    symmetry: fc.constantFrom(PartitionSymmetry.symmetric, PartitionSymmetry.asymmetric),
    seed: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  });

  it("always two non-empty sides, clients connected, symmetric closed both ways, asymmetric one way", () => {
    fc.assert(fc.property(counts, ({ replicas, standbys, clients, mode, symmetry, seed }) => {
      const network = new PacketSimulator(
        quietOptions({ replicaCount: replicas, standbyCount: standbys, clientCount: clients, seed }), () => {});
      const n = network.replicaNodeCount;
      const partitioned = network.partition(mode, symmetry);
      expect(partitioned).toBe(n >= 2);
      if (!partitioned) return;
      const sides = Array.from({ length: n }, (_, node) => network.partitionSide(node));
      expect(sides.filter((s) => s === 1).length).toBeGreaterThan(0);
      expect(sides.filter((s) => s === 0).length).toBeGreaterThan(0);
      const smaller = Math.min(...[0, 1].map((s) => sides.filter((x) => x === s).length));
      if (mode === PartitionMode.isolate_single) expect(smaller).toBe(1);
      const openDirections = new Set<number>();
      for (let a = 0; a < n; a++) {
        for (let b = 0; b < n; b++) {
          if (a === b) continue;
          const open = network.linkFilter(a, b) === commandMaskAll;
          expect(open || network.linkFilter(a, b) === commandMaskNone).toBe(true);
          if (sides[a] === sides[b]) expect(open).toBe(true);
          else if (symmetry === PartitionSymmetry.symmetric) expect(open).toBe(false);
          else {
            expect(open).not.toBe(network.linkFilter(b, a) === commandMaskAll);
            if (open) openDirections.add(sides[a]!);
          }
        }
      }
      if (symmetry === PartitionSymmetry.asymmetric) expect(openDirections.size).toBe(1);
      for (let client = n; client < network.nodeCount; client++) {
        for (let node = 0; node < network.nodeCount; node++) {
          expect(network.linkFilter(client, node)).toBe(commandMaskAll);
          expect(network.linkFilter(node, client)).toBe(commandMaskAll);
        }
      }
      network.unpartition();
      expect(network.isPartitioned).toBe(false);
      for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) expect(network.linkFilter(a, b)).toBe(commandMaskAll);
    }));
  });

  it("auto-partitions respect the partition and unpartition stabilities", () => {
    const network = new PacketSimulator(quietOptions({
      replicaCount: 4, partitionMode: PartitionMode.isolate_single, partitionProbability: percent(100),
      unpartitionProbability: percent(100), partitionStabilityTicks: 10, unpartitionStabilityTicks: 5,
    }), () => {});
    const changes: number[] = [];
    let was = false;
    for (let t = 0; t < 40; t++) {
      network.tick();
      if (network.isPartitioned !== was) changes.push(network.ticks);
      was = network.isPartitioned;
    }
    // Healed for 5 ticks, partitioned for 10, and so on (each change on the first allowed tick).
    expect(changes).toEqual([6, 17, 23, 34, 40]);
  });

  it("filters apply at delivery time: packets in flight across a new partition are lost", () => {
    const { network, log } = recording(quietOptions({ replicaCount: 4, clientCount: 1, oneWayDelayMinMs: 50 }));
    for (let a = 0; a < 5; a++) {
      for (let b = 0; b < 5; b++) if (a !== b) network.send(a, b, message(Command.ping, 260, a * 10 + b));
    }
    network.partition(PartitionMode.uniform_size, PartitionSymmetry.symmetric);
    run(network, 10);
    const side = (node: number): number => (node === 4 ? -1 : network.partitionSide(node));
    const expected: number[] = [];
    for (let a = 0; a < 5; a++) {
      for (let b = 0; b < 5; b++) {
        if (a !== b && (side(a) === side(b) || a === 4 || b === 4)) expected.push(a * 10 + b);
      }
    }
    expect(log.map((d) => d.tag).sort((x, y) => x - y)).toEqual(expected);
    expect(network.stats.droppedFilter).toBe(20 - expected.length);
  });

  it("a command filter passes only the commands in its mask", () => {
    const { network, log } = recording(quietOptions());
    network.setLinkFilter(0, 1, commandMask([Command.ping]));
    network.send(0, 1, message(Command.ping, 260, 1));
    network.send(0, 1, message(Command.prepare, 260, 2));
    run(network, 1);
    expect(log.map((d) => d.tag)).toEqual([1]);
    expect(network.stats.droppedFilter).toBe(1);
  });
});

describe("clogging", () => {
  it("a clogged link queues packets and delivers them when the clog ends", () => {
    const { network, log } = recording(quietOptions());
    network.clog(0, 1, 50);
    expect(network.isClogged(0, 1)).toBe(true);
    for (let tag = 0; tag < 3; tag++) network.send(0, 1, message(Command.prepare, 260, tag));
    network.send(1, 0, message(Command.prepare, 260, 9)); // the reverse link is not clogged
    run(network, 49);
    expect(log.map((d) => d.tag)).toEqual([9]);
    run(network, 1);
    expect(log.map((d) => d.tag)).toEqual([9, 0, 1, 2]);
    expect(log[1]!.tick).toBe(50);
  });

  it("clogs start at path_clog_probability per unclogged tick and last exp(mean)", () => {
    const network = new PacketSimulator(quietOptions({
      replicaCount: 3, clientCount: 0, seed: 11n, pathClogProbability: percent(2), pathClogDurationMeanMs: 500,
    }), () => {});
    const links: [number, number][] = [[0, 1], [0, 2], [1, 0], [1, 2], [2, 0], [2, 1]];
    let onsets = 0;
    let unclogged = 0;
    let clogged = 0;
    const was = links.map(() => false);
    for (let t = 0; t < 20_000; t++) {
      network.tick();
      links.forEach(([a, b], i) => {
        const now = network.isClogged(a, b);
        if (!was[i]) unclogged += 1;
        if (now && !was[i]) onsets += 1;
        if (now) clogged += 1;
        was[i] = now;
      });
    }
    // Onsets per unclogged tick ≈ 2 % (slightly less: a clog shorter than a tick is invisible).
    expect(onsets / unclogged).toBeGreaterThan(0.017);
    expect(onsets / unclogged).toBeLessThan(0.022);
    // Clogged fraction ≈ E[duration] / (E[gap] + E[duration]) ≈ 49.5 / (50 + 49.5).
    expect(clogged / (20_000 * links.length)).toBeGreaterThan(0.42);
    expect(clogged / (20_000 * links.length)).toBeLessThan(0.58);
  });
});

describe("heal (liveness phase)", () => {
  it("opens and unclogs core links, stops loss, keeps non-core filters", () => {
    const { network, log } = recording(quietOptions({
      replicaCount: 4, oneWayDelayMinMs: 100, oneWayDelayMeanMs: 100, packetLossProbability: percent(30),
      pathClogProbability: percent(2), pathClogDurationMeanMs: 5000,
    }));
    network.partition(PartitionMode.isolate_single, PartitionSymmetry.symmetric);
    for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) if (a !== b) network.clog(a, b, 1000);
    const isolated = [0, 1, 2, 3].find((node) => network.partitionSide(node) === 1)!;
    const core = [0, 1, 2, 3].filter((node) => node !== isolated);
    network.heal(core);
    for (const a of core) {
      for (const b of core) {
        if (a === b) continue;
        expect(network.linkFilter(a, b)).toBe(commandMaskAll);
        expect(network.isClogged(a, b)).toBe(false);
        network.send(a, b, message(Command.prepare, 260, a * 10 + b));
      }
      expect(network.linkFilter(a, isolated)).toBe(commandMaskNone);
      expect(network.linkFilter(isolated, a)).toBe(commandMaskNone);
    }
    while (network.step());
    expect(log).toHaveLength(6); // 1 ms delay: due this tick; nothing lost
    expect(network.stats.droppedLoss).toBe(0);
    for (let t = 0; t < 2000; t++) network.tick();
    for (const a of core) for (const b of core) if (a !== b) expect(network.isClogged(a, b)).toBe(false);
    expect(network.isPartitioned).toBe(true); // no unpartition either: non-core faults are permanent
  });
});

describe("nodes, buses and counters", () => {
  it("maps client ids to nodes, drops for disabled nodes and unknown clients", () => {
    const { network, log } = recording(quietOptions({ replicaCount: 2, clientCount: 2 }));
    expect(network.registerClient(77n)).toBe(2);
    expect(network.registerClient(5n)).toBe(3);
    expect(() => network.registerClient(6n)).toThrow(AssertionError);
    expect(network.clientNode(5n)).toBe(3);
    network.bus(0).sendToClient(5n, message(Command.reply, 260, 1));
    network.bus(0).sendToClient(99n, message(Command.reply, 260, 2));
    network.bus(3).sendToReplica(1, message(Command.request, 260, 3));
    expect(() => network.bus(3).sendToReplica(2, message(Command.request))).toThrow(AssertionError);
    network.setNodeEnabled(1, false);
    run(network, 1);
    expect(log.map((d) => [d.target, d.tag])).toEqual([[3, 1]]);
    expect(network.stats.droppedUnknownClient).toBe(1);
    expect(network.stats.droppedDisabled).toBe(1);
  });

  it("counts messages and bytes per command at send", () => {
    const { network } = recording(quietOptions());
    network.send(0, 1, message(Command.prepare, 1000));
    network.send(0, 2, message(Command.prepare, 500));
    network.send(1, 0, message(Command.prepare_ok, 256));
    expect(network.stats.messagesByCommand[Command.prepare]).toBe(2);
    expect(network.stats.bytesByCommand[Command.prepare]).toBe(1500);
    expect(network.stats.messagesByCommand[Command.prepare_ok]).toBe(1);
  });

  it("sends only the header's size bytes, and rejects inconsistent framing", () => {
    const { network } = recording(quietOptions());
    const seen: number[] = [];
    const net2 = new PacketSimulator(quietOptions(), (_t, bytes) => seen.push(bytes.length));
    const big = new Uint8Array(4096);
    big.set(message(Command.ping, 300));
    net2.send(0, 1, big);
    while (net2.step());
    expect(seen).toEqual([300]);
    expect(() => network.send(0, 1, new Uint8Array(100))).toThrow(AssertionError);
    expect(() => network.send(0, 1, message(Command.ping, 256).subarray(0, 200))).toThrow(AssertionError);
    const lying = message(Command.ping, 256);
    new DataView(lying.buffer).setUint32(96, 5000, true);
    expect(() => network.send(0, 1, lying)).toThrow(AssertionError);
  });

  it("poisons a delivered buffer once the receiver returns", () => {
    let kept: Uint8Array | null = null;
    const network = new PacketSimulator(quietOptions(), (_t, bytes) => { kept = bytes; });
    network.send(0, 1, message(Command.ping, 260, 1));
    while (network.step());
    expect(Array.from(kept!.subarray(0, 8))).toEqual(new Array(8).fill(0xee));
  });

  it("drop hooks and recorders", () => {
    const { network, log } = recording(quietOptions());
    network.setLinkDropFn(0, 1, (bytes) => tagOf(bytes) % 2 === 1);
    network.setLinkRecord(0, 1, true);
    for (let tag = 0; tag < 4; tag++) network.send(0, 1, message(Command.prepare, 260, tag));
    run(network, 1);
    expect(log.map((d) => d.tag)).toEqual([0, 2]);
    expect(network.stats.droppedHook).toBe(2);
    network.setLinkDropFn(0, 1, null);
    network.replayRecorded();
    run(network, 1);
    expect(log.map((d) => d.tag)).toEqual([0, 2, 0, 1, 2, 3]);
  });
});

describe("swarm options", () => {
  it("draws every option inside its spec/vopr.md §3.2 range", () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (seed) => {
      const o = swarmNetworkOptions(new Prng(seed), 3, 1, 4, 4096);
      expect(o.oneWayDelayMinMs).toBeGreaterThanOrEqual(0);
      expect(o.oneWayDelayMinMs).toBeLessThanOrEqual(30);
      expect(o.oneWayDelayMeanMs).toBeGreaterThanOrEqual(30);
      expect(o.oneWayDelayMeanMs).toBeLessThanOrEqual(100);
      expect(o.packetLossProbability.numerator).toBeLessThanOrEqual(30);
      expect(o.packetReplayProbability.numerator).toBeLessThanOrEqual(50);
      expect(o.pathMaximumCapacity).toBeGreaterThanOrEqual(2);
      expect(o.pathMaximumCapacity).toBeLessThanOrEqual(20);
      expect(o.pathClogDurationMeanMs).toBeLessThanOrEqual(5000);
      expect(o.pathClogProbability.numerator).toBeLessThanOrEqual(2);
      expect(o.partitionProbability.numerator).toBeLessThanOrEqual(3);
      expect(o.unpartitionProbability.numerator).toBeGreaterThanOrEqual(1);
      expect(o.unpartitionProbability.numerator).toBeLessThanOrEqual(10);
      expect(o.partitionStabilityTicks).toBeGreaterThanOrEqual(100);
      expect(o.partitionStabilityTicks).toBeLessThanOrEqual(200);
      expect(o.unpartitionStabilityTicks).toBeLessThanOrEqual(20);
    }), { numRuns: 200 });
  });
});

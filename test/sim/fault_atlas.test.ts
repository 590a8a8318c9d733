// The fault atlas (spec/vopr.md §8) under fast-check for R = 1..6: every chunk stays intact on at
// least R − quorum_replication + 1 replicas, no replica owns every chunk of a zone, R = 1 has no
// WAL, reply or grid faults and R ≤ 2 no grid faults.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AssertionError } from "../../src/core/assert.js";
import { sectorSize, testConfig } from "../../src/core/config.js";
import { Prng } from "../../src/core/prng.js";
import { Zone } from "../../src/io/storage.js";
import { quorums } from "../../src/replica/quorums.js";
import { defaultFaultAtlasOptions, FaultAtlas } from "../../src/sim/world/fault_atlas.js";

const atlasZones = [Zone.wal_headers, Zone.wal_prepares, Zone.client_replies, Zone.grid];

function popcount(mask: number): number {
  let count = 0;
  for (let bits = mask; bits !== 0; bits &= bits - 1) count += 1;
  return count;
}

describe("FaultAtlas", () => {
  const arbitrary = fc.record({
    replicas: fc.integer({ min: 1, max: 6 }),
    seed: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    gridBlocks: fc.integer({ min: 2, max: 300 }),
  });

  it("keeps every chunk intact on ≥ R − quorum_replication + 1 replicas, and no zone wholly on one", () => {
    fc.assert(fc.property(arbitrary, ({ replicas, seed, gridBlocks }) => {
      const sizeBytes = testConfig.zones.gridOffset + gridBlocks * testConfig.blockSize;
      const atlas = new FaultAtlas(new Prng(seed), replicas, testConfig, sizeBytes);
      const replication = quorums(replicas).replication;
      const options = defaultFaultAtlasOptions(replicas);
      expect(atlas.faultsMax).toBe(replication - 1);
      expect(atlas.chunkCount(Zone.superblock)).toBe(0);
      expect(atlas.chunkCount(Zone.grid)).toBe(gridBlocks);
      for (const zone of atlasZones) {
        const enabled = [false, options.faultyWalHeaders, options.faultyWalPrepares, options.faultyClientReplies,
          options.faultyGrid][zone];
        for (let chunk = 0; chunk < atlas.chunkCount(zone); chunk++) {
          const faulty = popcount(atlas.faultyReplicas(zone, chunk));
          expect(faulty).toBe(enabled ? replication - 1 : 0);
          expect(replicas - faulty).toBeGreaterThanOrEqual(replicas - replication + 1);
          expect(atlas.faultyReplicas(zone, chunk) >> replicas).toBe(0);
        }
        for (let replica = 0; replica < replicas; replica++) {
          expect(atlas.faultyChunkCount(replica, zone)).toBeLessThan(atlas.chunkCount(zone));
        }
        expect(atlas.faultyChunkCount(replicas, zone)).toBe(0); // a standby owns nothing
      }
      if (replicas === 1) {
        for (const zone of atlasZones) expect(atlas.faultyChunkCount(0, zone)).toBe(0);
      }
      if (replicas <= 2) {
        for (let replica = 0; replica < replicas; replica++) expect(atlas.faultyChunkCount(replica, Zone.grid)).toBe(0);
      }
    }), { numRuns: 150 });
  });

  it("couples WAL headers with their 16 prepares", () => {
    const atlas = new FaultAtlas(new Prng(7n), 5, testConfig, testConfig.zones.gridOffset + 64 * 4096);
    expect(atlas.chunkCount(Zone.wal_headers)).toBe(2);
    expect(atlas.chunkSize(Zone.wal_prepares)).toBe(16 * testConfig.messageSizeMax);
    for (let slot = 0; slot < testConfig.journalSlotCount; slot++) {
      const headerChunk = atlas.chunkOf(Zone.wal_headers, Math.floor((slot * 256) / sectorSize) * sectorSize);
      const prepareChunk = atlas.chunkOf(Zone.wal_prepares, slot * testConfig.messageSizeMax);
      expect(prepareChunk).toBe(headerChunk);
      expect(atlas.faultyReplicas(Zone.wal_prepares, prepareChunk))
        .toBe(atlas.faultyReplicas(Zone.wal_headers, headerChunk));
    }
    expect(atlas.chunkOf(Zone.superblock, 0)).toBe(-1);
    expect(atlas.isFaultyAt(0, Zone.superblock, 0)).toBe(false);
  });

  it("is a pure function of the seed", () => {
    const size = testConfig.zones.gridOffset + 500 * 4096;
    const a = new FaultAtlas(new Prng(11n), 6, testConfig, size);
    const b = new FaultAtlas(new Prng(11n), 6, testConfig, size);
    const c = new FaultAtlas(new Prng(12n), 6, testConfig, size);
    const masks = (atlas: FaultAtlas): number[] => atlasZones.flatMap((zone) =>
      Array.from({ length: atlas.chunkCount(zone) }, (_, chunk) => atlas.faultyReplicas(zone, chunk)));
    expect(masks(b)).toEqual(masks(a));
    expect(masks(c)).not.toEqual(masks(a));
  });

  it("refuses unrepairable configurations", () => {
    const size = testConfig.zones.gridOffset + 64 * 4096;
    const all = { faultyWalHeaders: true, faultyWalPrepares: true, faultyClientReplies: true, faultyGrid: true };
    const noGrid = { ...all, faultyGrid: false };
    expect(() => new FaultAtlas(new Prng(1n), 1, testConfig, size, noGrid)).toThrow(AssertionError);
    expect(() => new FaultAtlas(new Prng(1n), 2, testConfig, size, all)).toThrow(AssertionError);
    expect(() => new FaultAtlas(new Prng(1n), 3, testConfig, size, all)).not.toThrow();
  });
});

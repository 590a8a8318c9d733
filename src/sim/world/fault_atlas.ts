// The cluster fault atlas (spec/vopr.md §8): which replicas may suffer read, write and misdirect
// faults in which part of each zone. Storage is cut into chunks per zone, and every chunk is
// assigned to faults_max = quorum_replication − 1 distinct replicas, so every chunk stays intact
// on at least R − quorum_replication + 1 replicas: at least one member of any replication quorum
// holds a good copy, and the cluster can always repair. Crash (torn-write) faults are not limited
// by the atlas (§7 item 5).
//
// Chunks: a WAL header sector (16 headers); the 16 prepares whose headers share that sector
// (coupled: one assignment serves both zones, so a replica never loses a header and, on another
// replica, its prepare as well); one client-reply slot; one grid block. The superblock has no
// chunks (§7 item 6: only crash faults land there).
import { assert } from "../../core/assert.js";
import { headerSize, sectorSize, type Config } from "../../core/config.js";
import type { Prng } from "../../core/prng.js";
import { Zone } from "../../io/storage.js";
import { quorums } from "../../replica/quorums.js";

export interface FaultAtlasOptions {
  readonly faultyWalHeaders: boolean;
  readonly faultyWalPrepares: boolean;
  readonly faultyClientReplies: boolean;
  readonly faultyGrid: boolean;
}

/**
 * spec/vopr.md §3.3: WAL and reply faults iff R > 1 (one replica cannot repair them), grid faults
 * iff R > 2 (with two, a lagging replica may sync its only copy from the other).
 */
export function defaultFaultAtlasOptions(replicaCount: number): FaultAtlasOptions {
  return {
    faultyWalHeaders: replicaCount > 1,
    faultyWalPrepares: replicaCount > 1,
    faultyClientReplies: replicaCount > 1,
    faultyGrid: replicaCount > 2,
  };
}

export class FaultAtlas {
  /** Active replicas; standbys (indexes ≥ replicaCount) own no chunk. */
  readonly replicaCount: number;
  readonly faultsMax: number;
  private readonly chunkBytes: readonly number[];
  private readonly chunkCounts: readonly number[];
  /** Per zone, per chunk: the bitmask of replicas that may fault it (null: no faults in zone). */
  private readonly masks: readonly (Uint8Array | null)[];

  constructor(
    prng: Prng,
    replicaCount: number,
    config: Config,
    storageSizeBytes: number,
    options: FaultAtlasOptions = defaultFaultAtlasOptions(replicaCount),
  ) {
    assert(replicaCount >= 1 && replicaCount <= 8, "FaultAtlas: replica masks are 8 bits");
    if (replicaCount === 1) {
      assert(!options.faultyWalHeaders && !options.faultyWalPrepares, "FaultAtlas: R = 1 cannot repair its WAL");
      assert(!options.faultyClientReplies && !options.faultyGrid, "FaultAtlas: R = 1 cannot repair replies or blocks");
    }
    if (replicaCount <= 2) assert(!options.faultyGrid, "FaultAtlas: R ≤ 2 must not fault the grid");
    this.replicaCount = replicaCount;
    this.faultsMax = quorums(replicaCount).replication - 1;
    assert(this.faultsMax < replicaCount && (this.faultsMax > 0 || replicaCount === 1));

    const headersPerSector = sectorSize / headerSize;
    const zones = config.zones;
    const gridSize = storageSizeBytes - zones.gridOffset;
    assert(gridSize >= 0, "FaultAtlas: storage smaller than the fixed zones");
    this.chunkBytes = [
      0, sectorSize, headersPerSector * config.messageSizeMax, config.messageSizeMax, config.blockSize,
    ];
    this.chunkCounts = [
      0,
      zones.walHeaders.size / sectorSize,
      zones.walHeaders.size / sectorSize,
      config.clientsMax,
      Math.floor(gridSize / config.blockSize),
    ];
    assert(zones.walPrepares.size === this.chunkCounts[Zone.wal_prepares]! * this.chunkBytes[Zone.wal_prepares]!);

    // Draw order is fixed (WAL, replies, grid), and a zone draws nothing when it is off.
    const walFaulty = options.faultyWalHeaders || options.faultyWalPrepares;
    const wal = walFaulty ? this.assign(prng, this.chunkCounts[Zone.wal_headers]!) : null;
    const replies = options.faultyClientReplies ? this.assign(prng, this.chunkCounts[Zone.client_replies]!) : null;
    const grid = options.faultyGrid ? this.assign(prng, this.chunkCounts[Zone.grid]!) : null;
    this.masks = [
      null,
      options.faultyWalHeaders ? wal : null,
      options.faultyWalPrepares ? wal : null,
      replies,
      grid,
    ];
  }

  /** Chunks in `zone` (0 for the superblock). */
  chunkCount(zone: Zone): number {
    return this.chunkCounts[zone]!;
  }

  /** Bytes per chunk of `zone` (0 for the superblock). */
  chunkSize(zone: Zone): number {
    return this.chunkBytes[zone]!;
  }

  /** The chunk holding byte `offset` of `zone`, or −1 for the superblock. */
  chunkOf(zone: Zone, offset: number): number {
    if (zone === Zone.superblock) return -1;
    const chunk = Math.floor(offset / this.chunkBytes[zone]!);
    assert(chunk >= 0 && chunk < this.chunkCounts[zone]!, "FaultAtlas.chunkOf: offset outside the zone");
    return chunk;
  }

  /** Bitmask of the replicas that may fault `chunk` of `zone`. */
  faultyReplicas(zone: Zone, chunk: number): number {
    const masks = this.masks[zone];
    if (masks === null || masks === undefined) return 0;
    assert(chunk >= 0 && chunk < masks.length, "FaultAtlas.faultyReplicas: chunk out of range");
    return masks[chunk]!;
  }

  /** Whether `replica` may suffer read, write or misdirect faults in `chunk` of `zone`. */
  isFaulty(replica: number, zone: Zone, chunk: number): boolean {
    if (replica >= this.replicaCount) return false;
    return ((this.faultyReplicas(zone, chunk) >>> replica) & 1) === 1;
  }

  /** Whether the byte at `offset` of `zone` lies in one of `replica`'s faulty chunks. */
  isFaultyAt(replica: number, zone: Zone, offset: number): boolean {
    if (zone === Zone.superblock || this.masks[zone] === null) return false;
    return this.isFaulty(replica, zone, this.chunkOf(zone, offset));
  }

  faultyChunkCount(replica: number, zone: Zone): number {
    let count = 0;
    for (let chunk = 0; chunk < this.chunkCounts[zone]!; chunk++) {
      if (this.isFaulty(replica, zone, chunk)) count += 1;
    }
    return count;
  }

  /**
   * Gives each chunk faultsMax distinct replicas, never letting one replica own every chunk (that
   * would make its whole WAL, say, invalid). Choosing among the eligible replicas (rather than
   * TigerBeetle's retry loop) keeps the loop bounded. Greedy always finds enough: a replica is
   * ineligible at count − 1 chunks, so at most faultsMax are, and R ≥ 2·faultsMax.
   */
  private assign(prng: Prng, chunkCount: number): Uint8Array | null {
    const faultsMax = this.faultsMax;
    // One chunk cannot be faulty anywhere without being faulty everywhere it is assigned.
    if (faultsMax === 0 || chunkCount < 2) return null;
    const masks = new Uint8Array(chunkCount);
    const counts = new Array<number>(this.replicaCount).fill(0);
    const eligible: number[] = [];
    for (let chunk = 0; chunk < chunkCount; chunk++) {
      eligible.length = 0;
      for (let replica = 0; replica < this.replicaCount; replica++) {
        if (counts[replica]! + 1 < chunkCount) eligible.push(replica);
      }
      assert(eligible.length >= faultsMax, "FaultAtlas: not enough eligible replicas");
      for (let pick = 0; pick < faultsMax; pick++) {
        const swap = pick + prng.int(eligible.length - pick);
        const replica = eligible[swap]!;
        eligible[swap] = eligible[pick]!;
        eligible[pick] = replica;
        masks[chunk] |= 1 << replica;
        counts[replica] += 1;
      }
    }
    return masks;
  }
}

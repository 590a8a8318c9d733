// Configuration presets. Every limit in Scarab derives from one of these two objects, so the
// simulator (`test`) and production share one code path with different sizes (spec/vsr.md §1, §12).
import { assert } from "./assert.js";

export const sectorSize = 4096;
export const headerSize = 256;
/** u32 release = patch | minor << 8 | major << 16. Scarab speaks TigerBeetle 0.17.9. */
export const releaseCurrent = 0x00_11_09; // 0.17.9 = 4361
export const releaseClientMin = 0x00_10_04; // 0.16.4 = 4100

export interface Config {
  readonly name: "production" | "test";
  readonly replicasMax: number;
  readonly standbysMax: number;
  readonly journalSlotCount: number;
  readonly messageSizeMax: number;
  readonly blockSize: number;
  readonly lsmCompactionOps: number;
  readonly pipelinePrepareQueueMax: number;
  readonly clientsMax: number;
  readonly viewChangeHeadersSuffixMax: number;
  readonly journalIopsWriteMax: number;
  readonly journalIopsReadMax: number;
  readonly superblockCopySize: number;
  readonly gridAlignment: number;
  /** Derived. */
  readonly messageBodySizeMax: number;
  readonly viewHeadersMax: number;
  readonly vsrCheckpointOps: number;
  readonly zones: Zones;
}

export interface Zones {
  readonly superblock: Zone;
  readonly walHeaders: Zone;
  readonly walPrepares: Zone;
  readonly clientReplies: Zone;
  /** The grid starts here and runs to the end of the data file. */
  readonly gridOffset: number;
}

export interface Zone {
  readonly offset: number;
  readonly size: number;
}

interface BaseConfig {
  name: Config["name"];
  journalSlotCount: number;
  messageSizeMax: number;
  blockSize: number;
  lsmCompactionOps: number;
  pipelinePrepareQueueMax: number;
  clientsMax: number;
  viewChangeHeadersSuffixMax: number;
  journalIopsWriteMax: number;
  journalIopsReadMax: number;
  superblockCopySize: number;
  gridAlignment: number;
}

function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

function deriveConfig(base: BaseConfig): Config {
  const pipelineMax = base.pipelinePrepareQueueMax;
  const compaction = base.lsmCompactionOps;
  const vsrCheckpointOps =
    base.journalSlotCount - compaction - compaction * Math.ceil((2 * pipelineMax) / compaction);
  // A log entry from the previous wrap may only be overwritten once a quorum holds the next
  // checkpoint (spec/vsr.md §9).
  assert(vsrCheckpointOps + compaction + 2 * pipelineMax <= base.journalSlotCount);
  assert(base.messageSizeMax % sectorSize === 0 && base.blockSize % sectorSize === 0);
  assert((base.journalSlotCount * headerSize) % sectorSize === 0);

  const superblock = { offset: 0, size: 4 * base.superblockCopySize };
  const walHeaders = { offset: superblock.size, size: base.journalSlotCount * headerSize };
  const walPrepares = {
    offset: walHeaders.offset + walHeaders.size,
    size: base.journalSlotCount * base.messageSizeMax,
  };
  const clientReplies = {
    offset: walPrepares.offset + walPrepares.size,
    size: base.clientsMax * base.messageSizeMax,
  };
  const gridOffset = alignUp(clientReplies.offset + clientReplies.size, base.gridAlignment);
  return {
    ...base,
    replicasMax: 6,
    standbysMax: 6,
    messageBodySizeMax: base.messageSizeMax - headerSize,
    viewHeadersMax: base.viewChangeHeadersSuffixMax + 2,
    vsrCheckpointOps,
    zones: { superblock, walHeaders, walPrepares, clientReplies, gridOffset },
  };
}

export const productionConfig: Config = deriveConfig({
  name: "production",
  journalSlotCount: 1024,
  messageSizeMax: 1024 * 1024,
  blockSize: 512 * 1024,
  lsmCompactionOps: 32,
  pipelinePrepareQueueMax: 8,
  clientsMax: 64,
  viewChangeHeadersSuffixMax: 9,
  journalIopsWriteMax: 32,
  journalIopsReadMax: 8,
  superblockCopySize: 24 * 1024,
  gridAlignment: 512 * 1024,
});

export const testConfig: Config = deriveConfig({
  name: "test",
  journalSlotCount: 32,
  messageSizeMax: 4096,
  blockSize: 4096,
  lsmCompactionOps: 4,
  pipelinePrepareQueueMax: 4,
  clientsMax: 7,
  viewChangeHeadersSuffixMax: 5,
  journalIopsWriteMax: 2,
  journalIopsReadMax: 3,
  superblockCopySize: 12 * 1024,
  gridAlignment: 4096,
});

/** Ledger limits (spec/ledger.md §12), independent of the replica configuration. */
export const batchEventsMax = 8189;
export const queryResultsMax = 8189;
/** The pulse reserves this many timestamps (spec/ledger.md §9.3). */
export const pulseTimestampReserve = 8190;

// Swarm parameters (spec/vopr.md §3) and the modes of §4. One seed draws everything, in the fixed
// order cluster → network → storage → workload (§1); each group ends with its sub-seed. Overrides
// (--lite, --replicas, --clients, --performance, --faults-off) are applied after the draws, so that
// the same seed keeps every other parameter when only an override changes.
import { sectorSize, type Config } from "../../core/config.js";
import { Prng } from "../../core/prng.js";
import { idealClock, type ClockOffset } from "../world/time_sim.js";
import { describeClocks, drawClocks } from "./swarm_clocks.js";
import { switchFaultsOff, type FaultClass } from "./fault_classes.js";
import {
  describeNetworkOptions, performanceNetworkOptions, swarmNetworkOptions, type PacketSimulatorOptions,
} from "../world/network_options.js";
import { formatRatio, percent, ratio, ratioZero, type Ratio } from "../ratio.js";
import {
  describeStorageOptions, performanceStorageOptions, swarmStorageOptions, type StorageFaultOptions,
} from "../world/storage_options.js";

export type SimulationMode = "default" | "lite" | "performance";

export interface SwarmOverrides {
  readonly mode: SimulationMode;
  readonly replicaCount?: number;
  readonly clientCount?: number;
  readonly requestsMax?: number;
  readonly packetLoss?: Ratio;
  /** Per tick per replica, replacing the fixed crash probability (×10 with writes pending stays). */
  readonly crashRatio?: Ratio;
  /** Per tick per crashed replica, replacing the fixed restart probability. */
  readonly restartRatio?: Ratio;
  /** Zeroed after every draw, over any ratio override above (fault_classes.ts). */
  readonly faultsOff?: readonly FaultClass[];
  /** Every seed skews its clocks, not half of them (swarm_clocks.ts). */
  readonly skewClocks?: boolean;
}

/** §3.4: per tick per replica, fixed; stabilities are minimum durations in ticks. */
export interface ProcessFaults {
  readonly crashProbability: Ratio;
  /** ×10 while the replica has writes in flight, to catch torn writes. */
  readonly crashProbabilityWritesPending: Ratio;
  readonly crashStabilityTicks: number;
  readonly restartProbability: Ratio;
  readonly restartStabilityTicks: number;
  readonly pauseProbability: Ratio;
  readonly unpauseProbability: Ratio;
  readonly pauseStabilityTicks: number;
  readonly unpauseStabilityTicks: number;
  /** Of restarts where faults are allowed: the data file is lost and reformatted (§8). */
  readonly reformatProbability: Ratio;
}

export interface SwarmParameters {
  readonly seed: bigint;
  readonly mode: SimulationMode;
  readonly replicaCount: number;
  readonly standbyCount: number;
  readonly clientCount: number;
  readonly batchSizeLimit: number;
  readonly multiBatchPerRequestLimit: number;
  readonly storageSizeBytes: number;
  /**
   * Pages of the grid's block cache (page_cache.ts). The spec's three state-machine caches
   * (accounts, transfers, pending: 256 or 0 entries, 50 % each) are one block cache here: the same
   * three draws size it, 1, 4, 16 or 256 pages by how many came up 256, so most seeds evict and
   * read back pages constantly.
   */
  readonly gridCachePages: number;
  /** §3.1 reformats_max = R + 2. */
  readonly reformatsMax: number;
  readonly process: ProcessFaults;
  readonly clusterSeed: bigint;
  readonly network: PacketSimulatorOptions;
  readonly storage: StorageFaultOptions;
  readonly storageSeed: bigint;
  readonly requestsMax: number;
  readonly requestProbability: Ratio;
  readonly requestIdleOnProbability: Ratio;
  readonly requestIdleOffProbability: Ratio;
  readonly workloadSeed: bigint;
  /** `--performance`: ticks without requests before the safety phase (§4). */
  readonly warmupTicks: number;
  /** Each replica's and standby's clock model (swarm_clocks.ts); ideal in performance mode. */
  readonly clocks: readonly ClockOffset[];
}

const mib = 1024 * 1024;
/** §3.1: the largest event is the 256-byte RegisterRequest. */
const eventSizeMax = 256;

/** Draws every parameter; returns them with the PRNG, which the simulator keeps for its dice. */
export function drawSwarm(seed: bigint, config: Config, overrides: SwarmOverrides): { swarm: SwarmParameters; prng: Prng } {
  const prng = new Prng(seed);
  const cluster = drawCluster(prng, config, overrides);
  const { replicaCount, standbyCount, clientCount } = cluster;
  const performance = overrides.mode === "performance";
  // Network and storage are drawn in every mode, so that the draw order never depends on it.
  const drawnNetwork = swarmNetworkOptions(prng, replicaCount, standbyCount, clientCount, config.messageSizeMax);
  const drawnStorage = swarmStorageOptions(prng);
  const storageSeed = prng.next();
  const requestProbability = percent(prng.range(1, 100));
  const requestIdleOnProbability = percent(prng.range(0, 20));
  const requestIdleOffProbability = percent(prng.range(10, 20));
  const workloadSeed = prng.next();
  // Drawn last: earlier draws keep their values.
  const drawnClocks = drawClocks(prng, replicaCount + standbyCount, overrides.skewClocks === true);
  const swarm: SwarmParameters = {
    ...cluster,
    seed,
    mode: overrides.mode,
    network: performance
      ? performanceNetworkOptions(drawnNetwork.seed, replicaCount, clientCount, config.messageSizeMax)
      : { ...drawnNetwork, packetLossProbability: overrides.packetLoss ?? drawnNetwork.packetLossProbability },
    storage: performance ? performanceStorageOptions : drawnStorage,
    storageSeed,
    requestsMax: overrides.requestsMax ?? (performance ? 32 * 8 : config.journalSlotCount * 3),
    requestProbability: performance ? percent(100) : requestProbability,
    requestIdleOnProbability: performance ? ratioZero : requestIdleOnProbability,
    requestIdleOffProbability,
    // §4: a fixed workload seed, so that runs compare protocol efficiency, not workloads.
    workloadSeed: performance ? 92n : workloadSeed,
    warmupTicks: performance ? 500 : 0,
    clocks: performance ? drawnClocks.map(() => idealClock) : drawnClocks,
  };
  return { swarm: switchFaultsOff(swarm, overrides.faultsOff ?? []), prng };
}

type ClusterDraw = Pick<SwarmParameters, "replicaCount" | "standbyCount" | "clientCount" | "batchSizeLimit" |
  "multiBatchPerRequestLimit" | "storageSizeBytes" | "gridCachePages" | "reformatsMax" | "process" | "clusterSeed">;

/** §3.1 and §3.4, in the tables' order, then the cluster sub-seed. */
function drawCluster(prng: Prng, config: Config, overrides: SwarmOverrides): ClusterDraw {
  const drawnReplicas = prng.range(1, config.replicasMax);
  const drawnStandbys = prng.range(0, config.standbysMax);
  const drawnClients = prng.range(1, 2 * config.clientsMax - 1);
  const bodyMax = config.messageBodySizeMax;
  const batchSizeLimit = prng.chance(1, 2) ? bodyMax : prng.range(eventSizeMax, bodyMax);
  const quotient = Math.floor(batchSizeLimit / eventSizeMax);
  const multiBatchPerRequestLimit = quotient === 1 ? 1 : prng.range(1, quotient - 1);
  const storageSizeBytes = Math.floor((200 * mib - prng.range(0, 20 * mib)) / sectorSize) * sectorSize;
  let cachesDrawn = 0;
  for (let index = 0; index < 3; index++) if (prng.chance(1, 2)) cachesDrawn += 1;
  const gridCachePages = [1, 4, 16, 256][cachesDrawn]!;
  const crashStabilityTicks = prng.range(0, 1000);
  const restartStabilityTicks = prng.range(0, 1000);
  const pauseStabilityTicks = prng.range(0, 1000);
  const unpauseStabilityTicks = prng.range(0, 1000);
  const clusterSeed = prng.next();
  const mode = overrides.mode;
  const replicaCount = overrides.replicaCount ?? (mode === "lite" ? 3 : mode === "performance" ? 6 : drawnReplicas);
  const standbyCount = mode === "default" ? drawnStandbys : 0;
  const quiet = mode === "performance"; // §4: no crashes or upgrades
  const crash = overrides.crashRatio ?? ratio(2, 10_000_000);
  return {
    replicaCount,
    standbyCount,
    clientCount: overrides.clientCount ?? (mode === "performance" ? 4 : drawnClients),
    batchSizeLimit,
    multiBatchPerRequestLimit,
    storageSizeBytes,
    gridCachePages,
    reformatsMax: replicaCount + 2,
    process: {
      crashProbability: quiet ? ratioZero : crash,
      crashProbabilityWritesPending: quiet ? ratioZero : ratio(Math.min(crash.numerator * 10, crash.denominator), crash.denominator),
      crashStabilityTicks,
      restartProbability: overrides.restartRatio ?? ratio(2, 1_000_000),
      restartStabilityTicks,
      pauseProbability: quiet ? ratioZero : ratio(8, 10_000_000),
      unpauseProbability: ratio(8, 1_000_000),
      pauseStabilityTicks,
      unpauseStabilityTicks,
      reformatProbability: percent(30),
    },
    clusterSeed,
  };
}

/** The start-up banner (§1: "a failing seed describes itself"). */
export function describeSwarm(s: SwarmParameters, stateMachine: string): string[] {
  const p = s.process;
  const r = formatRatio;
  return [
    `SEED=${s.seed}`,
    `mode=${s.mode} state_machine=${stateMachine} node=${nodeVersion()}`,
    `replicas=${s.replicaCount} standbys=${s.standbyCount} clients=${s.clientCount}`,
    `batch_size_limit=${s.batchSizeLimit} multi_batch_per_request_limit=${s.multiBatchPerRequestLimit}`,
    `storage_size_limit=${s.storageSizeBytes} grid_cache_pages=${s.gridCachePages} reformats_max=${s.reformatsMax}`,
    ...describeNetworkOptions(s.network).split("\n"),
    ...describeStorageOptions(s.storage).split("\n"),
    `replica_crash_probability=${r(p.crashProbability)} (x10 with writes pending: ${r(p.crashProbabilityWritesPending)}) replica_crash_stability=${p.crashStabilityTicks}`,
    `replica_restart_probability=${r(p.restartProbability)} replica_restart_stability=${p.restartStabilityTicks}`,
    `replica_reformat_probability=${r(p.reformatProbability)}`,
    `replica_pause_probability=${r(p.pauseProbability)} replica_unpause_probability=${r(p.unpauseProbability)}`,
    `replica_pause_stability=${p.pauseStabilityTicks} replica_unpause_stability=${p.unpauseStabilityTicks}`,
    `release_advance_probability=0 release_catchup_probability=0 (upgrades not implemented)`,
    `requests_max=${s.requestsMax} request_probability=${r(s.requestProbability)}`,
    `request_idle_on_probability=${r(s.requestIdleOnProbability)} request_idle_off_probability=${r(s.requestIdleOffProbability)}`,
    describeClocks(s.clocks),
  ];
}

/** Recorded with failing seeds (§1: Math.log comes from V8's bundled fdlibm). */
function nodeVersion(): string {
  return typeof process === "object" ? process.version : "unknown";
}

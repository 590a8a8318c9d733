// The load of `scarab benchmark`, through the public TypeScript client: create the accounts, then
// the transfers in batches, with every client keeping one request in flight. Every result is
// checked: a transfer (or account) that was not created fails the run. The next batch is built
// while the current one is in flight, so generating the load stays out of the measured latency as
// far as one thread allows.
import { performance } from "node:perf_hooks";
import {
  CreateAccountStatus, CreateTransferStatus, id, type Client, type Transfer,
} from "../client/index.js";
import { Prng } from "../core/prng.js";
import { LatencyHistogram } from "./benchmark_latency.js";
import { account, buildTransfers, randomU128 } from "./benchmark_workload.js";

export type IdOrder = "sequential" | "random";

export interface LoadOptions {
  readonly accountCount: number;
  readonly transferCount: number;
  readonly transferBatchSize: number;
  /** Events one request may carry (8189, fewer for a --development cluster). */
  readonly batchEventsMax: number;
  readonly idOrder: IdOrder;
  readonly seed: bigint;
  /**
   * Transfers per second offered, or null for as fast as the cluster answers. With a rate, batch k
   * is not sent before start + (transfers before it) / rate: latency is then measured at that
   * load (a batch that is due late goes at once, so a slow stretch is caught up, not skipped).
   */
  readonly rate: number | null;
  /** Called once the accounts exist and the transfers (the measured part) begin. */
  readonly onTransfersStart: () => void;
  /** Called after every transfer batch with the transfers created so far. */
  readonly onProgress: (transfersDone: number) => void;
}

export interface LoadResult {
  readonly accountSeconds: number;
  readonly transferSeconds: number;
  readonly batches: number;
  readonly transfersCreated: number;
  readonly latency: LatencyHistogram;
}

/** A failure of the run itself (a result other than `created`, a replica that exited): exit code 1. */
export class BenchmarkFailure extends Error {
  override name = "BenchmarkFailure";
}

export async function runLoad(clients: readonly Client[], options: LoadOptions): Promise<LoadResult> {
  const prng = new Prng(options.seed);
  const newId = options.idOrder === "sequential" ? id : () => randomU128(prng);
  const accountIds = Array.from({ length: options.accountCount }, newId);

  const accountsStarted = performance.now();
  await createAccounts(clients, accountIds, Math.min(options.batchEventsMax, 8189));
  // One small request per client registers its session before the clock starts for transfers.
  await Promise.all(clients.map(async (client, index) => {
    const found = await client.lookupAccounts([accountIds[index % accountIds.length]!]);
    if (found.length !== 1) throw new BenchmarkFailure(`client ${index}: an account just created was not found`);
  }));
  const accountSeconds = (performance.now() - accountsStarted) / 1000;

  options.onTransfersStart();
  const measured = await transferPhase(clients, options.transferCount, options,
    (size) => buildTransfers(size, accountIds, prng, newId), options.onProgress);
  return { accountSeconds, ...measured };
}

interface TransferPhase {
  readonly transferSeconds: number;
  readonly batches: number;
  readonly transfersCreated: number;
  readonly latency: LatencyHistogram;
}

/** `count` transfers from every loop, each with one call outstanding, paced by options.rate. */
async function transferPhase(
  clients: readonly Client[], count: number, options: LoadOptions, build: (size: number) => Transfer[],
  onProgress: (created: number) => void,
): Promise<TransferPhase> {
  const latency = new LatencyHistogram();
  let taken = 0;
  let created = 0;
  let batches = 0;
  let failed = false;
  /** The next batch and the number of transfers taken before it, or null at the end. */
  const take = (): { batch: Transfer[]; before: number } | null => {
    if (failed || taken >= count) return null;
    const size = Math.min(options.transferBatchSize, count - taken);
    const before = taken;
    taken += size;
    return { batch: build(size), before };
  };
  const started = performance.now();
  await Promise.all(clients.map(async (client) => {
    let next = take();
    while (next !== null) {
      const { batch, before } = next;
      if (options.rate !== null) {
        const wait = started + (1000 * before) / options.rate - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
      const sent = performance.now();
      const pending = client.createTransfers(batch);
      next = take();
      const results = await pending.catch((error: unknown) => {
        failed = true;
        throw error;
      });
      latency.record(performance.now() - sent);
      const problem = checkResults(batch, results);
      if (problem !== null) {
        failed = true;
        throw new BenchmarkFailure(`batch ${batches + 1}: ${problem}`);
      }
      batches += 1;
      created += batch.length;
      onProgress(created);
    }
  }));
  return { transferSeconds: (performance.now() - started) / 1000, batches, transfersCreated: created, latency };
}

async function createAccounts(clients: readonly Client[], ids: readonly bigint[], batchSize: number): Promise<void> {
  // Accounts are few next to transfers: one client creates them, in order.
  let next = 0;
  while (next < ids.length) {
    const batch = ids.slice(next, next + batchSize).map(account);
    next += batch.length;
    const results = await clients[0]!.createAccounts(batch);
    if (results.length !== batch.length) {
      throw new BenchmarkFailure(`create_accounts returned ${results.length} results for ${batch.length} accounts`);
    }
    const index = results.findIndex((result) => result.status !== CreateAccountStatus.created);
    if (index >= 0) {
      const status = results[index]!.status;
      throw new BenchmarkFailure(`account ${batch[index]!.id} was not created: ${CreateAccountStatus[status] ?? status}`);
    }
  }
}

/** The first problem with a create_transfers reply, or null if every transfer was created. */
export function checkResults(batch: readonly Transfer[], results: readonly { status: CreateTransferStatus }[]): string | null {
  if (results.length !== batch.length) return `create_transfers returned ${results.length} results for ${batch.length} transfers`;
  let failures = 0;
  let first = -1;
  for (let i = 0; i < results.length; i++) {
    if (results[i]!.status !== CreateTransferStatus.created) {
      failures += 1;
      if (first < 0) first = i;
    }
  }
  if (failures === 0) return null;
  const status = results[first]!.status;
  return `${failures} of ${batch.length} transfers were not created; the first, id ${batch[first]!.id}, ` +
    `failed with ${CreateTransferStatus[status] ?? status}`;
}

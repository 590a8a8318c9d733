// `scarab recover`: a new data file for a replica whose file is lost (a dead disk, a deleted file),
// in the way TigerBeetle's `recover` makes one. `scarab format` would be unsafe here: a freshly
// formatted replica believes it never prepared anything, so it could nack ops that its lost
// incarnation acknowledged, and a view change could then drop committed ops. Instead, as a client:
// 1. commit pipeline_prepare_queue_max no-op requests (empty lookups) through the other replicas,
//    so that every op the lost incarnation can have acknowledged is committed;
// 2. format the file in a view two past the one those requests committed in (recoverView), so it
//    never re-enters a view in which the lost incarnation voted.
// Then `scarab start` runs it as usual: it joins that view's view change with an empty log and
// catches up by WAL repair or state sync. The other replicas must be up and able to commit.
import { existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { productionConfig, releaseCurrent, testConfig, headerSize } from "../core/config.js";
import { ReplyHeader } from "../core/header.js";
import { encodeEvents, operationCodecs } from "../core/ledger/object_codec.js";
import { Prng } from "../core/prng.js";
import { RealTime } from "../io/real_time.js";
import { TcpClientBus, type Address } from "../io/tcp_client_bus.js";
import { VsrClient } from "../replica/client.js";
import { recoverView } from "../replica/quorums.js";
import { dataFileSize, formatDataFile } from "./replica_host.js";
import { addressesFlag, clusterFlag, integerFlag, onePath, parseFlags } from "./server.js";
import { UsageError } from "./usage_error.js";

export const recoverHelp = `Usage: scarab recover --addresses=<a,b,c> --cluster=<u128> --replica=<index> [--development] <path>

Creates a new data file for a replica whose data file was lost, so that it can rejoin its cluster
safely ('scarab format' must not be used for that: the new replica could disown ops its lost
incarnation acknowledged). It first commits a few no-op requests through the other replicas,
which must be up and able to commit, then formats the file in a view past theirs. Then start it
with 'scarab start' as before: it catches up from its peers (WAL repair or state sync).

Options:
  --addresses LIST    every replica's address in index order, as for 'scarab start' (this
                      replica's entry is a placeholder: nothing needs to listen there)
  --cluster N         the cluster id (decimal u128)
  --replica I         the index of the replica being recovered
  --development       the cluster was formatted with --development
  --timeout S         give up if the cluster has not committed the no-ops within S seconds (default 60)
  --help              print this help`;

export function runRecover(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    addresses: { type: "string" }, cluster: { type: "string" }, replica: { type: "string" },
    development: { type: "boolean" }, timeout: { type: "string" }, help: { type: "boolean" },
  });
  if (values.help) {
    console.log(recoverHelp);
    return Promise.resolve(0);
  }
  const path = onePath(positionals);
  const cluster = clusterFlag(values.cluster);
  const addresses = addressesFlag(values.addresses);
  if (addresses.length > 6) throw new UsageError("--addresses lists at most 6 replicas");
  if (addresses.length === 1) {
    throw new UsageError("a one-replica cluster cannot recover a lost data file: no other replica holds its data");
  }
  const replica = integerFlag(values.replica, "replica", 0, addresses.length - 1);
  const timeoutSeconds = values.timeout === undefined ? 60 : integerFlag(values.timeout, "timeout", 1, 86_400);
  if (existsSync(path)) throw new UsageError(`${path} already exists; refusing to overwrite a data file`);
  const config = values.development ? testConfig : productionConfig;
  return commitNoops(cluster, addresses, config.pipelinePrepareQueueMax, timeoutSeconds * 1000).then((view) => {
    if (typeof view === "string") {
      console.error(`scarab: recover failed: ${view}`);
      return 1;
    }
    const formatView = recoverView(view, replica, addresses.length);
    return new Promise<number>((resolve) => {
      formatDataFile({ path, cluster, replica, addresses, config, recoverView: formatView }, (error) => {
        if (error !== null) {
          console.error(`scarab: recover failed: ${error.message}`);
          return resolve(1);
        }
        const mib = Math.round(dataFileSize(config) / (1024 * 1024));
        console.log(`recovered ${path}: cluster ${cluster}, replica ${replica} of ${addresses.length}, ${mib} MiB (sparse), ` +
          `formatted in view ${formatView} (the cluster committed in view ${view}); start it with 'scarab start': ` +
          "it catches up from its peers");
        resolve(0);
      });
    });
  });
}

/**
 * Commits `count` empty lookups one after another; resolves with the view of the last reply, or
 * with why it could not.
 */
function commitNoops(cluster: bigint, addresses: Address[], count: number, timeoutMs: number): Promise<number | string> {
  const time = new RealTime();
  const bus = new TcpClientBus({
    addresses, messageSizeMax: productionConfig.messageSizeMax, cluster,
    onMessage: (message) => client.onMessage(message),
    onClusterMismatch: (_, other) => finish(`a replica belongs to cluster ${other}, not ${cluster}`),
  });
  const client = new VsrClient({
    cluster, replicaCount: addresses.length, clientId: BigInt("0x" + randomBytes(16).toString("hex")) || 1n,
    release: releaseCurrent, messageSizeMax: productionConfig.messageSizeMax, queueMax: 1, time, bus,
    prng: new Prng(BigInt("0x" + randomBytes(8).toString("hex"))),
  });
  const timer = setInterval(() => {
    time.tick();
    client.tick();
  }, 10);
  const body = encodeEvents(operationCodecs.lookupAccounts, [[]]);
  let finish: (result: number | string) => void = () => {};
  const done = new Promise<number | string>((resolve) => {
    let settled = false;
    finish = (result) => {
      if (settled) return;
      settled = true;
      clearInterval(timer);
      clearTimeout(deadline);
      client.close();
      bus.close();
      resolve(result);
    };
    const deadline = setTimeout(() => finish(`the cluster did not commit ${count} no-op requests within ` +
      `${timeoutMs / 1000} s: the other replicas must be up, reachable at --addresses, and able to commit`), timeoutMs);
  });
  console.error(`recover: committing ${count} no-op requests through the cluster...`);
  const next = (sent: number): void => {
    client.request(operationCodecs.lookupAccounts.operation, body, (failure, reply) => {
      if (failure !== null) return finish(`the cluster refused the no-op requests (${String(failure)})`);
      // Not from inside the client's reply handler: the next request waits for it to return.
      if (sent + 1 < count) return void setImmediate(() => next(sent + 1));
      finish(new ReplyHeader(reply!.subarray(0, headerSize), 0).view);
    });
  };
  next(0);
  return done;
}

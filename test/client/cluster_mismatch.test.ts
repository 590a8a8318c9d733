// A client created for the wrong cluster: a Scarab replica refuses its connection with one message
// carrying the replica's own cluster. Our client fails every call with ERR_CLUSTER_MISMATCH naming
// the replica and both clusters, instead of retrying forever; the official tigerbeetle-node client
// drops that message and keeps retrying, exactly as it did before (nothing aborts it).
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, describe, expect, test } from "vitest";
import { createClient, ErrorCodes, RequestError } from "../../src/client/index.js";
import { testConfig } from "../../src/core/config.js";
import { formatDataFile, startReplica, type ReplicaHost } from "../../src/cli/replica_host.js";
import { account } from "../ledger/helpers.js";

const replicaCluster = 7n;
const directory = mkdtempSync(join(tmpdir(), "scarab-cluster-mismatch-"));
const hosts: ReplicaHost[] = [];

/** A replica of cluster 7 with its own data file, and the lines it logs. */
async function startReplicaOfCluster7(name: string): Promise<{ host: ReplicaHost; logLines: string[] }> {
  const path = join(directory, `${name}.scarab`);
  const addresses = [{ host: "127.0.0.1", port: 0 }];
  await new Promise<void>((resolve, reject) => formatDataFile({ path, cluster: replicaCluster, replica: 0, addresses, config: testConfig },
    (error) => (error ? reject(error) : resolve())));
  const logLines: string[] = [];
  const logger = pino({ level: "info", base: undefined }, { write: (line: string) => { logLines.push(line); } });
  const host = await new Promise<ReplicaHost>((resolve, reject) => startReplica({ path, replica: 0, addresses, config: testConfig, logger },
    (error, started) => (error ? reject(error) : resolve(started!))));
  hosts.push(host);
  return { host, logLines };
}

afterAll(async () => {
  for (const host of hosts) await new Promise<void>((resolve) => host.stop(resolve));
  rmSync(directory, { recursive: true, force: true });
});

describe("a client created for another cluster than the replica's", () => {
  test("fails pending and later calls with ERR_CLUSTER_MISMATCH naming the replica and both clusters", async () => {
    const { host, logLines } = await startReplicaOfCluster7("ours");
    const client = createClient({ cluster_id: 1n, replica_addresses: [String(host.port)] });
    const expected = `cluster mismatch: the replica at 127.0.0.1:${host.port} belongs to cluster 7, this client was created for cluster 1`;
    try {
      const startMs = performance.now();
      const pending = client.createAccounts([account({ id: 1n, ledger: 1, code: 1 })]);
      const queued = client.lookupAccounts([1n]); // waits behind the first: fails too
      await expect(pending).rejects.toMatchObject({ code: ErrorCodes.ERR_CLUSTER_MISMATCH, message: expected });
      await expect(queued).rejects.toMatchObject({ code: ErrorCodes.ERR_CLUSTER_MISMATCH, message: expected });
      expect(performance.now() - startMs).toBeLessThan(5_000);
      const later = client.lookupAccounts([1n]);
      await expect(later).rejects.toBeInstanceOf(RequestError);
      await expect(later).rejects.toMatchObject({ code: ErrorCodes.ERR_CLUSTER_MISMATCH, message: expected });
    } finally {
      client.destroy();
    }
    await expect(client.lookupAccounts([1n])).rejects.toMatchObject({ code: ErrorCodes.ERR_CLIENT_CLOSED });
    expect(logLines.join("")).toMatch(/refusing connection from 127\.0\.0\.1:\d+: cluster 1, but this replica is of cluster 7/);
  }, 20_000);

  test("the replica still serves a client of its own cluster", async () => {
    const { host } = await startReplicaOfCluster7("own");
    const client = createClient({ cluster_id: replicaCluster, replica_addresses: [String(host.port)] });
    try {
      expect(await client.lookupAccounts([1n])).toEqual([]);
    } finally {
      client.destroy();
    }
  }, 20_000);

  test("tigerbeetle-node keeps retrying, unharmed by the replica's message of another cluster", async () => {
    const { host, logLines } = await startReplicaOfCluster7("official");
    const script = new URL("./official_client_wrong_cluster.mjs", import.meta.url).pathname;
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [script], { env: { ...process.env, PORT: String(host.port), CLUSTER: "1", WAIT_MS: "2500" }, timeout: 30_000 },
        (error, out, err) => (error ? reject(new Error(`official client failed: ${error.message}\n${err}`)) : resolve(out)));
    });
    expect(JSON.parse(stdout.trim().split("\n").pop()!)).toEqual({ settled: "pending" });
    // It did reach the replica and was refused (and told): not a test of a client that never connected.
    expect(logLines.join("")).toMatch(/refusing connection from 127\.0\.0\.1:\d+: cluster 1, but this replica is of cluster 7/);
  }, 40_000);
});

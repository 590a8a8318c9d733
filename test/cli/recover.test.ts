// `scarab recover` (src/cli/recover.ts): a replica whose data file is lost gets a new one, made
// after the other replicas committed a few no-ops and formatted in a view past theirs; started
// again, it catches up and the cluster serves everything it had acknowledged, with it in the quorum.
// Three real replica hosts run in process on loopback; misuse fails with one clear line.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { createClient, CreateAccountStatus } from "../../src/client/index.js";
import { testConfig } from "../../src/core/config.js";
import { runRecover } from "../../src/cli/recover.js";
import { formatDataFile, startReplica, type ReplicaHost } from "../../src/cli/replica_host.js";
import { UsageError } from "../../src/cli/usage_error.js";
import { parseAddress } from "../../src/io/tcp_client_bus.js";
import { freePorts, sleep } from "../system/cluster.js";
import { account } from "../ledger/helpers.js";

const directory = mkdtempSync(join(tmpdir(), "scarab-recover-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const cluster = 77n;

function format(path: string, replica: number, addresses: string): Promise<void> {
  return new Promise((resolve, reject) => formatDataFile({
    path, cluster, replica, addresses: addresses.split(",").map(parseAddress), config: testConfig,
  }, (error) => (error ? reject(error) : resolve())));
}

function start(path: string, addresses: string): Promise<ReplicaHost> {
  return new Promise((resolve, reject) => startReplica({ path, addresses: addresses.split(",").map(parseAddress), config: testConfig },
    (error, host) => (error ? reject(error) : resolve(host!))));
}

const stop = (host: ReplicaHost): Promise<void> => new Promise((resolve) => host.stop(resolve));

async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(50);
  }
}

describe("scarab recover", () => {
  test("a replica whose data file was deleted is recovered, catches up, and serves in a quorum", async () => {
    const addresses = (await freePorts(3)).map((port) => `127.0.0.1:${port}`).join(",");
    const paths = [0, 1, 2].map((replica) => join(directory, `0_${replica}.scarab`));
    for (let replica = 0; replica < 3; replica++) await format(paths[replica]!, replica, addresses);
    const hosts = await Promise.all(paths.map((path) => start(path, addresses)));
    const client = createClient({ cluster_id: cluster, replica_addresses: addresses.split(",") });
    try {
      const ids: bigint[] = [];
      for (let batch = 0; batch < 30; batch++) { // past the first checkpoint (op 19): it state-syncs
        const accounts = Array.from({ length: 20 }, (_, i) => account({ id: BigInt(1 + batch * 20 + i), ledger: 1, code: 1 }));
        const results = await client.createAccounts(accounts);
        expect(results.every((result) => result.status === CreateAccountStatus.created)).toBe(true);
        ids.push(...accounts.map((a) => a.id));
      }
      // Replica 2's disk is gone: stopped, its file deleted.
      await stop(hosts[2]!);
      rmSync(paths[2]!);
      const viewBefore = Math.max(hosts[0]!.replica.view, hosts[1]!.replica.view);
      expect(await runRecover([`--addresses=${addresses}`, `--cluster=${cluster}`, "--replica=2", "--development", paths[2]!])).toBe(0);
      expect(existsSync(paths[2]!)).toBe(true);
      hosts[2] = await start(paths[2]!, addresses);
      const recovered = hosts[2]!;
      expect(recovered.replica.view).toBeGreaterThanOrEqual(viewBefore + 2);
      await until(() => recovered.replica.status === "normal" && recovered.replica.commitMin === hosts[0]!.replica.commitMin,
        "the recovered replica has caught up");
      // Without replica 0, the quorum is replica 1 and the recovered one: everything is still there.
      await stop(hosts[0]!);
      const found: bigint[] = [];
      // 25 at a time: a --development reply holds at most 31 accounts.
      for (let first = 0; first < ids.length; first += 25) {
        found.push(...(await client.lookupAccounts(ids.slice(first, first + 25))).map((a) => a.id));
      }
      expect(found).toEqual(ids);
    } finally {
      client.destroy();
      for (const host of hosts) await stop(host);
    }
  }, 120_000);

  test("misuse: a one-replica cluster, an existing file, a missing flag", async () => {
    const recover = async (args: string[]): Promise<number> => runRecover(args);
    const path = join(directory, "exists.scarab");
    await format(path, 0, "127.0.0.1:1,127.0.0.1:2,127.0.0.1:3");
    await expect(recover(["--addresses=3000", "--cluster=1", "--replica=0", join(directory, "x")])).rejects
      .toThrow(/a one-replica cluster cannot recover a lost data file/);
    await expect(recover(["--addresses=3000,3001,3002", "--cluster=1", "--replica=0", path])).rejects
      .toThrow(/already exists; refusing to overwrite/);
    await expect(recover(["--addresses=3000,3001,3002", "--replica=0", path])).rejects.toThrow(UsageError);
    await expect(recover(["--addresses=3000,3001,3002", "--cluster=1", "--replica=3", join(directory, "y")])).rejects
      .toThrow(/--replica must be an integer in \[0, 2\]/);
  });
});

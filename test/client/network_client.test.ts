// End to end: the public createClient() against a real replica process-in-process — a data file
// on disk, TCP on loopback, the replica ticking on a real timer — including a restart that must
// recover every acknowledged write from the WAL and checkpoints.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { createClient, CreateTransferStatus, RequestError, ErrorCodes } from "../../src/client/index.js";
import { testConfig } from "../../src/core/config.js";
import { formatDataFile, startReplica, type ReplicaHost } from "../../src/cli/replica_host.js";
import { account, transfer } from "../ledger/helpers.js";

const directory = mkdtempSync(join(tmpdir(), "scarab-client-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function start(path: string, port: number): Promise<ReplicaHost> {
  return new Promise((resolve, reject) => {
    startReplica({ path, cluster: 0n, replica: 0, addresses: [{ host: "127.0.0.1", port }], config: testConfig },
      (error, host) => (error ? reject(error) : resolve(host!)));
  });
}

function format(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    formatDataFile({ path, cluster: 0n, replica: 0, addresses: [{ host: "127.0.0.1", port: 0 }], config: testConfig },
      (error) => (error ? reject(error) : resolve()));
  });
}

describe("createClient against a single replica over TCP", () => {
  test("creates, transfers, looks up, survives a replica restart, and fails cleanly when destroyed", async () => {
    const path = join(directory, "0_0.scarab");
    await format(path);
    let host = await start(path, 0);
    const port = host.port;
    const client = createClient({ cluster_id: 0n, replica_addresses: [String(port)] });
    try {
      const created = await client.createAccounts([account({ id: 1n, ledger: 1, code: 1 }), account({ id: 2n, ledger: 1, code: 1 })]);
      expect(created.map((result) => result.status)).toEqual([0xffff_ffff, 0xffff_ffff]);
      // Enough requests to wrap the test-config WAL (32 slots) and take checkpoints.
      for (let i = 0; i < 40; i++) {
        const results = await client.createTransfers([transfer({ id: BigInt(100 + i), debit_account_id: 1n, credit_account_id: 2n, amount: 5n, ledger: 1, code: 1 })]);
        expect(results[0]!.status).toBe(CreateTransferStatus.created);
      }
      const [a, b] = await client.lookupAccounts([1n, 2n]);
      expect([a!.debits_posted, b!.credits_posted]).toEqual([200n, 200n]);

      await new Promise<void>((resolve) => host.stop(resolve)); // its last writes land, the lock is released
      host = await start(path, port);
      const again = await client.lookupAccounts([1n, 2n]);
      expect([again[0]!.debits_posted, again[1]!.credits_posted]).toEqual([200n, 200n]);
      const duplicate = await client.createTransfers([transfer({ id: 100n, debit_account_id: 1n, credit_account_id: 2n, amount: 5n, ledger: 1, code: 1 })]);
      expect(duplicate[0]!.status).toBe(CreateTransferStatus.exists);
      await expect(client.lookupAccounts(new Array(8190).fill(1n))).rejects.toMatchObject({ code: ErrorCodes.ERR_TOO_MUCH_DATA });
    } finally {
      client.destroy();
      host.stop();
    }
    await expect(client.lookupAccounts([1n])).rejects.toBeInstanceOf(RequestError);
  }, 60_000);
});

// Compatibility (DESIGN.md testing layer 4): the official tigerbeetle-node 0.17.9 client, from the
// npm registry, against a Scarab replica on loopback. The client runs in a child process: it
// aborts on anything it considers a protocol violation.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { testConfig } from "../../src/core/config.js";
import { formatDataFile, startReplica, type ReplicaHost } from "../../src/cli/replica_host.js";

const directory = mkdtempSync(join(tmpdir(), "scarab-compat-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const script = new URL("./official_client.mjs", import.meta.url).pathname;

describe("tigerbeetle-node 0.17.9 against Scarab", () => {
  test("registers, creates, transfers, looks up, queries and sees a pending transfer expire", async () => {
    const path = join(directory, "0_0.scarab");
    const addresses = [{ host: "127.0.0.1", port: 0 }];
    await new Promise<void>((resolve, reject) => formatDataFile({ path, cluster: 0n, replica: 0, addresses, config: testConfig },
      (error) => (error ? reject(error) : resolve())));
    const host = await new Promise<ReplicaHost>((resolve, reject) => startReplica({ path, cluster: 0n, replica: 0, addresses, config: testConfig },
      (error, started) => (error ? reject(error) : resolve(started!))));
    try {
      const stdout = await new Promise<string>((resolve, reject) => {
        execFile(process.execPath, [script], { env: { ...process.env, PORT: String(host.port) }, timeout: 30_000 },
          (error, out, err) => (error ? reject(new Error(`official client failed: ${error.message}\n${err}`)) : resolve(out)));
      });
      const out = JSON.parse(stdout.trim().split("\n").pop()!);
      expect(out.accounts.map((r: { status: number }) => r.status)).toEqual([out.created, out.created]);
      expect(out.transfers.map((r: { status: number }) => r.status)).toEqual([out.created, out.created]);
      expect(out.invalid[0].status).toBe(12); // accounts_must_be_different
      expect(out.lookup.map((a: { id: string }) => a.id)).toEqual(["1", "2"]);
      expect([out.lookup[0].debits_posted, out.lookup[0].debits_pending]).toEqual(["10", "5"]);
      expect(out.history).toHaveLength(2);
      expect([out.expired[0].debits_posted, out.expired[0].debits_pending]).toEqual(["10", "0"]);
    } finally {
      host.stop();
    }
  }, 60_000);
});

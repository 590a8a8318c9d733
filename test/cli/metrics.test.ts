// `scarab start --metrics-address`: Prometheus text an operator can scrape, sampled from a real
// replica serving a real client.
import { mkdtempSync, rmSync } from "node:fs";
import { get } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { createClient } from "../../src/client/index.js";
import { testConfig } from "../../src/core/config.js";
import { ReplicaMetrics, serveMetrics } from "../../src/cli/metrics.js";
import { formatDataFile, startReplica, type ReplicaHost } from "../../src/cli/replica_host.js";
import { account } from "../ledger/helpers.js";

const directory = mkdtempSync(join(tmpdir(), "scarab-metrics-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function scrape(port: number): Promise<string> {
  return new Promise((resolve, reject) => get({ host: "127.0.0.1", port, path: "/metrics" }, (response) => {
    let body = "";
    response.on("data", (chunk) => { body += String(chunk); });
    response.on("end", () => resolve(body));
  }).on("error", reject));
}

describe("replica metrics", () => {
  test("commits, events, status, view and role are scrapeable", async () => {
    const path = join(directory, "m.scarab");
    const addresses = [{ host: "127.0.0.1", port: 0 }];
    await new Promise<void>((resolve, reject) => formatDataFile({ path, cluster: 0n, replica: 0, addresses, config: testConfig },
      (error) => (error ? reject(error) : resolve())));
    const metrics = new ReplicaMetrics();
    const host = await new Promise<ReplicaHost>((resolve, reject) => startReplica({ path, addresses, config: testConfig, metrics },
      (error, started) => (error ? reject(error) : resolve(started!))));
    const server = await new Promise<import("node:http").Server>((resolve, reject) => serveMetrics(metrics, addresses[0]!,
      (error, listening) => (error ? reject(error) : resolve(listening!))));
    const port = (server.address() as { port: number }).port;
    const client = createClient({ cluster_id: 0n, replica_addresses: [String(host.port)] });
    try {
      await client.createAccounts([account({ id: 1n, ledger: 1, code: 1 }), account({ id: 2n, ledger: 1, code: 1 })]);
      const text = await scrape(port);
      expect(text).toMatch(/^scarab_commits_total\{operation="create_accounts"\} 1$/m);
      expect(text).toMatch(/^scarab_events_total\{operation="create_accounts"\} 2$/m);
      expect(text).toMatch(/^scarab_status\{status="normal"\} 1$/m);
      expect(text).toMatch(/^scarab_status\{status="view_change"\} 0$/m);
      expect(text).toMatch(/^scarab_primary 1$/m);
      expect(text).toMatch(/^scarab_view [1-9]\d*$/m); // a solo replica starts a new view on every open
      expect(text).toMatch(/^scarab_commit_latency_seconds_count [1-9]\d*$/m);
      expect(text).toMatch(/^scarab_process_resident_memory_bytes /m);
      // The grid's own counts (src/grid/grid_stats.ts), which `scarab benchmark` reads.
      expect(text).toMatch(/^# TYPE scarab_grid_bytes_written_total counter$/m);
      expect(text).toMatch(/^scarab_grid_bytes_written_total \d+$/m);
      expect(text).toMatch(/^scarab_grid_checkpoint_bytes_written \d+$/m);
      expect(text).toMatch(/^scarab_grid_blocks_acquired \d+$/m);
    } finally {
      client.destroy();
      server.close();
      await new Promise<void>((resolve) => host.stop(resolve));
    }
  });
});

// Operator mistakes must not damage a data file (issue: "a data file no mistake can damage"):
// the file is locked while a replica runs, the port is bound before the file is opened for
// writing, the file says which cluster and replica it belongs to, and a stop lets in-flight IO
// land. These run the real host in process, and the real `scarab` binary for signals.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Agent, get } from "node:http";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, describe, expect, test } from "vitest";
import { createClient } from "../../src/client/index.js";
import { testConfig } from "../../src/core/config.js";
import { formatDataFile, StartAborted, startReplica, type HostOptions, type ReplicaHost } from "../../src/cli/replica_host.js";
import { runInspect } from "../../src/cli/inspect.js";
import { nativeAddon } from "../../src/core/native_addon.js";
import { account } from "../ledger/helpers.js";
import { checksum } from "../../src/core/checksum.js";
import { SuperBlockField, superblockVersion } from "../../src/replica/superblock/layout.js";

const directory = mkdtempSync(join(tmpdir(), "scarab-safety-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const loopback = (port: number) => [{ host: "127.0.0.1", port }];

function format(path: string, cluster = 0n): Promise<void> {
  return new Promise((resolve, reject) => formatDataFile({ path, cluster, replica: 0, addresses: loopback(0), config: testConfig },
    (error) => (error ? reject(error) : resolve())));
}

function start(options: Partial<HostOptions> & { path: string }): Promise<ReplicaHost> {
  return new Promise((resolve, reject) => startReplica({ addresses: loopback(0), config: testConfig, ...options },
    (error, host) => (error ? reject(error) : resolve(host!))));
}

function stop(host: ReplicaHost): Promise<void> {
  return new Promise((resolve) => host.stop(resolve));
}

/** Starts a replica on `path`, checks it answers a lookup of `accounts`, and stops it. */
async function expectServing(path: string, accounts: bigint[] = []): Promise<void> {
  const host = await start({ path });
  const client = createClient({ cluster_id: 0n, replica_addresses: [String(host.port)] });
  try {
    expect((await client.lookupAccounts([...accounts, 999n])).map((a) => a.id)).toEqual(accounts);
  } finally {
    client.destroy();
    await stop(host);
  }
}

function digest(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

describe("the data file is safe from operator mistakes", () => {
  test("a second start of a file in use fails with one line and the first replica keeps serving", async () => {
    const path = join(directory, "locked.scarab");
    await format(path);
    const first = await start({ path });
    try {
      await expect(start({ path })).rejects.toThrow(/in use by another scarab process/);
      const client = createClient({ cluster_id: 0n, replica_addresses: [String(first.port)] });
      const results = await client.createAccounts([account({ id: 1n, ledger: 1, code: 1 })]);
      expect(results[0]!.status).toBe(0xffff_ffff);
      client.destroy();
    } finally {
      await stop(first);
    }
    // The lock went with the replica: the file opens again and still holds the account.
    const again = await start({ path });
    const client = createClient({ cluster_id: 0n, replica_addresses: [String(again.port)] });
    expect((await client.lookupAccounts([1n])).map((a) => a.id)).toEqual([1n]);
    client.destroy();
    await stop(again);
  });

  test("inspect refuses a file a replica is running on, and inspects it once stopped", async () => {
    const path = join(directory, "inspected.scarab");
    await format(path);
    const host = await start({ path });
    const errors: string[] = [];
    expect(runInspect(["superblock", "--development", path], () => {}, (line) => errors.push(line))).toBe(2);
    expect(errors.join("\n")).toMatch(/in use by another scarab process.*stop it before inspecting/);
    await stop(host);
    expect(runInspect(["superblock", "--development", path], () => {}, () => {})).toBe(0);
  });

  test("a port in use fails before the file is opened for writing: not one byte changes", async () => {
    const path = join(directory, "port.scarab");
    await format(path);
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    const before = digest(path);
    await expect(start({ path, addresses: loopback(port) })).rejects.toThrow(/EADDRINUSE/);
    expect(digest(path)).toBe(before);
    blocker.close();
    const host = await start({ path });
    await stop(host);
  });

  test("the file names its cluster and replica: a mismatch says which, and touches nothing", async () => {
    const path = join(directory, "cluster7.scarab");
    await format(path, 7n);
    const before = digest(path);
    await expect(start({ path, cluster: 8n })).rejects.toThrow("the data file belongs to cluster 7, not 8");
    await expect(start({ path, replica: 1, addresses: [...loopback(0), ...loopback(0)] }))
      .rejects.toThrow("the data file is replica 0's, not replica 1's");
    await expect(start({ path, addresses: [...loopback(0), ...loopback(0), ...loopback(0)] }))
      .rejects.toThrow("a cluster of 1 replicas, but 3 addresses were given");
    await expect(start({ path, config: undefined })).rejects.toThrow("formatted with --development");
    expect(digest(path)).toBe(before);
    const host = await start({ path }); // no flags: the file says cluster 7, replica 0
    expect([host.replica.cluster, host.replica.replica]).toEqual([7n, 0]);
    await stop(host);
  });

  test("a destroyed superblock or a file that is not a data file is named as such", async () => {
    const path = join(directory, "garbage.scarab");
    await import("node:fs").then((fs) => fs.writeFileSync(path, Buffer.alloc(4 * 1024 * 1024, 0x5a)));
    await expect(start({ path })).rejects.toThrow(/no superblock copy is intact/);
    await expect(start({ path: join(directory, "missing.scarab") })).rejects.toThrow(/does not exist; create it with 'scarab format'/);
  });

  test("a data file of another format version is named as such, and left as it was", async () => {
    const path = join(directory, "old-format.scarab");
    await format(path);
    // Rewrite every superblock copy as format version 1 (before the free set stored its releases),
    // sealed with a valid checksum: an intact file of an older release.
    const fs = await import("node:fs");
    const bytes = fs.readFileSync(path);
    for (let copy = 0; copy < 4; copy++) {
      const base = copy * testConfig.superblockCopySize;
      const copyBytes = new Uint8Array(bytes.buffer, bytes.byteOffset + base, testConfig.superblockCopySize);
      expect(copyBytes[SuperBlockField.version]).toBe(superblockVersion);
      copyBytes[SuperBlockField.version] = 1;
      const sum = checksum(copyBytes.subarray(SuperBlockField.version));
      const view = new DataView(copyBytes.buffer, copyBytes.byteOffset);
      view.setBigUint64(SuperBlockField.checksum, sum & 0xffff_ffff_ffff_ffffn, true);
      view.setBigUint64(SuperBlockField.checksum + 8, sum >> 64n, true);
    }
    fs.writeFileSync(path, bytes);
    const before = digest(path);
    await expect(start({ path })).rejects.toThrow(`the data file is in format 1, this release reads format ${superblockVersion} only`);
    expect(digest(path)).toBe(before);
  });

  test("format never overwrites an existing file", async () => {
    const path = join(directory, "twice.scarab");
    await format(path);
    const before = digest(path);
    await expect(format(path)).rejects.toThrow("already exists; refusing to overwrite a data file");
    expect(digest(path)).toBe(before);
  });
});

function freePort(): Promise<number> {
  const server = createServer();
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as { port: number }).port;
    server.close(() => resolve(port));
  }));
}

const bin = new URL("../../bin/scarab.js", import.meta.url).pathname;
const built = existsSync(new URL("../../dist/src/cli/main.js", import.meta.url));

/** Children still running when the tests end (one whose test failed before stopping it) are killed. */
const children: ChildProcess[] = [];
afterAll(() => { for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL"); });

/** `scarab start` as a child process: its stderr so far, its exit code, and a wait for a log line. */
function startProcess(args: string[]) {
  const child = spawn(process.execPath, [bin, "start", ...args], { stdio: ["ignore", "ignore", "pipe"] });
  children.push(child);
  let stderr = "";
  child.stderr.on("data", (chunk) => { stderr += String(chunk); });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const waitFor = async (text: string): Promise<void> => {
    for (let i = 0; i < 200 && !stderr.includes(text); i++) await new Promise((r) => setTimeout(r, 25));
  };
  return { child, exited, waitFor, stderr: () => stderr };
}

describe.runIf(built)("the scarab process", () => {
  test("SIGTERM stops a serving replica cleanly with exit 0, even with a keep-alive metrics scraper", async () => {
    const path = join(directory, "signal.scarab");
    await format(path);
    const port = await freePort();
    const metricsPort = await freePort();
    const { child, exited, waitFor, stderr } = startProcess(["--development", `--addresses=${port}`,
      `--metrics-address=${metricsPort}`, path]);
    await waitFor("listening");
    expect(stderr()).toContain("listening");
    await waitFor("metrics:");
    // Prometheus keeps its connection open between scrapes.
    const agent = new Agent({ keepAlive: true });
    const scraped = await new Promise<number>((resolve, reject) => get({ host: "127.0.0.1", port: metricsPort, path: "/metrics", agent },
      (response) => { response.resume(); response.on("end", () => resolve(response.statusCode ?? 0)); }).on("error", reject));
    expect(scraped).toBe(200);
    const killedAt = Date.now();
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(Date.now() - killedAt).toBeLessThan(5000);
    agent.destroy();
    expect(stderr()).toContain("stopped");
  }, 20_000);

  test("start re-executes itself in place with the V8 heap options (same pid), and stops cleanly", async () => {
    const path = join(directory, "heap-options.scarab");
    await format(path);
    const port = await freePort();
    const { child, exited, waitFor, stderr } = startProcess(["--development", `--addresses=${port}`, path]);
    await waitFor("listening");
    expect(stderr()).toContain("listening");
    // The pid we spawned is the replica: execv replaced the image, no wrapper process in between.
    const commandLine = readFileSync(`/proc/${child.pid}/cmdline`, "utf8").split("\0");
    if (nativeAddon?.execProcess !== undefined) expect(commandLine).toContain("--initial-old-space-size=256");
    else expect(commandLine.some((arg) => arg.startsWith("--initial-old-space-size"))).toBe(false);
    expect(commandLine).toContain(bin);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  }, 20_000);

  test("a start aborted before it opened the file releases the lock and port; the file opens again", async () => {
    const path = join(directory, "aborted.scarab");
    await format(path);
    const controller = new AbortController();
    const aborted = start({ path, signal: controller.signal });
    controller.abort(); // while the port is being bound
    await expect(aborted).rejects.toBeInstanceOf(StartAborted);
    await expectServing(path);
  });

  test("SIGTERM while the replica is starting exits 0 and leaves a file that opens again", async () => {
    // The long fault test caught a supervisor's SIGTERM landing during start-up (a restarted
    // replica replaying its WAL) killing the process by the signal's default action.
    const path = join(directory, "early-signal.scarab");
    await format(path);
    const port = await freePort();
    const child = spawn(process.execPath, [bin, "start", "--development", `--addresses=${port}`, path],
      { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    let signalled = false;
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    child.stderr.on("data", (chunk) => {
      stderr += String(chunk);
      // The first line the replica logs comes from inside open (before it listens).
      if (!signalled && stderr.includes("data file opened")) {
        signalled = true;
        child.kill("SIGTERM");
      }
    });
    expect(await exited).toBe(0);
    expect(signalled).toBe(true);
    // Whether the signal lands during the open (the start is abandoned) or just after it (the
    // replica stops) depends on the machine; both exit 0 and leave a file that opens again.
    expect(stderr).toMatch(/abandoning the start|"stopped"/);
    await expectServing(path);
  }, 20_000);

  test("a start aborted in the middle of its open closes the file as a crash would; it opens again", async () => {
    const path = join(directory, "aborted-mid-open.scarab");
    await format(path);
    const first = await start({ path });
    const client = createClient({ cluster_id: 0n, replica_addresses: [String(first.port)] });
    await client.createAccounts([account({ id: 7n, ledger: 1, code: 1 })]);
    client.destroy();
    await stop(first);
    // The replica logs "data file opened" from inside its open, before it replays the WAL.
    const controller = new AbortController();
    const logger = pino({ level: "info" }, {
      write: (line: string) => { if (line.includes("data file opened")) controller.abort(); },
    });
    await expect(start({ path, logger, signal: controller.signal })).rejects.toBeInstanceOf(StartAborted);
    expect(controller.signal.aborted).toBe(true);
    await expectServing(path, [7n]);
  });

  test("a replica that cannot open its file exits non-zero with one line", async () => {
    const child = spawn(process.execPath, [bin, "start", "--development", "--addresses=3000", join(directory, "nope.scarab")],
      { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk) => { stderr += String(chunk); });
    const code = await new Promise<number | null>((resolve) => child.on("exit", (exitCode) => resolve(exitCode)));
    expect(code).toBe(1);
    expect(stderr).toMatch(/does not exist/);
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
  }, 20_000);
});

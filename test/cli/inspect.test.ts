// `scarab inspect` on a real data file: formatted with the test config, then run as a solo replica
// for enough requests to wrap into a checkpoint, then stopped. Corruptions are written at offsets
// derived from the config's zones, and `inspect integrity` must name each place and exit 1.
import { createHash } from "node:crypto";
import { closeSync, copyFileSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createClient, CreateTransferStatus } from "../../src/client/index.js";
import { formatDataFile, startReplica, type ReplicaHost } from "../../src/cli/replica_host.js";
import { runInspect } from "../../src/cli/inspect.js";
import { DataFile, inspectSuperblock } from "../../src/cli/inspect_read.js";
import { inspectGrid } from "../../src/cli/inspect_grid.js";
import { run } from "../../src/cli/main.js";
import { testConfig } from "../../src/core/config.js";
import { account, transfer } from "../ledger/helpers.js";

const cluster = 5n;
const zones = testConfig.zones;
const directory = mkdtempSync(join(tmpdir(), "scarab-inspect-"));
const clean = join(directory, "clean.scarab");
afterAll(() => rmSync(directory, { recursive: true, force: true }));

interface Result { code: number; out: string[]; err: string[] }

/** INSPECT_SAMPLES=dir keeps sample outputs (and the clean data file) for a look by hand. */
function sample(name: string, result: Result): void {
  const samples = process.env.INSPECT_SAMPLES;
  if (samples !== undefined) writeFileSync(join(samples, `${name}.txt`), result.out.join("\n") + "\n");
}

function inspect(...args: string[]): Result {
  const out: string[] = [];
  const err: string[] = [];
  const code = runInspect(args, (line) => out.push(...line.split("\n")), (line) => err.push(line));
  return { code, out, err };
}

function format(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    formatDataFile({ path, cluster, replica: 0, addresses: [{ host: "127.0.0.1", port: 0 }], config: testConfig },
      (error) => (error ? reject(error) : resolve()));
  });
}

function start(path: string): Promise<ReplicaHost> {
  return new Promise((resolve, reject) => {
    startReplica({ path, cluster, replica: 0, addresses: [{ host: "127.0.0.1", port: 0 }], config: testConfig },
      (error, host) => (error ? reject(error) : resolve(host!)));
  });
}

async function untilIdle(host: ReplicaHost): Promise<void> {
  const replica = host.replica;
  for (let i = 0; i < 500; i++) {
    if (replica.opCheckpoint > 0 && !replica.checkpointing && !replica.superblock.updating && !replica.journal.writing) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("the replica did not settle");
}

function xorByte(path: string, offset: number): void {
  const fd = openSync(path, "r+");
  const byte = new Uint8Array(1);
  readSync(fd, byte, 0, 1, offset);
  byte[0] ^= 0x5a;
  writeSync(fd, byte, 0, 1, offset);
  closeSync(fd);
}

function readU32(path: string, offset: number): number {
  const fd = openSync(path, "r");
  const bytes = Buffer.alloc(4);
  readSync(fd, bytes, 0, 4, offset);
  closeSync(fd);
  return bytes.readUInt32LE(0);
}

function sha(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

function copyOf(name: string): string {
  const path = join(directory, name);
  copyFileSync(clean, path);
  return path;
}

beforeAll(async () => {
  await format(clean);
  const host = await start(clean);
  const client = createClient({ cluster_id: cluster, replica_addresses: [String(host.port)] });
  try {
    await client.createAccounts([account({ id: 1n, ledger: 1, code: 1 }), account({ id: 2n, ledger: 1, code: 1 })]);
    // Past the first checkpoint (op 19 in the test config), so the grid holds real blocks.
    for (let i = 0; i < 26; i++) {
      const results = await client.createTransfers([transfer({ id: BigInt(100 + i), debit_account_id: 1n,
        credit_account_id: 2n, amount: 1n, ledger: 1, code: 1 })]);
      expect(results[0]!.status).toBe(CreateTransferStatus.created);
    }
    await untilIdle(host);
  } finally {
    client.destroy();
    await new Promise<void>((resolve) => host.stop(resolve)); // its last I/O lands, then the lock is released
  }
  if (process.env.INSPECT_SAMPLES !== undefined) copyFileSync(clean, join(process.env.INSPECT_SAMPLES, "clean.scarab"));
}, 60_000);

describe("scarab inspect", () => {
  test("superblock: 4 valid copies of cluster 5, replica 0 of 1, and the open quorum", () => {
    const result = inspect("superblock", "--development", clean);
    sample("superblock", result);
    expect(result.code).toBe(0);
    for (let copy = 0; copy < 4; copy++) {
      expect(result.out).toContain(`copy ${copy} at offset 0x${(copy * testConfig.superblockCopySize).toString(16)}: valid`);
    }
    expect(result.out.filter((line) => line.includes("cluster 5, replica 0 of 1,"))).toHaveLength(4);
    expect(result.out.filter((line) => /checkpoint op 19,/.test(line))).toHaveLength(4);
    expect(result.out.at(-1)).toMatch(/^open: picks sequence \d+ held by copies 0, 1, 2, 3 \(4 of 4 distinct, quorum 2\)$/);
  });

  test("wal: collapsed slots, every slot intact, a certain head; --verbose lists each slot", () => {
    const result = inspect("wal", "--development", clean);
    sample("wal", result);
    expect(result.code).toBe(0);
    expect(result.out.some((line) => line.includes("→ case P: eql"))).toBe(true);
    expect(result.out.every((line) => !/case [A-KM-O]\b/.test(line))).toBe(true);
    expect(result.out).toContain("open: the WAL recovers");
    expect(result.out.find((line) => line.startsWith("head: "))).toMatch(/^head: op \d+ \(certain\)$/);
    expect(result.out.filter((line) => line.startsWith("slot")).length).toBeLessThan(testConfig.journalSlotCount);
    const verbose = inspect("wal", "--development", "--verbose", clean);
    expect(verbose.out.filter((line) => line.startsWith("slot ")).length).toBe(testConfig.journalSlotCount);
  });

  test("integrity: a clean file is intact (exit 0), and inspecting never writes the file", () => {
    const before = sha(clean);
    const result = inspect("integrity", "--development", clean);
    sample("integrity_clean", result);
    expect(result.code).toBe(0);
    expect(result.out.at(-1)).toMatch(/^INTACT/);
    expect(result.out.some((line) => /grid .*checkpoint op 19: \d+ of \d+ blocks valid/.test(line))).toBe(true);
    expect(result.out).toContain("client_replies  1 of 1 sessions' stored replies valid");
    expect(sha(clean)).toBe(before);
  });

  test("integrity: names each corrupted superblock copy, WAL header, prepare and grid block, and exits 1", () => {
    const path = copyOf("damaged.scarab");
    const file = DataFile.open(path);
    const working = inspectSuperblock(file, testConfig, null).working!;
    // The first page of the transfers' table (space 1).
    const page = inspectGrid(file, testConfig, working).blocks.find((block) => block.role === "page 1.0")!;
    file.close();
    expect(page).toBeDefined();
    // Superblock copy 2.
    const copyOffset = 2 * testConfig.superblockCopySize;
    xorByte(path, copyOffset + 200);
    // The redundant header of slot 3 (sector 0).
    const headerOffset = zones.walHeaders.offset + 3 * 256;
    xorByte(path, headerOffset + 100);
    // The body of a prepare that has one (a slot other than 3).
    const prepareSlot = [...Array(testConfig.journalSlotCount).keys()].find((slot) =>
      slot !== 3 && readU32(path, zones.walPrepares.offset + slot * testConfig.messageSizeMax + 96) > 256)!;
    const prepareOffset = zones.walPrepares.offset + prepareSlot * testConfig.messageSizeMax;
    xorByte(path, prepareOffset + 256 + 5);
    const blockAddress = page.address;
    const blockOffset = zones.gridOffset + (blockAddress - 1) * testConfig.blockSize;
    xorByte(path, blockOffset + 256 + 2);
    // The only client's stored reply (slot 0): its header.
    xorByte(path, zones.clientReplies.offset + 100);

    const result = inspect("integrity", "--development", path);
    sample("integrity_damaged", result);
    expect(result.code).toBe(1);
    const line = (prefix: string) => result.out.find((text) => text.trimStart().startsWith(prefix)) ?? "";
    expect(line("superblock    copy 2")).toContain(`at offset 0x${copyOffset.toString(16)}: bad checksum`);
    expect(line("wal_headers   slot 3 ")).toContain(`sector 0 at offset 0x${headerOffset.toString(16)}: bad checksum`);
    expect(line(`wal_prepares  slot ${prepareSlot} `)).toContain(`body at offset 0x${(prepareOffset + 256).toString(16)}: bad body checksum`);
    expect(line(`grid          block ${blockAddress} (page 1.0 of checkpoint op 19`))
      .toContain(`at offset 0x${blockOffset.toString(16)}: bad body checksum`);
    expect(line("wal           recovery")).toContain("WALCorrupt");
    expect(line("client_replies slot 0 (client ")).toMatch(new RegExp(`, reply op \\d+\\) at offset 0x${zones.clientReplies.offset.toString(16)}: ` +
      "bad header checksum: repaired from a peer when the client asks again$"));
    expect(result.out).toContain("client_replies  0 of 1 sessions' stored replies valid");
    expect(result.out.at(-1)).toMatch(/^DAMAGED: 6 problems found/);

    const superblock = inspect("superblock", "--development", path);
    expect(superblock.out).toContain("copy 2 at offset 0x6000: bad checksum (torn or corrupt)");
    expect(superblock.out.at(-1)).toMatch(/held by copies 0, 1, 3 \(3 of 4 distinct, quorum 2\); would rewrite copy 2$/);
    const wal = inspect("wal", "--development", path);
    sample("wal_damaged", wal);
    expect(wal.code).toBe(1);
    expect(wal.out.find((text) => text.startsWith("slot  3 "))).toMatch(/header bad checksum \| prepare op \d+ view \d+, body ok → case [EF]: fix/);
    expect(wal.out.find((text) => text.startsWith(`slot  ${prepareSlot} `))).toMatch(/prepare bad body checksum → case C: vsr/);
  });

  test("a damaged manifest is named; a damaged directory block makes its pages unverifiable", () => {
    const path = copyOf("manifest.scarab");
    const file = DataFile.open(path);
    const working = inspectSuperblock(file, testConfig, null).working!;
    const clean = inspectGrid(file, testConfig, working);
    file.close();
    const directory = clean.blocks.find((block) => block.role === "directory 1.0")!;
    const pages = clean.blocks.filter((block) => block.role.startsWith("page 1.")).length;
    expect(pages).toBeGreaterThan(0);
    xorByte(path, zones.gridOffset + (directory.address - 1) * testConfig.blockSize + 40);
    const damagedDirectory = inspect("integrity", "--development", path);
    expect(damagedDirectory.code).toBe(1);
    expect(damagedDirectory.out.some((text) => text.includes(`block ${directory.address} (directory 1.0`) &&
      text.endsWith("bad header checksum"))).toBe(true);
    expect(damagedDirectory.out.some((text) => text.includes(`${pages} pages of checkpoint op 19`) &&
      text.includes("not verifiable: their checksums are in a damaged directory block"))).toBe(true);

    const manifestAddress = working.vsr_state.checkpoint.manifest_address;
    xorByte(path, zones.gridOffset + (manifestAddress - 1) * testConfig.blockSize + 40);
    const result = inspect("integrity", "--development", path);
    expect(result.code).toBe(1);
    expect(result.out.some((text) => text.includes(`block ${manifestAddress} (manifest`) &&
      text.endsWith("bad header checksum"))).toBe(true);
  });

  test("misdirected writes: a superblock copy and a prepare in the wrong slot", () => {
    const path = copyOf("misdirected.scarab");
    const bytes = readFileSync(path);
    const fd = openSync(path, "r+");
    // Copy 0's bytes land in slot 1; the prepare of slot 5 lands in slot 6.
    writeSync(fd, bytes, 0, testConfig.superblockCopySize, testConfig.superblockCopySize);
    const prepare = (slot: number) => zones.walPrepares.offset + slot * testConfig.messageSizeMax;
    writeSync(fd, bytes, prepare(5), testConfig.messageSizeMax, prepare(6));
    closeSync(fd);
    const result = inspect("integrity", "--development", path);
    expect(result.code).toBe(1);
    expect(result.out).toContain("  superblock    copy 1 at offset 0x3000: misdirected: holds copy 0");
    expect(result.out).toContain(`  wal_prepares  slot 6 (op 5) at offset 0x${prepare(6).toString(16)}: op 5 belongs to slot 5 (misdirected)`);
    const superblock = inspect("superblock", "--development", path);
    expect(superblock.out.at(-1)).toMatch(/held by copies 0, 1, 2, 3 \(3 of 4 distinct, quorum 2\); would rewrite copy 1$/);
  });

  test("--cluster: a copy of another cluster is named; a wrong --cluster is a usage error", () => {
    const superblock = inspect("superblock", "--development", "--cluster=7", clean);
    expect(superblock.code).toBe(1);
    expect(superblock.out).toContain("copy 0 at offset 0x0: belongs to cluster 5");
    expect(superblock.out.at(-1)).toBe("open: would fail: NotFound (no copy is valid)");
    const integrity = inspect("integrity", "--development", "--cluster=7", clean);
    expect([integrity.code, integrity.err]).toEqual([2, [expect.stringMatching(/belong to cluster 5, not 7/)]]);
    expect(inspect("integrity", "--development", "--cluster=5", clean).code).toBe(0);
  });

  test("errors a user can cause: one line, exit 2 (usage) or 1 (truncated)", () => {
    const missing = inspect("superblock", "--development", join(directory, "nope.scarab"));
    expect([missing.code, missing.err.length, missing.out.length]).toEqual([2, 1, 0]);
    expect(missing.err[0]).toMatch(/does not exist/);

    const production = inspect("integrity", clean);
    expect(production.code).toBe(2);
    expect(production.err[0]).toMatch(/formatted with --development; add --development/);

    const zeros = join(directory, "zeros.bin");
    writeFileSync(zeros, new Uint8Array(zones.gridOffset));
    expect(inspect("wal", "--development", zeros).err[0]).toMatch(/not a Scarab data file/);
    writeFileSync(join(directory, "tiny.bin"), "hello");
    expect(inspect("superblock", join(directory, "tiny.bin")).err[0]).toMatch(/not a Scarab data file/);

    const truncated = join(directory, "truncated.scarab");
    writeFileSync(truncated, readFileSync(clean).subarray(0, zones.walPrepares.offset + 4096));
    const cut = inspect("integrity", "--development", truncated);
    expect([cut.code, cut.err.length]).toEqual([1, 1]);
    expect(cut.err[0]).toMatch(/truncated/);
    expect(inspect("superblock", "--development", truncated).code).toBe(0);

    for (const args of [[], ["bogus", clean], ["wal"], ["wal", clean, clean], ["wal", "--frobnicate", clean]]) {
      const usage = inspect(...args);
      expect([usage.code, usage.err.length]).toEqual([2, 1]);
    }
    const help = inspect("--help");
    expect([help.code, help.out[0]]).toEqual([0, expect.stringMatching(/^Usage: scarab inspect/)]);
  });

  test("is registered as `scarab inspect`", async () => {
    const lines: string[] = [];
    const log = console.log;
    console.log = (line: string) => lines.push(line);
    try {
      expect(await run(["inspect", "--help"])).toBe(0);
    } finally {
      console.log = log;
    }
    expect(lines[0]).toMatch(/^Usage: scarab inspect/);
  });
});

// The durable embedded ledger, openLedger({ path }): formatted on first use, every acknowledged
// transfer back after kill -9 of the process that wrote it, refusal of a file in use or of
// another cluster's file, and the in-memory openLedger() unchanged.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import {
  CreateAccountStatus, CreateTransferStatus, LedgerStoppedError, openLedger, type Ledger, type Transfer,
} from "../../src/client/index.js";
import { productionConfig } from "../../src/core/config.js";

const directory = mkdtempSync(join(tmpdir(), "scarab-durable-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const loader = fileURLToPath(new URL("../system/ts_loader.mjs", import.meta.url));
const writer = fileURLToPath(new URL("./durable_writer.ts", import.meta.url));
const accountCount = 10;

/** Runs the writer until it reports `ackedMin` transfers, then SIGKILLs it; returns the last count. */
function writeThenKill(path: string, base: bigint, batch: number, ackedMin: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", loader, writer, path, String(base), String(batch)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let acked = 0;
    let stderr = "";
    let buffered = "";
    child.stderr.on("data", (chunk: Buffer) => { stderr += chunk.toString(); });
    child.stdout.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith("acked ")) acked = Number(line.slice(6));
      }
      if (acked >= ackedMin) child.kill("SIGKILL");
    });
    child.on("exit", (code, signal) => {
      if (signal === "SIGKILL") resolve(acked);
      else reject(new Error(`writer exited with ${code}: ${stderr}`));
    });
  });
}

async function lookupAll(ledger: Ledger, base: bigint, count: number): Promise<Transfer[]> {
  const found: Transfer[] = [];
  for (let k = 0; k < count; k += 8189) {
    const ids = Array.from({ length: Math.min(8189, count - k) }, (_, j) => base + BigInt(k + j));
    found.push(...await ledger.lookupTransfers(ids));
  }
  return found;
}

describe("openLedger({ path })", () => {
  test("formats on first use, and every acknowledged transfer survives kill -9", async () => {
    const path = join(directory, "killed.scarab");
    expect(existsSync(path)).toBe(false);
    const base = 1_000_000n;
    const acked = await writeThenKill(path, base, 500, 20_000);
    expect(acked).toBeGreaterThanOrEqual(20_000);
    expect(readdirSync(directory).filter((name) => name.includes(".formatting"))).toEqual([]);

    const ledger = openLedger({ path });
    try {
      const found = await lookupAll(ledger, base, acked + 500);
      // Every acknowledged transfer is there; the batch in flight at the kill may or may not be.
      expect(found.length).toBeGreaterThanOrEqual(acked);
      expect(found.length === acked || found.length === acked + 500).toBe(true);
      found.forEach((transfer, k) => {
        expect(transfer.id).toBe(base + BigInt(k));
        expect(transfer.amount).toBe(BigInt(1 + (k % 7)));
      });
      // Balances agree with exactly the transfers that exist.
      const debits = new Array<bigint>(accountCount).fill(0n);
      const credits = new Array<bigint>(accountCount).fill(0n);
      found.forEach((transfer, k) => {
        debits[k % accountCount] = debits[k % accountCount]! + transfer.amount;
        credits[(k + 1) % accountCount] = credits[(k + 1) % accountCount]! + transfer.amount;
      });
      const accounts = await ledger.lookupAccounts(Array.from({ length: accountCount }, (_, a) => BigInt(a + 1)));
      expect(accounts.map((a) => a.debits_posted)).toEqual(debits);
      expect(accounts.map((a) => a.credits_posted)).toEqual(credits);
    } finally {
      await ledger.close();
    }
  });

  test("a second process, or a second ledger in this one, is refused while the file is open", async () => {
    const path = join(directory, "locked.scarab");
    const first = openLedger({ path });
    try {
      await first.lookupAccounts([1n]); // opened
      const second = openLedger({ path });
      await expect(second.lookupAccounts([1n])).rejects.toThrow(/in use|locked/);
      second.destroy();
    } finally {
      await first.close();
    }
    // Closed: it opens again.
    const again = openLedger({ path });
    await expect(again.lookupAccounts([1n])).resolves.toEqual([]);
    await again.close();
  });

  test("two ledgers opening a new file at once: one formats it, the other finds it in use; a dead process's staging file goes", async () => {
    const path = join(directory, "raced.scarab");
    writeFileSync(`${path}.formatting-999999999-1`, "left by a process killed while formatting");
    const [first, second] = [openLedger({ path }), openLedger({ path })];
    const outcomes = await Promise.allSettled([first.lookupAccounts([1n]), second.lookupAccounts([1n])]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(["fulfilled", "rejected"]);
    const refused = outcomes.find((o) => o.status === "rejected") as PromiseRejectedResult;
    expect(String(refused.reason)).toMatch(/in use|locked/);
    await Promise.all([first.close(), second.close()]);
    expect(readdirSync(directory).filter((name) => name.includes(".formatting"))).toEqual([]);
    const again = openLedger({ path });
    await expect(again.lookupAccounts([1n])).resolves.toEqual([]);
    await again.close();
  });

  test("a file that is not an embedded ledger's is refused with a clear error, and left untouched", async () => {
    const path = join(directory, "garbage.scarab");
    writeFileSync(path, Buffer.alloc(1 << 20, 0x5a));
    const ledger = openLedger({ path });
    await expect(ledger.lookupAccounts([1n])).rejects.toThrow(/garbage\.scarab: no superblock copy is intact/);
    ledger.destroy();
    expect(existsSync(path)).toBe(true);
  });

  test("a ledger that reaches its storage limit stops, not the process: calls fail clearly, acknowledged ones stay", async () => {
    const path = join(directory, "full.scarab");
    const gridBlocks = 256; // 128 MiB of grid: refuses after a few hundred thousand transfers
    const limitStorageBytes = productionConfig.zones.gridOffset + gridBlocks * productionConfig.blockSize;
    const ledger = openLedger({ path, limitStorageBytes });
    const accounts = Array.from({ length: accountCount }, (_, a) => ({
      id: BigInt(a + 1), debits_pending: 0n, debits_posted: 0n, credits_pending: 0n, credits_posted: 0n,
      user_data_128: 0n, user_data_64: 0n, user_data_32: 0, reserved: 0, ledger: 1, code: 1, flags: 0, timestamp: 0n,
    }));
    expect((await ledger.createAccounts(accounts)).every((result) => result.status === CreateAccountStatus.created)).toBe(true);
    const base = 5_000_000n;
    let acked = 0;
    let stopped: unknown = null;
    while (stopped === null && acked < 20_000_000) {
      const batch = Array.from({ length: 8189 }, (_, j) => transfer(base + BigInt(acked + j), acked + j));
      try {
        const results = await ledger.createTransfers(batch);
        expect(results.every((result) => result.status === CreateTransferStatus.created)).toBe(true);
        acked += batch.length;
      } catch (error) {
        stopped = error;
      }
    }
    expect(stopped).toBeInstanceOf(LedgerStoppedError);
    expect(String(stopped)).toMatch(/full\.scarab stopped: storage limit reached/);
    expect(acked).toBeGreaterThan(0);
    // Stopped for good: later calls fail with the same error, and close() resolves (the file is unlocked).
    await expect(ledger.lookupAccounts([1n])).rejects.toBeInstanceOf(LedgerStoppedError);
    await ledger.close();

    const reopened = openLedger({ path, limitStorageBytes: limitStorageBytes * 2 });
    try {
      const found = await lookupAll(reopened, base, acked);
      expect(found.length).toBe(acked);
      expect(found.every((t, k) => t.id === base + BigInt(k) && t.amount === BigInt(1 + (k % 7)))).toBe(true);
    } finally {
      await reopened.close();
    }
  });
});

/** Transfer k of the storage-limit test: account k mod N to k + 1 mod N, amount 1 + k mod 7. */
function transfer(id: bigint, k: number): Transfer {
  return {
    id, debit_account_id: BigInt((k % accountCount) + 1), credit_account_id: BigInt(((k + 1) % accountCount) + 1),
    amount: BigInt(1 + (k % 7)), pending_id: 0n, user_data_128: 0n, user_data_64: 0n, user_data_32: 0, timeout: 0,
    ledger: 1, code: 1, flags: 0, timestamp: 0n,
  };
}


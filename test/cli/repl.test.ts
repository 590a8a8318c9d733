// `scarab repl` end to end: a real one-replica cluster in process (data file, TCP on loopback),
// driven through the --command path and the interactive loop, asserting what they print.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createClient } from "../../src/client/index.js";
import { testConfig } from "../../src/core/config.js";
import { formatDataFile, startReplica, type ReplicaHost } from "../../src/cli/replica_host.js";
import { runInteractive, runRepl } from "../../src/cli/repl.js";
import { UsageError } from "../../src/cli/usage_error.js";

const directory = mkdtempSync(join(tmpdir(), "scarab-repl-"));
let host: ReplicaHost;

beforeAll(async () => {
  const path = join(directory, "0_0.scarab");
  const addresses = [{ host: "127.0.0.1", port: 0 }];
  await new Promise<void>((resolve, reject) => {
    formatDataFile({ path, cluster: 7n, replica: 0, addresses, config: testConfig }, (error) => (error ? reject(error) : resolve()));
  });
  host = await new Promise<ReplicaHost>((resolve, reject) => {
    startReplica({ path, cluster: 7n, replica: 0, addresses, config: testConfig }, (error, started) => (error ? reject(error) : resolve(started!)));
  });
});

afterAll(() => {
  host?.stop();
  rmSync(directory, { recursive: true, force: true });
});

async function repl(command: string): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runRepl(["--cluster=7", `--addresses=${host.port}`, `--command=${command}`], {
    out: (text) => out.push(text), err: (text) => err.push(text),
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("scarab repl --command against a replica", () => {
  test("creates accounts, transfers, and looks up the balances", async () => {
    const created = await repl("create_accounts id=1 code=10 ledger=700 flags=linked|history, id=2 code=10 ledger=700;");
    expect(created).toEqual({ code: 0, out: "ok: created 2 accounts.", err: "" });

    const moved = await repl(
      "create_transfers id=1 debit_account_id=1 credit_account_id=2 amount=10 ledger=700 code=10;\n" +
      "lookup_accounts id=1, id=2;",
    );
    expect(moved.code).toBe(0);
    expect(moved.err).toBe("");
    const [transferLine, first, second] = moved.out.split("\n{").map((part, i) => (i === 0 ? part : `{${part}`));
    expect(transferLine).toBe("ok: created 1 transfer.");
    expect(first).toMatch(/^\{\n {2}"id": "1",\n {2}"debits_pending": "0",\n {2}"debits_posted": "10",\n {2}"credits_pending": "0",\n {2}"credits_posted": "0",\n/);
    expect(first).toContain('  "ledger": "700",\n  "code": "10",\n  "flags": ["linked","history"],\n  "timestamp": "');
    expect(first).not.toContain("reserved");
    expect(second).toMatch(/"id": "2",\n {2}"debits_pending": "0",\n {2}"debits_posted": "0",\n {2}"credits_pending": "0",\n {2}"credits_posted": "10",/);
    expect(second).toContain('"flags": []');
  });

  test("account transfers, balances and queries", async () => {
    const transfers = await repl("get_account_transfers account_id=2 flags=debits|credits limit=10;");
    expect(transfers.code).toBe(0);
    expect(transfers.out).toMatch(/^\{\n {2}"id": "1",\n {2}"debit_account_id": "1",\n {2}"credit_account_id": "2",\n {2}"amount": "10",/);
    const balances = await repl("get_account_balances account_id=1 limit=29;");
    expect(balances.code).toBe(0);
    expect(balances.out).toMatch(/^\{\n {2}"debits_pending": "0",\n {2}"debits_posted": "10",\n {2}"credits_pending": "0",\n {2}"credits_posted": "0",\n {2}"timestamp": "\d+"\n\}$/);
    const accounts = await repl("query_accounts ledger=700 code=10 flags=reversed limit=5;");
    expect(accounts.out.match(/"id": "(\d+)"/g)).toEqual(['"id": "2"', '"id": "1"']);
    // The default limit (8189, as TigerBeetle's REPL) is more than a --development replica answers.
    const tooMany = await repl("get_account_transfers account_id=1;");
    expect(tooMany.code).toBe(1);
    expect(tooMany.err).toMatch(/failed: request failed: Client was evicted\. \(a cluster formatted with --development.*limit=29 or less\)$/);
  });

  test("a failing transfer prints its index and status name and exits 1", async () => {
    const result = await repl(
      "create_transfers id=2 debit_account_id=1 credit_account_id=2 amount=5 ledger=700 code=10," +
      " id=3 debit_account_id=1 credit_account_id=99 amount=5 ledger=700 code=10;\nlookup_accounts id=1;",
    );
    expect(result.code).toBe(1);
    expect(result.out).toBe("Failed to create transfer (1): credit_account_not_found.");
    expect(result.err).toBe("scarab repl: statement 1 (create_transfers) failed: 1 of 2 transfers were not created");
    const again = await repl("create_transfers id=1 debit_account_id=1 credit_account_id=2 amount=10 ledger=700 code=10;");
    expect(again.out).toBe("Failed to create transfer (0): exists.");
  });

  test("a lookup that finds nothing exits 1, as TigerBeetle's REPL does", async () => {
    const result = await repl("lookup_accounts id=424242;");
    expect(result).toEqual({
      code: 1, out: "No accounts were found.", err: "scarab repl: statement 1 (lookup_accounts) failed: no accounts were found",
    });
  });

  test("a parse error runs nothing and points at the token", async () => {
    const result = await repl("create_accounts id=50 code=1 ledger=1;\nlookup_accounts id=50 colour=2;");
    expect(result.code).toBe(1);
    expect(result.out).toBe("");
    expect(result.err).toBe(
      "Parse error at line 2, column 23: unknown field 'colour' for lookup_accounts (fields: id)\n" +
      "  lookup_accounts id=50 colour=2;\n" +
      "                        ^\n" +
      "scarab repl: parse error in --command; no statement was run",
    );
    expect((await repl("lookup_accounts id=50;")).code).toBe(1); // account 50 was not created
    const missing = await repl("lookup_accounts id=1");
    expect(missing.err).toMatch(/missing ';' at the end of the lookup_accounts statement/);
  });
});

describe("scarab repl flags", () => {
  test.each([
    [["--addresses=3000", "--command=help;"], /--cluster is required/],
    [["--cluster=0", "--command=help;"], /--addresses is required/],
    [["--cluster=x", "--addresses=3000"], /--cluster is required: a decimal u128/],
    [["--cluster=0", "--addresses=3000:x"], /invalid replica address/],
    [["--cluster=0", "--addresses=3000", "--bogus"], /Unknown option '--bogus'/],
    [["--cluster=0", "--addresses=3000", "extra"], /positional/],
  ])("%j", async (args, message) => {
    await expect(runRepl(args, { out: () => {}, err: () => {} })).rejects.toThrow(UsageError);
    await expect(runRepl(args, { out: () => {}, err: () => {} })).rejects.toThrow(message);
  });

  test("--help documents the syntax, the operations and the exit codes", async () => {
    const out: string[] = [];
    expect(await runRepl(["--help"], { out: (text) => out.push(text), err: () => {} })).toBe(0);
    for (const word of ["--cluster", "--addresses", "--command", "get_account_balances", "query_transfers", "Exit code", "~/.scarab_repl_history"]) {
      expect(out.join("\n")).toContain(word);
    }
  });
});

describe("scarab repl interactive", () => {
  test("multi-line statements, help, errors that do not end the session, history, exit", async () => {
    const historyPath = join(directory, "history");
    const input = new PassThrough();
    const output = new PassThrough();
    let printed = "";
    output.on("data", (chunk: Buffer) => { printed += chunk.toString(); });
    const client = createClient({ cluster_id: 7n, replica_addresses: [String(host.port)] });
    try {
      const done = runInteractive(client, { input, output, terminal: false, historyPath });
      input.write("create_accounts id=70 code=1\n  ledger=1;\nlookup_accounts id=70 bogus=1;\nhelp\n");
      input.write("lookup_accounts id=70; lookup_accounts\nid=71;\nexit\n");
      expect(await done).toBe(0);
    } finally {
      client.destroy();
    }
    expect(printed).toContain("ok: created 1 account.");
    expect(printed).toContain("Parse error at line 1, column 23: unknown field 'bogus'");
    expect(printed.match(/Examples:/g)).toHaveLength(2); // the banner, and `help`
    expect(printed).toMatch(/"id": "70",[\s\S]*"ledger": "1",\n {2}"code": "1",/);
    expect(printed).toContain("No accounts were found.");
    expect(printed).toContain("... ");
    expect(printed.trimEnd().endsWith("Exiting.")).toBe(true);
    expect(readFileSync(historyPath, "utf8").split("\n").slice(0, 3)).toEqual([
      "create_accounts id=70 code=1", "  ledger=1;", "lookup_accounts id=70 bogus=1;",
    ]);
  });

  test("end of input (Ctrl-D) leaves, saying that an unfinished statement was not run", async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let printed = "";
    output.on("data", (chunk: Buffer) => { printed += chunk.toString(); });
    const client = createClient({ cluster_id: 7n, replica_addresses: [String(host.port)] });
    try {
      const done = runInteractive(client, { input, output, terminal: false, historyPath: join(directory, "history2") });
      input.end("lookup_accounts id=1;\ncreate_accounts id=80 code=1 ledger=1\n");
      expect(await done).toBe(0);
    } finally {
      client.destroy();
    }
    expect(printed).toContain('"id": "1"');
    expect(printed).toMatch(/discarded the unfinished statement: it has no ';'\)\nExiting\.\n$/);
  });
});

// `scarab repl`: TigerBeetle's REPL on top of createClient(). Statements are parsed by
// repl_parser.ts; this module runs them (one request each) and prints the results as
// TigerBeetle's REPL does. --command runs the statements and exits; otherwise an interactive
// prompt (node:readline) reads statements, spanning lines until a `;`.
import { readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { AccountFlags, CreateAccountStatus, CreateTransferStatus, TransferFlags } from "../core/layouts.js";
import { ErrorCodes, RequestError } from "../client/errors.js";
import { createClient, type Client } from "../client/network_client.js";
import { parseAddress } from "../io/tcp_client_bus.js";
import {
  accountBalanceFields, accountFields, formatParseError, parse, transferFields, type FieldType,
  type Statement,
} from "./repl_parser.js";
import { UsageError } from "./usage_error.js";

export const replHelp = `Usage: scarab repl --cluster=<u128> --addresses=<a,b,c> [--command="<statements>"]

Connects to a cluster with the network client and runs TigerBeetle's REPL statements:

  <operation> <object> [, <object> ...];

An object is space-separated field=value pairs; fields are the snake_case fields of Account,
Transfer, AccountFilter or QueryFilter. Values are unsigned integers (decimal, 0x.., 0o.., 0b..,
'_' between digits; -N is the field's maximum minus N, so amount=-0 is amount_max), or for flags
'|'-joined flag names. Operations:

  create_accounts  create_transfers  lookup_accounts  lookup_transfers (id=...)
  get_account_transfers  get_account_balances (one AccountFilter; default flags=debits|credits)
  query_accounts  query_transfers (one QueryFilter)    help

Examples:
  create_accounts id=1 code=10 ledger=700 flags=linked|history, id=2 code=10 ledger=700;
  create_transfers id=1 debit_account_id=1 credit_account_id=2 amount=10 ledger=700 code=10;
  lookup_accounts id=1, id=2;
  get_account_transfers account_id=2 flags=debits|credits limit=10;

get_/query_ statements default to limit=8189 (as TigerBeetle's REPL); a cluster formatted with
--development (4 KiB messages) evicts the client for that, so give it limit=29 or less.

Lookups and queries print every object found; creates print each event that failed, with its
index and status (e.g. "Failed to create transfer (0): exceeds_credits."), or "ok".

With --command, every statement must end with ';'. All of them are parsed first (a parse error
runs none), then run in order, stopping at the first that fails. Exit code 0 if all succeeded,
1 on a parse error, a create with a failed event, a lookup or query that found nothing, or a
request error; the message on stderr says which statement failed and why.

Without --command, an interactive prompt: a statement may span lines until its ';'. 'help'
shows examples, 'exit' or Ctrl-D leaves, Ctrl-C discards the statement being typed. History
(up/down) is kept in ~/.scarab_repl_history (the last 1000 lines).

Options:
  --cluster N         cluster id (decimal u128), as given to 'scarab format'
  --addresses LIST    comma-separated replica addresses ("port", "host:port" or "[ipv6]:port")
  --command TEXT      run these statements and exit
  --help              print this help`;

const interactiveHelp = `Scarab REPL (TigerBeetle's syntax)
  End a statement with ';' (it may span lines). 'help' for this text, 'exit' or Ctrl-D to leave.

Examples:
  create_accounts id=1 code=10 ledger=700 flags=linked|history, id=2 code=10 ledger=700;
  create_transfers id=1 debit_account_id=1 credit_account_id=2 amount=10 ledger=700 code=10;
  lookup_accounts id=1;
  lookup_accounts id=1, id=2;
  get_account_transfers account_id=1 flags=debits|credits;
  get_account_balances account_id=1 flags=debits|credits;
  query_accounts ledger=700 limit=10;
`;

/** Where the REPL writes: results and messages (`out`), errors (`err`); one line or block per call. */
export interface ReplOutput {
  out(text: string): void;
  err(text: string): void;
}

const processOutput: ReplOutput = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

interface ReplArgs {
  readonly cluster: bigint;
  readonly addresses: string[];
  readonly command: string | undefined;
}

function parseReplArgs(args: string[]): ReplArgs | null {
  let values: Record<string, string | boolean | undefined>;
  try {
    const options = { cluster: { type: "string" }, addresses: { type: "string" }, command: { type: "string" }, help: { type: "boolean" } } as const;
    values = parseArgs({ args, options, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError(`repl: ${(error as Error).message}`);
  }
  if (values.help) return null;
  const clusterText = values.cluster;
  if (typeof clusterText !== "string" || !/^\d{1,39}$/.test(clusterText) || BigInt(clusterText) >= 1n << 128n) {
    throw new UsageError("repl: --cluster is required: a decimal u128 cluster id");
  }
  if (typeof values.addresses !== "string" || values.addresses.trim() === "") throw new UsageError("repl: --addresses is required");
  const addresses = values.addresses.split(",").map((text) => text.trim());
  if (addresses.length > 6) throw new UsageError("repl: --addresses lists at most 6 replicas");
  for (const address of addresses) {
    try {
      parseAddress(address);
    } catch (error) {
      throw new UsageError(`repl: ${(error as Error).message}`);
    }
  }
  return { cluster: BigInt(clusterText), addresses, command: values.command as string | undefined };
}

// ---- Printing, as TigerBeetle's REPL does: one JSON-like block per object, values as strings ----

function flagList(flags: number, enumeration: Record<string, string | number>): string {
  const names = Object.entries(enumeration)
    .filter(([name, bit]) => typeof bit === "number" && bit !== 0 && (flags & bit) === bit && name !== "none")
    .map(([name]) => `"${name}"`);
  return `[${names.join(",")}]`;
}

export function formatObject(object: object, fields: Readonly<Record<string, FieldType>>, flags?: Record<string, string | number>): string {
  const values = object as Record<string, bigint | number>;
  const lines = Object.keys(fields).map((name) => {
    if (name === "flags" && flags !== undefined) return `  "flags": ${flagList(Number(values.flags), flags)}`;
    return `  "${name}": "${String(values[name])}"`;
  });
  return `{\n${lines.join(",\n")}\n}`;
}

/** What one statement printed, and why it failed (null if it did not). */
interface Outcome {
  readonly lines: string[];
  readonly failure: string | null;
}

function createOutcome(kind: "account" | "transfer", results: { status: number }[], count: number): Outcome {
  const statuses: Record<number, string> = kind === "account" ? CreateAccountStatus : CreateTransferStatus;
  const lines: string[] = [];
  results.forEach((result, index) => {
    if (result.status === CreateAccountStatus.created) return;
    lines.push(`Failed to create ${kind} (${index}): ${statuses[result.status] ?? `status ${result.status}`}.`);
  });
  if (lines.length === 0) return { lines: [`ok: created ${count} ${kind}${count === 1 ? "" : "s"}.`], failure: null };
  return { lines, failure: `${lines.length} of ${count} ${kind}s were not created` };
}

function listOutcome(objects: object[], noun: string, fields: Readonly<Record<string, FieldType>>, flags?: Record<string, string | number>): Outcome {
  if (objects.length === 0) return { lines: [`No ${noun} were found.`], failure: `no ${noun} were found` };
  return { lines: objects.map((object) => formatObject(object, fields, flags)), failure: null };
}

/** Runs one statement with one request. */
export async function execute(client: Client, statement: Statement): Promise<Outcome> {
  switch (statement.operation) {
    case "help": return { lines: [interactiveHelp], failure: null };
    case "create_accounts": return createOutcome("account", await client.createAccounts(statement.events), statement.events.length);
    case "create_transfers": return createOutcome("transfer", await client.createTransfers(statement.events), statement.events.length);
    case "lookup_accounts": return listOutcome(await client.lookupAccounts(statement.events), "accounts", accountFields, AccountFlags);
    case "lookup_transfers": return listOutcome(await client.lookupTransfers(statement.events), "transfers", transferFields, TransferFlags);
    case "get_account_transfers": return listOutcome(await client.getAccountTransfers(statement.events[0]), "transfers", transferFields, TransferFlags);
    case "get_account_balances": return listOutcome(await client.getAccountBalances(statement.events[0]), "balances", accountBalanceFields);
    case "query_accounts": return listOutcome(await client.queryAccounts(statement.events[0]), "accounts", accountFields, AccountFlags);
    case "query_transfers": return listOutcome(await client.queryTransfers(statement.events[0]), "transfers", transferFields, TransferFlags);
  }
}

const developmentLimitHint = " (a cluster formatted with --development, whose messages are 4 KiB, evicts a client" +
  " whose get_/query_ statement could return more than fits: pass limit=29 or less)";

/** After this long without a reply, say that the REPL is still waiting (the client retries forever). */
const slowRequestMs = 5000;

async function executeSafely(client: Client, statement: Statement, notice: (text: string) => void): Promise<Outcome> {
  const slow = setTimeout(() => {
    notice(`(still waiting for the cluster to answer ${statement.operation}: is it running, and are --cluster and --addresses right?)`);
  }, slowRequestMs);
  slow.unref();
  try {
    return await execute(client, statement);
  } catch (error) {
    const filter = /^(get|query)_/.test(statement.operation);
    const evicted = error instanceof RequestError && error.code === ErrorCodes.ERR_CLIENT_EVICTED;
    return { lines: [], failure: `request failed: ${(error as Error).message}${filter && evicted ? developmentLimitHint : ""}` };
  } finally {
    clearTimeout(slow);
  }
}

// ---- --command ----

/** Parses all of `text`, then runs its statements in order; 0 if every one succeeded. */
export async function runStatements(client: Client, text: string, output: ReplOutput): Promise<number> {
  const parsed = parse(text, { requireSemicolon: true });
  if ("error" in parsed) {
    output.err(formatParseError(text, parsed.error));
    output.err("scarab repl: parse error in --command; no statement was run");
    return 1;
  }
  for (const [index, statement] of parsed.statements.entries()) {
    const outcome = await executeSafely(client, statement, output.err);
    for (const line of outcome.lines) output.out(line);
    if (outcome.failure !== null) {
      output.err(`scarab repl: statement ${index + 1} (${statement.operation}) failed: ${outcome.failure}`);
      return 1;
    }
  }
  return 0;
}

// ---- Interactive ----

const historyMax = 1000;

export interface InteractiveOptions {
  readonly input: NodeJS.ReadableStream;
  readonly output: NodeJS.WritableStream;
  /** Line editing and up/down history (default: whether the input is a TTY). */
  readonly terminal?: boolean;
  readonly historyPath?: string;
}

function loadHistory(path: string): string[] {
  try {
    return readFileSync(path, "utf8").split("\n").filter((line) => line.trim() !== "").slice(-historyMax);
  } catch {
    return [];
  }
}

function saveHistory(path: string, history: string[]): void {
  try {
    writeFileSync(path, history.map((line) => `${line}\n`).join(""), { mode: 0o600 });
  } catch {
    // A read-only home directory costs the persisted history only.
  }
}

function remember(history: string[], line: string, path: string): void {
  if (line.trim() === "" || history[history.length - 1] === line) return;
  history.push(line);
  if (history.length > historyMax) history.splice(0, history.length - historyMax);
  saveHistory(path, history);
}

/** The statements typed so far, run once a `;` completes them. */
class Session {
  pending = "";
  /** Set once the REPL stopped waiting for this session's request: it prints nothing more. */
  abandoned = false;
  constructor(private readonly client: Client, private readonly output: (text: string) => void) {}

  private write(text: string): void {
    if (!this.abandoned) this.output(text);
  }

  /** Handles one line; false when the user asked to leave. */
  async line(line: string): Promise<boolean> {
    if (this.pending === "") {
      if (/^\s*(exit|quit)\s*;?\s*$/.test(line)) return false;
      if (/^\s*help\s*;?\s*$/.test(line)) {
        this.write(interactiveHelp);
        return true;
      }
    }
    this.pending = this.pending === "" ? line : `${this.pending}\n${line}`;
    const end = this.pending.lastIndexOf(";");
    if (end === -1) {
      if (this.pending.trim() === "") this.pending = "";
      return true;
    }
    const text = this.pending.slice(0, end + 1);
    this.pending = this.pending.slice(end + 1).trim() === "" ? "" : this.pending.slice(end + 1);
    await this.run(text);
    return true;
  }

  private async run(text: string): Promise<void> {
    const parsed = parse(text, { requireSemicolon: true });
    if ("error" in parsed) {
      this.pending = "";
      return this.write(`${formatParseError(text, parsed.error)}\n`);
    }
    for (const statement of parsed.statements) {
      const outcome = await executeSafely(this.client, statement, (text) => this.write(`${text}\n`));
      for (const line of outcome.lines) this.write(`${line}\n`);
      if (outcome.lines.length === 0 && outcome.failure !== null) this.write(`Error: ${outcome.failure}\n`);
    }
  }
}

/** The interactive prompt, until `exit` or end of input (Ctrl-D). */
export async function runInteractive(client: Client, options: InteractiveOptions): Promise<number> {
  const historyPath = options.historyPath ?? join(homedir(), ".scarab_repl_history");
  const history = loadHistory(historyPath);
  const terminal = options.terminal ?? Boolean((options.input as { isTTY?: boolean }).isTTY);
  const rl = createInterface({
    input: options.input, output: options.output, terminal, prompt: "> ",
    history: [...history].reverse(), historySize: historyMax,
  });
  const session = new Session(client, (text) => options.output.write(text));
  const prompt = () => {
    rl.setPrompt(session.pending === "" ? "> " : "... ");
    rl.prompt();
  };
  // Ctrl-C discards the statement being typed; during a request (which the client retries for as
  // long as the cluster does not answer) it leaves the REPL.
  let busy = false;
  let interrupt = () => {};
  const interrupted = new Promise<"interrupted">((resolve) => { interrupt = () => resolve("interrupted"); });
  rl.on("SIGINT", () => {
    options.output.write("^C\n");
    if (busy) return interrupt();
    rl.write(null, { ctrl: true, name: "e" }); // to the end of the line, then clear up to the start
    rl.write(null, { ctrl: true, name: "u" });
    session.pending = "";
    prompt();
  });
  options.output.write(`${interactiveHelp}\n`);
  prompt();
  for await (const line of rl) {
    remember(history, line, historyPath);
    busy = true;
    const result = await Promise.race([session.line(line), interrupted]);
    busy = false;
    if (result === "interrupted") {
      session.abandoned = true;
      rl.close();
      options.output.write("Interrupted while waiting for the cluster.\n");
      return 130;
    }
    if (!result) break;
    prompt();
  }
  rl.close();
  if (session.pending.trim() !== "") options.output.write("\n(discarded the unfinished statement: it has no ';')");
  options.output.write("\nExiting.\n");
  return 0;
}

/** `scarab repl`; `output` replaces stdout/stderr for --command (tests). */
export async function runRepl(args: string[], output: ReplOutput = processOutput): Promise<number> {
  const parsed = parseReplArgs(args);
  if (parsed === null) {
    output.out(replHelp);
    return 0;
  }
  const client = createClient({ cluster_id: parsed.cluster, replica_addresses: parsed.addresses });
  try {
    if (parsed.command !== undefined) return await runStatements(client, parsed.command, output);
    return await runInteractive(client, { input: process.stdin, output: process.stdout });
  } finally {
    client.destroy();
  }
}

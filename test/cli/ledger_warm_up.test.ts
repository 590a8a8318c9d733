// The ledger warm-up that `scarab start` runs before it builds its replica (cli/ledger_warm_up.ts):
// it runs whole batches through a scratch ledger and grid (every event created), and the ledger a
// replica builds afterwards keeps the hidden classes the warm-up settled on when it executes its
// first pulse and batches. That is what spares its first requests the recompilation; it is checked
// with V8's %HaveSameMap in a child process (the flag it needs is not for the test runner).
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, test } from "vitest";
import { testConfig } from "../../src/core/config.js";
import { warmUpLedger } from "../../src/cli/ledger_warm_up.js";

const dist = pathToFileURL(join(process.cwd(), "dist", "src")).href;

/**
 * Builds two ledgers the way a replica builds its own (a StateMachine on a grid's page pool),
 * after the warm-up when `warmUp`, runs a pulse and one batch of each create operation through one
 * of them, and reports which objects still share a hidden class with the untouched one.
 */
const script = (warmUp: boolean): string => `
const { warmUpLedger } = await import("${dist}/cli/ledger_warm_up.js");
const { StateMachine } = await import("${dist}/core/ledger/state_machine.js");
const { encodeEvents, operationCodecs } = await import("${dist}/core/ledger/object_codec.js");
const { Grid } = await import("${dist}/grid/grid.js");
const { productionConfig } = await import("${dist}/core/config.js");
const { Operation } = await import("${dist}/core/command.js");
const same = new Function("a", "b", "return %HaveSameMap(a, b)");
const storage = { read: (z, o, b, callback) => setImmediate(callback), write: (z, o, b, callback) => setImmediate(callback), nextTick: setImmediate };
const replicaLedger = () => {
  const ledger = new StateMachine();
  ledger.configurePages(new Grid(storage, productionConfig, 0n, 1024).pagePool);
  return ledger;
};
if (${warmUp}) warmUpLedger({ config: productionConfig, transferBatches: 2 });
const untouched = replicaLedger();
const used = replicaLedger();
const reply = new Uint8Array(1 << 20);
let timestamp = BigInt(Date.now()) * 1000000n;
used.execute(Operation.pulse, timestamp += 8191n, new Uint8Array(0), reply);
const ids = [0xfedcba98765432100123456789abcdefn, 0x8000000000000000ffffffff00000001n];
const account = (id) => ({ id, debits_pending: 0n, debits_posted: 0n, credits_pending: 0n, credits_posted: 0n,
  user_data_128: 0n, user_data_64: 0n, user_data_32: 0, reserved: 0, ledger: 1, code: 1, flags: 0, timestamp: 0n });
used.execute(Operation.create_accounts, timestamp += 3n, encodeEvents(operationCodecs.createAccounts, [ids.map(account)]), reply);
const transfer = { id: 0xf00000000000000000000000000000ffn, debit_account_id: ids[0], credit_account_id: ids[1], amount: 7n,
  pending_id: 0n, user_data_128: 0n, user_data_64: 0n, user_data_32: 0, timeout: 0, ledger: 1, code: 1, flags: 0, timestamp: 0n };
used.execute(Operation.create_transfers, timestamp += 2n, encodeEvents(operationCodecs.createTransfers, [[transfer]]), reply);
const a = untouched.context.state, b = used.context.state;
console.log(JSON.stringify({
  state: same(a, b),
  context: same(untouched.context, used.context),
  transferPages: same(a.transfers.u32Pages, b.transfers.u32Pages),
  pagePool: same(a.pagePool.free, b.pagePool.free),
}));
`;

function hiddenClasses(warmUp: boolean): Record<string, boolean> {
  const child = spawnSync(process.execPath, ["--allow-natives-syntax", "--input-type=module", "-e", script(warmUp)], { encoding: "utf8" });
  expect(child.stderr).toBe("");
  expect(child.status).toBe(0);
  return JSON.parse(child.stdout) as Record<string, boolean>;
}

describe("ledger warm-up", () => {
  test("runs whole batches through a scratch ledger and grid, every event created", () => {
    // testConfig: small messages and bars, so a bar's flush runs within a few small batches.
    expect(warmUpLedger({ config: testConfig, accounts: 100 })).toBeGreaterThan(0);
  });

  test("a replica's ledger built afterwards keeps the warm-up's hidden classes through its first requests", () => {
    expect(hiddenClasses(true)).toEqual({ state: true, context: true, transferPages: true, pagePool: true });
  }, 30_000);

  test("without it, the first requests change them (what made the first batches recompile)", () => {
    const classes = hiddenClasses(false);
    expect(classes.state).toBe(false); // the pulse's 2^32 - 1 changes pulse_next's representation
  }, 30_000);
});

// The accounting workload and auditor (spec/vopr.md §12): generated requests are always valid and
// answerable within one message; the reference model (src/sim/workloads/accounting/ledger_model.ts)
// and the real ledger StateMachine agree byte for byte on random request sequences at the same
// prepare timestamps (which cross-checks both); the auditor reports a wrong reply precisely; and a
// handful of VOPR seeds run the ledger in lite mode without a correctness failure.
import { describe, expect, test } from "vitest";
import { Operation, operationName } from "../../src/core/command.js";
import { testConfig } from "../../src/core/config.js";
import { StateMachine } from "../../src/core/ledger/state_machine.js";
import { Prng } from "../../src/core/prng.js";
import {
  accountingWorkloadFactory, createAccountingWorkload, type AccountingWorkload,
} from "../../src/sim/workloads/accounting/accounting_workload.js";
import { LedgerStateMachine } from "../../src/replica/state_machine.js";
import { ModelLedger } from "../../src/sim/workloads/accounting/ledger_model.js";
import { runSimulation, type SimulationOptions } from "../../src/sim/runner/simulator.js";

const replyBodySizeMax = testConfig.messageBodySizeMax; // 3840
const nsPerMs = 1_000_000n;

/** The limits a swarm can draw (§3.1): batch_size_limit in [256, 3840], up to 14 batches. */
const shapes = [
  { batchSizeLimit: 256, multiBatchPerRequestLimit: 1 },
  { batchSizeLimit: 300, multiBatchPerRequestLimit: 1 },
  { batchSizeLimit: 918, multiBatchPerRequestLimit: 2 },
  { batchSizeLimit: 1500, multiBatchPerRequestLimit: 5 },
  { batchSizeLimit: 3840, multiBatchPerRequestLimit: 1 },
  { batchSizeLimit: 3840, multiBatchPerRequestLimit: 14 },
];

function workloadFor(seed: number, shape: (typeof shapes)[number]): AccountingWorkload {
  return createAccountingWorkload(new Prng(seed), { clientCount: 3, replyBodySizeMax, ...shape });
}

/**
 * Drives `workload` against a real StateMachine as a primary would (ledger.md §5, §9.3): P = base +
 * N with base = max(prev + 1, realtime), pulses when pulse_next is due, and every reply fed to the
 * auditor, which compares it with the model's byte for byte. Returns the first violation, if any.
 */
function drive(workload: AccountingWorkload, requests: number, clockSeed: number): string | null {
  const machine = new StateMachine();
  const clock = new Prng(clockSeed);
  const reply = new Uint8Array(replyBodySizeMax);
  let realtime = 1_700_000_000_000_000_000n;
  let prev = 0n;
  for (let index = 0; index < requests; index++) {
    realtime += BigInt(clock.range(0, 300)) * nsPerMs; // up to 300 ms between requests
    if (machine.pulseNeeded(realtime > prev ? realtime : prev)) {
      prev = (prev + 1n > realtime ? prev + 1n : realtime) + 8190n;
      machine.execute(Operation.pulse, prev, new Uint8Array(0), reply);
      workload.onPulse(prev);
    }
    const request = workload.nextRequest(index % 3);
    expect(StateMachine.validateRequest(request.operation, request.body, workload.batchSizeLimit)).toBe(true);
    expect(StateMachine.replySizeMax(request.operation, request.body)).toBeLessThanOrEqual(replyBodySizeMax);
    const base = prev + 1n > realtime ? prev + 1n : realtime;
    prev = base + BigInt(StateMachine.eventCount(request.operation, request.body));
    const length = machine.execute(request.operation, prev, request.body, reply);
    const violation = workload.onCommit(request.operation, prev, request.body, reply.slice(0, length));
    if (violation !== null) return `seed ${clockSeed}, request ${index}: ${violation}`;
  }
  return null;
}

describe("accounting workload", () => {
  test("every generated request validates and its worst-case reply fits one message", () => {
    let requests = 0;
    const operations = new Set<number>();
    for (let seed = 1; seed <= 60; seed++) {
      const shape = shapes[seed % shapes.length]!;
      const workload = workloadFor(seed, shape);
      for (let index = 0; index < 150; index++) {
        // nextRequest asserts validity itself; this checks it from the outside too.
        const { operation, body } = workload.nextRequest(index % 3);
        expect(body.length).toBeLessThanOrEqual(shape.batchSizeLimit);
        expect(StateMachine.validateRequest(operation, body, shape.batchSizeLimit)).toBe(true);
        expect(StateMachine.replySizeMax(operation, body)).toBeLessThanOrEqual(replyBodySizeMax);
        operations.add(operation);
        requests += 1;
        // Commit every other request so that later requests aim at a growing ledger.
        if (index % 2 === 0) workload.model.execute(operation, BigInt(seed) * 10n ** 12n + BigInt(index) * 10_000n, body);
      }
    }
    expect(requests).toBe(60 * 150);
    expect([...operations].sort()).toEqual([140, 141, 142, 143, 144, 145, 146, 147]);
  });

  test("the model and the real StateMachine agree byte for byte on random request sequences", () => {
    const coverage = new Map<string, number>();
    let pulses = 0;
    for (let seed = 1; seed <= 24; seed++) {
      const workload = workloadFor(1000 + seed, shapes[seed % shapes.length]!);
      expect(drive(workload, 400, seed)).toBeNull();
      pulses += workload.pulses;
      for (const [key, count] of workload.statuses) coverage.set(key, (coverage.get(key) ?? 0) + count);
    }
    // The sequences reach the interesting parts of the ledger (ledger.md §6–§11).
    const expected = [
      "create_accounts:created", "create_accounts:21", "create_accounts:1", "create_accounts:2",
      "create_transfers:created", "create_transfers:1", "create_transfers:21", "create_transfers:25",
      "create_transfers:33", "create_transfers:34", "create_transfers:35", "create_transfers:46",
      "create_transfers:54", "create_transfers:55", "create_transfers:65", "create_transfers:68",
      "lookup_accounts:results", "lookup_transfers:results", "get_account_transfers:results",
      "get_account_balances:results", "query_accounts:results", "query_transfers:results",
    ];
    for (const key of expected) expect(coverage.get(key) ?? 0, key).toBeGreaterThan(0);
    expect(pulses).toBeGreaterThan(0);
  });

  test("the auditor reports a wrong reply with the operation, the result and both values", () => {
    const workload = workloadFor(7, { batchSizeLimit: 3840, multiBatchPerRequestLimit: 1 });
    const reference = new ModelLedger(); // plays the replica: its replies are right
    let timestamp = 1_000_000_000n;
    for (let index = 0; index < 200; index++) {
      const { operation, body } = workload.nextRequest(0);
      timestamp += 10_000n;
      const reply = reference.execute(operation, timestamp, body);
      const wrong = reply.slice();
      // Corrupt the first result's first byte (a status, an id or a balance).
      const corruptible = operation >= Operation.create_accounts ? reply.length > 16 : reply.length > 128;
      if (corruptible) wrong[0] ^= 1;
      const violation = workload.onCommit(operation, timestamp, body, wrong);
      if (!corruptible) {
        expect(violation).toBeNull();
        continue;
      }
      expect(violation).toContain(operationName(operation));
      expect(violation).toMatch(/batch 0 result 0 .*expected .*, got /);
      return;
    }
    throw new Error("no corruptible reply in 200 requests");
  });

  test("describe() lists the drawn options", () => {
    const line = workloadFor(3, shapes[2]!).describe();
    expect(line).toMatch(/^workload=accounting weights=create_accounts:\d+,create_transfers:\d+,/);
    expect(line).toContain("accounts_max=");
    expect(line).toContain("pending=");
    expect(line).toContain("batch_size_limit=918");
  });
});

// Seeds that pass today in lite mode with the default 96 requests and a 100,000-tick no-progress
// budget (chosen among 1..30 in session 22: 5, 17, 22 and 29 run out of ticks; in 17, a 3-replica
// cluster has replica 2 paused early, its unpause die at 8 in a million per tick, then replica 0
// crashes, its restart die at 2 in a million: no quorum, and lite has no liveness phase to heal
// it); the VOPR fleet covers many more. A failure prints the replay command.
const voprSeeds = [1n, 2n, 3n, 4n, 6n, 11n, 12n, 13n, 18n, 20n];
const budget = { requestsMax: 96, ticksMaxRequests: 100_000 } as const;

describe("VOPR with the accounting state machine", () => {
  test("lite seeds complete without a correctness failure", () => {
    const failures: string[] = [];
    for (const seed of voprSeeds) {
      const options: SimulationOptions = { lite: true, log: "none", stateMachine: "accounting", write: () => {}, ...budget };
      const result = runSimulation(seed, options);
      if (result.exitCode === 0 && result.outcome === "passed") continue;
      failures.push(`seed ${seed}: exit ${result.exitCode}: ${result.outcome}\n` +
        `  replay: scarab vopr --lite --requests-max=${budget.requestsMax} --ticks-max-requests=${budget.ticksMaxRequests} ${seed}`);
    }
    expect(failures).toEqual([]);
  });

  test("a ledger bug shared by every replica is a correctness failure (exit 129) caught by the auditor", () => {
    // Every replica agrees on the wrong reply, so only the auditor can see it: the first created
    // transfer of each create_transfers reply gets status `exists` (46) instead of `created`.
    class WrongLedger extends LedgerStateMachine {
      override execute(operation: number, timestamp: bigint, body: Uint8Array, reply: Uint8Array): number {
        const length = super.execute(operation, timestamp, body, reply);
        const view = new DataView(reply.buffer, reply.byteOffset, length);
        if (operation === Operation.create_transfers && length > 16 && view.getUint32(8, true) === 0xffff_ffff) {
          view.setUint32(8, 46, true);
        }
        return length;
      }
    }
    const factory = { ...accountingWorkloadFactory, createStateMachine: () => new WrongLedger() };
    const result = runSimulation(1n, {
      lite: true, log: "none", stateMachine: "accounting", write: () => {}, workloadFactory: factory, ...budget,
    });
    expect(result.exitCode).toBe(129);
    expect(result.outcome).toMatch(/workload: op \d+: create_transfers at timestamp \d+: batch \d+ result 0 .*"status":4294967295.*"status":46/);
  });

  test("accounting is the default factory for stateMachine 'accounting', and runs replay exactly", () => {
    const options: SimulationOptions = {
      lite: true, log: "none", stateMachine: "accounting", write: () => {}, requestsMax: 12, ticksMaxRequests: 3000,
    };
    const first = runSimulation(4n, options);
    const second = runSimulation(4n, { ...options, workloadFactory: accountingWorkloadFactory });
    expect(second.traceHash).toBe(first.traceHash);
    expect(second.ticks).toBe(first.ticks);
    expect(first.parameters["state_machine"]).toBe("accounting");
    const lines: string[] = [];
    runSimulation(4n, { ...options, log: "short", write: (line) => lines.push(line) });
    expect(lines.some((line) => line.startsWith("workload=accounting "))).toBe(true);
  });
});

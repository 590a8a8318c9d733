// The accounting workload (spec/vopr.md §12): the ledger's requests and their audit, behind the
// Workload seam. Three parts, one per concern:
//   generator.ts  what requests to send (options.ts, accounts.ts, transfers.ts, queries.ts, draws.ts)
//   auditor.ts    checks every committed reply byte for byte against the model (ledger_model.ts)
//   knowledge.ts  what the generator learns from each commit, to aim later requests
// The auditor owns the model; the generator only reads it. All draws come from one PRNG: first the
// options (drawn at creation), then each request's draws in request order.
import { assert } from "../../../core/assert.js";
import { testConfig } from "../../../core/config.js";
import { transferSize } from "../../../core/layouts.js";
import type { Prng } from "../../../core/prng.js";
import { StateMachine } from "../../../core/ledger/state_machine.js";
import { LedgerStateMachine } from "../../../replica/state_machine.js";
import type { Workload, WorkloadFactory, WorkloadOptions } from "../workload.js";
import { AccountingAuditor } from "./auditor.js";
import { AccountingGenerator } from "./generator.js";
import { Knowledge, objectSize } from "./knowledge.js";
import type { ModelLedger } from "./ledger_model.js";
import { describeAccountingOptions, drawAccountingOptions, type AccountingOptions } from "./options.js";

export function createAccountingWorkload(prng: Prng, options: WorkloadOptions): AccountingWorkload {
  return new AccountingWorkload(prng, options, drawAccountingOptions(prng));
}

export const accountingWorkloadFactory: WorkloadFactory = {
  stateMachine: "accounting",
  createStateMachine: (probe) => new LedgerStateMachine(new StateMachine({ probe })),
  createWorkload: (prng, options) => createAccountingWorkload(prng, options),
};

export class AccountingWorkload implements Workload {
  readonly batchSizeLimit: number;
  readonly replyBodySizeMax: number;
  requests = 0;
  private readonly auditor = new AccountingAuditor();
  private readonly known = new Knowledge();
  private readonly generator: AccountingGenerator;

  constructor(prng: Prng, private readonly options: WorkloadOptions, readonly drawn: AccountingOptions) {
    this.batchSizeLimit = options.batchSizeLimit;
    this.replyBodySizeMax = options.replyBodySizeMax ?? testConfig.messageBodySizeMax;
    assert(this.batchSizeLimit >= 2 * transferSize, "AccountingWorkload: batch_size_limit below one 128-byte event and its trailer");
    assert(this.replyBodySizeMax >= 2 * objectSize, "AccountingWorkload: reply body too small");
    assert(options.multiBatchPerRequestLimit >= 1, "AccountingWorkload: multi_batch_per_request_limit");
    const limits = {
      batchSizeLimit: this.batchSizeLimit, multiBatchPerRequestLimit: options.multiBatchPerRequestLimit,
      replyBodySizeMax: this.replyBodySizeMax,
    };
    this.generator = new AccountingGenerator(prng, limits, drawn, this.auditor.model, this.known);
  }

  /** The reference model the auditor runs (tests may execute on it directly). */
  get model(): ModelLedger { return this.auditor.model; }
  /** Coverage: create results by operation and status, and objects returned by lookups and queries. */
  get statuses(): ReadonlyMap<string, number> { return this.known.statuses; }
  get commits(): number { return this.auditor.commits; }
  get pulses(): number { return this.auditor.pulses; }

  nextRequest(clientIndex: number): { operation: number; body: Uint8Array } {
    assert(clientIndex >= 0 && clientIndex < this.options.clientCount, "AccountingWorkload: bad client index");
    const request = this.generator.nextRequest();
    this.requests += 1;
    return request;
  }

  onCommit(operation: number, timestamp: bigint, requestBody: Uint8Array, replyBody: Uint8Array): string | null {
    const { expected, violation } = this.auditor.audit(operation, timestamp, requestBody, replyBody);
    // The generator learns from the model's reply: it is the right one whatever the replica sent.
    if (expected !== null) this.known.learn(operation, requestBody, expected);
    return violation;
  }

  onPulse(timestamp: bigint): void {
    this.auditor.pulse(timestamp);
  }

  describe(): string {
    return `workload=accounting ${describeAccountingOptions(this.drawn)} batch_size_limit=${this.batchSizeLimit}` +
      ` multi_batch_per_request_limit=${this.options.multiBatchPerRequestLimit} reply_body_max=${this.replyBodySizeMax}`;
  }
}

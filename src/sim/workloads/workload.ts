// The seam between the simulator and a state-machine workload (spec/vopr.md §4, §12). The
// simulator asks for requests, and feeds back every committed (request, reply) pair **in op
// order**, once per op, after the reply sequencer (§11.2): the workload checks replies against a
// sequential model, which makes the check one of strict serializability.
//
// Two workloads plug in through a WorkloadFactory: `testing` (echo, here) and `accounting` (the
// ledger generator and auditor of §12, accounting/accounting_workload.ts). The factory also builds
// each replica's state machine, so the pair always matches.
import { assert } from "../../core/assert.js";
import type { Prng } from "../../core/prng.js";
import type { ProbeSink } from "../../core/probes.js";
import type { ReplicaStateMachine } from "../../replica/state_machine.js";
import { echoOperation, EchoStateMachine } from "./echo_state_machine.js";

export interface Workload {
  /** The next request for client `clientIndex`, or null to send nothing this time. */
  nextRequest(clientIndex: number): { operation: number; body: Uint8Array } | null;
  /**
   * A committed client request, in op order. Returns null when the reply is acceptable, else a
   * description of the violation (the simulator turns it into a correctness failure, exit 129).
   */
  onCommit(operation: number, timestamp: bigint, requestBody: Uint8Array, replyBody: Uint8Array): string | null;
  /** A committed pulse (operation 4), in op order (spec/ledger.md §9.3). */
  onPulse(timestamp: bigint): void;
  /** One line of the drawn workload options, for the start-up banner (§1). */
  describe(): string;
}

/** What a workload may depend on: the cluster options drawn in spec/vopr.md §3.1. */
export interface WorkloadOptions {
  readonly clientCount: number;
  /** The largest request body a client sends (batch_size_limit). */
  readonly batchSizeLimit: number;
  readonly multiBatchPerRequestLimit: number;
  /**
   * The largest reply body a replica can send (the config's message body max). A request whose
   * worst-case reply is larger must not be generated (ledger.md §12). Default: the test config's.
   */
  readonly replyBodySizeMax?: number;
}

export interface WorkloadFactory {
  readonly stateMachine: "accounting" | "testing";
  /**
   * A fresh state machine for a replica; called again on every restart (memory is lost). `probe`
   * receives its coverage probes (core/probes.ts), if it has any.
   */
  createStateMachine(probe?: ProbeSink): ReplicaStateMachine;
  /** Draws its options from `prng` (the workload sub-PRNG, §1: drawn last). */
  createWorkload(prng: Prng, options: WorkloadOptions): Workload;
}

/**
 * The testing workload (spec/vopr.md §4): random bodies of U[0, batch_size_limit] bytes; every
 * reply must equal its request. It keeps no model: echo has no state visible to clients.
 */
export class EchoWorkload implements Workload {
  requests = 0;
  commits = 0;
  pulses = 0;
  private lastPulse = 0n;

  constructor(private readonly prng: Prng, private readonly options: WorkloadOptions) {
    assert(options.batchSizeLimit >= 0, "EchoWorkload: negative batch_size_limit");
  }

  nextRequest(clientIndex: number): { operation: number; body: Uint8Array } {
    assert(clientIndex >= 0 && clientIndex < this.options.clientCount, "EchoWorkload: bad client index");
    const body = new Uint8Array(this.prng.intInclusive(this.options.batchSizeLimit));
    this.prng.fill(body);
    this.requests += 1;
    return { operation: echoOperation, body };
  }

  onCommit(operation: number, _timestamp: bigint, requestBody: Uint8Array, replyBody: Uint8Array): string | null {
    this.commits += 1;
    if (operation !== echoOperation) return `echo: unexpected operation ${operation}`;
    if (replyBody.length !== requestBody.length) {
      return `echo: reply of ${replyBody.length} bytes to a request of ${requestBody.length}`;
    }
    for (let index = 0; index < requestBody.length; index++) {
      if (replyBody[index] !== requestBody[index]) return `echo: reply differs from the request at byte ${index}`;
    }
    return null;
  }

  onPulse(timestamp: bigint): void {
    // Pulses are in op order, and timestamps increase in op order (spec/vsr.md §17 item 10).
    assert(timestamp > this.lastPulse, "EchoWorkload: pulse timestamps must increase");
    this.lastPulse = timestamp;
    this.pulses += 1;
  }

  describe(): string {
    return `workload=testing(echo) batch_size_limit=${this.options.batchSizeLimit}`;
  }
}

export const echoWorkloadFactory: WorkloadFactory = {
  stateMachine: "testing",
  createStateMachine: () => new EchoStateMachine(),
  createWorkload: (prng, options) => new EchoWorkload(prng, options),
};

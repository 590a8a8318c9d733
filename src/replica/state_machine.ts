// What the replica needs from a state machine. The ledger (spec/ledger.md) is the default; the
// simulator also has a tiny echo machine (spec/vopr.md §4) that exercises storage, checkpoints and
// sync without ledger semantics. Execution must be deterministic: every replica executes the
// same prepares in the same order and must reach byte-identical state.
import { StateMachine } from "../core/ledger/state_machine.js";
import type { PageNeeds, PersistentState } from "../core/persistent_state.js";

export interface ReplicaStateMachine {
  /** True for the state-machine operations (≥ 128) this machine implements. */
  isOperation(operation: number): boolean;
  /** The request body is acceptable (else the client is evicted: invalid_request_body). */
  validateRequest(operation: number, body: Uint8Array, batchSizeLimit: number): boolean;
  /** The largest reply body this (valid) request can produce. */
  replySizeMax(operation: number, body: Uint8Array): number;
  /** How many timestamps the request consumes (spec/ledger.md §5). */
  eventCount(operation: number, body: Uint8Array): number;
  /**
   * One prefetch round for a committed prepare (DESIGN.md "Prefetch, then execute"): the pages of
   * the persistent state's lazy spaces that executing it touches, as (space, page) pairs. The
   * replica reads the missing ones and asks again until none is missing, then executes.
   */
  prefetch(operation: number, timestamp: bigint, body: Uint8Array): PageNeeds;
  /** Executes a committed prepare; writes the reply body into `reply`; returns its length. */
  execute(operation: number, timestamp: bigint, body: Uint8Array, reply: Uint8Array): number;
  /** True when a pulse should be injected at cluster time `now` (spec/ledger.md §9.3). */
  pulseNeeded(now: bigint): boolean;
  /** The least `now` for which pulseNeeded(now) holds (it holds for every later one), or null: none. */
  pulseNext(): bigint | null;
  /** What the grid persists at bars and checkpoints, and restores on open and state sync. */
  readonly persistent: PersistentState;
}

const ledgerOperations = new Set<number>([140, 141, 142, 143, 144, 145, 146, 147]);

/** The ledger behind the ReplicaStateMachine seam. Pulse arrives as operation 4 (the log number). */
export class LedgerStateMachine implements ReplicaStateMachine {
  readonly ledger: StateMachine;

  constructor(ledger: StateMachine = new StateMachine()) {
    this.ledger = ledger;
  }

  isOperation(operation: number): boolean {
    return ledgerOperations.has(operation);
  }

  validateRequest(operation: number, body: Uint8Array, batchSizeLimit: number): boolean {
    return StateMachine.validateRequest(operation, body, batchSizeLimit);
  }

  eventCount(operation: number, body: Uint8Array): number {
    return StateMachine.eventCount(operation, body);
  }

  replySizeMax(operation: number, body: Uint8Array): number {
    return StateMachine.replySizeMax(operation, body);
  }

  prefetch(operation: number, timestamp: bigint, body: Uint8Array): PageNeeds {
    return this.ledger.prefetch(operation, timestamp, body);
  }

  execute(operation: number, timestamp: bigint, body: Uint8Array, reply: Uint8Array): number {
    return this.ledger.execute(operation, timestamp, body, reply);
  }

  pulseNeeded(now: bigint): boolean {
    return this.ledger.pulseNeeded(now);
  }

  pulseNext(): bigint | null {
    return this.ledger.pulseNext();
  }

  get persistent(): PersistentState {
    return this.ledger;
  }
}

// The ledgers the story tests run against: the implementation under test (SyncLedger) and the
// reference model (which the same stories validate, so the model-based test can trust it).
//
// SyncLedger is loaded dynamically: while src/core/ledger/ does not exist yet, its tests fail with
// the import error and the model's tests still run.
import type { LedgerApi, LedgerOptions } from "./helpers.js";
import { ModelLedger } from "../../src/sim/workloads/accounting/ledger_model.js";

type LedgerConstructor = new (options?: LedgerOptions) => LedgerApi;

let SyncLedgerClass: LedgerConstructor | undefined;
let loadError: unknown;
try {
  const modulePath = "../../src/core/ledger/sync_ledger.js";
  const module = (await import(/* @vite-ignore */ modulePath)) as { SyncLedger: LedgerConstructor };
  SyncLedgerClass = module.SyncLedger;
} catch (error) {
  loadError = error;
}

export function createSyncLedger(options?: LedgerOptions): LedgerApi {
  if (SyncLedgerClass === undefined) {
    throw new Error(`src/core/ledger/sync_ledger.ts could not be loaded: ${String(loadError)}`);
  }
  return new SyncLedgerClass(options);
}

export function createModelLedger(options?: LedgerOptions): LedgerApi {
  return new ModelLedger(options);
}

export interface LedgerUnderTest {
  name: string;
  create: (options?: LedgerOptions) => LedgerApi;
}

/** Set LEDGER_TESTS=model (or sync) to run the story tests against one ledger only. */
const only = process.env["LEDGER_TESTS"];
export const ledgersUnderTest: LedgerUnderTest[] = [
  { name: "SyncLedger", create: createSyncLedger },
  { name: "model", create: createModelLedger },
].filter((l) => only === undefined || l.name.toLowerCase().startsWith(only.toLowerCase()));

/** The static part of StateMachine used by validate_request.test.ts (the fixed contract). */
export interface StateMachineStatics {
  validateRequest(operation: number, body: Uint8Array, batchSizeLimit: number): boolean;
  eventCount(operation: number, body: Uint8Array): number;
}

async function tryImport<T>(modulePath: string): Promise<{ module?: T; error?: unknown }> {
  try {
    return { module: (await import(/* @vite-ignore */ modulePath)) as T };
  } catch (error) {
    return { error };
  }
}

const stateMachineModule = await tryImport<{ StateMachine: StateMachineStatics }>("../../src/core/ledger/state_machine.js");
const timestampsModule = await tryImport<{
  prepareTimestamp(prev: bigint, commitTimestamp: bigint, realtime: bigint, eventCount: number): bigint;
}>("../../src/core/ledger/timestamps.js");

export function stateMachine(): StateMachineStatics {
  if (stateMachineModule.module === undefined) {
    throw new Error(`src/core/ledger/state_machine.ts could not be loaded: ${String(stateMachineModule.error)}`);
  }
  return stateMachineModule.module.StateMachine;
}

export function prepareTimestamp(prev: bigint, commitTimestamp: bigint, realtime: bigint, eventCount: number): bigint {
  if (timestampsModule.module === undefined) {
    throw new Error(`src/core/ledger/timestamps.ts could not be loaded: ${String(timestampsModule.error)}`);
  }
  return timestampsModule.module.prepareTimestamp(prev, commitTimestamp, realtime, eventCount);
}

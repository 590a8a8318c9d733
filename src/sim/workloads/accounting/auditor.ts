// The accounting auditor (spec/vopr.md §12): checks every committed reply against the reference
// model (ledger_model.ts) **byte for byte**.
//
// Why byte for byte works: the simulator feeds commits in op order with the primary's prepare
// timestamps (§11.2), and a ledger reply is a pure function of the committed history and P (ledger.md
// §5). So the model, executing the same requests at the same timestamps, must produce the very same
// reply body: every status, every timestamp, every looked-up or queried object, every padding byte.
// That is stronger than TigerBeetle's per-event result sets, and it means the generator does not
// need to predict outcomes (no TransferPlan encoded in ids).
import { assert } from "../../../core/assert.js";
import { bytesEqual } from "../../../core/bytes.js";
import { operationName } from "../../../core/command.js";
import { decodeResults } from "../../../core/ledger/object_codec.js";
import { ModelLedger } from "./ledger_model.js";
import { codecOf, isAccountingOperation } from "./options.js";

export interface Audit {
  /** The reply the replica must have sent (the model's); null for an operation it never sends. */
  readonly expected: Uint8Array | null;
  /** Null when the reply is the expected one, else what differs. */
  readonly violation: string | null;
}

export class AccountingAuditor {
  readonly model = new ModelLedger();
  commits = 0;
  pulses = 0;

  /** A committed request, in op order: runs it on the model and compares the replies. */
  audit(operation: number, timestamp: bigint, requestBody: Uint8Array, replyBody: Uint8Array): Audit {
    this.commits += 1;
    if (!isAccountingOperation(operation)) return { expected: null, violation: `accounting: unexpected operation ${operation}` };
    const expected = this.model.execute(operation, timestamp, requestBody);
    if (expected.length === replyBody.length && bytesEqual(expected, 0, replyBody, 0, expected.length)) {
      return { expected, violation: null };
    }
    return { expected, violation: describeMismatch(operation, timestamp, expected, replyBody) };
  }

  /** A committed pulse, in op order: expires what is due on the model. */
  pulse(timestamp: bigint): void {
    this.model.pulse(timestamp);
    this.pulses += 1;
  }
}

function show(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

/** The first difference between the model's reply and the replica's, decoded. */
export function describeMismatch(operation: number, timestamp: bigint, expected: Uint8Array, actual: Uint8Array): string {
  const codec = codecOf(operation);
  const prefix = `${operationName(operation)} at timestamp ${timestamp}:`;
  const want = decodeResults(codec, expected);
  const got = decodeResults(codec, actual);
  assert(typeof want !== "string", "the model's reply decodes");
  if (typeof got === "string") return `${prefix} the reply body does not decode (${got}); ${actual.length} bytes`;
  if (want.length !== got.length) return `${prefix} ${got.length} reply batches, expected ${want.length}`;
  for (let k = 0; k < want.length; k++) {
    const count = Math.max(want[k]!.length, got[k]!.length);
    for (let i = 0; i < count; i++) {
      const w = want[k]![i];
      const g = got[k]![i];
      if (show(w) === show(g)) continue;
      return `${prefix} batch ${k} result ${i} (of ${got[k]!.length}, expected ${want[k]!.length}):` +
        ` expected ${w === undefined ? "nothing" : show(w)}, got ${g === undefined ? "nothing" : show(g)}`;
    }
  }
  let at = 0;
  while (at < expected.length && expected[at] === actual[at]) at += 1;
  return `${prefix} decoded results agree, but the bodies differ at byte ${at} (expected ${expected[at]}, got ${actual[at]})`;
}

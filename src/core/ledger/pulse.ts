// Pulse execution (ledger.md §9.3): expire due pending transfers in (expires_at, timestamp)
// order, at most `batchEventsMax` per pulse (the multi-batch create cap, which §9.3 allows: due
// transfers left over are caught by §8.3.6 and by the next pulse), then recompute pulse_next.
import { batchEventsMax } from "../config.js";
import { assert } from "../assert.js";
import type { ExecutionContext } from "./context.js";
import { SW, pulseNextInfinity } from "./state.js";
import { tsLess } from "./timestamps.js";
import { PendingState } from "./words.js";

const two32 = 0x1_0000_0000;

export class PulseExecutor {
  private readonly expired = new Int32Array(batchEventsMax);

  constructor(private readonly context: ExecutionContext) {}

  /** Executes a pulse with prepare timestamp P = (pHi, pLo). Returns the number expired. */
  execute(pHi: number, pLo: number): number {
    assert(!this.context.undo.active);
    const count = this.collectDue(pHi, pLo);
    // The j-th of c expiries has event timestamp P − c + j + 1.
    let tsLo = pLo - count;
    let tsHi = pHi;
    if (tsLo < 0) {
      tsLo += two32;
      tsHi -= 1;
    }
    for (let j = 0; j < count; j++) {
      tsLo += 1;
      if (tsLo === two32) {
        tsLo = 0;
        tsHi += 1;
      }
      this.expire(this.expired[j]!, tsHi, tsLo);
    }
    this.recomputePulseNext();
    return count;
  }

  /** Pops due entries (expires_at ≤ P) in heap order, dropping entries no longer pending. */
  private collectDue(pHi: number, pLo: number): number {
    const state = this.context.state;
    const heap = state.expiry;
    let count = 0;
    while (heap.length > 0 && count < batchEventsMax) {
      const row = heap.topRow;
      if (!state.isPending(row)) {
        heap.pop(); // posted or voided since it was armed (lazy deletion)
        continue;
      }
      if (tsLess(pHi, pLo, heap.topHi, heap.topLo)) break;
      this.expired[count++] = row;
      heap.pop();
    }
    return count;
  }

  /** §9.3 step 2: release p, reopen the accounts it closed, mark it expired, record history. */
  private expire(pRow: number, tsHi: number, tsLo: number): void {
    const context = this.context;
    const state = context.state;
    const debitRow = state.sideField(pRow, SW.debitRow);
    const creditRow = state.sideField(pRow, SW.creditRow);
    context.releasePending(pRow, debitRow, creditRow, true);
    state.setPendingState(pRow, PendingState.expired);
    context.probe("pending_transfer_expired");
    context.recordHistory(pRow, debitRow, creditRow, tsHi, tsLo, false);
  }

  /** The smallest remaining expires_at (which is the next one when the scan hit the cap), or +∞. */
  private recomputePulseNext(): void {
    const state = this.context.state;
    const heap = state.expiry;
    while (heap.length > 0 && !state.isPending(heap.topRow)) heap.pop();
    if (heap.length === 0) {
      state.pulseNextHi = pulseNextInfinity;
      state.pulseNextLo = pulseNextInfinity;
    } else {
      state.pulseNextHi = heap.topHi;
      state.pulseNextLo = heap.topLo;
    }
  }
}

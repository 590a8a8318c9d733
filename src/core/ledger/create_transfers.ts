// create_transfers: the common prefix of ledger.md §8.1, then the idempotency comparison (§8.2),
// the post/void path (§8.3) or the single-phase/pending path (§8.4).
import { CreateTransferStatus as S, TransferFlags, transferFlagsPadding } from "../layouts.js";
import { u128IsMax, u128IsZero } from "../u128.js";
import type { ExecutionContext } from "./context.js";
import { createPostOrVoid } from "./post_void.js";
import { createSinglePhase } from "./single_phase.js";
import { transferExists } from "./transfer_exists.js";
import { TW } from "./words.js";

const postOrVoid = TransferFlags.post_pending_transfer | TransferFlags.void_pending_transfer;

export class TransferCreator {
  constructor(private readonly context: ExecutionContext) {}

  /** Returns the status of the transfer at events[e..e+32) and creates it when valid. */
  create(events: Uint32Array, e: number, imported: boolean): number {
    const flags = events[e + TW.codeFlags]! >>> 16;
    if ((flags & transferFlagsPadding) !== 0) return S.reserved_flag;
    if (u128IsZero(events, e + TW.id)) return S.id_must_not_be_zero;
    if (u128IsMax(events, e + TW.id)) return S.id_must_not_be_int_max;
    const state = this.context.state;
    const existing = state.transferRow(events, e + TW.id);
    if (existing !== -1) return transferExists(this.context, events, e, flags, existing);
    if (state.orphans.count !== 0 && state.orphans.find(events, e + TW.id) !== -1) {
      return S.id_already_failed;
    }
    if ((flags & postOrVoid) !== 0) return createPostOrVoid(this.context, events, e, flags, imported);
    return createSinglePhase(this.context, events, e, flags, imported);
  }
}

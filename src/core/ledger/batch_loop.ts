// The create batch loop and linked chains (ledger.md §6), shared by create_accounts and
// create_transfers. Results are written as 16-byte CreateResults (§2.6) into `results` words.
import { AccountFlags, CreateAccountStatus, CreateTransferStatus, TransferFlags, isTransientTransferStatus } from "../layouts.js";
import { AccountCreator } from "./create_accounts.js";
import { TransferCreator } from "./create_transfers.js";
import type { ExecutionContext } from "./context.js";
import { tsLess, tsValid } from "./timestamps.js";
import { rowWords } from "./words.js";

const created = 0xffff_ffff;
const linkedEventFailed = 1;
const linkedEventChainOpen = 2;
const two32 = 0x1_0000_0000;

/** Status codes of §6 rules 3.2.c–d that differ between the two kinds. */
interface BatchCodes {
  readonly importedFlag: number;
  readonly expected: number;
  readonly notExpected: number;
  readonly outOfRange: number;
  readonly mustNotAdvance: number;
}

const accountCodes: BatchCodes = {
  importedFlag: AccountFlags.imported,
  expected: CreateAccountStatus.imported_event_expected,
  notExpected: CreateAccountStatus.imported_event_not_expected,
  outOfRange: CreateAccountStatus.imported_event_timestamp_out_of_range,
  mustNotAdvance: CreateAccountStatus.imported_event_timestamp_must_not_advance,
};

const transferCodes: BatchCodes = {
  importedFlag: TransferFlags.imported,
  expected: CreateTransferStatus.imported_event_expected,
  notExpected: CreateTransferStatus.imported_event_not_expected,
  outOfRange: CreateTransferStatus.imported_event_timestamp_out_of_range,
  mustNotAdvance: CreateTransferStatus.imported_event_timestamp_must_not_advance,
};

export class CreateBatchLoop {
  private readonly accounts: AccountCreator;
  private readonly transfers: TransferCreator;

  constructor(private readonly context: ExecutionContext) {
    this.accounts = new AccountCreator(context);
    this.transfers = new TransferCreator(context);
  }

  /**
   * Runs one batch of `n` events at events[first ..]. The context's t registers hold t_0 of the
   * batch on entry and t_n on exit; batch registers hold T_k.
   */
  run(
    isTransfers: boolean, events: Uint32Array, first: number, n: number, results: Uint32Array,
    resultsFirst: number,
  ): void {
    const context = this.context;
    const codes = isTransfers ? transferCodes : accountCodes;
    const batchImported = n > 0 && ((events[first + 29]! >>> 16) & codes.importedFlag) !== 0;
    let chainStart = -1;
    let chainBroken = false;
    for (let i = 0; i < n; i++) {
      const e = first + i * rowWords;
      const linked = ((events[e + 29]! >>> 16) & 1) !== 0;
      if (linked && chainStart === -1) {
        chainStart = i;
        context.undo.begin(context.state);
      }
      context.resultHi = context.tHi;
      context.resultLo = context.tLo;
      let status: number;
      if (linked && i === n - 1) status = linkedEventChainOpen;
      else if (chainBroken) status = linkedEventFailed;
      else status = this.evaluate(isTransfers, codes, batchImported, events, e);
      if (status !== created) {
        if (chainStart !== -1 && !chainBroken) {
          chainBroken = true;
          context.undo.rollback(context.state);
          if (i > chainStart) context.probe("linked_chain_rolled_back"); // events were created, then undone
          // Earlier members keep their timestamps (§5: "rolled back … unchanged").
          for (let j = chainStart; j < i; j++) results[resultsFirst + j * 4 + 2] = linkedEventFailed;
        }
        // After the rollback, so the orphan survives it (§6 rule 3.3).
        if (isTransfers && isTransientTransferStatus(status)) context.state.addOrphan(events, e);
      }
      const r = resultsFirst + i * 4;
      results[r] = context.resultLo;
      results[r + 1] = context.resultHi;
      results[r + 2] = status;
      results[r + 3] = 0;
      if (chainStart !== -1 && (!linked || status === linkedEventChainOpen)) {
        if (!chainBroken) context.undo.commit();
        chainStart = -1;
        chainBroken = false;
      }
      context.tLo += 1;
      if (context.tLo === two32) {
        context.tLo = 0;
        context.tHi += 1;
      }
    }
  }

  /** §6 rules 3.2.c–e. */
  private evaluate(
    isTransfers: boolean, codes: BatchCodes, batchImported: boolean, events: Uint32Array, e: number,
  ): number {
    const imported = ((events[e + 29]! >>> 16) & codes.importedFlag) !== 0;
    if (imported && !batchImported) return codes.notExpected;
    if (!imported && batchImported) return codes.expected;
    const tsLo = events[e + 30]!;
    const tsHi = events[e + 31]!;
    if (imported) {
      if (!tsValid(tsHi, tsLo)) return codes.outOfRange;
      const context = this.context;
      if (!tsLess(tsHi, tsLo, context.batchHi, context.batchLo)) return codes.mustNotAdvance;
    } else if ((tsHi | tsLo) !== 0) {
      return CreateTransferStatus.timestamp_must_be_zero; // 3 for both kinds
    }
    return isTransfers ? this.transfers.create(events, e, imported) : this.accounts.create(events, e, imported);
  }
}
